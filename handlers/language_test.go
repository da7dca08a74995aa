package handlers

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLanguageChoice: through the real router, the page's language follows
// lang, then the cookie, then Accept-Language, and only lang sets the
// cookie, with the attributes that keep it first-party and long-lived.
func TestLanguageChoice(t *testing.T) {
	router := newOpsTestRouter(t, "https://mfa.example.com", opsSettings{}, &bytes.Buffer{})
	tests := []struct {
		name, query, cookie, accept string
		wantLang, wantText          string
		wantCookie                  string // "" means none set
	}{
		{"default", "", "", "", "en", "You have signed out", ""},
		{"Accept-Language", "", "", "fr-FR,fr;q=0.9", "fr", "Vous êtes déconnecté", ""},
		{"cookie over Accept-Language", "", "fr", "en", "fr", "Vous êtes déconnecté", ""},
		{"lang over cookie, remembered", "?lang=en", "fr", "fr", "en", "You have signed out", "en"},
		{"lang fr remembered", "?lang=fr", "", "", "fr", "Vous êtes déconnecté", "fr"},
		{"same choice: no new cookie", "?lang=fr", "fr", "", "fr", "Vous êtes déconnecté", ""},
		{"unsupported lang ignored", "?lang=de", "", "", "en", "You have signed out", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/signed-out"+tt.query, nil)
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: langCookieName, Value: tt.cookie})
			}
			if tt.accept != "" {
				req.Header.Set("Accept-Language", tt.accept)
			}
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, req)
			body := rec.Body.String()
			if !strings.Contains(body, `<html lang="`+tt.wantLang+`">`) || !strings.Contains(body, tt.wantText) {
				t.Errorf("want lang %s with %q; got %.200s", tt.wantLang, tt.wantText, body)
			}
			var got *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == langCookieName {
					got = c
				}
			}
			switch {
			case tt.wantCookie == "" && got != nil:
				t.Errorf("language cookie set to %q, want none", got.Value)
			case tt.wantCookie != "" && got == nil:
				t.Errorf("no language cookie, want %q", tt.wantCookie)
			case got != nil:
				if got.Value != tt.wantCookie || !got.Secure || got.SameSite != http.SameSiteLaxMode || got.Path != "/" || got.Domain != "" || got.MaxAge != 365*24*3600 {
					t.Errorf("language cookie %+v, want %s, Secure, SameSite=Lax, Path=/, no Domain, one year", got, tt.wantCookie)
				}
			}
		})
	}
}
