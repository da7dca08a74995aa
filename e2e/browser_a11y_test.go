package e2e

// Accessibility: axe-core on every page a person meets (the portal's and the
// tenant's), and the whole journey done with the keyboard alone, with a
// visible focus at every stop. Run with:
//
//	npm ci --prefix e2e/axe && go test ./e2e/ -run 'BrowserAxe|BrowserKeyboard' -v

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"
)

// axeScriptPath is axe-core as `npm ci --prefix e2e/axe` installs it, at the
// exact version e2e/axe/package-lock.json pins, so a new axe release cannot
// change what passes without a reviewed change to the lock file.
const axeScriptPath = "axe/node_modules/axe-core/axe.min.js"

// loadAxe reads axe-core. Without it the audit is skipped on a laptop but
// fails in CI, where a skipped accessibility test would hide a gap.
func loadAxe(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(axeScriptPath)
	if err == nil {
		return string(src)
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("axe-core missing (%v): CI must run `npm ci --prefix e2e/axe` before the tests", err)
	}
	t.Skipf("axe-core not installed (%v): run `npm ci --prefix e2e/axe`", err)
	return ""
}

// axeViolation is one failed axe rule with the elements that fail it.
type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Failure string `json:"failure"`
	} `json:"nodes"`
}

// axeReport is what the audit of one page returns.
type axeReport struct {
	Version    string         `json:"version"`
	Violations []axeViolation `json:"violations"`
	// Incomplete names rules axe could not decide (for example contrast
	// over an image): logged for a person to look at, not failed on.
	Incomplete []string `json:"incomplete"`
}

