package e2e

// Browser journeys: headless Chromium against the real portal and the
// emulated tenant, a test per journey, each saving a screenshot of every page
// it visits into the folder it logs. Run with: go test ./e2e/ -run Browser -v

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// What alice's factors read like on /factors. Masks follow what Auth0
// returns (XXXXXXXX9167, alic****@exam*******), shown with bullets.
const (
	labelApp      = "Authenticator app"
	labelGuardian = "Guardian app (push notifications and one-time codes)"
	labelPhone    = "Phone ••• 9167 (text and voice)" // innerText turns the no-break space into a space
	labelEmail    = "Email alic•••@exam•••"
	labelRecovery = "Recovery code"
	labelKey      = "Security key"
	labelPasskey  = "Passkey"
)

// TestBrowserSignInShowsGroupedFactors signs in with password and TOTP on the
// tenant's pages and reads the grouped list as a person sees it.
func TestBrowserSignInShowsGroupedFactors(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)

	b.signInAlice("/", `[data-testid=factor-list]`)
	if got := b.portalPath(); got != "/factors" {
		t.Fatalf("signed in at %s, want / to lead to /factors", got)
	}
	shot := b.shot("factors")

	// Two emails: the verified-only one and the enrolled one; the security
	// key and the passkey come from the Management API alone.
	want := []string{labelApp, labelGuardian, labelPhone, labelEmail, labelEmail, labelKey, labelPasskey, labelRecovery}
	if got := b.factorLabels(); !slices.Equal(got, want) {
		t.Errorf("factor labels:\n got %q\nwant %q", got, want)
	}
	// The tenant lists an inactive TOTP too; the page must not.
	inactive := 0
	for _, a := range e.tenant.Authenticators(alice) {
		if !a.Active {
			inactive++
		}
	}
	if inactive == 0 {
		t.Fatal("alice has no inactive authenticator: the hidden-entry check would prove nothing")
	}
	if n := b.count(`[data-testid=factor-app]`); n != 1 {
		t.Errorf("%d authenticator apps shown, want 1 (the inactive one hidden)", n)
	}
	if n := b.count(`[data-testid=factor-list] > li`); n != len(want) {
		t.Errorf("%d entries shown, want %d", n, len(want))
	}
	if name := b.texts(`[data-testid=user-name]`); !slices.Equal(name, []string{"Alice Example"}) {
		t.Errorf("header names %q, want Alice Example", name)
	}
	if left := b.texts(`[data-testid=session-left]`); len(left) != 1 || !strings.Contains(left[0], "10 minutes") {
		t.Errorf("session time left reads %q, want 10 minutes", left)
	}

	if os.Getenv("UPDATE_README_SCREENSHOT") == "1" {
		png, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join("..", "docs", "screenshot-factors.png")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("README screenshot updated: %s", dst)
	}
}

// TestBrowserRemoveGuardianTakesItsOneTimeCodes removes the Guardian app:
// the confirmation names both halves, and Auth0 drops the OTP twin too.
func TestBrowserRemoveGuardianTakesItsOneTimeCodes(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	// The tenant says which totp is the push's twin: its id has a suffix of
	// its own, as in Auth0's recorded list.
	push := e.idOf(alice, "push|")
	twin := e.tenant.MemberIDs(alice, push)[1]
	if !slices.Contains(e.ids(alice), twin) || strings.TrimPrefix(twin, "totp|") == strings.TrimPrefix(push, "push|") {
		t.Fatalf("alice's push %s has no OTP twin %s with its own suffix at the tenant", push, twin)
	}

	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.shot("factors")
	b.click(`[data-testid=factor-guardian] [data-testid=remove]`)
	b.waitFor(`[data-testid=confirm-remove]`)
	b.shot("confirm-remove-guardian")
	if h := b.texts(`h1`); !slices.Equal(h, []string{"Remove “" + labelGuardian + "”?"}) {
		t.Errorf("confirmation heading %q", h)
	}
	wantRemoves := []string{"Push notifications from the Guardian app", "One-time codes from the same Guardian app"}
	if got := b.texts(`[data-testid=removes] li`); !slices.Equal(got, wantRemoves) {
		t.Errorf("confirmation lists %q, want %q", got, wantRemoves)
	}
	if !slices.Contains(e.ids(alice), push) {
		t.Fatal("the confirmation page removed something")
	}

	b.click(`[data-testid=confirm-remove]`)
	b.waitFor(`[data-testid=flash]`)
	b.shot("factors-after-remove")
	if got := b.portalPath(); got != "/factors" {
		t.Errorf("after removing: at %s, want /factors", got)
	}
	if got, want := b.flash(), "Removed: "+labelGuardian+"."; got != want {
		t.Errorf("flash %q, want %q", got, want)
	}
	if want := []string{labelApp, labelPhone, labelEmail, labelEmail, labelKey, labelPasskey, labelRecovery}; !slices.Equal(b.factorLabels(), want) {
		t.Errorf("factor labels after removal %q, want %q", b.factorLabels(), want)
	}
	ids := e.ids(alice)
	if slices.Contains(ids, push) || slices.Contains(ids, twin) {
		t.Errorf("tenant still has %s or its twin %s: %q", push, twin, ids)
	}
	if !hasIDWithPrefix(ids, "totp|dev_") {
		t.Errorf("the separate authenticator app went too: %q", ids)
	}
}

