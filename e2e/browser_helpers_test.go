package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// browserTestTimeout bounds one browser journey, so a hung Chromium fails
// the test instead of stalling CI.
const browserTestTimeout = 60 * time.Second

// chromiumPath finds Debian's Chromium. Without it the journeys are skipped
// on a laptop but fail in CI, where a skipped browser test would hide a gap.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found: CI must install Debian's chromium for the browser journeys")
	}
	t.Skip("no Chromium found (install Debian's chromium to run the browser journeys)")
	return ""
}

// screenshotDir is where a test's screenshots go: $SCREENSHOT_DIR/<test>
// when set (CI keeps that folder), else screenshots/<test> in the repository.
// Old screenshots of the same test are removed so the folder shows one run.
func screenshotDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("SCREENSHOT_DIR")
	if root == "" {
		wd, err := os.Getwd() // the package directory, e2e/
		if err != nil {
			t.Fatal(err)
		}
		root = filepath.Join(wd, "..", "screenshots")
	}
	dir := filepath.Join(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tab is one headless Chromium tab driving the portal and the tenant's pages.
type tab struct {
	t     *testing.T
	e     *env
	ctx   context.Context
	shots string
	step  int
}

// newTab starts a fresh Chromium (own profile, no network beyond loopback)
// for one test. Everything the test does in it shares one 60 s deadline.
func newTab(t *testing.T, e *env) *tab {
	t.Helper()
	// Counted before the Chromium lookup, so a skipped journey shows in the
	// summary; it counts as passed only if the test does not fail.
	suites.browser.begin(t).held = true
	execPath := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	deadline, cancelDeadline := context.WithTimeout(context.Background(), browserTestTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(deadline, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelDeadline()
	})
	// Starts the browser. The viewport is set too, because headless
	// Chromium takes room for its invisible toolbar out of the window size.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start Chromium (%s): %v", execPath, err)
	}
	b := &tab{t: t, e: e, ctx: ctx, shots: screenshotDir(t)}
	t.Logf("screenshots: %s", b.shots)
	return b
}

// stepTimeout bounds one step (a wait, a page load), so a missing element
// fails fast with a screenshot, well inside the journey's deadline.
const stepTimeout = 10 * time.Second

// do runs steps, failing the test with what was being done.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

// fail stops the test, keeping a screenshot of where it stopped.
func (b *tab) fail(what string, err error) {
	b.t.Helper()
	if b.ctx.Err() != nil {
		b.t.Fatalf("%s: %v (the journey's %s deadline)", what, err, browserTestTimeout)
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	if png, shotErr := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)); shotErr == nil {
		path := filepath.Join(b.shots, "failed.png")
		if os.WriteFile(path, png, 0o644) == nil {
			b.t.Logf("screenshot of the failure: %s", path)
		}
	}
	b.t.Fatalf("%s at %s: %v", what, loc, err)
}

