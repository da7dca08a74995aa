package views

import (
	"context"
	"strings"
)

type embedKey struct{}

// WithEmbed marks a request as rendered inside an iframe (the /embed/ routes).
func WithEmbed(ctx context.Context) context.Context {
	return context.WithValue(ctx, embedKey{}, true)
}

// IsEmbed reports whether the page is rendered for an iframe.
func IsEmbed(ctx context.Context) bool {
	v, _ := ctx.Value(embedKey{}).(bool)
	return v
}

// Href is where a link to one of the portal's pages leads: inside an iframe,
// the same page under /embed/, so a framed user never lands on a page that
// refuses framing; sign-in, which Auth0 won't show in a frame, becomes the
// iframe's sign-in page (popup or new tab).
func Href(ctx context.Context, path string) string {
	if !IsEmbed(ctx) {
		return path
	}
	switch {
	case path == "/login" || strings.HasPrefix(path, "/login?"):
		return "/embed/login"
	case path == "/factors", strings.HasPrefix(path, "/factors/"), strings.HasPrefix(path, "/factors?"),
		path == "/recovery-code", path == "/logout", path == "/signed-out":
		return "/embed" + path
	}
	return path
}
