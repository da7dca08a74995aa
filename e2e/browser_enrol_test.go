package e2e

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qr "github.com/piglig/go-qr"
	"github.com/pquerna/otp/totp"
)

// TestBrowserAddAuthenticatorApp: Carol, who has no method, goes from her
// empty page to an authenticator app. The QR code on the page is read back
// from a screenshot, a first wrong code is refused in words, the code
// computed from the key shown on the page adds the app, and the recovery
// code that comes with a first method is shown once. axe audits each step.
func TestBrowserAddAuthenticatorApp(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	check := b.shotAndAudit(loadAxe(t))

	b.open(e.portalURL + "/factors")
	b.waitFor(`form[data-step=login]`)
	b.typeInto(`#email`, "carol@example.com")
	b.typeInto(`#password`, "carol-demo-pass")
	b.click(`form[data-step=login] button[type=submit]`)
	b.waitFor(`[data-testid=empty-state] [data-testid=add-method]`)
	check("empty-state")
	b.click(`[data-testid=add-method]`)
	b.waitFor(`[data-testid=add-app]`)
	check("add-a-method")
	b.click(`[data-testid=add-app]`)
	b.waitFor(`[data-testid=start-app]`)
	check("add-app-start")
	b.click(`[data-testid=start-app]`)
	b.waitFor(`[data-testid=qr] svg`)
	check("add-app-scan")

	key := strings.Join(strings.Fields(eval[string](b, `document.querySelector("[data-testid=secret]").textContent`)), "")
	shot, err := chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(`[data-testid=qr]`)))
	if err != nil {
		b.fail("screenshot of the QR code", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	uri, err := qr.Decode(img)
	if err != nil {
		t.Fatalf("the QR code on the page does not read: %v", err)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+key) {
		t.Fatalf("QR code reads %q; the key on the page is %s", uri, key)
	}

	b.typeInto(`[data-testid=otp]`, "000000")
	b.click(`[data-testid=confirm-app]`)
	b.waitFor(`[data-testid=code-error]`)
	check("add-app-wrong-code")
	if !strings.Contains(b.text(), "That code didn't work") {
		t.Errorf("wrong code page says %q", b.text())
	}
	b.do("viewport", chromedp.EmulateViewport(320, 800))
	b.shot("add-app-wrong-code-320px")
	b.do("viewport", chromedp.EmulateViewport(1280, 900))

	code, err := totp.GenerateCode(key, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.typeInto(`[data-testid=otp]`, code)
	b.click(`[data-testid=confirm-app]`)
	b.waitFor(`[data-testid=first-method-added]`)
	check("first-recovery-code")
	shown := strings.Join(strings.Fields(eval[string](b, `document.querySelector("[data-testid=recovery-code]").textContent`)), "")
	if want := e.tenant.RecoveryCode("auth0|carol"); shown != want || want == "" {
		t.Errorf("page shows recovery code %q, tenant has %q", shown, want)
	}
	b.click(`[data-testid=saved-done]`)
	b.waitFor(`[data-testid=factor-list]`)
	check("factors-after-adding")
	labels := strings.Join(b.factorLabels(), "|")
	if !strings.Contains(labels, "Authenticator app") || !strings.Contains(labels, "Recovery code") {
		t.Errorf("after adding, the list reads %q", labels)
	}
	// The tenant accepts the new app at the next sign-in.
	e.clock.Advance(time.Minute)
	if _, err := e.tenant.TOTPCode("auth0|carol"); err != nil {
		t.Errorf("the tenant has no active app for carol: %v", err)
	}
}

// TestBrowserAddPhone: Bob adds a phone, then an email address. A number that is not one is
// refused in words; the code is read from the emulator's outbox page, as a
// developer would; axe audits each step; the tenant then has the phone.
func TestBrowserAddPhone(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	check := b.shotAndAudit(loadAxe(t))
	b.open(e.portalURL + "/factors")
	b.signInAtTenant("bob@example.com", "bob-demo-pass", `[data-testid=factor-list]`)
	b.click(`[data-testid=add-method]`)
	b.click(`[data-testid=add-phone]`)
	b.waitFor(`[data-testid=send-code]`)
	check("add-phone-start")
	b.do("choose France", chromedp.SetValue(chromedp.CSS(`#region`), "FR"))
	b.typeInto(`[data-testid=number]`, "12")
	b.click(`[data-testid=send-code]`)
	b.waitFor(`[data-testid=number-error]`)
	check("add-phone-not-a-number")
	b.typeInto(`[data-testid=number]`, "06 12 34 56 78")
	b.click(`[data-testid=send-code]`)
	b.waitFor(`[data-testid=confirm-phone]`)
	check("add-phone-code")
	if sent := b.text(); !strings.Contains(sent, "••• 5678") {
		t.Errorf("code step says %q", sent)
	}

	// The emulator's outbox, in the same browser, as a developer reads it.
	portal := b.url()
	b.open(e.tenantURL + "/_emulator/outbox")
	b.waitFor(`[data-testid=outbox-code]`)
	b.shot("emulator-outbox")
	code := strings.TrimSpace(eval[string](b, `document.querySelector("[data-testid=outbox-entry][data-channel=sms] [data-testid=outbox-code]").textContent`))
	b.open(portal)
	b.waitFor(`[data-testid=confirm-phone]`)
	b.typeInto(`[data-testid=code]`, code)
	b.click(`[data-testid=confirm-phone]`)
	b.waitFor(`[data-testid=factor-list]`)
	check("factors-after-adding-phone")
	if !strings.Contains(b.flash(), "Your phone was added") {
		t.Errorf("flash %q", b.flash())
	}
	if !strings.Contains(strings.Join(b.factorLabels(), "|"), "Phone") {
		t.Errorf("after adding, the list reads %q", b.factorLabels())
	}

	// Then an email address, the same way.
	b.click(`[data-testid=add-method]`)
	b.click(`[data-testid=add-email]`)
	b.waitFor(`[data-testid=email]`)
	check("add-email-start")
	b.typeInto(`[data-testid=email]`, "bob.backup@example.org")
	b.click(`[data-testid=send-code]`)
	b.waitFor(`[data-testid=confirm-phone]`)
	check("add-email-code")
	portal = b.url()
	b.open(e.tenantURL + "/_emulator/outbox")
	b.waitFor(`[data-testid=outbox-entry][data-channel=email]`)
	code = strings.TrimSpace(eval[string](b, `document.querySelector("[data-testid=outbox-entry][data-channel=email] [data-testid=outbox-code]").textContent`))
	b.open(portal)
	b.waitFor(`[data-testid=confirm-phone]`)
	b.typeInto(`[data-testid=code]`, code)
	b.click(`[data-testid=confirm-phone]`)
	b.waitFor(`[data-testid=factor-list]`)
	if !strings.Contains(b.flash(), "Your email address was added") {
		t.Errorf("flash %q", b.flash())
	}
	if !strings.Contains(strings.Join(b.factorLabels(), "|"), "Email") {
		t.Errorf("after adding an email, the list reads %q", b.factorLabels())
	}
}

// TestBrowserAddGuardian: Bob adds the Guardian app. Before the phone
// answers the page says so; the approval is given on the emulator's
// outbox page, as the phone would; then the list has the Guardian app.
func TestBrowserAddGuardian(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	check := b.shotAndAudit(loadAxe(t))
	b.open(e.portalURL + "/add/guardian")
	b.signInAtTenant("bob@example.com", "bob-demo-pass", `[data-testid=start-guardian]`)
	check("add-guardian-start")
	b.click(`[data-testid=start-guardian]`)
	b.waitFor(`[data-testid=qr] svg`)
	check("add-guardian-scan")
	b.click(`[data-testid=check-guardian]`)
	b.waitFor(`[data-testid=guardian-notice]`)
	check("add-guardian-not-yet")

	portal := b.url()
	b.open(e.tenantURL + "/_emulator/outbox")
	b.waitFor(`[data-testid=outbox-entry][data-channel=auth0] button[value=approve]`)
	b.typeInto(`[data-testid=outbox-entry][data-channel=auth0] input[name=device]`, "Bob's Pixel")
	b.click(`[data-testid=outbox-entry][data-channel=auth0] button[value=approve]`)
	b.open(portal)
	b.waitFor(`[data-testid=check-guardian]`)
	b.click(`[data-testid=check-guardian]`)
	b.waitFor(`[data-testid=factor-list]`)
	check("factors-after-adding-guardian")
	if !strings.Contains(b.flash(), "Your Guardian app was added") {
		t.Errorf("flash %q", b.flash())
	}
	if !strings.Contains(strings.Join(b.factorLabels(), "|"), "Guardian") {
		t.Errorf("after adding, the list reads %q", b.factorLabels())
	}
}

// shotAndAudit returns a step's check: a screenshot named for it, and no
// axe-core violation on the page.
func (b *tab) shotAndAudit(axeSource string) func(name string) {
	return func(name string) {
		b.t.Helper()
		b.shot(name)
		if r := b.audit(axeSource); len(r.Violations) > 0 {
			b.t.Errorf("%s: %d axe-core violations:%s", name, len(r.Violations), formatViolations(r.Violations))
		}
	}
}
