package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"mfaportal/auth0emu"
)

// unservedEmbedParent is an account area the portal may be framed by: the
// /embed/ pages exist only when one is configured. Nothing is served there;
// the tests that only look at the embed pages open them at top level, with
// the portal's own (same-site) session.
const unservedEmbedParent = "https://account.example.com"

// frenchWidths are the widths every French page is looked at: a desktop and
// the narrowest phone. French runs about a fifth longer than English.
var frenchWidths = []int{1280, 320}

// errorAction is the way on that every error page offers.
const errorAction = `[data-testid=error-action]`

// TestBrowserFrench takes a screenshot of every page a person can see, in
// French, at desktop width and at 320 px, and checks each is in French
// (lang="fr", the expected words, no English left), fits the screen and
// keeps its main action visible. The pages are reached the way a person
// reaches them: a sign-in gone wrong, each kind of removal, the refusals,
// Auth0 failing in each way the portal explains, a forged form, the new
// recovery code, the embed pages, signing out, and a user with no methods.
func TestBrowserFrench(t *testing.T) {
	start := time.Now()
	e := newEnv(t, envOptions{extraEnv: map[string]string{"FRAME_ANCESTORS": unservedEmbedParent}})
	b := newTab(t, e)
	b.allowClipboard()

	// Signed out: French chosen by a helpdesk link, then a sign-in that
	// went wrong, and the iframe's own pages.
	b.open(e.portalURL + "/login?lang=fr")
	b.waitFor(`form[data-step=login]`)
	b.expectOnTenant("French sign-in page")
	b.frenchVisit("sign-in-failed", "/callback?state=forged&code=forged", http.StatusBadRequest, errorAction, "Nous n’avons pas pu vous connecter")
	b.frenchVisit("sign-in-expired", "/callback?state=forged&code=forged", http.StatusBadRequest, errorAction, "Votre connexion n’a pas abouti")
	b.frenchVisit("embed-sign-in", "/embed/login", http.StatusOK, `[data-testid=embed-sign-in]`, "Connectez-vous pour gérer vos méthodes de connexion")
	b.frenchVisit("embed-signed-out", "/embed/signed-out", http.StatusOK, `[data-testid=sign-in-again]`, "Vous êtes déconnecté")

	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.frenchHere("factors", `[data-testid=remove]`, "Vos méthodes de connexion")
	b.frenchConfirmations()
	b.frenchRefusals()
	b.frenchVisit("recovery-code", "/recovery-code", http.StatusOK, `[data-testid=regenerate]`, "Générer un nouveau code")
	b.frenchUpstreamFailures()
	b.frenchForgedForms()
	b.frenchRemovals()
	b.frenchNewRecoveryCode()
	b.frenchEmbedSignedIn()

	// The recovery code is all alice has left that she can act on.
	b.frenchVisit("factors-only-recovery-code", "/factors", http.StatusOK, `[data-testid=factor-recovery-code] a`, "Code de récupération")
	if n := b.count(`[data-testid=remove]`); n != 0 {
		t.Errorf("after removing every method, /factors still offers %d removals", n)
	}
	// A fourth new code within ten minutes is one too many.
	b.open(e.portalURL + "/recovery-code")
	b.waitFor(`[data-testid=regenerate]`)
	b.frenchSubmit("too-often-429", `[data-testid=regenerate]`, http.StatusTooManyRequests, errorAction, "Veuillez patienter avant de réessayer")

	b.frenchPopupDone()

	b.signOut()
	b.frenchHere("signed-out", `[data-testid=sign-in-again]`, "Vous êtes déconnecté")

	// Carol has no sign-in method at all.
	b.open(e.portalURL + "/factors")
	b.waitFor(`form[data-step=login]`)
	b.typeInto(`#email`, "carol@example.com")
	b.typeInto(`#password`, "carol-demo-pass")
	b.click(`form[data-step=login] button[type=submit]`)
	b.waitFor(`[data-testid=empty-state]`)
	b.frenchHere("factors-empty", `[data-testid=sign-out]`, "Aucune méthode de connexion pour l’instant")
	b.frenchVisit("recovery-code-none", "/recovery-code", http.StatusOK, `[data-testid=regenerate]`, "Vous n’avez pas encore de code de récupération")
	b.frenchVisit("embed-factors-empty", "/embed/factors", http.StatusOK, `[data-testid=sign-out]`, "Aucune méthode de connexion pour l’instant")

	t.Logf("%d French screenshots in %s", b.step, time.Since(start).Round(time.Millisecond))
}

