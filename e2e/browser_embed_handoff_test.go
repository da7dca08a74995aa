package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// The handoff code a sign-in popup brings back must sign in the one frame
// that asked for it, once. These journeys hold the code up to two account
// sites framing the portal in one Chromium: each frame keeps its cookies in
// its own partition (keyed by the top-level site), as CHIPS does for any
// embedding site, so "another partition" is another account site.

const (
	// siteBHost is the second account site: another loopback address is
	// another site than the portal's 127.0.0.1 and than localhost, and
	// still a secure context, as partitioned cookies need.
	siteBHost = "127.0.0.2"

	// partitionA and partitionB are the top-level sites that key the
	// frames' cookie partitions (scheme and host, no port).
	partitionA = "http://localhost"
	partitionB = "http://" + siteBHost

	preSessionCookie   = "__Host-mfaportal-embed-pre"
	embedSessionCookie = "__Host-mfaportal-embed"
)

// accountSites are two account areas on two sites, both allowed to frame
// the portal.
type accountSites struct {
	a, b string // origins: A on localhost, B on 127.0.0.2
}

// twoSiteEmbedEnv is the portal with FRAME_ANCESTORS naming both account
// sites, which it serves.
func twoSiteEmbedEnv(t *testing.T) (*env, accountSites) {
	t.Helper()
	lnA, lnB := listen(t), listenOn(t, siteBHost)
	sites := accountSites{a: originOn("localhost", lnA), b: originOn(siteBHost, lnB)}
	e := newEnv(t, envOptions{extraEnv: map[string]string{"FRAME_ANCESTORS": sites.a + " " + sites.b}})
	serveParentAs(t, lnA, e.portalURL, "localhost")
	serveParentAs(t, lnB, e.portalURL, siteBHost)
	return e, sites
}

func listenOn(t *testing.T, ip string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen on %s (Linux routes all of 127.0.0.0/8 to lo): %v", ip, err)
	}
	return ln
}

// openFramedPortal opens the account page at parent, whose frame asks for
// /embed/factors, and attaches to that frame once both have loaded. The
// frame is told apart from frames of pages the tab showed before by the
// origin that embeds it.
func openFramedPortal(b *tab, parent string) *tab {
	b.t.Helper()
	b.open(parent + "/")
	var frame *tab
	findTarget(b, "the portal's frame in "+parent, func(i *target.Info) bool {
		if i.Type != "iframe" || !strings.HasPrefix(i.URL, b.e.portalURL+"/embed/") {
			return false
		}
		candidate, ok := tryAttach(b, i.TargetID)
		if !ok {
			return false
		}
		embedder, err := chromedp.Run(candidate.ctx, chromedp.Evaluate[string](`location.ancestorOrigins[0] || ""`))
		if err != nil || embedder != parent {
			return false
		}
		frame = candidate
		return true
	})
	return frame
}

// tryAttach is tab.attach for a target that may be gone already (a frame of
// the page the tab just left).
func tryAttach(b *tab, id target.ID) (*tab, bool) {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(id))
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		return nil, false
	}
	return &tab{t: b.t, e: b.e, ctx: ctx, shots: b.shots}, true
}

// startPreSession does in the frame what its Sign in button does before
// opening the popup, and returns the pre-session's binding from the popup's
// address.
func startPreSession(frame *tab) string {
	frame.t.Helper()
	popup := evalAwait[string](frame, "start a pre-session in the frame",
		`fetch("/embed/pre-session", {method: "POST", credentials: "same-origin"}).then(r => {
			if (!r.ok) { throw new Error("pre-session answered " + r.status); }
			return r.json();
		}).then(j => j.popup)`)
	u, err := url.Parse(popup)
	if err != nil || u.Path != "/embed/popup-login" || len(u.Query().Get("pre")) != 43 {
		frame.t.Fatalf("pre-session popup address %q, want /embed/popup-login?pre=<binding>", popup)
	}
	return u.Query().Get("pre")
}

