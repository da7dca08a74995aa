package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestFrenchFromAHelpdeskLink: a link with lang=fr gives French pages, a
// French Universal Login, French error pages, and French stays chosen for
// the next pages without the parameter.
func TestFrenchFromAHelpdeskLink(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()

	first := b.get("/factors?lang=fr&login_hint=alice@example.com")
	authorize, err := url.Parse(first.header.Get("Location"))
	if first.status != http.StatusFound || err != nil || !strings.HasPrefix(authorize.String(), e.tenantURL+"/authorize") {
		t.Fatalf("GET /factors?lang=fr: %d to %q, want a redirect to the tenant's /authorize", first.status, first.header.Get("Location"))
	}
	if got := authorize.Query().Get("ui_locales"); got != "fr" {
		t.Errorf("authorize URL has ui_locales=%q, want fr", got)
	}
	if got := authorize.Query().Get("login_hint"); got != "alice@example.com" {
		t.Errorf("authorize URL has login_hint=%q, want alice@example.com", got)
	}

	p := b.signInAlice("/factors?lang=fr")
	if p.status != http.StatusOK || p.url.Path != "/factors" {
		t.Fatalf("after sign-in: %d at %s, want 200 at /factors", p.status, p.url)
	}
	for _, want := range []string{`<html lang="fr">`, "Vos méthodes de connexion", "Se déconnecter", "Session sécurisée", "(jusqu’à", "Supprimer"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/factors?lang=fr lacks %q", want)
		}
	}
	if strings.Contains(p.body, "Your sign-in methods") || strings.Contains(p.body, "Sign out") {
		t.Errorf("/factors?lang=fr still has English text: %s", headerOf(p.body))
	}

	// The choice is remembered: no lang parameter from here on.
	bad := b.get("/factors/not-an-id/delete")
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "Ce lien n’est pas valide") || !strings.Contains(bad.body, "Erreur 400") {
		t.Errorf("bad factor id: %d, want 400 in French; body: %.400s", bad.status, bad.body)
	}
	missing := b.get("/no-such-page")
	if missing.status != http.StatusNotFound || !strings.Contains(missing.body, "Page introuvable") || !strings.Contains(missing.body, `<html lang="fr">`) {
		t.Errorf("unknown page: %d, want 404 in French", missing.status)
	}
	rec := b.get("/recovery-code")
	if !strings.Contains(rec.body, "Générer un nouveau code de récupération") {
		t.Errorf("/recovery-code is not in French after choosing it")
	}

	// And lang=en switches back.
	en := b.get("/factors?lang=en")
	if !strings.Contains(en.body, "Your sign-in methods") || !strings.Contains(en.body, `<html lang="en">`) {
		t.Errorf("/factors?lang=en is not in English")
	}
}

// TestLanguageFromTheBrowser: without lang or a cookie, Accept-Language
// decides; with nothing usable, English.
func TestLanguageFromTheBrowser(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ accept, want, lang string }{
		{"fr-CA,fr;q=0.9,en;q=0.5", "Vous êtes déconnecté", "fr"},
		{"de-DE,de;q=0.9", "You have signed out", "en"},
		{"", "You have signed out", "en"},
	}
	for _, tt := range tests {
		b := e.newBrowser()
		req, _ := http.NewRequest(http.MethodGet, e.portalURL+"/signed-out", nil)
		req.Header.Set("Accept-Language", tt.accept)
		p := b.do(req)
		if !strings.Contains(p.body, tt.want) || !strings.Contains(p.body, `<html lang="`+tt.lang+`">`) {
			t.Errorf("Accept-Language %q: want %q in lang %s", tt.accept, tt.want, tt.lang)
		}
		req, _ = http.NewRequest(http.MethodGet, e.portalURL+"/login", nil)
		req.Header.Set("Accept-Language", tt.accept)
		login := b.doOnce(req)
		if u, err := url.Parse(login.header.Get("Location")); err != nil || u.Query().Get("ui_locales") != tt.lang {
			t.Errorf("Accept-Language %q: sign-in goes to %q, want ui_locales=%s", tt.accept, login.header.Get("Location"), tt.lang)
		}
	}
}