// frenchConfirmations opens the confirmation of every removal alice's list
// offers, one of each kind, and the one shown again after a session ended.
func (b *tab) frenchConfirmations() {
	b.t.Helper()
	// What each kind's confirmation says besides its heading.
	says := map[string]string{
		"factor-app":          "Application d’authentification",
		"factor-guardian":     "Les codes à usage unique de la même application Guardian",
		"factor-phone":        "Les appels vocaux au",
		"factor-email":        "E-mail",
		"factor-security-key": "«\u00a0YubiKey 5C\u00a0»",
		"factor-passkey":      "«\u00a0MacBook passkey\u00a0»",
	}
	links := b.removeLinks()
	for kind := range links {
		if _, ok := says[kind]; !ok {
			b.t.Errorf("alice's list offers removing %s, which this tour does not look at", kind)
		}
	}
	for _, kind := range []string{"factor-app", "factor-guardian", "factor-phone", "factor-email", "factor-security-key", "factor-passkey"} {
		if links[kind] == "" {
			b.t.Errorf("alice's list offers no removal for %s (it offers %v)", kind, links)
			continue
		}
		b.frenchVisit("confirm-remove-"+strings.TrimPrefix(kind, "factor-"), links[kind], http.StatusOK, `[data-testid=confirm-remove]`, says[kind])
	}
	b.frenchVisit("confirm-remove-again", links["factor-phone"]+"?reconfirm=1", http.StatusOK, `[data-testid=confirm-remove]`,
		"Votre session sécurisée a pris fin avant la suppression")
}

// removeLinks maps each factor's test id to its removal link, as the page
// at hand shows them.
func (b *tab) removeLinks() map[string]string {
	b.t.Helper()
	return eval[map[string]string](b, `Object.fromEntries(Array.from(document.querySelectorAll("[data-testid=remove]"),
		a => [a.closest("li").dataset.testid, a.getAttribute("href")]))`)
}

// removeLink is the removal link of the factor with test id kind on the
// current list page.
func (b *tab) removeLink(kind string) string {
	b.t.Helper()
	links := b.removeLinks()
	if links[kind] == "" {
		b.fail("find the removal of "+kind, fmt.Errorf("the page offers %v", links))
	}
	return links[kind]
}

// frenchRefusals are the pages that refuse a link: what cannot be removed,
// what is not alice's, what does not exist.
func (b *tab) frenchRefusals() {
	b.t.Helper()
	e := b.e
	b.frenchVisit("refused-verified-email-403", "/factors/"+url.PathEscape(e.tenant.MethodID(alice, "email-verification"))+"/delete",
		http.StatusForbidden, errorAction, "Cette adresse e-mail ne peut pas être supprimée ici")
	b.frenchVisit("refused-recovery-code-403", "/factors/"+url.PathEscape(e.idOf(alice, "recovery-code|"))+"/delete",
		http.StatusForbidden, errorAction, "Le code de récupération ne peut pas être supprimé")
	b.frenchVisit("bad-link-400", "/factors/not-an-id/delete", http.StatusBadRequest, errorAction, "Ce lien n’est pas valide")
	b.frenchVisit("not-on-account-404", "/factors/"+url.PathEscape("totp|dev_0000000000000000")+"/delete",
		http.StatusNotFound, errorAction, "Cette méthode de connexion n’est pas sur votre compte")
	b.frenchVisit("not-found-404", "/no-such-page", http.StatusNotFound, errorAction, "Page introuvable")
}