// postHandoff does in the frame what its script does with the popup's
// code, and returns the status the frame saw. It fails the test unless the
// request carried a pre-session cookie: without one a refusal would say
// nothing about the code. sentPre is the cookie's value.
func postHandoff(frame *tab, code string) (status int, sentPre string) {
	frame.t.Helper()
	seen := watchCookiesSent(frame)
	quoted, _ := json.Marshal(code)
	status = evalAwait[int](frame, "post the handoff code from the frame",
		`fetch("/embed/handoff", {method: "POST", body: new URLSearchParams({code: `+string(quoted)+`}), credentials: "same-origin"}).then(r => r.status)`)
	sent, ok := seen(frame.e.portalURL + "/embed/handoff")
	if !ok {
		frame.fail("see the cookies of the handoff request", errors.New("no such request reported"))
	}
	sentPre, ok = sent[preSessionCookie]
	if !ok {
		frame.t.Fatalf("the handoff request from the frame carried no %s cookie (sent %v)", preSessionCookie, keys(sent))
	}
	return status, sentPre
}

// watchCookiesSent records the requests the frame sends from now on; the
// function it returns waits for the request to url and gives the cookies
// Chromium attached to it (name → value), as DevTools reports them.
func watchCookiesSent(frame *tab) func(url string) (map[string]string, bool) {
	ctx, stop := context.WithCancel(frame.ctx)
	var mu sync.Mutex
	urls := map[network.RequestID]string{}
	cookies := map[network.RequestID]map[string]string{}
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			urls[ev.RequestID] = ev.Request.URL
		case *network.EventRequestWillBeSentExtraInfo:
			sent := map[string]string{}
			for _, ac := range ev.AssociatedCookies {
				if len(ac.BlockedReasons) == 0 {
					sent[ac.Cookie.Name] = ac.Cookie.Value
				}
			}
			cookies[ev.RequestID] = sent
		}
	})
	if err != nil {
		stop()
		frame.fail("listen to the frame's requests", err)
	}
	return func(url string) (map[string]string, bool) {
		defer stop()
		deadline := time.Now().Add(stepTimeout)
		for time.Now().Before(deadline) {
			mu.Lock()
			for id, u := range urls {
				if sent, ok := cookies[id]; ok && u == url {
					mu.Unlock()
					return sent, true
				}
			}
			mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
		return nil, false
	}
}

// mintHandoffCode opens the popup's last page at top level for binding (alice
// must be signed in to the portal) and reads the code it would hand over.
// Without an opener the page stays open; it leaves the code in the portal's
// first-party storage, which these frames are never granted.
func mintHandoffCode(b *tab, binding string) string {
	b.t.Helper()
	b.open(b.e.portalURL + "/embed/popup-done?pre=" + url.QueryEscape(binding))
	code := eval[string](b, `(document.querySelector("[data-handoff-code]") || {getAttribute: () => ""}).getAttribute("data-handoff-code") || ""`)
	if code == "" {
		b.fail("read the handoff code", errors.New("the popup-done page carries no data-handoff-code"))
	}
	return code
}

// shotParent saves a screenshot of the account page, its heading naming
// the site, so the pictures tell site A from site B.
func shotParent(b *tab, name string) {
	b.t.Helper()
	eval[bool](b, `(document.querySelector("h1").textContent = "Account on " + location.host, true)`)
	b.shot(name)
}

// expectFrameSignedIn asserts the frame shows alice's factors.
func expectFrameSignedIn(frame *tab) {
	frame.t.Helper()
	if got := frame.portalPath(); got != "/embed/factors" {
		frame.t.Fatalf("the frame is at %s, want alice's factors at /embed/factors", frame.url())
	}
	frame.waitFor(`[data-testid=factor-list]`)
	if name := frame.texts(`[data-testid=user-name]`); len(name) != 1 || !strings.Contains(strings.ToLower(name[0]), "alice") {
		frame.t.Errorf("signed-in frame shows user %v, want alice", name)
	}
}

// expectFrameSignedOut asserts the frame, asked for /embed/factors, shows
// its sign-in page and nobody's factors.
func expectFrameSignedOut(frame *tab, why string) {
	frame.t.Helper()
	if got, _, _ := strings.Cut(frame.portalPath(), "?"); got != "/embed/login" {
		frame.t.Fatalf("%s: the frame is at %s, want the embed sign-in page /embed/login", why, frame.url())
	}
	frame.waitFor(`[data-testid=embed-sign-in]`)
	if n := frame.count(`[data-testid=factor-list]`); n != 0 {
		frame.t.Errorf("%s: the signed-out frame lists factors", why)
	}
}