// axeRun runs every rule axe-core enables by default (WCAG 2.0/2.1/2.2 A
// and AA plus best practices) and keeps the results small enough to print.
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(r => ({
	version: axe.version,
	violations: r.violations.map(v => ({
		id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({
			target: n.target.map(String).join(' >>> '),
			html: n.html,
			failure: n.failureSummary || '',
		})),
	})),
	incomplete: r.incomplete.map(v => v.id),
}))`

// audit injects axe-core into the current page and runs it. Runtime.evaluate
// is not subject to the page's CSP, so the pages need no exception for it.
func (b *tab) audit(axeSource string) axeReport {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
		b.fail("inject axe-core", err)
	}
	report, err := chromedp.Run(ctx, chromedp.Evaluate[axeReport](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("run axe-core", err)
	}
	return report
}

// formatViolations says what failed, how badly, and where, so the log is
// enough to find the template to fix.
func formatViolations(vs []axeViolation) string {
	var s strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&s, "\n  %s (%s): %s\n    %s", v.ID, v.Impact, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&s, "\n    - %s\n      %s\n      %s", n.Target, n.HTML,
				strings.ReplaceAll(strings.TrimSpace(n.Failure), "\n", "\n      "))
		}
	}
	return s.String()
}

// openStatus opens url and returns the HTTP status of the page it shows.
func (b *tab) openStatus(url string) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(url))
	if err != nil {
		b.fail("open "+url, err)
	}
	return resp.Status
}

// TestBrowserAxe signs in through the tenant's pages and visits every kind
// of portal page, the embed pages and a few French ones, asserting axe-core
// finds nothing on any of them.
func TestBrowserAxe(t *testing.T) {
	axeSource := loadAxe(t)
	// The embed pages exist only with a framing origin; they are audited at
	// top level, with the portal's own (same-site) session.
	e := newEnv(t, envOptions{extraEnv: map[string]string{"FRAME_ANCESTORS": unservedEmbedParent}})
	b := newTab(t, e)
	audited, failed := 0, 0
	check := func(name string) {
		t.Helper()
		b.shot(name)
		r := b.audit(axeSource)
		audited++
		where := b.where()
		if len(r.Incomplete) > 0 {
			t.Logf("%s (%s): axe could not decide %q; look at the screenshot", name, where, r.Incomplete)
		}
		if len(r.Violations) > 0 {
			failed++
			t.Errorf("%s (%s): %d axe-core %s violations:%s", name, where, len(r.Violations), r.Version, formatViolations(r.Violations))
		}
	}

	// The tenant's pages: sign-in and MFA, plain and after a mistake.
	b.open(e.portalURL + "/factors")
	b.waitFor(`form[data-step=login]`)
	b.expectOnTenant("sign-in page")
	check("tenant-sign-in")
	b.typeInto(`#email`, "alice@example.com")
	b.typeInto(`#password`, "not-alices-password")
	b.click(`form[data-step=login] button[type=submit]`)
	b.waitFor(`[data-testid=error-message]`)
	check("tenant-sign-in-wrong-password")
	b.typeInto(`#email`, "alice@example.com")
	b.typeInto(`#password`, "alice-demo-pass")
	b.click(`form[data-step=login] button[type=submit]`)
	b.waitFor(`form[data-step=mfa][data-method=otp]`)
	check("tenant-mfa")
	b.typeInto(`#code`, "000000")
	b.click(`form[data-step=mfa] button[value=verify]`)
	b.waitFor(`[data-testid=error-message]`)
	check("tenant-mfa-wrong-code")
	b.passTOTPChallenge()
	b.waitFor(`[data-testid=factor-list]`)

	// The portal's pages, signed in.
	check("factors")
	b.open(e.portalURL + "/factors/" + url.PathEscape(e.idOf(alice, "sms|")) + "/delete")
	b.waitFor(`[data-testid=confirm-remove]`)
	check("confirm-remove-phone")
	if status := b.openStatus(e.portalURL + "/factors/" + url.PathEscape(e.tenant.MethodID(alice, "email-verification")) + "/delete"); status != 403 {
		t.Errorf("the verified email's confirmation URL answered %d, want the 403 refusal page", status)
	}
	b.waitFor(`[data-testid=error-heading]`)
	check("refused-verified-email-403")
	if status := b.openStatus(e.portalURL + "/no-such-page"); status != 404 {
		t.Errorf("/no-such-page answered %d, want the 404 page", status)
	}
	b.waitFor(`[data-testid=error-heading]`)
	check("not-found-404")
	b.open(e.portalURL + "/recovery-code")
	b.waitFor(`[data-testid=regenerate]`)
	check("recovery-code")
	b.click(`[data-testid=regenerate]`)
	b.waitFor(`[data-testid=recovery-code]`)
	check("new-recovery-code")

	// visit opens a page (a path, or a func giving one from the page shown
	// now), waits for its main element and audits it.
	visit := func(name string, path func() string, css string) {
		t.Helper()
		b.open(e.portalURL + path())
		b.waitFor(css)
		check(name)
	}
	at := func(p string) func() string { return func() string { return p } }
	removeLinkOf := func(testID string) func() string { return func() string { return b.removeLink(testID) } }

	// The iframe's pages, signed in.
	visit("embed-factors", at("/embed/factors"), `[data-testid=factor-list]`)
	visit("embed-confirm-remove-guardian", removeLinkOf("factor-guardian"), `[data-testid=confirm-remove]`)
	visit("embed-recovery-code", at("/embed/recovery-code"), `[data-testid=regenerate]`)
	b.click(`[data-testid=regenerate]`)
	b.waitFor(`[data-testid=recovery-code]`)
	check("embed-new-recovery-code")

	// In French: longer words, lang="fr".
	visit("factors-fr", at("/factors?lang=fr"), `[data-testid=factor-list]`)
	visit("confirm-remove-phone-fr", removeLinkOf("factor-phone"), `[data-testid=confirm-remove]`)

	b.signOut()
	check("signed-out-fr")
	visit("embed-sign-in-fr", at("/embed/login"), `[data-testid=embed-sign-in]`)
	visit("signed-out", at("/signed-out?lang=en"), `[data-testid=sign-in-again]`)
	visit("embed-sign-in", at("/embed/login"), `[data-testid=embed-sign-in]`)
	visit("embed-signed-out", at("/embed/signed-out"), `[data-testid=sign-in-again]`)

	t.Logf("axe: %d pages audited, %d with violations", audited, failed)
}

// maxTabs bounds the Tab presses to reach one element: more than any of
// our pages has stops, so a missing element fails instead of cycling.
const maxTabs = 40