// TestBrowserRemovePhoneTakesTextAndVoice removes the phone: SMS and voice
// are one phone to a person, and both go.
func TestBrowserRemovePhoneTakesTextAndVoice(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	if ids := e.ids(alice); !hasIDWithPrefix(ids, "sms|") || !hasIDWithPrefix(ids, "voice|") {
		t.Fatalf("alice needs both sms and voice at the tenant: %q", ids)
	}

	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.shot("factors")
	b.click(`[data-testid=factor-phone] [data-testid=remove]`)
	b.waitFor(`[data-testid=confirm-remove]`)
	b.shot("confirm-remove-phone")
	want := []string{"Text messages to ••• 9167", "Voice calls to ••• 9167"}
	if got := b.texts(`[data-testid=removes] li`); !slices.Equal(got, want) {
		t.Errorf("confirmation lists %q, want %q", got, want)
	}

	b.click(`[data-testid=confirm-remove]`)
	b.waitFor(`[data-testid=flash]`)
	b.shot("factors-after-remove")
	if got, want := b.flash(), "Removed: "+labelPhone+"."; got != want {
		t.Errorf("flash %q, want %q", got, want)
	}
	if n := b.count(`[data-testid=factor-phone]`); n != 0 {
		t.Errorf("%d phones still listed", n)
	}
	if ids := e.ids(alice); hasIDWithPrefix(ids, "sms|", "voice|") {
		t.Errorf("tenant still has text or voice: %q", ids)
	}
}

// TestBrowserNoRemoveOnVerifiedEmailOrRecoveryCode checks that neither the
// verified-only email nor the recovery code offers a Remove button, and that
// typing their confirmation URL gets a clear refusal.
func TestBrowserNoRemoveOnVerifiedEmailOrRecoveryCode(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	verified := e.tenant.MethodID(alice, "email-verification")
	recovery := e.idOf(alice, "recovery-code|")

	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.shot("factors")
	// Two emails are listed; only the enrolled one can be removed.
	if n := b.count(`[data-testid=factor-email]`); n != 2 {
		t.Fatalf("%d emails listed, want 2", n)
	}
	if n := b.count(`[data-testid=factor-email] [data-testid=remove]`); n != 1 {
		t.Errorf("%d emails with a Remove button, want 1 (the enrolled one)", n)
	}
	fixed := b.texts(`[data-testid=factor-email]:not(:has([data-testid=remove]))`)
	if len(fixed) != 1 || !strings.Contains(fixed[0], "verified email") || !strings.Contains(fixed[0], "can't be removed") {
		t.Errorf("the email without a Remove button reads %q, want it to say why (verified email, can't be removed)", fixed)
	}
	if n := b.count(`[data-testid=factor-recovery-code] [data-testid=remove]`); n != 0 {
		t.Error("the recovery code has a Remove button")
	}
	if n := b.count(`[data-testid=factor-recovery-code] a[href="/recovery-code"]`); n != 1 {
		t.Error("the recovery code offers no new code instead")
	}
	for _, id := range []string{verified, recovery} {
		if n := b.count(`a[href*="` + url.PathEscape(id) + `"]`); n != 0 {
			t.Errorf("a link leads to removing %s", id)
		}
	}

	b.open(e.portalURL + "/factors/" + url.PathEscape(verified) + "/delete")
	b.shot("refused-verified-email")
	if h := b.texts(`[data-testid=error-heading]`); !slices.Equal(h, []string{"This email can't be removed here"}) {
		t.Errorf("typed confirmation URL for the verified email: heading %q", h)
	}
	if n := b.count(`[data-testid=confirm-remove]`); n != 0 {
		t.Error("the verified email got a confirmation page")
	}
	b.open(e.portalURL + "/factors/" + url.PathEscape(recovery) + "/delete")
	b.shot("refused-recovery-code")
	if h := b.texts(`[data-testid=error-heading]`); !slices.Equal(h, []string{"The recovery code can't be removed"}) {
		t.Errorf("typed confirmation URL for the recovery code: heading %q", h)
	}
	if ids := e.ids(alice); !slices.Contains(ids, verified) || !slices.Contains(ids, recovery) {
		t.Errorf("something was removed: %q", ids)
	}
}