// partitionedCookies are the browser's cookies named name, by the top-level
// site of their partition ("" for an unpartitioned one).
func partitionedCookies(b *tab, name string) map[string]*network.Cookie {
	b.t.Helper()
	res, err := chromedp.CallBrowser(b.ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		b.fail("read the browser's cookies", err)
	}
	bySite := map[string]*network.Cookie{}
	for _, c := range res.Cookies {
		if c.Name != name {
			continue
		}
		site := ""
		if c.PartitionKey != nil {
			site = c.PartitionKey.TopLevelSite
		}
		bySite[site] = c
	}
	return bySite
}

// restoreCookie puts a saved cookie back where it was, partition included:
// what someone replaying the frame's exact request would send.
func restoreCookie(b *tab, c *network.Cookie) {
	b.t.Helper()
	_, err := chromedp.CallBrowser(b.ctx, storage.SetCookies, storage.SetCookiesParams{Cookies: []*network.CookieParam{{
		Name: c.Name, Value: c.Value, URL: b.e.portalURL + "/", Path: c.Path,
		Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite, PartitionKey: c.PartitionKey,
	}}})
	if err != nil {
		b.fail("restore the cookie "+c.Name, err)
	}
}

// embedSignIns counts the portal's audited sign-ins through /embed/handoff:
// the embed sessions it created.
func embedSignIns(e *env) int {
	e.t.Helper()
	routes := map[string]string{} // request id → route
	var audited []string          // request ids of signed_in audit events
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		var line struct {
			Msg       string `json:"msg"`
			Audit     bool   `json:"audit"`
			Event     string `json:"event"`
			RequestID string `json:"request_id"`
			Route     string `json:"route"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch {
		case line.Audit && line.Event == "signed_in":
			audited = append(audited, line.RequestID)
		case line.Msg == "request":
			routes[line.RequestID] = line.Route
		}
	}
	n := 0
	for _, id := range audited {
		if routes[id] == "/embed/handoff" {
			n++
		}
	}
	return n
}

func TestBrowserEmbedHandoffCodeReplayIsRefused(t *testing.T) {
	e, sites := twoSiteEmbedEnv(t)
	b := newTab(t, e)

	// The frame on site A starts its sign-in; its partition now holds the
	// pre-session's secret.
	frameA := openFramedPortal(b, sites.a)
	expectFrameSignedOut(frameA, "site A before sign-in")
	binding := startPreSession(frameA)
	pre := partitionedCookies(b, preSessionCookie)[partitionA]
	if pre == nil {
		t.Fatalf("no %s cookie in site A's partition after the pre-session (partitions: %v)", preSessionCookie, keys(partitionedCookies(b, preSessionCookie)))
	}

	// The popup's work, done at top level: alice signs in, the code is minted.
	b.signInAlice("/factors", `[data-testid=factor-list]`)
	code := mintHandoffCode(b, binding)

	// First use: the frame on site A is signed in.
	frameA = expectSignedInBy(b, sites.a, code, "first use of the handoff code")
	shotParent(b, "site-a-signed-in-by-the-code")

	// Replay from the same frame with the very request it sent: the
	// pre-session cookie, which the handoff cleared, is put back, so only
	// the code having been spent can refuse it.
	restoreCookie(b, pre)
	status, sentPre := postHandoff(frameA, code)
	if sentPre != pre.Value {
		t.Fatal("the replay from site A did not carry the restored pre-session cookie")
	}
	if status != 403 {
		t.Errorf("the code replayed from site A's frame, same pre-session, answered %d, want 403", status)
	}

	// Replay from site B's frame, with its own pre-session: refused, and B
	// stays signed out though alice is signed in at top level and in A.
	frameB := openFramedPortal(b, sites.b)
	expectFrameSignedOut(frameB, "site B before the replay")
	startPreSession(frameB)
	if status, _ := postHandoff(frameB, code); status != 403 {
		t.Errorf("the code replayed from site B's frame answered %d, want 403", status)
	}
	frameB = openFramedPortal(b, sites.b)
	expectFrameSignedOut(frameB, "site B after the replay")
	shotParent(b, "site-b-still-signed-out-after-replay")

	if n := embedSignIns(e); n != 1 {
		t.Errorf("the portal signed in %d frames, want 1 (the code's first use only)", n)
	}
	if sessions := partitionedCookies(b, embedSessionCookie); len(sessions) != 1 || sessions[partitionA] == nil {
		t.Errorf("embed session cookies in the partitions %v, want site A's only", keys(sessions))
	}
}

func TestBrowserEmbedHandoffCodeFromAnotherPartitionIsRefused(t *testing.T) {
	e, sites := twoSiteEmbedEnv(t)
	b := newTab(t, e)

	// Both account sites' frames start a sign-in; each partition holds its
	// own pre-session.
	frameA := openFramedPortal(b, sites.a)
	bindingA := startPreSession(frameA)
	frameB := openFramedPortal(b, sites.b)
	startPreSession(frameB)
	pre := partitionedCookies(b, preSessionCookie)
	if len(pre) != 2 || pre[partitionA] == nil || pre[partitionB] == nil {
		t.Fatalf("pre-session cookies in the partitions %v, want %s and %s", keys(pre), partitionA, partitionB)
	}

	// Alice's popup mints the code for site A's frame.
	b.signInAlice("/factors", `[data-testid=factor-list]`)
	code := mintHandoffCode(b, bindingA)

	// Site B's frame tries it first, with B's pre-session: refused, and B
	// shows its sign-in page.
	expectRefusedIn(b, sites.b, code, pre[partitionB].Value, "site A's code used from site B's frame")
	shotParent(b, "site-b-refused-a-code")

	// That try spent the code: site A's frame, the one it was minted for,
	// is refused too.
	expectRefusedIn(b, sites.a, code, pre[partitionA].Value, "the code tried from site B, then used from site A's frame")
	shotParent(b, "site-a-refused-the-spent-code")

	// A fresh code for a fresh pre-session in A works: the refusals above
	// were the code's doing, not the frame's.
	frameA = openFramedPortal(b, sites.a)
	bindingA = startPreSession(frameA)
	code = mintHandoffCode(b, bindingA)
	expectSignedInBy(b, sites.a, code, "a fresh code in site A's frame")
	shotParent(b, "site-a-signed-in-by-a-fresh-code")

	// A's sign-in stays in A's partition.
	frameB = openFramedPortal(b, sites.b)
	expectFrameSignedOut(frameB, "site B after A signed in")
	if n := embedSignIns(e); n != 1 {
		t.Errorf("the portal signed in %d frames, want 1 (the fresh code only)", n)
	}
	if sessions := partitionedCookies(b, embedSessionCookie); len(sessions) != 1 || sessions[partitionA] == nil {
		t.Errorf("embed session cookies in the partitions %v, want site A's only", keys(sessions))
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// expectRefusedIn posts code from the frame on parent, which must send the
// pre-session cookie wantPre: the portal answers 403 and the frame, loaded
// again, is still signed out.
func expectRefusedIn(b *tab, parent, code, wantPre, what string) {
	b.t.Helper()
	frame := openFramedPortal(b, parent)
	status, sentPre := postHandoff(frame, code)
	if sentPre != wantPre {
		b.t.Fatalf("%s: the frame did not send the pre-session cookie expected", what)
	}
	if status != 403 {
		b.t.Errorf("%s answered %d, want 403", what, status)
	}
	expectFrameSignedOut(openFramedPortal(b, parent), what)
}

// expectSignedInBy posts code from the frame on parent: the portal answers
// 204 and the frame, loaded again, shows alice's factors. It returns that
// frame.
func expectSignedInBy(b *tab, parent, code, what string) *tab {
	b.t.Helper()
	if status, _ := postHandoff(openFramedPortal(b, parent), code); status != 204 {
		b.t.Fatalf("%s answered %d, want 204", what, status)
	}
	frame := openFramedPortal(b, parent)
	expectFrameSignedIn(frame)
	return frame
}