// focusStop is where keyboard focus is and whether a person can see it.
type focusStop struct {
	None         bool    `json:"none"` // focus is on the page itself
	Desc         string  `json:"desc"`
	Matches      bool    `json:"matches"`
	OutlineStyle string  `json:"outlineStyle"`
	OutlineWidth float64 `json:"outlineWidth"`
	BoxShadow    string  `json:"boxShadow"`
	FocusVisible bool    `json:"focusVisible"`
	OnScreen     bool    `json:"onScreen"`
}

func (f focusStop) visible() bool {
	ring := (f.OutlineStyle != "none" && f.OutlineWidth > 0) || (f.BoxShadow != "" && f.BoxShadow != "none")
	return ring && f.OnScreen
}

func focusStopScript(css string) string {
	return `(() => {
	const el = document.activeElement;
	if (!el || el === document.body || el === document.documentElement) return {none: true};
	const s = getComputedStyle(el), r = el.getBoundingClientRect();
	// Never the value: it may be what was typed (a password, a code).
	const label = el.getAttribute('aria-label') || (el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText) || '';
	const text = label.trim().replace(/\s+/g, ' ').slice(0, 50);
	return {
		none: false,
		desc: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
			(el.dataset.testid ? '[data-testid=' + el.dataset.testid + ']' : '') + ' "' + text + '"',
		matches: el.matches(` + strconv.Quote(css) + `),
		outlineStyle: s.outlineStyle,
		outlineWidth: parseFloat(s.outlineWidth) || 0,
		boxShadow: s.boxShadow,
		focusVisible: el.matches(':focus-visible'),
		onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
	};
})()`
}

// tabTo presses Tab until the element at css has focus, asserting at every
// stop on the way that the focused element is on screen with a focus ring.
// An element that already has focus (autofocus) counts as reached.
func (b *tab) tabTo(css string) {
	b.t.Helper()
	var path []string
	for presses := 0; presses <= maxTabs; presses++ {
		if presses > 0 {
			b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		}
		f := eval[focusStop](b, focusStopScript(css))
		if f.None {
			continue
		}
		path = append(path, f.Desc)
		if !f.visible() {
			b.t.Errorf("%s: focus on %s is not visible (outline %s %gpx, box-shadow %s, :focus-visible %t, on screen %t)",
				b.where(), f.Desc, f.OutlineStyle, f.OutlineWidth, f.BoxShadow, f.FocusVisible, f.OnScreen)
		}
		if f.Matches {
			b.t.Logf("%s: Tab ×%d to %s", b.where(), presses, f.Desc)
			return
		}
	}
	b.fail("Tab to "+css, fmt.Errorf("not reached in %d presses; focus went %s", maxTabs, strings.Join(path, " → ")))
}

// where names the current page by server and path; the query is left out
// because it carries the sign-in's state.
func (b *tab) where() string {
	b.t.Helper()
	u, err := url.Parse(b.url())
	if err != nil {
		b.fail("parse the location", err)
	}
	server := "portal"
	if strings.HasPrefix(b.url(), b.e.tenantURL+"/") {
		server = "tenant"
	}
	return server + " " + u.EscapedPath()
}

// focusWindow makes the page behave as the focused window a person types
// into. Headless Chromium otherwise reports an unfocused window until the
// first key arrives, so an autofocused field would match neither :focus nor
// :focus-visible, and the focus check would measure the harness, not the page.
func (b *tab) focusWindow() {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
	if err != nil {
		b.fail("emulate a focused window", err)
	}
}

// typeKeys types text into whatever has focus, key by key.
func (b *tab) typeKeys(what, text string) {
	b.t.Helper()
	b.do("type "+what, chromedp.KeyEvent(text))
}

// pressEnterAndLoad presses Enter on the focused element and waits for the
// page that submitting the form or following the link leads to.
func (b *tab) pressEnterAndLoad(what string) {
	b.t.Helper()
	b.load("press Enter on "+what, chromedp.KeyEvent(kb.Enter))
}

