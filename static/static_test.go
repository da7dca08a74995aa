package static

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/andybalholm/brotli"
)

func get(t *testing.T, h http.Handler, target string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestServesCompressedOnceAndCachesForever(t *testing.T) {
	h := Handler()
	raw, _ := files.ReadFile("style.css")
	versioned := "/static/style.css?v=" + Version()

	plain := get(t, h, versioned)
	if plain.Code != 200 || !bytes.Equal(plain.Body.Bytes(), raw) || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("without Accept-Encoding: %d %q", plain.Code, plain.Header().Get("Content-Encoding"))
	}
	if cc := plain.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("versioned URL Cache-Control %q", cc)
	}
	if plain.Header().Get("Vary") != "Accept-Encoding" || plain.Header().Get("ETag") == "" {
		t.Error("no Vary or ETag")
	}

	gz := get(t, h, versioned, "Accept-Encoding", "gzip")
	gzLen := gz.Body.Len()
	zr, err := gzip.NewReader(gz.Body)
	if err != nil || gz.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v %q", err, gz.Header().Get("Content-Encoding"))
	}
	if got, _ := io.ReadAll(zr); !bytes.Equal(got, raw) || gzLen >= len(raw) {
		t.Error("gzip body is not the file, or not smaller")
	}

	br := get(t, h, versioned, "Accept-Encoding", "gzip, deflate, br, zstd")
	if br.Header().Get("Content-Encoding") != "br" {
		t.Fatalf("a browser's Accept-Encoding: %q, want br", br.Header().Get("Content-Encoding"))
	}
	brLen := br.Body.Len()
	if got, _ := io.ReadAll(brotli.NewReader(br.Body)); !bytes.Equal(got, raw) || brLen >= gzLen {
		t.Error("brotli body is not the file, or not smaller than gzip")
	}
	if br.Header().Get("ETag") == gz.Header().Get("ETag") || gz.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Error("encodings share an ETag")
	}
	if refused := get(t, h, versioned, "Accept-Encoding", "br;q=0, gzip"); refused.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("br;q=0: %q", refused.Header().Get("Content-Encoding"))
	}

	// Validators: a revalidation answers 304 without the body.
	again := get(t, h, "/static/style.css", "Accept-Encoding", "br", "If-None-Match", br.Header().Get("ETag"))
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d with %d bytes", again.Code, again.Body.Len())
	}
	if cc := again.Header().Get("Cache-Control"); cc != "public, no-cache" {
		t.Errorf("unversioned URL Cache-Control %q, want revalidation", cc)
	}
	// A stale version is revalidated too, never cached forever.
	if cc := get(t, h, "/static/style.css?v=0ld").Header().Get("Cache-Control"); cc != "public, no-cache" {
		t.Errorf("old version Cache-Control %q", cc)
	}
	for _, path := range []string{"/static/", "/static/nope.css", "/static/../static.go"} {
		if rec := get(t, h, path); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, rec.Code)
		}
	}
}

// The tiny icon gains little from compression: it goes as it is unless
// an encoding saves a tenth.
func TestEncodingsMustPay(t *testing.T) {
	for name, a := range prepare() {
		if a.gzip != nil && len(a.gzip) > len(a.identity)*9/10 {
			t.Errorf("%s: gzip kept though it saves under a tenth", name)
		}
		if a.brotli != nil && a.gzip != nil && len(a.brotli) >= len(a.gzip) {
			t.Errorf("%s: brotli kept though gzip is as small", name)
		}
	}
}
