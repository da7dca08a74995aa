package handlers

import (
	"strings"

	"github.com/labstack/echo/v4"
)

const (
	// embedPrefix is where a page's twin for an iframe lives.
	embedPrefix = "/embed"
	// defaultEmbedReturnPath is where a framed sign-in lands when the frame
	// did not start from another page.
	defaultEmbedReturnPath = "/embed/factors"
)

// page is one of the portal's pages. Routes, links inside a frame
// (views.Href) and framed return paths all derive from one pageTable (see
// routes.go): a page has an embed twin at embedPrefix+path exactly when the
// table says so.
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

// pageTable is every page of the portal.
type pageTable []page

// twinOf finds the page with a twin whose pattern matches path (a path
// without query).
func (t pageTable) twinOf(path string) (page, bool) {
	for _, pg := range t {
		if pg.twin && matchPattern(pg.path, path) {
			return pg, true
		}
	}
	return page{}, false
}

// embedHref is where a link to target leads inside a frame: its twin under
// /embed/, so a framed user never lands on a page that refuses framing.
// It is what views.Href calls on framed pages.
func (t pageTable) embedHref(target string) (string, bool) {
	path, _, _ := strings.Cut(target, "?")
	pg, ok := t.twinOf(path)
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
func (t pageTable) isFramedPage(path string) bool {
	rest, ok := strings.CutPrefix(path, embedPrefix)
	if !ok {
		return false
	}
	pg, ok := t.twinOf(rest)
	return ok && pg.signedIn
}

// embedReturnPath keeps a framed sign-in's destination only when it is the
// twin of a page for signed-in users (checked like any return path);
// anything else gives the factor list.
func (t pageTable) embedReturnPath(raw string) string {
	to := safeReturnPath(raw)
	path, _, _ := strings.Cut(to, "?")
	if t.isFramedPage(path) {
		return to
	}
	return defaultEmbedReturnPath
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
