package handlers

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturnPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/factors", "/factors"},
		{"/factors/totp%7Cdev_abc/delete", "/factors/totp%7Cdev_abc/delete"},
		{"/recovery-code?lang=fr", "/recovery-code?lang=fr"},
		{"", "/factors"},
		{"//evil.example", "/factors"},
		{"/\\evil.example", "/factors"},
		{"\\\\evil.example", "/factors"},
		{"https://evil.example/", "/factors"},
		{"javascript:alert(1)", "/factors"},
		{"/%2Fevil.example", "/factors"},
		{"/%252Fevil.example", "/factors"},
		{"/%5Cevil.example", "/factors"},
		{"/factors\r\nSet-Cookie: x=y", "/factors"},
		{"/fac\ttors", "/factors"},
		{"/factors#frag", "/factors"},
		{"/../etc/passwd", "/factors"},
		{"/login", "/factors"},
		{"/callback?code=x", "/factors"},
		{"/" + strings.Repeat("a", 600), "/factors"},
		{"factors", "/factors"},
	}
	for _, tt := range tests {
		if got := safeReturnPath(tt.in); got != tt.want {
			t.Errorf("safeReturnPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzSafeReturnPath checks the one property that matters: whatever comes
// in, what comes out is a path on this origin as a browser would resolve it.
func FuzzSafeReturnPath(f *testing.F) {
	for _, s := range []string{"/factors", "//evil", "/\\evil", "/%2f%2fevil", "https://x", "/a?b=c", "/%5C%5Cevil", "\x00/", "/\u2028"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://portal.example/some/page")
	f.Fuzz(func(t *testing.T, in string) {
		out := safeReturnPath(in)
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.Contains(out, "\\") {
			t.Fatalf("safeReturnPath(%q) = %q: not a plain path", in, out)
		}
		u, err := base.Parse(out)
		if err != nil || u.Host != "portal.example" || u.Scheme != "https" {
			t.Fatalf("safeReturnPath(%q) = %q resolves to %v (err %v)", in, out, u, err)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("safeReturnPath(%q) = %q contains a control character", in, out)
			}
		}
	})
}
