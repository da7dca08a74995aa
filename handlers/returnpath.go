package handlers

import (
	"net/url"
	"strings"
	"unicode"
)

const (
	defaultReturnPath = "/factors"
	maxReturnPath     = 512

	// popupDonePath ends the framed sign-in's popup (see embed.go).
	popupDonePath = "/embed/popup-done"
)

// safeReturnPath keeps a post-sign-in destination only when it is a plain
// relative path on this origin. Anything that a browser could read as another
// origin ("//evil", "/\evil", schemes, encoded variants of those), control
// characters and over-long values give the default instead.
func safeReturnPath(raw string) string {
	if raw == "" || len(raw) > maxReturnPath {
		return defaultReturnPath
	}
	for _, r := range raw {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\\' || r == unicode.ReplacementChar {
			return defaultReturnPath
		}
	}
	if raw[0] != '/' || strings.HasPrefix(raw, "//") {
		return defaultReturnPath
	}
	// Reject encoded tricks: whatever the path decodes to (once or twice) must
	// still be a plain path.
	decoded := raw
	for range 2 {
		d, err := url.PathUnescape(decoded)
		if err != nil {
			return defaultReturnPath
		}
		if strings.HasPrefix(d, "//") || strings.ContainsAny(d, "\\\x00\r\n\t") || !strings.HasPrefix(d, "/") {
			return defaultReturnPath
		}
		decoded = d
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return defaultReturnPath
	}
	if !strings.HasPrefix(u.Path, "/") || strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") {
		return defaultReturnPath
	}
	// The sign-in routes themselves are never a destination (no loops).
	switch u.Path {
	case "/login", "/callback", "/logout":
		return defaultReturnPath
	}
	return u.RequestURI()
}

// isPopupReturn reports whether a sign-in round trip belongs to the popup,
// whose pages must keep their opener.
func isPopupReturn(returnPath string) bool {
	return strings.HasPrefix(returnPath, popupDonePath+"?")
}