// load runs steps that navigate (a click on a link or a submit) and waits
// until the next page has loaded.
func (b *tab) load(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

func (b *tab) open(url string) {
	b.t.Helper()
	b.load("open "+url, chromedp.Navigate(url))
}

// click clicks the first element matching css and waits for the page it leads to.
func (b *tab) click(css string) {
	b.t.Helper()
	b.load("click "+css, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

// waitFor waits until an element matching css is visible.
func (b *tab) waitFor(css string) {
	b.t.Helper()
	b.do("wait for "+css, chromedp.WaitVisible(chromedp.CSS(css)))
}

// typeInto puts text into a field, the way a person types it.
func (b *tab) typeInto(css, text string) {
	b.t.Helper()
	b.do("type into "+css, chromedp.Clear(chromedp.CSS(css)), chromedp.SendKeys(chromedp.CSS(css), text))
}

// eval runs a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

// evalAwait runs a JavaScript expression yielding a promise and returns
// what the promise resolves to, within one step's time.
func evalAwait[T any](b *tab, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// text is the visible text of the whole page.
func (b *tab) text() string {
	b.t.Helper()
	return eval[string](b, `document.body.innerText`)
}

// texts is the trimmed text of every element matching css.
func (b *tab) texts(css string) []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll(`+strconv.Quote(css)+`), e => e.textContent.trim().replace(/\s+/g, " "))`)
}

// count is how many elements match css.
func (b *tab) count(css string) int {
	b.t.Helper()
	return eval[int](b, `document.querySelectorAll(`+strconv.Quote(css)+`).length`)
}

func (b *tab) url() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.fail("read the location", err)
	}
	return loc
}

// portalPath is the current URL's path and query when it is on the
// portal, "" elsewhere.
func (b *tab) portalPath() string {
	b.t.Helper()
	u := b.url()
	if !strings.HasPrefix(u, b.e.portalURL+"/") {
		return ""
	}
	return strings.TrimPrefix(u, b.e.portalURL)
}

// shot saves a full-page PNG of the current page as NN-name.png.
func (b *tab) shot(name string) string {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	b.step++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.step, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// allowClipboard lets the portal's copy button write to the clipboard, as a
// person's click would.
func (b *tab) allowClipboard() {
	b.t.Helper()
	for _, name := range []string{"clipboard-write", "clipboard-read"} {
		_, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    cdpbrowser.PermissionSettingGranted,
			Origin:     b.e.portalURL,
		})
		if err != nil {
			b.fail("grant "+name, err)
		}
	}
}

// signInAtTenant fills the tenant's password page and, when it asks, the
// MFA challenge with a TOTP code computed from what the page shows (the
// secret and the tenant's clock), then waits for the portal page at wantCSS.
func (b *tab) signInAtTenant(email, password, wantCSS string) {
	b.t.Helper()
	b.waitFor(`form[data-step=login]`)
	b.expectOnTenant("password page")
	b.shot("tenant-sign-in")
	b.typeInto(`#email`, email)
	b.typeInto(`#password`, password)
	b.click(`form[data-step=login] button[type=submit]`)
	b.passTOTPChallenge()
	b.waitFor(wantCSS)
}

// signInAtTenantNoWait is signInAtTenant for a popup that closes itself
// at the end: nothing to wait for after the challenge.
func (b *tab) signInAtTenantNoWait(email, password string) {
	b.t.Helper()
	b.waitFor(`form[data-step=login]`)
	b.typeInto(`#email`, email)
	b.typeInto(`#password`, password)
	b.click(`form[data-step=login] button[type=submit]`)
	b.passMFANoWait()
}

// passMFANoWait answers the tenant's challenge in a popup that closes
// itself once done.
func (b *tab) passMFANoWait() {
	b.t.Helper()
	b.waitFor(`form[data-step=mfa][data-method=otp]`)
	secret := eval[string](b, `document.querySelector("[data-testid=totp-secret]").textContent.trim()`)
	tenantTime := eval[string](b, `document.querySelector("form[data-step=mfa]").dataset.emulatorTime`)
	unix, err := strconv.ParseInt(tenantTime, 10, 64)
	if err != nil {
		b.t.Fatalf("tenant time %q on the MFA page: %v", tenantTime, err)
	}
	code, err := totp.GenerateCode(secret, time.Unix(unix, 0))
	if err != nil {
		b.t.Fatal(err)
	}
	b.typeInto(`#code`, code)
	// The popup closes once it has handed the code over: no page to wait for.
	_, _ = chromedp.Run(b.ctx, chromedp.Click(chromedp.CSS(`form[data-step=mfa] button[value=verify]`), chromedp.NodeVisible))
}

// passTOTPChallenge answers the tenant's one-time-code challenge.
func (b *tab) passTOTPChallenge() {
	b.t.Helper()
	b.waitFor(`form[data-step=mfa][data-method=otp]`)
	b.shot("tenant-mfa-one-time-code")
	secret := eval[string](b, `document.querySelector("[data-testid=totp-secret]").textContent.trim()`)
	tenantTime := eval[string](b, `document.querySelector("form[data-step=mfa]").dataset.emulatorTime`)
	unix, err := strconv.ParseInt(tenantTime, 10, 64)
	if err != nil {
		b.t.Fatalf("tenant time %q on the MFA page: %v", tenantTime, err)
	}
	code, err := totp.GenerateCode(secret, time.Unix(unix, 0))
	if err != nil {
		b.t.Fatalf("TOTP code from the secret on the MFA page: %v", err)
	}
	b.typeInto(`#code`, code)
	b.click(`form[data-step=mfa] button[value=verify]`)
}

// signInAlice opens path on the portal and signs in as alice with her
// password and authenticator app, ending on the portal page at wantCSS.
func (b *tab) signInAlice(path, wantCSS string) {
	b.t.Helper()
	b.open(b.e.portalURL + path)
	b.signInAtTenant("alice@example.com", "alice-demo-pass", wantCSS)
	if got := b.portalPath(); got == "" {
		b.t.Fatalf("after sign-in the browser is at %s, want the portal", b.url())
	}
}

func (b *tab) expectOnTenant(what string) {
	b.t.Helper()
	if u := b.url(); !strings.HasPrefix(u, b.e.tenantURL+"/") {
		b.t.Fatalf("%s: browser at %s, want the tenant %s", what, u, b.e.tenantURL)
	}
}

// signOut presses the header's Sign out button and waits for the portal's
// signed-out page (via the tenant's /v2/logout).
func (b *tab) signOut() {
	b.t.Helper()
	b.click(`[data-testid=sign-out]`)
	b.waitFor(`[data-testid=sign-in-again]`)
	if got := b.portalPath(); got != "/signed-out" {
		b.t.Fatalf("after sign-out the browser is at %s, want %s/signed-out", b.url(), b.e.portalURL)
	}
}

// factorLabels is the labels of the factors list, in order.
func (b *tab) factorLabels() []string {
	b.t.Helper()
	return b.texts(`[data-testid=factor-list] .factor-label`)
}

// hasIDWithPrefix reports whether any id starts with one of prefixes.
func hasIDWithPrefix(ids []string, prefixes ...string) bool {
	for _, id := range ids {
		for _, p := range prefixes {
			if strings.HasPrefix(id, p) {
				return true
			}
		}
	}
	return false
}

var whitespace = regexp.MustCompile(`\s+`)

// flash is the one-time message at the top of the page, "" when none.
func (b *tab) flash() string {
	b.t.Helper()
	s := eval[string](b, `(document.querySelector("[data-testid=flash]") || {textContent: ""}).textContent`)
	// A no-break space reads as a space (Go's \s does not match it).
	return strings.TrimSpace(whitespace.ReplaceAllString(strings.ReplaceAll(s, "\u00a0", " "), " "))
}
