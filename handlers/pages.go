package handlers

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// embedPrefix is where a page's twin for an iframe lives.
const embedPrefix = "/embed"

// page is one of the portal's pages. Routes, links inside a frame
// (views.Href) and framed return paths all derive from pageTable: a page
// has an embed twin at embedPrefix+path exactly when the table says so.
type page struct {
	path string // Echo route pattern, e.g. "/factors/:id/delete"
	get  echo.HandlerFunc
	post echo.HandlerFunc
	// signedIn pages need a session; their twin is the same handler in a
	// frame, behind the frame's own session check.
	signedIn bool
	// twin is whether the page has an embed twin. A public page's twin may
	// be a handler of its own (embedGet, embedPost); a signed-in page's is
	// the same handler.
	twin                bool
	embedGet, embedPost echo.HandlerFunc
	// twinPath is where the twin's links lead when it is not
	// embedPrefix+path with the same query (the frame's sign-in page).
	twinPath string
}

// pageTable lists every page. Each POST has the same path as its
// confirmation page, so an expired session sends the user back to confirm
// again, never replays.
func (p *portal) pageTable() []page {
	return []page{
		{path: "/factors", get: p.handleFactors, signedIn: true, twin: true},
		{path: "/factors/:id/delete", get: p.handleDeleteConfirm, post: p.handleDelete, signedIn: true, twin: true},
		{path: "/recovery-code", get: p.handleRecoveryPage, post: p.handleRegenerate, signedIn: true, twin: true},
		// Universal Login refuses frames: the frame's own sign-in page
		// signs in through a popup.
		{path: "/login", get: p.handleLogin, twin: true, embedGet: p.handleEmbedLogin, twinPath: "/embed/login"},
		{path: "/callback", get: p.handleCallback},
		// Auth0's logout page refuses frames too: the frame ends the
		// portal session only.
		{path: "/logout", post: p.handleLogout, twin: true, embedPost: p.handleEmbedLogout},
		{path: "/signed-out", get: p.handleSignedOut, twin: true, embedGet: p.handleEmbedSignedOut},
	}
}

// twinOf finds the page whose pattern matches path (a path without query).
func (p *portal) twinOf(path string) (page, bool) {
	for _, pg := range p.pages {
		if pg.twin && matchPattern(pg.path, path) {
			return pg, true
		}
	}
	return page{}, false
}

// embedHref is where a link to target leads inside a frame: its twin under
// /embed/, so a framed user never lands on a page that refuses framing.
// It is what views.Href calls on framed pages.
func (p *portal) embedHref(target string) (string, bool) {
	path, _, _ := strings.Cut(target, "?")
	pg, ok := p.twinOf(path)
	if !ok {
		return "", false
	}
	if pg.twinPath != "" {
		return pg.twinPath, true
	}
	return embedPrefix + target, true
}

// isFramedPage reports whether path is the twin of a signed-in page, the
// only places a framed sign-in may return to.
func (p *portal) isFramedPage(path string) bool {
	rest, ok := strings.CutPrefix(path, embedPrefix)
	if !ok {
		return false
	}
	pg, ok := p.twinOf(rest)
	return ok && pg.signedIn
}

// matchPattern matches an Echo route pattern (":name" matches one
// non-empty segment) against a path.
func matchPattern(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], ":") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}