// TestBrowserKeyboardOnly does the whole journey with the keyboard alone:
// sign in with password and TOTP, remove the phone, get a new recovery
// code, and sign out, never clicking.
func TestBrowserKeyboardOnly(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.focusWindow()
	oldRecovery := e.tenant.RecoveryCode(alice)
	start := time.Now()

	// Sign in at the tenant.
	b.open(e.portalURL + "/factors")
	b.waitFor(`form[data-step=login]`)
	b.expectOnTenant("sign-in page")
	b.tabTo(`#email`)
	b.typeKeys("the email", "alice@example.com")
	b.tabTo(`#password`)
	b.typeKeys("the password", "alice-demo-pass")
	b.shot("tenant-sign-in-typed")
	b.pressEnterAndLoad("the password field")

	b.waitFor(`form[data-step=mfa][data-method=otp]`)
	secret := eval[string](b, `document.querySelector("[data-testid=totp-secret]").textContent.trim()`)
	unix, err := strconv.ParseInt(eval[string](b, `document.querySelector("form[data-step=mfa]").dataset.emulatorTime`), 10, 64)
	if err != nil {
		t.Fatalf("tenant time on the MFA page: %v", err)
	}
	code, err := totp.GenerateCode(secret, time.Unix(unix, 0))
	if err != nil {
		t.Fatalf("TOTP code from the secret on the MFA page: %v", err)
	}
	b.tabTo(`#code`)
	b.typeKeys("the one-time code", code)
	b.shot("tenant-mfa-typed")
	b.pressEnterAndLoad("the code field")
	b.waitFor(`[data-testid=factor-list]`)
	if got := b.portalPath(); got != "/factors" {
		t.Fatalf("after a keyboard sign-in: at %q (%s), want /factors", got, b.url())
	}

	// Remove the phone.
	b.tabTo(`[data-testid=factor-phone] [data-testid=remove]`)
	b.shot("factors-focus-remove-phone")
	b.pressEnterAndLoad("Remove phone")
	b.waitFor(`[data-testid=confirm-remove]`)
	b.tabTo(`[data-testid=confirm-remove]`)
	b.shot("confirm-focus-remove")
	b.pressEnterAndLoad("the Remove button")
	b.waitFor(`[data-testid=flash]`)
	b.shot("factors-after-remove")
	if got, want := b.flash(), "Removed: "+labelPhone+"."; got != want {
		t.Errorf("flash %q, want %q", got, want)
	}
	if ids := e.ids(alice); hasIDWithPrefix(ids, "sms|", "voice|") {
		t.Errorf("removed with the keyboard, but the tenant still has text or voice: %q", ids)
	}

	// Get a new recovery code and confirm it was saved.
	b.tabTo(`[data-testid=factor-recovery-code] a[href="/recovery-code"]`)
	b.pressEnterAndLoad("the recovery code's link")
	b.waitFor(`[data-testid=regenerate]`)
	b.tabTo(`[data-testid=regenerate]`)
	b.shot("recovery-code-focus-regenerate")
	b.pressEnterAndLoad("Generate a new recovery code")
	b.waitFor(`[data-testid=recovery-code]`)
	if newCode := e.tenant.RecoveryCode(alice); newCode == oldRecovery {
		t.Error("Enter on Generate did not change the tenant's recovery code")
	}
	b.tabTo(`[data-testid=saved-done]`)
	b.pressEnterAndLoad("Done")
	b.waitFor(`[data-testid=factor-list]`)
	b.shot("factors-saved")
	if f := b.flash(); !strings.Contains(f, "new recovery code is ready") {
		t.Errorf("after Done the flash reads %q", f)
	}

	// Sign out.
	b.tabTo(`[data-testid=sign-out]`)
	b.pressEnterAndLoad("Sign out")
	b.waitFor(`[data-testid=sign-in-again]`)
	b.shot("signed-out")
	if got := b.portalPath(); got != "/signed-out" {
		t.Errorf("after Enter on Sign out: at %s, want /signed-out", b.url())
	}
	if labels := b.texts(`[data-testid=user-name]`); len(labels) != 0 {
		t.Errorf("signed out, the header still names %q", labels)
	}
	t.Logf("keyboard-only journey took %s", time.Since(start).Round(time.Millisecond))
}
