package e2e

import (
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// serveParent serves, on ln, an account area (on "localhost", another site
// than the portal on 127.0.0.1, unless host says otherwise) that frames the portal's
// /embed/factors and records every message the frame sends it, from the
// portal's origin and that frame only. It returns the page's origin.
func serveParent(t *testing.T, ln net.Listener, portalURL string) string {
	return serveParentAs(t, ln, portalURL, "localhost")
}

func serveParentAs(t *testing.T, ln net.Listener, portalURL, host string) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/parent.js" {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprintf(w, `window.portalMessages = [];
window.addEventListener("message", function (ev) {
  var frame = document.getElementById("portal");
  if (ev.origin !== %q || ev.source !== frame.contentWindow) { return; }
  window.portalMessages.push(ev.data);
  if (frame.hasAttribute("data-resize") && ev.data.type === "mfaportal:height") { frame.style.height = ev.data.height + "px"; }
});`, portalURL)
			return
		}
		// ?frame= picks the embedded page (a path under /embed/).
		path := "/embed/factors"
		if p := r.URL.Query().Get("frame"); strings.HasPrefix(p, "/embed/") {
			path = p
		}
		// ?resize=1 sizes the frame by its height messages, as an account
		// area following the README would.
		resize := ""
		if r.URL.Query().Get("resize") == "1" {
			resize = " data-resize"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>Account</title><script src="/parent.js"></script></head>
<body><h1>Account</h1><iframe id="portal" src="%s%s" width="600" height="500"%s></iframe></body></html>`, portalURL, html.EscapeString(path), resize)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return originOn(host, ln)
}

func originOn(host string, ln net.Listener) string {
	return fmt.Sprintf("http://%s:%d", host, ln.Addr().(*net.TCPAddr).Port)
}

// embedEnv is the portal with FRAME_ANCESTORS naming one parent page on
// localhost, which it serves; it returns that page's origin.
func embedEnv(t *testing.T) (*env, string) {
	t.Helper()
	ln := listen(t)
	allowed := originOn("localhost", ln)
	e := newEnv(t, envOptions{extraEnv: map[string]string{"FRAME_ANCESTORS": allowed}})
	return e, serveParent(t, ln, e.portalURL)
}

func portalMessages(b *tab) []map[string]any {
	b.t.Helper()
	return eval[[]map[string]any](b, `window.portalMessages || []`)
}

// waitMessage waits until the parent received a message with the given type
// (and event, when not empty).
func waitMessage(b *tab, typ, event string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		for _, m := range portalMessages(b) {
			if m["type"] == typ && (event == "" || m["event"] == event) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.fail("wait for the message "+typ+" "+event, fmt.Errorf("got %v", portalMessages(b)))
}

// findTarget polls the browser's targets for one matching fn.
func findTarget(b *tab, what string, fn func(*target.Info) bool) target.ID {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(b.ctx)
		if err == nil {
			for _, info := range infos {
				if fn(info) {
					return info.TargetID
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.fail("find "+what, fmt.Errorf("no such target"))
	return ""
}

// attach is a tab driving another target (the portal's frame, the popup).
func (b *tab) attach(id target.ID) *tab {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id))
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.fail("attach to "+string(id), err)
	}
	return &tab{t: b.t, e: b.e, ctx: ctx, shots: b.shots}
}

// userGesture marks an evaluation as a person's action, so the popup
// blocker lets window.open through as it would for a click.
func userGesture(p *runtime.EvaluateParams) {
	yes := true
	p.UserGesture = &yes
}

func TestBrowserEmbedCrossSiteSignInThroughPopup(t *testing.T) {
	e, allowed := embedEnv(t)
	b := newTab(t, e)
	b.open(allowed + "/")

	// Signed out, the frame shows its own sign-in page and says so to the parent.
	waitMessage(b, "mfaportal:height", "")
	frame := b.attach(findTarget(b, "the portal's frame", func(i *target.Info) bool {
		return i.Type == "iframe" && strings.HasPrefix(i.URL, e.portalURL+"/embed/login")
	}))
	frame.waitFor(`[data-testid=embed-sign-in]`)
	if n := frame.count(`header.top`); n != 0 {
		t.Error("the framed page shows the portal's header")
	}
	if _, err := chromedp.Run(frame.ctx, chromedp.Evaluate[bool](`document.querySelector("[data-testid=embed-sign-in]").click(), true`, userGesture)); err != nil {
		frame.fail("press Sign in", err)
	}

	// The popup signs in at top level, hands the code over and closes.
	popup := b.attach(findTarget(b, "the sign-in popup", func(i *target.Info) bool {
		return i.Type == "page" && strings.HasPrefix(i.URL, e.tenantURL+"/")
	}))
	popup.signInAtTenantNoWait("alice@example.com", "alice-demo-pass")

	// The frame now holds alice's factors, in its own partitioned session.
	waitMessage(b, "mfaportal:height", "")
	frame = b.attach(findTarget(b, "the portal's frame, signed in", func(i *target.Info) bool {
		return i.Type == "iframe" && i.URL == e.portalURL+"/embed/factors"
	}))
	frame.waitFor(`[data-testid=factor-list]`)
	if name := frame.texts(`[data-testid=user-name]`); len(name) != 1 || !strings.Contains(strings.ToLower(name[0]), "alice") {
		t.Errorf("signed-in frame shows user %v, want alice", name)
	}
	b.shot("embedded-signed-in")

	// Signing out in the frame tells the parent.
	frame.click(`[data-testid=sign-out]`)
	waitMessage(b, "mfaportal:event", "signed-out")
	for _, m := range portalMessages(b) {
		if m["type"] != "mfaportal:height" && m["type"] != "mfaportal:event" {
			t.Errorf("unexpected message %v", m)
		}
	}
}

func TestBrowserEmbedRefusedForOtherOrigins(t *testing.T) {
	e, _ := embedEnv(t)
	// Same host name, another port: another origin than the one configured.
	other := serveParent(t, listen(t), e.portalURL)
	b := newTab(t, e)
	b.open(other + "/")
	time.Sleep(2 * time.Second)
	if msgs := portalMessages(b); len(msgs) != 0 {
		t.Errorf("a frame on a non-allowed origin ran the portal's page: %v", msgs)
	}
	infos, err := chromedp.Targets(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if strings.HasPrefix(info.URL, e.portalURL+"/embed/login") || strings.HasPrefix(info.URL, e.portalURL+"/embed/factors") {
			frame := b.attach(info.TargetID)
			if n := frame.count(`[data-testid=embed-sign-in]`); n != 0 {
				t.Error("the portal's page loaded in a frame of a non-allowed origin")
			}
		}
	}
}

// inFrame runs steps inside the parent's same-site frame (same process, so
// reachable from the parent's DOM).
func inFrame(b *tab, what string, steps func(frame *chromedp.Node) []chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	nodes, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSS(`iframe#portal`)))
	if err != nil || len(nodes) != 1 {
		b.fail("find the frame", err)
	}
	b.do(what, steps(nodes[0])...)
}