// TestBrowserRegenerateRecoveryCodeThenSignInWithIt regenerates the recovery
// code, copies it, signs out, and signs in with the old code (refused) and
// the new one (accepted) at the tenant's challenge.
func TestBrowserRegenerateRecoveryCodeThenSignInWithIt(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.allowClipboard()
	oldCode := e.tenant.RecoveryCode(alice)

	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.shot("factors")
	b.click(`[data-testid=factor-recovery-code] a[href="/recovery-code"]`)
	b.waitFor(`[data-testid=regenerate]`)
	b.shot("recovery-code")
	b.click(`[data-testid=regenerate]`)
	b.waitFor(`[data-testid=recovery-code]`)
	b.shot("new-recovery-code")

	label := eval[string](b, `document.querySelector("[data-testid=recovery-code]").getAttribute("aria-label")`)
	newCode, ok := strings.CutPrefix(label, "Recovery code ")
	if !ok || newCode == "" {
		t.Fatalf("recovery code aria-label %q", label)
	}
	shown := strings.ReplaceAll(b.texts(`[data-testid=recovery-code]`)[0], " ", "")
	if shown != newCode {
		t.Errorf("the code reads %q on screen and %q to a screen reader", shown, newCode)
	}
	if newCode == oldCode || normalizeCode(newCode) != normalizeCode(e.tenant.RecoveryCode(alice)) {
		t.Fatalf("shown code is not the tenant's new code (old %t)", newCode == oldCode)
	}

	b.do("click copy", chromedp.Click(chromedp.CSS(`[data-testid=copy]`), chromedp.NodeVisible))
	status, err := chromedp.Run(b.ctx, chromedp.Poll[string](
		`document.querySelector(".copy-status").textContent.trim() || false`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if err != nil {
		b.fail("wait for the copy status", err)
	}
	b.shot("new-recovery-code-copied")
	if status != "Copied." {
		t.Errorf("copy status %q, want Copied.", status)
	}
	clip, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("read the clipboard", err)
	}
	if clip != newCode {
		t.Errorf("clipboard holds %q, want the new code", clip)
	}

	b.click(`[data-testid=saved-done]`)
	b.waitFor(`[data-testid=factor-list]`)
	b.shot("factors-saved")
	if f := b.flash(); !strings.Contains(f, "new recovery code is ready") {
		t.Errorf("after Done the flash reads %q", f)
	}

	b.signOut()
	b.shot("signed-out")
	b.click(`[data-testid=sign-in-again]`)
	b.waitFor(`form[data-step=login]`)
	b.expectOnTenant("sign in again after sign-out")
	b.shot("tenant-sign-in")
	b.typeInto(`#email`, "alice@example.com")
	b.typeInto(`#password`, "alice-demo-pass")
	b.click(`form[data-step=login] button[type=submit]`)
	b.waitFor(`form[data-step=mfa]`)
	b.shot("tenant-mfa-default-method")
	b.click(`a[data-method=recovery-code]`)
	b.waitFor(`form[data-step=mfa][data-method=recovery-code]`)
	b.shot("tenant-mfa-recovery-code")

	b.typeInto(`#code`, oldCode)
	b.click(`form[data-step=mfa] button[value=verify]`)
	b.waitFor(`[data-testid=error-message]`)
	b.shot("tenant-old-code-refused")
	if msg := b.texts(`[data-testid=error-message]`); !slices.Equal(msg, []string{"The code you entered is invalid."}) {
		t.Errorf("old code: tenant says %q, want it refused", msg)
	}

	b.typeInto(`#code`, newCode)
	b.click(`form[data-step=mfa] button[value=verify]`)
	b.waitFor(`form[data-step=recovery-new]`)
	b.shot("tenant-new-code-accepted")
	b.click(`form[data-step=recovery-new] button`)
	b.waitFor(`[data-testid=factor-list]`)
	b.shot("factors-signed-in-with-recovery-code")
	if name := b.texts(`[data-testid=user-name]`); !slices.Equal(name, []string{"Alice Example"}) {
		t.Errorf("signed in with the recovery code as %q, want Alice Example", name)
	}
}

func normalizeCode(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(s))
}

