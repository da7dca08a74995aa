package e2e

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	qr "github.com/piglig/go-qr"
	"github.com/pquerna/otp/totp"
	"golang.org/x/text/language"

	"mfaportal/auth0emu"
	"mfaportal/i18n"
)

// enrolVariant is one way a person meets the add pages: every journey
// below runs in each.
type enrolVariant struct {
	name   string
	lang   string
	width  int64
	script bool
}

var enrolVariants = []enrolVariant{
	{name: "english-1280", lang: "en", width: 1280, script: true},
	{name: "french-320-without-script", lang: "fr", width: 320, script: false},
}

// enrolJourney is one variant's tab and words.
type enrolJourney struct {
	*tab
	v enrolVariant
	// check screenshots a step, runs axe on it, and checks it is in the
	// variant's language and fits its width.
	check func(name string)
	pr    *i18n.Printer
}

// forEachVariant runs journey once per variant, each in a fresh tenant
// and browser.
func forEachVariant(t *testing.T, journey func(t *testing.T, e *env, j *enrolJourney)) {
	for _, v := range enrolVariants {
		t.Run(v.name, func(t *testing.T) {
			e := newEnv(t)
			b := newTab(t, e)
			b.do("viewport", chromedp.EmulateViewport(v.width, 900))
			b.scriptOff(!v.script)
			axe := loadAxe(t)
			j := &enrolJourney{tab: b, v: v, pr: i18n.New().Printer(language.Make(v.lang))}
			j.check = func(name string) {
				t.Helper()
				b.shot(name)
				// axe is a script: without script, it runs on the page as
				// loaded without it (the page's own script stays unrun).
				b.scriptOff(false)
				if r := b.audit(axe); len(r.Violations) > 0 {
					t.Errorf("%s: %d axe-core violations:%s", name, len(r.Violations), formatViolations(r.Violations))
				}
				b.scriptOff(!v.script)
				if lang := eval[string](b, `document.documentElement.lang`); lang != v.lang {
					t.Errorf("%s: page language %q, want %q", name, lang, v.lang)
				}
				if w := eval[int64](b, `document.documentElement.scrollWidth`); w > v.width {
					t.Errorf("%s: the page is %d px wide in a %d px window", name, w, v.width)
				}
			}
			journey(t, e, j)
		})
	}
}

// scriptOff turns the page's script off or on, as a browser setting would.
func (b *tab) scriptOff(off bool) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off}); err != nil {
		b.fail("script off: "+strconv.FormatBool(off), err)
	}
}

// backTo presses Back until the page at path, as a person does: a page
// that was a form's answer makes the browser offer to send the form again,
// which a person declines by pressing Back once more. A page restored from
// the back/forward cache fires no load event, so each press waits for the
// address to change rather than for a load.
func (b *tab) backTo(path string) {
	b.t.Helper()
	for range 6 {
		before := b.url()
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		_, _ = chromedp.Run(ctx, chromedp.NavigateBack())
		cancel()
		deadline := time.Now().Add(stepTimeout)
		for b.url() == before && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if u, err := url.Parse(b.url()); err == nil && u.Path == path && u.Scheme != "chrome-error" {
			for eval[string](b, `document.readyState`) != "complete" && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			return
		}
	}
	b.t.Fatalf("Back never reached %s (at %s)", path, b.url())
}

// start is the first page of a journey, in the variant's language.
func (j *enrolJourney) start(path string) { j.open(j.e.portalURL + path + "?lang=" + j.v.lang) }

// says reports whether the page's text holds the catalogue's message key
// (its text up to the first placeholder).
func (j *enrolJourney) says(text, key string) bool {
	want, _, _ := strings.Cut(j.pr.T(key), "%")
	return strings.Contains(oneLine(text), oneLine(want))
}

func oneLine(s string) string {
	return strings.TrimSpace(whitespace.ReplaceAllString(strings.ReplaceAll(s, "\u00a0", " "), " "))
}

