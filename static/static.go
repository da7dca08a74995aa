// Package static serves the portal's own stylesheet, script and icon. They
// are embedded so the binary is the whole deployment.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"sort"
	"strings"
)

//go:embed *.css *.js *.svg
var files embed.FS

// Handler serves the files under /static/. URLs carry ?v=Version(), so a
// long cache lifetime is safe.
func Handler() http.Handler {
	fileServer := http.StripPrefix("/static/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: the folder itself would be a listing.
		if name := strings.TrimPrefix(r.URL.Path, "/static/"); name == "" || strings.HasSuffix(name, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fileServer.ServeHTTP(w, r)
	})
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
