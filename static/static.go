// Package static serves the portal's own stylesheet, script and icon. They
// are embedded so the binary is the whole deployment, and compressed once,
// when the handler is made, never per request.
package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
)

//go:embed *.css *.js *.svg
var files embed.FS

// asset is one file, ready in each encoding worth sending.
type asset struct {
	contentType string
	etag        string // of the content, quoted; each encoding adds a suffix
	identity    []byte
	gzip        []byte // nil when it does not pay
	brotli      []byte // nil when it does not pay
}

// Handler serves the files under /static/. The pages link them with
// ?v=Version(), a hash of every file: such a URL never changes content, so
// it is cached for a year and never revalidated (immutable). Any other URL
// is revalidated with its ETag. Files are sent brotli- or gzip-compressed
// when the browser takes it and it makes them smaller.
func Handler() http.Handler {
	assets := prepared()
	version := Version()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[strings.TrimPrefix(r.URL.Path, "/static/")]
		if !ok { // also the folder itself: never a listing
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Vary", "Accept-Encoding")
		if r.URL.Query().Get("v") == version {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, no-cache")
		}
		body, encoding, suffix := a.identity, "", ""
		switch accepted := acceptedEncodings(r.Header.Get("Accept-Encoding")); {
		case a.brotli != nil && accepted["br"]:
			body, encoding, suffix = a.brotli, "br", "-br"
		case a.gzip != nil && accepted["gzip"]:
			body, encoding, suffix = a.gzip, "gzip", "-gz"
		}
		etag := `"` + a.etag + suffix + `"`
		h.Set("ETag", etag)
		if encoding != "" {
			h.Set("Content-Encoding", encoding)
		}
		if noneMatch(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	})
}

// prepared is the embedded files, compressed: constant data, made once per
// process however many handlers are built (tests build hundreds).
var prepared = sync.OnceValue(prepare)

// prepare reads and compresses every file.
func prepare() map[string]asset {
	out := map[string]asset{}
	names, _ := fs.Glob(files, "*")
	for _, name := range names {
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			panic("static: reading an embedded file: " + err.Error()) // embedded: cannot happen
		}
		sum := sha256.Sum256(raw)
		a := asset{contentType: mime.TypeByExtension(path.Ext(name)), etag: hex.EncodeToString(sum[:8]), identity: raw}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		a.gzip = smaller(raw, gzipped(raw))
		a.brotli = smaller(raw, brotlied(raw))
		if a.gzip != nil && a.brotli != nil && len(a.brotli) >= len(a.gzip) {
			a.brotli = nil // brotli has to pay for itself
		}
		out[name] = a
	}
	return out
}

// smaller keeps an encoding only when it saves at least a tenth.
func smaller(raw, encoded []byte) []byte {
	if len(encoded) > len(raw)*9/10 {
		return nil
	}
	return encoded
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func brotlied(b []byte) []byte {
	var buf bytes.Buffer
	bw := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	bw.Write(b)
	bw.Close()
	return buf.Bytes()
}

// acceptedEncodings reads Accept-Encoding: the codings with a q above 0.
func acceptedEncodings(header string) map[string]bool {
	out := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if name != "" && q > 0 {
			out[strings.ToLower(name)] = true
		}
	}
	return out
}

// noneMatch reports whether If-None-Match names etag (or is "*"). Weak
// comparison, as RFC 9110 asks for If-None-Match.
func noneMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// Version is a short hash of every embedded file.
func Version() string {
	h := sha256.New()
	names, _ := fs.Glob(files, "*")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