// TestBrowserAddAuthenticatorApp: Carol, who has no method, goes from her
// empty page to an authenticator app. The QR code on the page is read back
// from a screenshot, a first wrong code is refused in words, the code
// computed from the key shown on the page adds the app, and the recovery
// code that comes with a first method is shown once; Back then finds the
// step over, not the old QR code.
func TestBrowserAddAuthenticatorApp(t *testing.T) {
	forEachVariant(t, func(t *testing.T, e *env, b *enrolJourney) {
		b.start("/factors")
		b.waitFor(`form[data-step=login]`)
		b.typeInto(`#email`, "carol@example.com")
		b.typeInto(`#password`, "carol-demo-pass")
		b.click(`form[data-step=login] button[type=submit]`)
		b.waitFor(`[data-testid=empty-state] [data-testid=add-method]`)
		b.check("empty-state")
		b.click(`[data-testid=add-method]`)
		b.waitFor(`[data-testid=add-app]`)
		b.check("add-a-method")
		b.click(`[data-testid=add-app]`)
		b.waitFor(`[data-testid=start-app]`)
		b.check("add-app-start")
		b.click(`[data-testid=start-app]`)
		b.waitFor(`[data-testid=qr] svg`)
		b.check("add-app-scan")

		key := strings.Join(strings.Fields(eval[string](b.tab, `document.querySelector("[data-testid=secret]").textContent`)), "")
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
		b.check("add-app-wrong-code")
		if !b.says(b.text(), "addapp.code.wrong") {
			t.Errorf("wrong code page says %q", b.text())
		}

		code, err := totp.GenerateCode(key, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.typeInto(`[data-testid=otp]`, code)
		b.click(`[data-testid=confirm-app]`)
		b.waitFor(`[data-testid=first-method-added]`)
		b.check("first-recovery-code")
		shown := strings.Join(strings.Fields(eval[string](b.tab, `document.querySelector("[data-testid=recovery-code]").textContent`)), "")
		if want := e.tenant.RecoveryCode("auth0|carol"); shown != want || want == "" {
			t.Errorf("page shows recovery code %q, tenant has %q", shown, want)
		}
		b.click(`[data-testid=saved-done]`)
		b.waitFor(`[data-testid=factor-list]`)
		b.check("factors-after-adding")
		labels := strings.Join(b.factorLabels(), "|")
		if !b.says(labels, "factors.app.label") || !b.says(labels, "factors.recovery.label") {
			t.Errorf("after adding, the list reads %q", labels)
		}
		// The tenant accepts the new app at the next sign-in.
		e.clock.Advance(time.Minute)
		if _, err := e.tenant.TOTPCode("auth0|carol"); err != nil {
			t.Errorf("the tenant has no active app for carol: %v", err)
		}

		// Back: the recovery code is not shown again, and the scan step
		// is over (a new start, not the old QR code).
		b.backTo("/recovery-code/new")
		if strings.Contains(strings.Join(strings.Fields(b.text()), ""), shown) {
			t.Error("Back shows the recovery code again")
		}
		b.backTo("/add/app")
		b.waitFor(`[data-testid=start-app]`)
		b.check("back-after-adding")
		if b.count(`[data-testid=qr]`) != 0 {
			t.Error("Back shows the finished association's QR code")
		}
	})
}

// TestBrowserAddPhone: Bob adds a phone, then an email address. A number that is not one is
// refused in words; the code is read from the emulator's outbox page, as a
// developer would; Back from the code step is the code step again (no
// second code sent); axe audits each step; the tenant then has the phone.
func TestBrowserAddPhone(t *testing.T) {
	forEachVariant(t, func(t *testing.T, e *env, b *enrolJourney) {
		b.start("/factors")
		b.signInAtTenant("bob@example.com", "bob-demo-pass", `[data-testid=factor-list]`)
		b.click(`[data-testid=add-method]`)
		b.click(`[data-testid=add-phone]`)
		b.waitFor(`[data-testid=send-code]`)
		b.check("add-phone-start")
		b.do("choose France", chromedp.SetValue(chromedp.CSS(`#region`), "FR"))
		b.typeInto(`[data-testid=number]`, "12")
		b.click(`[data-testid=send-code]`)
		b.waitFor(`[data-testid=number-error]`)
		b.check("add-phone-not-a-number")
		b.typeInto(`[data-testid=number]`, "06 12 34 56 78")
		b.click(`[data-testid=send-code]`)
		b.waitFor(`[data-testid=confirm-phone]`)
		b.check("add-phone-code")
		if sent := b.text(); !strings.Contains(oneLine(sent), "••• 5678") {
			t.Errorf("code step says %q", sent)
		}
		// Back to the number form shows the code step again: the
		// association stands, and no second code is sent.
		b.backTo("/add/phone")
		b.waitFor(`[data-testid=confirm-phone]`)
		if n := len(e.tenant.PendingEnrolments("auth0|bob")); n != 1 {
			t.Errorf("after Back, %d associations pending, want 1", n)
		}

		// The emulator's outbox, in the same browser, as a developer reads it.
		portal := b.url()
		b.open(e.tenantURL + "/_emulator/outbox")
		b.waitFor(`[data-testid=outbox-code]`)
		b.shot("emulator-outbox")
		code := strings.TrimSpace(eval[string](b.tab, `document.querySelector("[data-testid=outbox-entry][data-channel=sms] [data-testid=outbox-code]").textContent`))
		b.open(portal)
		b.waitFor(`[data-testid=confirm-phone]`)
		b.typeInto(`[data-testid=code]`, code)
		b.click(`[data-testid=confirm-phone]`)
		b.waitFor(`[data-testid=factor-list]`)
		b.check("factors-after-adding-phone")
		if !b.says(b.flash(), "addphone.flash.added") {
			t.Errorf("flash %q", b.flash())
		}
		if !b.says(strings.Join(b.factorLabels(), "|"), "factors.phone.label") {
			t.Errorf("after adding, the list reads %q", b.factorLabels())
		}

		// Then an email address, the same way.
		b.click(`[data-testid=add-method]`)
		b.click(`[data-testid=add-email]`)
		b.waitFor(`[data-testid=email]`)
		b.check("add-email-start")
		b.typeInto(`[data-testid=email]`, "bob.backup@example.org")
		b.click(`[data-testid=send-code]`)
		b.waitFor(`[data-testid=confirm-phone]`)
		b.check("add-email-code")
		portal = b.url()
		b.open(e.tenantURL + "/_emulator/outbox")
		b.waitFor(`[data-testid=outbox-entry][data-channel=email]`)
		code = strings.TrimSpace(eval[string](b.tab, `document.querySelector("[data-testid=outbox-entry][data-channel=email] [data-testid=outbox-code]").textContent`))
		b.open(portal)
		b.waitFor(`[data-testid=confirm-phone]`)
		b.typeInto(`[data-testid=code]`, code)
		b.click(`[data-testid=confirm-phone]`)
		b.waitFor(`[data-testid=factor-list]`)
		if !b.says(b.flash(), "addemail.flash.added") {
			t.Errorf("flash %q", b.flash())
		}
		if !b.says(strings.Join(b.factorLabels(), "|"), "factors.email.label") {
			t.Errorf("after adding an email, the list reads %q", b.factorLabels())
		}
	})
}

// TestBrowserAddGuardian: Bob, following a helpdesk link to "add the
// Guardian app", signs in and lands on it. Before the phone answers the
// page says so; the approval is given on the emulator's outbox page, as
// the phone would. With script the page notices by itself (polite
// polling); without, the button asks. Then the list has the Guardian app.
func TestBrowserAddGuardian(t *testing.T) {
	forEachVariant(t, func(t *testing.T, e *env, b *enrolJourney) {
		b.start("/add/guardian")
		b.signInAtTenant("bob@example.com", "bob-demo-pass", `[data-testid=start-guardian]`)
		b.check("add-guardian-start")
		b.click(`[data-testid=start-guardian]`)
		b.waitFor(`[data-testid=qr] svg`)
		b.check("add-guardian-scan")
		if waiting := strings.TrimSpace(eval[string](b.tab, `document.querySelector("[data-testid=poll-status]").textContent`)); (waiting != "") != b.v.script {
			t.Errorf("with script %v, the waiting note reads %q", b.v.script, waiting)
		}
		b.click(`[data-testid=check-guardian]`)
		b.waitFor(`[data-testid=guardian-notice]`)
		b.check("add-guardian-not-yet")

		portal := b.url()
		b.open(e.tenantURL + "/_emulator/outbox")
		b.waitFor(`[data-testid=outbox-entry][data-channel=auth0] button[value=approve]`)
		b.typeInto(`[data-testid=outbox-entry][data-channel=auth0] input[name=device]`, "Bob's Pixel")
		b.click(`[data-testid=outbox-entry][data-channel=auth0] button[value=approve]`)
		b.open(portal)
		if b.v.script {
			// Nobody presses anything: the page asks within 5 s.
			b.waitFor(`[data-testid=factor-list]`)
		} else {
			b.waitFor(`[data-testid=check-guardian]`)
			b.click(`[data-testid=check-guardian]`)
			b.waitFor(`[data-testid=factor-list]`)
		}
		b.check("factors-after-adding-guardian")
		if !b.says(b.flash(), "addguardian.flash.added") {
			t.Errorf("flash %q", b.flash())
		}
		if !strings.Contains(strings.Join(b.factorLabels(), "|"), "Guardian") {
			t.Errorf("after adding, the list reads %q", b.factorLabels())
		}
	})
}

// TestBrowserCancelAdding: Bob starts adding an app, then cancels: the
// inactive entry the association left at the tenant is removed too.
func TestBrowserCancelAdding(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.open(e.portalURL + "/add/app")
	b.signInAtTenant("bob@example.com", "bob-demo-pass", `[data-testid=start-app]`)
	before := len(e.tenant.Authenticators("auth0|bob"))
	b.click(`[data-testid=start-app]`)
	b.waitFor(`[data-testid=qr] svg`)
	if got := len(e.tenant.Authenticators("auth0|bob")); got != before+1 {
		t.Fatalf("the association left %d entries, want %d", got, before+1)
	}
	b.click(`[data-testid=cancel-app]`)
	b.waitFor(`[data-testid=factor-list]`)
	if got := len(e.tenant.Authenticators("auth0|bob")); got != before {
		t.Errorf("after cancelling, the tenant lists %d entries, want %d", got, before)
	}
	if n := len(e.tenant.PendingEnrolments("auth0|bob")); n != 0 {
		t.Errorf("after cancelling, %d associations pending", n)
	}
}

// TestBrowserEmbedAddThroughSessionEnd: in the account area's frame, Bob
// (signed in through the popup, from a link straight to the app's step)
// starts adding an app; his secure session ends before he confirms. The
// confirmation brings the frame's sign-in; the popup signs him in again;
// the frame comes back to the step, which says it starts again and that
// nothing was added, and nothing was.
func TestBrowserEmbedAddThroughSessionEnd(t *testing.T) {
	e, allowed := embedEnv(t)
	b := newTab(t, e)
	b.open(allowed + "/?frame=/embed/add/app")
	waitMessage(b, "mfaportal:height", "")
	_, popup := startPopupSignIn(b, "/embed/add/app")
	popup.signInAtTenantNoWait("bob@example.com", "bob-demo-pass")
	frame := b.attach(findTarget(b, "the frame at the app's step", func(i *target.Info) bool {
		return i.Type == "iframe" && i.URL == e.portalURL+"/embed/add/app"
	}))
	frame.waitFor(`[data-testid=start-app]`)
	frame.click(`[data-testid=start-app]`)
	frame.waitFor(`[data-testid=qr] svg`)
	b.shot("embedded-add-app-scan")
	before := e.tenant.Authenticators("auth0|bob")

	e.clock.Advance(11 * time.Minute)
	frame.typeInto(`[data-testid=otp]`, "123456")
	frame.click(`[data-testid=confirm-app]`)
	_, popup = startPopupSignIn(b, "/embed/add/app/confirm")
	if popup.count(`form[data-step=login]`) == 1 {
		popup.signInAtTenantNoWait("bob@example.com", "bob-demo-pass")
	} else {
		popup.passMFANoWait()
	}
	frame = b.attach(findTarget(b, "the frame back at the app's step", func(i *target.Info) bool {
		return i.Type == "iframe" && strings.HasPrefix(i.URL, e.portalURL+"/embed/add/app?restarted=1")
	}))
	frame.waitFor(`[data-testid=start-app]`)
	b.shot("embedded-add-app-restarted")
	if !strings.Contains(frame.flash(), "nothing was added") {
		t.Errorf("the step does not say why it starts again: %q", frame.flash())
	}
	for _, a := range e.tenant.Authenticators("auth0|bob") {
		if a.Active && !slices.ContainsFunc(before, func(o auth0emu.Authenticator) bool { return o.ID == a.ID && o.Active }) {
			t.Errorf("an authenticator became active: %+v", a)
		}
	}
}