// TestBrowserExpiredTokenReturnsToConfirmation lets the 10-minute /mfa/ token
// expire on a confirmation page: Remove leads through sign-in and back to the
// same confirmation, with nothing deleted until the user confirms again.
func TestBrowserExpiredTokenReturnsToConfirmation(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)

	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.shot("factors")
	b.click(`[data-testid=factor-phone] [data-testid=remove]`)
	b.waitFor(`[data-testid=confirm-remove]`)
	confirmPath := b.portalPath()
	if !strings.HasPrefix(confirmPath, "/factors/") || !strings.HasSuffix(confirmPath, "/delete") {
		t.Fatalf("confirmation page at %q", confirmPath)
	}
	b.shot("confirm-remove-phone")

	e.clock.Advance(11 * time.Minute)
	b.click(`[data-testid=confirm-remove]`)
	b.expectOnTenant("Remove with an expired token")
	if b.count(`form[data-step=login]`) == 1 {
		b.shot("tenant-sign-in")
		b.typeInto(`#email`, "alice@example.com")
		b.typeInto(`#password`, "alice-demo-pass")
		b.click(`form[data-step=login] button[type=submit]`)
	}
	b.passTOTPChallenge()
	b.waitFor(`[data-testid=confirm-remove]`)
	b.shot("confirm-remove-phone-again")
	if got := b.portalPath(); got != confirmPath+"?reconfirm=1" {
		t.Errorf("after signing in again: at %q, want the same confirmation %q", got, confirmPath+"?reconfirm=1")
	}
	if text := eval[string](b, `document.querySelector("[data-testid=flash]").textContent`); !strings.Contains(text, "confirm again") {
		t.Errorf("the confirmation does not say why it is shown again: %q", text)
	}
	if ids := e.ids(alice); !hasIDWithPrefix(ids, "sms|") || !hasIDWithPrefix(ids, "voice|") {
		t.Fatalf("the Remove was replayed after sign-in: %q", ids)
	}
	// The countdown runs from page load on the browser's clock, so the
	// test clock being 11 minutes ahead of it must not matter.
	if left := eval[string](b, `document.querySelector("[data-testid=session-left]").textContent`); !strings.Contains(left, "10 minutes left") {
		t.Errorf("header says %q, want 10 minutes left for the new session", left)
	}

	// Confirming again now works.
	b.click(`[data-testid=confirm-remove]`)
	b.waitFor(`[data-testid=flash]`)
	b.shot("factors-after-remove")
	if ids := e.ids(alice); hasIDWithPrefix(ids, "sms|", "voice|") {
		t.Errorf("confirmed again, but the phone is still there: %q", ids)
	}
}

// TestBrowserBackAfterSignOutShowsNothingPrivate presses Back after signing
// out: the portal's pages are no-store, so nothing of alice's comes back.
func TestBrowserBackAfterSignOutShowsNothingPrivate(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)

	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.shot("factors")
	private := []string{"Alice Example", "Guardian", "9167", "alic", "Authenticator app", "Recovery code", "Sign out"}
	for _, s := range private {
		if !strings.Contains(b.text(), s) {
			t.Fatalf("signed in, the page does not show %q: the check below would prove nothing", s)
		}
	}

	b.signOut()
	b.shot("signed-out")
	b.load("go back", chromedp.NavigateBack())
	b.do("wait for the page", chromedp.WaitReady(chromedp.CSS(`body`)))
	b.shot("after-back")
	t.Logf("Back after sign-out shows %s", b.url())
	text := b.text()
	html := eval[string](b, `document.documentElement.outerHTML`)
	for _, s := range private {
		if strings.Contains(text, s) || strings.Contains(html, s) {
			t.Errorf("after sign-out, Back shows %q", s)
		}
	}
	if n := b.count(`[data-testid=factor-list], [data-testid=user-name]`); n != 0 {
		t.Error("after sign-out, Back shows the factor list or the signed-in header")
	}
	if b.count(`form[data-step=login]`) != 1 {
		t.Errorf("after sign-out, Back should lead to the tenant's sign-in page; at %s", b.url())
	}
}

// After a new recovery code, Back returns to the form without offering to
// resubmit it, and Forward does not show the code again.
func TestBrowserRecoveryCodeBack(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.signInAlice("/recovery-code", `[data-testid=regenerate]`)
	before := e.tenant.RecoveryCode(alice)
	b.click(`[data-testid=regenerate]`)
	b.waitFor(`[data-testid=recovery-code]`)
	if got := b.portalPath(); got != "/recovery-code/new" {
		t.Errorf("the new code is at %s, want /recovery-code/new (after a redirect)", got)
	}
	made := e.tenant.RecoveryCode(alice)
	if made == before {
		t.Fatal("no new code at the tenant")
	}
	b.shot("new-code")
	b.load("back", chromedp.NavigateBack())
	b.waitFor(`[data-testid=regenerate]`)
	b.shot("back-to-the-form")
	if got := b.portalPath(); got != "/recovery-code" {
		t.Errorf("Back leads to %s, want the form page /recovery-code", got)
	}
	// Forward may come from the back/forward cache, with no request.
	b.do("forward", chromedp.NavigateForward())
	b.waitFor(`[data-testid=code-already-shown]`)
	b.shot("forward-code-already-shown")
	if strings.Contains(b.text(), made[:4]) {
		t.Error("Forward shows the code again")
	}
	if e.tenant.RecoveryCode(alice) != made {
		t.Error("going Back and Forward made another code")
	}
}
