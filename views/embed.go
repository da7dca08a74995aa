package views

import (
	"context"
)

type embedKey struct{}

// EmbedLinks finds where a link to one of the portal's pages leads inside a
// frame: its twin under /embed/ (false when the page has none). The
// handlers own the table of twins; views only follow it.
type EmbedLinks func(path string) (string, bool)

// WithEmbed marks a request as rendered inside an iframe (the /embed/
// routes), with the portal's table of twins.
func WithEmbed(ctx context.Context, links EmbedLinks) context.Context {
	return context.WithValue(ctx, embedKey{}, links)
}

// IsEmbed reports whether the page is rendered for an iframe.
func IsEmbed(ctx context.Context) bool {
	_, ok := ctx.Value(embedKey{}).(EmbedLinks)
	return ok
}

// Href is where a link to one of the portal's pages leads: inside an iframe,
// the same page's embed twin, so a framed user never lands on a page that
// refuses framing; sign-in, which Auth0 won't show in a frame, becomes the
// iframe's sign-in page (popup or new tab).
func Href(ctx context.Context, path string) string {
	if links, ok := ctx.Value(embedKey{}).(EmbedLinks); ok {
		if to, ok := links(path); ok {
			return to
		}
	}
	return path
}