func TestBrowserEmbedSameSiteUsesThePortalSession(t *testing.T) {
	// 127.0.0.1 on another port: another origin, the same site, so the
	// portal's own Lax session travels into the frame.
	ln := listen(t)
	e := newEnv(t, envOptions{extraEnv: map[string]string{"FRAME_ANCESTORS": originOn("127.0.0.1", ln)}})
	parent := serveParentAs(t, ln, e.portalURL, "127.0.0.1")
	b := newTab(t, e)
	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.open(parent + "/")
	waitMessage(b, "mfaportal:height", "")

	// Chromium's DOM view of a frame does not follow the frame's own
	// navigations, so the parent is reloaded on the confirmation page.
	inFrame(b, "wait for the Guardian app in the frame", func(frame *chromedp.Node) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=factor-guardian] [data-testid=remove]`), chromedp.FromNode(frame)),
		}
	})
	frames, err := chromedp.Run(b.ctx, chromedp.Nodes(chromedp.CSS(`iframe#portal`)))
	if err != nil || len(frames) != 1 {
		b.fail("find the frame", err)
	}
	remove, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(`[data-testid=factor-guardian] [data-testid=remove]`), "href", chromedp.FromNode(frames[0])))
	if err != nil {
		b.fail("read the remove link in the frame", err)
	}
	if !strings.HasPrefix(remove.Value, "/embed/factors/") {
		t.Fatalf("the frame's remove link %q leaves the embed pages", remove.Value)
	}
	b.open(parent + "/?frame=" + url.QueryEscape(remove.Value))
	inFrame(b, "confirm in the frame", func(frame *chromedp.Node) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-remove]`), chromedp.FromNode(frame)),
			chromedp.Click(chromedp.CSS(`[data-testid=confirm-remove]`), chromedp.FromNode(frame)),
		}
	})
	waitMessage(b, "mfaportal:event", "factor-removed")
	b.shot("embedded-same-site-removed")
	if ids := e.ids(alice); hasIDWithPrefix(ids, "push|") {
		t.Errorf("the Guardian app is still there after removal in the frame: %v", ids)
	}
}

// setStorageAccess answers the frame's storage access requests for the
// portal framed by parent, as a person answering the browser's prompt would.
func setStorageAccess(b *tab, parent string, setting cdpbrowser.PermissionSetting) {
	b.t.Helper()
	_, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission:     &cdpbrowser.PermissionDescriptor{Name: "storage-access"},
		Setting:        setting,
		Origin:         parent,
		EmbeddedOrigin: b.e.portalURL,
	})
	if err != nil {
		b.fail("set storage access to "+string(setting), err)
	}
}

// startPopupSignIn presses Sign in in the framed sign-in page (framing
// startPath, where it will return) and returns the frame and the popup, at
// the tenant's sign-in.
func startPopupSignIn(b *tab, startPath string) (frame, popup *tab) {
	b.t.Helper()
	e := b.e
	frame = b.attach(findTarget(b, "the portal's frame", func(i *target.Info) bool {
		return i.Type == "iframe" && strings.HasPrefix(i.URL, e.portalURL+"/embed/login?")
	}))
	frame.waitFor(`[data-testid=embed-sign-in]`)
	if got := eval[string](frame, `document.querySelector("[data-testid=embed-sign-in]").dataset.return`); got != startPath {
		b.t.Errorf("the frame's sign-in will return to %q, want %q", got, startPath)
	}
	if _, err := chromedp.Run(frame.ctx, chromedp.Evaluate[bool](`document.querySelector("[data-testid=embed-sign-in]").click(), true`, userGesture)); err != nil {
		frame.fail("press Sign in", err)
	}
	popup = b.attach(findTarget(b, "the sign-in popup", func(i *target.Info) bool {
		return i.Type == "page" && strings.HasPrefix(i.URL, e.tenantURL+"/")
	}))
	// The password page, or straight the MFA challenge when the tenant
	// still has a session.
	popup.waitFor(`form[data-step]`)
	return frame, popup
}

// cutOpener does what a sign-in page's Cross-Origin-Opener-Policy does to
// a popup: the popup loses its opener for the rest of its life, so the
// message path is gone.
func cutOpener(popup *tab) {
	popup.t.Helper()
	if !eval[bool](popup, `window.opener = null, window.opener === null`) {
		popup.t.Fatal("the popup kept its opener")
	}
}

// The popup lost its opener and the browser grants the frame storage
// access: the code comes through the portal's first-party storage, and the
// frame shows the page it was asked for, not just the factor list.
func TestBrowserEmbedHandoffThroughStorageAccess(t *testing.T) {
	e, allowed := embedEnv(t)
	b := newTab(t, e)
	setStorageAccess(b, allowed, cdpbrowser.PermissionSettingGranted)
	b.open(allowed + "/?frame=" + url.QueryEscape("/embed/recovery-code"))
	waitMessage(b, "mfaportal:height", "")
	_, popup := startPopupSignIn(b, "/embed/recovery-code")
	cutOpener(popup)
	popup.signInAtTenantNoWait("alice@example.com", "alice-demo-pass")

	frame := b.attach(findTarget(b, "the portal's frame, signed in", func(i *target.Info) bool {
		return i.Type == "iframe" && i.URL == e.portalURL+"/embed/recovery-code"
	}))
	frame.waitFor(`[data-testid=regenerate]`)
	if name := frame.texts(`[data-testid=user-name]`); len(name) != 1 || !strings.Contains(strings.ToLower(name[0]), "alice") {
		t.Errorf("signed-in frame shows user %v, want alice", name)
	}
	b.shot("embedded-signed-in-through-storage-access")

	// The code was taken out of storage: nothing is left for anyone else.
	top := b.newTabAt(e.portalURL + "/signed-out")
	if left := eval[int](top, `Object.keys(localStorage).filter(function (k) { return k.indexOf("mfaportal-handoff:") === 0; }).length`); left != 0 {
		t.Errorf("%d handoff codes left in the portal's storage after the handoff", left)
	}
}

// The popup lost its opener and the browser refuses storage access: the
// frame says so and offers the same page in a new tab, where the person is
// already signed in (the popup signed in at top level).
func TestBrowserEmbedOffersANewTabWhenTheCodeCannotArrive(t *testing.T) {
	e, allowed := embedEnv(t)
	b := newTab(t, e)
	setStorageAccess(b, allowed, cdpbrowser.PermissionSettingDenied)
	b.open(allowed + "/")
	waitMessage(b, "mfaportal:height", "")
	frame, popup := startPopupSignIn(b, "/embed/factors")
	cutOpener(popup)
	popup.signInAtTenantNoWait("alice@example.com", "alice-demo-pass")

	// The popup closes; the frame, with no code, offers to continue.
	frame.waitFor(`[data-testid=embed-continue]`)
	if n := frame.count(`[data-testid=embed-sign-in]`); n != 1 {
		t.Error("Sign in is no longer offered after the popup was lost")
	}
	if got := frame.texts(`[data-testid=embed-status]`); len(got) != 1 || !strings.Contains(got[0], "lost contact") {
		t.Errorf("frame status %q, want it to say it lost contact with the sign-in window", got)
	}
	b.shot("embedded-lost-contact")
	if _, err := chromedp.Run(frame.ctx, chromedp.Evaluate[bool](`document.querySelector("[data-testid=embed-continue]").click(), true`, userGesture)); err != nil {
		frame.fail("press Continue", err)
	}
	status, err := chromedp.Run(frame.ctx, chromedp.Poll[string](
		`(function () { var s = document.querySelector("[data-testid=embed-status]").textContent; return s.indexOf("cannot finish") >= 0 ? s : false; })()`,
		chromedp.WithPollingTimeout(stepTimeout)))
	if err != nil {
		frame.fail("wait for the refusal to be explained", err)
	}
	t.Logf("frame says: %s", status)
	if n := frame.count(`[data-testid=embed-continue]:not([hidden])`); n != 0 {
		t.Error("Continue is still offered after storage access was refused")
	}
	if n := frame.count(`[data-testid=embed-new-tab].primary`); n != 1 {
		t.Error("Open in a new tab is not the main action once it is the only way on")
	}
	b.shot("embedded-storage-access-refused")
	if n := frame.count(`[data-testid=factor-list]`); n != 0 {
		t.Error("the frame signed in without a code")
	}

	// "Open in a new tab" opens the portal's own page at top level.
	href := eval[string](frame, `document.querySelector("[data-testid=embed-new-tab]").getAttribute("href")`)
	if href != "/factors" {
		t.Fatalf("new-tab link %q, want /factors", href)
	}
	top := b.newTabAt(e.portalURL + href)
	top.waitFor(`[data-testid=factor-list]`)
	top.shot("new-tab-signed-in")
}

// The popup lost its opener and the browser had not decided on storage
// access: the frame offers Continue, and once the person allows access (the
// browser's prompt, granted here through DevTools), Continue finishes the
// sign-in in the frame.
func TestBrowserEmbedContinueFinishesOnceStorageAccessIsAllowed(t *testing.T) {
	e, allowed := embedEnv(t)
	b := newTab(t, e)
	b.open(allowed + "/")
	waitMessage(b, "mfaportal:height", "")
	frame, popup := startPopupSignIn(b, "/embed/factors")
	cutOpener(popup)
	popup.signInAtTenantNoWait("alice@example.com", "alice-demo-pass")
	frame.waitFor(`[data-testid=embed-continue]`)

	setStorageAccess(b, allowed, cdpbrowser.PermissionSettingGranted)
	if _, err := chromedp.Run(frame.ctx, chromedp.Evaluate[bool](`document.querySelector("[data-testid=embed-continue]").click(), true`, userGesture)); err != nil {
		frame.fail("press Continue", err)
	}
	frame = b.attach(findTarget(b, "the portal's frame, signed in", func(i *target.Info) bool {
		return i.Type == "iframe" && i.URL == e.portalURL+"/embed/factors"
	}))
	frame.waitFor(`[data-testid=factor-list]`)
	b.shot("embedded-signed-in-after-continue")
}

// newTabAt opens another top-level tab of the same browser (same profile,
// same cookies) at u.
func (b *tab) newTabAt(u string) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.fail("open a new tab", err)
	}
	other := &tab{t: b.t, e: b.e, ctx: ctx, shots: b.shots}
	other.open(u)
	return other
}

// The frame follows its content's height down as well as up: a long list,
// then a short page, leaves no void.
func TestBrowserEmbedFrameShrinks(t *testing.T) {
	ln := listen(t)
	e := newEnv(t, envOptions{extraEnv: map[string]string{"FRAME_ANCESTORS": originOn("127.0.0.1", ln)}})
	parent := serveParentAs(t, ln, e.portalURL, "127.0.0.1")
	b := newTab(t, e)
	b.signInAlice("/factors", `[data-testid=factor-list]`)
	b.open(parent + "/?resize=1")
	frameHeight := func() int { return eval[int](b, `document.getElementById("portal").offsetHeight`) }
	waitHeight := func(what string, ok func(int) bool) int {
		deadline := time.Now().Add(stepTimeout)
		for time.Now().Before(deadline) {
			if h := frameHeight(); ok(h) {
				return h
			}
			time.Sleep(100 * time.Millisecond)
		}
		b.fail(what, fmt.Errorf("the frame stayed %d px high; messages %v", frameHeight(), portalMessages(b)))
		return 0
	}
	tall := waitHeight("the long list sizes the frame", func(h int) bool { return h > 900 })
	b.shot("frame-tall")
	eval[string](b, `document.getElementById("portal").src = `+jsString(e.portalURL+"/embed/signed-out"))
	short := waitHeight("the short page shrinks the frame", func(h int) bool { return h < tall-300 })
	b.shot("frame-short")
	if short > 600 {
		t.Errorf("the signed-out page leaves the frame %d px high (from %d)", short, tall)
	}
}
