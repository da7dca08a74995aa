package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFrench takes a screenshot of every page in French, at desktop
// width and at 320 px (French runs about a fifth longer than English), and
// checks each is in French, fits the screen and keeps its main action
// visible. The copy button speaks French too: its words come from the page.
func TestBrowserFrench(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.allowClipboard()
	b.signInAlice("/factors?lang=fr", `[data-testid=factor-list]`)

	pages := []struct{ name, path, action, want string }{
		{"factors", "/factors", `[data-testid=remove]`, "Vos méthodes de connexion"},
		{"confirm-remove-phone", "/factors/" + url.PathEscape(e.idOf(alice, "sms|")) + "/delete", `[data-testid=confirm-remove]`, "Ceci supprime"},
		{"recovery-code", "/recovery-code", `[data-testid=regenerate]`, "Générer un nouveau code"},
		{"bad-link", "/factors/not-an-id/delete", `[data-testid=error-action]`, "Ce lien n’est pas valide"},
		{"not-found", "/no-such-page", `[data-testid=error-action]`, "Page introuvable"},
	}
	for _, width := range []int{1280, 320} {
		b.do("viewport", chromedp.EmulateViewport(int64(width), 800))
		for _, p := range pages {
			b.open(e.portalURL + p.path)
			b.waitFor(p.action)
			b.shot(fmt.Sprintf("%s-fr-%dpx", p.name, width))
			checkFrenchPage(t, b, p.path, p.action, p.want, width)
		}
	}

	// The new code page, reached the way a person does.
	b.do("viewport", chromedp.EmulateViewport(1280, 800))
	b.open(e.portalURL + "/recovery-code")
	b.click(`[data-testid=regenerate]`)
	b.waitFor(`[data-testid=recovery-code]`)
	b.do("click copy", chromedp.Click(chromedp.CSS(`[data-testid=copy]`), chromedp.NodeVisible))
	status, err := chromedp.Run(b.ctx, chromedp.Poll[string](
		`document.querySelector(".copy-status").textContent.trim() || false`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		b.fail("wait for the copy status", err)
	}
	if status != "Copié." {
		t.Errorf("copy status %q, want Copié.", status)
	}
	b.shot("new-recovery-code-fr-1280")
	checkFrenchPage(t, b, "new code", `[data-testid=saved-done]`, "Votre nouveau code de récupération", 1280)
	b.do("viewport", chromedp.EmulateViewport(320, 800))
	b.shot("new-recovery-code-fr-320")
	checkFrenchPage(t, b, "new code", `[data-testid=saved-done]`, "Votre nouveau code de récupération", 320)

	b.do("viewport", chromedp.EmulateViewport(1280, 800))
	b.signOut()
	b.shot("signed-out-fr-1280")
	checkFrenchPage(t, b, "/signed-out", `[data-testid=sign-in-again]`, "Vous êtes déconnecté", 1280)
}

// checkFrenchPage: the page says want, declares lang="fr", fits width
// without sideways scrolling and shows action on screen.
func checkFrenchPage(t *testing.T, b *tab, what, action, want string, width int) {
	t.Helper()
	text := strings.ReplaceAll(b.text(), "'", "’")
	if !strings.Contains(strings.ReplaceAll(text, "\u00a0", " "), strings.ReplaceAll(want, "'", "’")) {
		t.Errorf("%s at %d px: want %q on the page", what, width, want)
	}
	if lang := eval[string](b, `document.documentElement.lang`); lang != "fr" {
		t.Errorf("%s: <html lang=%q>, want fr", what, lang)
	}
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > width {
		t.Errorf("%s is %d px wide at a %d px viewport", what, w, width)
	}
	if right := eval[float64](b, `document.querySelector("`+action+`").getBoundingClientRect().right`); right > float64(width) {
		t.Errorf("%s at %d px: the main action ends at %.0f px, off screen", what, width, right)
	}
}