// frenchUpstreamFailures makes Auth0 fail while listing alice's methods, in
// each way the portal explains differently.
func (b *tab) frenchUpstreamFailures() {
	b.t.Helper()
	failures := []struct {
		name   string
		fault  auth0emu.Fault
		status int
		want   string
	}{
		{"upstream-down-502", auth0emu.Fault{Status: http.StatusServiceUnavailable, Times: 10}, http.StatusBadGateway, "Le service de connexion ne fonctionne pas pour le moment"},
		{"upstream-rate-limited-429", auth0emu.Fault{Status: http.StatusTooManyRequests, Times: 10}, http.StatusTooManyRequests, "Veuillez patienter"},
		{"upstream-forbidden-403", auth0emu.Fault{Status: http.StatusForbidden, Times: 10}, http.StatusForbidden, "Cette action n’est pas autorisée"},
		// Slower than UPSTREAM_TIMEOUT (3 s in these tests).
		{"upstream-slow-504", auth0emu.Fault{Latency: 4 * time.Second}, http.StatusGatewayTimeout, "Le service de connexion met trop de temps à répondre"},
		// Last: a refused token ends the portal session.
		{"upstream-token-refused-401", auth0emu.Fault{Status: http.StatusUnauthorized, Times: 10}, http.StatusUnauthorized, "Veuillez vous reconnecter"},
	}
	for _, f := range failures {
		b.e.tenant.Inject(auth0emu.RouteListAuthenticators, f.fault)
		b.frenchVisit(f.name, "/factors", f.status, errorAction, f.want)
		b.e.tenant.ClearFaults()
	}
	// The 401 page's action signs in again (the tenant remembers alice and
	// asks only for the second factor), back to the list.
	b.click(errorAction)
	b.passTOTPChallenge()
	b.waitFor(`[data-testid=factor-list]`)
}

// frenchForgedForms posts forms the portal must refuse: one whose CSRF token
// is not the session's (an expired form), and one from another site.
func (b *tab) frenchForgedForms() {
	b.t.Helper()
	b.open(b.e.portalURL + b.removeLinkFromList("factor-phone"))
	b.waitFor(`[data-testid=confirm-remove]`)
	b.setValue(`form.actions input[name=csrf_token]`, "expired")
	b.frenchSubmit("expired-form-403", `[data-testid=confirm-remove]`, http.StatusForbidden, errorAction, "Ce formulaire a expiré")

	// A page on another site that posts to the portal. The language comes
	// from the link: the language cookie is not sent with a cross-site POST.
	form := `<!DOCTYPE html><html lang="en"><title>Elsewhere</title><form method="post" action="` +
		b.e.portalURL + `/logout?lang=fr"><button id="go">Go</button></form>`
	b.open("data:text/html;charset=utf-8," + url.PathEscape(form))
	b.frenchSubmit("cross-site-403", `#go`, http.StatusForbidden, errorAction, "Requête refusée")
}

// removeLinkFromList opens /factors and returns the removal link of kind.
func (b *tab) removeLinkFromList(kind string) string {
	b.t.Helper()
	b.open(b.e.portalURL + "/factors")
	b.waitFor(`[data-testid=factor-list]`)
	return b.removeLink(kind)
}

// frenchRemovals removes the phone, the backup email (already removed "in
// another tab" when confirmed) and the Guardian app, then looks at the
// confirmation of the last method alice can remove.
func (b *tab) frenchRemovals() {
	b.t.Helper()
	b.open(b.e.portalURL + b.removeLinkFromList("factor-phone"))
	b.waitFor(`[data-testid=confirm-remove]`)
	b.frenchSubmit("removed-phone", `[data-testid=confirm-remove]`, http.StatusOK, `[data-testid=flash]`, "Méthode supprimée")

	b.open(b.e.portalURL + b.removeLinkFromList("factor-email"))
	b.waitFor(`[data-testid=confirm-remove]`)
	// The same form, sent from another tab first.
	status := evalAwait[int](b, "post the form from the page", `fetch(document.querySelector("form.actions").action, {method: "POST", credentials: "same-origin",
		body: new URLSearchParams(new FormData(document.querySelector("form.actions")))}).then(r => r.status)`)
	if status != http.StatusOK {
		b.t.Errorf("removing the backup email from another tab: %d", status)
	}
	b.frenchSubmit("already-removed-email", `[data-testid=confirm-remove]`, http.StatusOK, `[data-testid=flash]`, "Cette méthode de connexion n’est déjà plus sur votre compte")

	b.open(b.e.portalURL + b.removeLinkFromList("factor-guardian"))
	b.waitFor(`[data-testid=confirm-remove]`)
	b.frenchSubmit("removed-guardian", `[data-testid=confirm-remove]`, http.StatusOK, `[data-testid=flash]`, "Méthode supprimée")

	// Removed through the Management API: the MFA API does not know them.
	for _, kind := range []string{"security-key", "passkey"} {
		b.open(b.e.portalURL + b.removeLinkFromList("factor-"+kind))
		b.waitFor(`[data-testid=confirm-remove]`)
		b.frenchSubmit("removed-"+kind, `[data-testid=confirm-remove]`, http.StatusOK, `[data-testid=flash]`, "Méthode supprimée")
	}

	b.frenchVisit("confirm-remove-last", b.removeLink("factor-app"), http.StatusOK, `[data-testid=confirm-remove]`, "C’est la dernière méthode de cette page que vous pouvez supprimer")
}

