package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/andybalholm/brotli"
	"golang.org/x/net/html"
)

// resource is one response a first visit to /factors downloads.
type resource struct {
	path        string
	contentType string
	raw         int
	gzipped     int
	wire        int    // body bytes as sent, in the encoding the portal chose
	encoding    string // Content-Encoding the portal chose when offered br and gzip
	// cached says a browser keeps it for a repeat visit without asking
	// (Cache-Control immutable).
	cached     bool
	thirdParty bool
}

// pageWeight is what a first visit to /factors costs the browser.
type pageWeight struct {
	resources []resource
}

func (w pageWeight) totals() (raw, gzipped, thirdParty int) {
	for _, r := range w.resources {
		raw += r.raw
		gzipped += r.gzipped
		if r.thirdParty {
			thirdParty++
		}
	}
	return raw, gzipped, thirdParty
}

// onTheWire is the body bytes a browser downloads on a first visit (every
// resource) and on a repeat visit (only what it may not keep).
func (w pageWeight) onTheWire() (first, repeat, repeatRequests int) {
	for _, r := range w.resources {
		first += r.wire
		if !r.cached {
			repeat += r.wire
			repeatRequests++
		}
	}
	return first, repeat, repeatRequests
}

// measurePageWeight fetches /factors and every stylesheet, icon, script and
// image its HTML refers to, as a browser with an empty cache would. The
// gzipped sizes are computed here (compress/gzip, default level), whatever
// the portal itself sends.
func measurePageWeight(ctx context.Context, e *env, cookie string) (pageWeight, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base, err := url.Parse(e.portalURL + "/factors")
	if err != nil {
		return pageWeight{}, err
	}
	page, body, err := fetchResource(ctx, client, base, cookie)
	if err != nil {
		return pageWeight{}, err
	}
	w := pageWeight{resources: []resource{page}}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return pageWeight{}, fmt.Errorf("parse /factors: %w", err)
	}
	for _, ref := range subresources(doc) {
		u, err := base.Parse(ref)
		if err != nil {
			return pageWeight{}, fmt.Errorf("subresource %q: %w", ref, err)
		}
		if u.Host != base.Host || u.Scheme != base.Scheme {
			// Counted, never fetched: the page must make none.
			w.resources = append(w.resources, resource{path: u.String(), thirdParty: true})
			continue
		}
		r, _, err := fetchResource(ctx, client, u, cookie)
		if err != nil {
			return pageWeight{}, err
		}
		w.resources = append(w.resources, r)
	}
	return w, nil
}

// fetchResource GETs u offering br and gzip as a browser does, and measures
// the body as sent and decoded.
func fetchResource(ctx context.Context, client *http.Client, u *url.URL, cookie string) (resource, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return resource{}, nil, err
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	resp, err := client.Do(req)
	if err != nil {
		return resource{}, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resource{}, nil, fmt.Errorf("GET %s: status %d", u.Path, resp.StatusCode)
	}
	sent, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return resource{}, nil, err
	}
	var body io.Reader = bytes.NewReader(sent)
	encoding := resp.Header.Get("Content-Encoding")
	switch encoding {
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return resource{}, nil, err
		}
		body = zr
	case "br":
		body = brotli.NewReader(body)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return resource{}, nil, err
	}
	gz, err := gzipSize(raw)
	if err != nil {
		return resource{}, nil, err
	}
	ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return resource{path: u.RequestURI(), contentType: ct, raw: len(raw), gzipped: gz, wire: len(sent),
		encoding: cmp.Or(encoding, "identity"), cached: strings.Contains(resp.Header.Get("Cache-Control"), "immutable")}, raw, nil
}

func gzipSize(b []byte) (int, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}

// subresources lists the URLs a browser fetches on its own while loading the
// document: stylesheets, icons and preloads, scripts, images, iframes.
func subresources(doc *html.Node) []string {
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "link":
				if rel := strings.ToLower(attr(n, "rel")); strings.Contains(rel, "stylesheet") || strings.Contains(rel, "icon") ||
					strings.Contains(rel, "preload") || strings.Contains(rel, "modulepreload") || strings.Contains(rel, "manifest") {
					out = appendNonEmpty(out, attr(n, "href"))
				}
			case "script", "img", "iframe":
				out = appendNonEmpty(out, attr(n, "src"))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func appendNonEmpty(s []string, v string) []string {
	if v == "" {
		return s
	}
	return append(s, v)
}