// frenchNewRecoveryCode gets a new code (and copies it), confirms it was
// saved, then sends a spent form again, and loses Auth0's answer.
func (b *tab) frenchNewRecoveryCode() {
	b.t.Helper()
	b.open(b.e.portalURL + "/recovery-code")
	b.waitFor(`[data-testid=regenerate]`)
	b.frenchSubmit("new-recovery-code", `[data-testid=regenerate]`, http.StatusOK, `[data-testid=saved-done]`, "Votre nouveau code de récupération")
	b.do("click copy", chromedp.Click(chromedp.CSS(`[data-testid=copy]`), chromedp.NodeVisible))
	copied, err := chromedp.Run(b.ctx, chromedp.Poll[string](
		`document.querySelector(".copy-status").textContent.trim() || false`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		b.fail("wait for the copy status", err)
	}
	if copied != "Copié." {
		b.t.Errorf("copy status %q, want Copié.", copied)
	}
	b.frenchHere("new-recovery-code-copied", `[data-testid=saved-done]`, "Copié.")
	b.frenchSubmit("recovery-code-saved", `[data-testid=saved-done]`, http.StatusOK, `[data-testid=flash]`, "Votre nouveau code de récupération est prêt")

	b.open(b.e.portalURL + "/recovery-code")
	b.waitFor(`[data-testid=regenerate]`)
	b.setValue(`input[name=regen_nonce]`, "spent")
	b.frenchSubmit("recovery-code-sent-twice-409", `[data-testid=regenerate]`, http.StatusConflict, errorAction, "Ce formulaire a déjà été envoyé")

	b.open(b.e.portalURL + "/recovery-code")
	b.waitFor(`[data-testid=regenerate]`)
	b.e.tenant.Inject(auth0emu.RouteRegenerateRecoveryCode, auth0emu.Fault{DropAfterApply: 1})
	b.frenchSubmit("recovery-code-outcome-unknown-502", `[data-testid=regenerate]`, http.StatusBadGateway, errorAction, "Nous n’avons pas pu confirmer le résultat")
	b.e.tenant.ClearFaults()
}

// frenchEmbedSignedIn opens the iframe's pages at top level, with the
// portal's session (what a same-site account area's frame gets): the list,
// the removal of the last method and what follows, a new recovery code and
// a bad link.
func (b *tab) frenchEmbedSignedIn() {
	b.t.Helper()
	b.frenchVisit("embed-factors", "/embed/factors", http.StatusOK, `[data-testid=remove]`, "Vos méthodes de connexion")
	link := b.removeLink("factor-app")
	if !strings.HasPrefix(link, "/embed/factors/") {
		b.t.Errorf("the embed list's removal link %q leaves the embed pages", link)
	}
	b.frenchVisit("embed-confirm-remove-last", link, http.StatusOK, `[data-testid=confirm-remove]`, "C’est la dernière méthode de cette page que vous pouvez supprimer")
	b.frenchSubmit("embed-removed-app", `[data-testid=confirm-remove]`, http.StatusOK, `[data-testid=factor-recovery-code] a`, "Méthode supprimée")
	if got := b.portalPath(); got != "/embed/factors" {
		b.t.Errorf("after a removal in the embed pages: at %s, want /embed/factors", got)
	}
	b.frenchVisit("embed-recovery-code", "/embed/recovery-code", http.StatusOK, `[data-testid=regenerate]`, "Générer un nouveau code")
	b.frenchSubmit("embed-new-recovery-code", `[data-testid=regenerate]`, http.StatusOK, `[data-testid=saved-done]`, "Votre nouveau code de récupération")
	b.frenchVisit("embed-bad-link-400", "/embed/factors/not-an-id/delete", http.StatusBadRequest, errorAction, "Ce lien n’est pas valide")
}

// frenchPopupDone shows the sign-in popup's last page, as a person sees it
// when the frame that opened the popup is gone (the page cannot close).
func (b *tab) frenchPopupDone() {
	b.t.Helper()
	popup := evalAwait[string](b, "start a pre-session", `fetch("/embed/pre-session", {method: "POST", credentials: "same-origin"}).then(r => r.json()).then(j => j.popup)`)
	if !strings.HasPrefix(popup, "/embed/popup-login?") {
		b.fail("start a framed sign-in", fmt.Errorf("popup address %q", popup))
	}
	b.frenchVisit("embed-popup-signed-in", popup, http.StatusOK, `[data-handoff-code]`, "Vous êtes connecté")
}

// frenchVisit opens path on the portal, expects status, and looks at the
// page in French at every width.
func (b *tab) frenchVisit(name, path string, status int, action, want string) {
	b.t.Helper()
	if got := b.openStatus(b.e.portalURL + path); got != int64(status) {
		b.t.Errorf("%s (%s): %d, want %d", name, path, got, status)
	}
	b.waitFor(action)
	b.frenchHere(name, action, want)
}

// frenchSubmit clicks the button at css, expects the page it leads to to
// answer status, and looks at that page in French at every width.
func (b *tab) frenchSubmit(name, css string, status int, action, want string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil {
		b.fail("click "+css, err)
	}
	if resp.Status != int64(status) {
		b.t.Errorf("%s: %d, want %d", name, resp.Status, status)
	}
	b.waitFor(action)
	b.frenchHere(name, action, want)
}

// frenchHere looks at the current page in French at every width: one
// screenshot each, then checkFrenchPage.
func (b *tab) frenchHere(name, action, want string) {
	b.t.Helper()
	for _, width := range frenchWidths {
		b.do("viewport", chromedp.EmulateViewport(int64(width), 800))
		b.shot(fmt.Sprintf("%s-fr-%dpx", name, width))
		checkFrenchPage(b.t, b, name, action, want, width)
	}
	b.do("viewport", chromedp.EmulateViewport(int64(frenchWidths[0]), 800))
}

// setValue sets a form field's value, as a stale or forged form would carry.
func (b *tab) setValue(css, value string) {
	b.t.Helper()
	if !eval[bool](b, `(el => !!el && ((el.value = `+jsString(value)+`), true))(document.querySelector(`+jsString(css)+`))`) {
		b.fail("set "+css, fmt.Errorf("no such field"))
	}
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// englishWords are words of the English pages that a French page must not
// show (whole words, so "iPhone" in a device name is no phone).
var englishWords = regexp.MustCompile(`\b(the|and|your|Your|you|You|please|Please|Sign|sign|Remove|Removed|Cancel|Request|Error|Back|Try|Copy|Copied|Done|Phone|Email|Recovery|left|isn't|can't|couldn't|wasn't)\b`)

// typographic makes the plain characters of a wanted text match the French
// typography of the page: curly apostrophes, non-breaking spaces and hyphens.
var typographic = strings.NewReplacer("'", "’", "\u00a0", " ", "\u2011", "-")

// checkFrenchPage: the page says want, declares lang="fr", shows no English,
// fits width without sideways scrolling and shows action on screen.
func checkFrenchPage(t *testing.T, b *tab, what, action, want string, width int) {
	t.Helper()
	text := typographic.Replace(b.text())
	if !strings.Contains(text, typographic.Replace(want)) {
		t.Errorf("%s at %d px: want %q on the page", what, width, want)
	}
	if english := englishWords.FindAllString(text, -1); len(english) > 0 {
		t.Errorf("%s at %d px: English words %q on a French page", what, width, english)
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
