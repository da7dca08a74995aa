package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"mfaportal/session"
)

const accountOrigin = "https://account.example.com"

// embedRig is the real router with fakes upstream, a settable clock and
// FRAME_ANCESTORS as given.
type embedRig struct {
	t       *testing.T
	handler http.Handler
	now     time.Time
	store   *session.Store
}

func newEmbedRig(t *testing.T, ancestors ...string) *embedRig {
	t.Helper()
	r := &embedRig{t: t, now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	deps, store := testDeps(t, func() time.Time { return r.now }, nil)
	deps.FrameAncestors = ancestors
	e, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	r.handler, r.store = e, store
	return r
}

// mainCookie is a signed-in portal session cookie, as /callback writes it.
func (r *embedRig) mainCookie() *http.Cookie {
	r.t.Helper()
	return signedIn(r.t, r.store, r.now, session.TopLevel)
}

func (r *embedRig) do(method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, "https://mfa.example.com"+target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, c := range cookies {
		if c != nil {
			req.AddCookie(c)
		}
	}
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, req)
	return rec
}

func cookieNamed(t *testing.T, rec *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	if c := cookieOf(rec, name); c != nil {
		return c
	}
	t.Fatalf("no %s cookie in the response (status %d)", name, rec.Code)
	return nil
}

func TestFramingHeadersPerRoute(t *testing.T) {
	r := newEmbedRig(t, accountOrigin)
	signedIn := r.mainCookie()
	tests := []struct {
		path      string
		frameable bool
	}{
		{"/factors", false},
		{"/recovery-code", false},
		{"/signed-out", false},
		{"/no-such-page", false},
		{"/embed/popup-login?pre=not-a-binding", false},
		{"/embed/factors", true},
		{"/embed/recovery-code", true},
		{"/embed/login", true},
		{"/embed/signed-out", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := r.do(http.MethodGet, tt.path, nil, signedIn)
			csp, xfo := rec.Header().Get("Content-Security-Policy"), rec.Header().Get("X-Frame-Options")
			if tt.frameable {
				if !strings.Contains(csp, "frame-ancestors "+accountOrigin) || strings.Contains(csp, "frame-ancestors 'none'") || xfo != "" {
					t.Errorf("status %d, CSP %q, X-Frame-Options %q: want framing by %s only", rec.Code, csp, xfo, accountOrigin)
				}
				return
			}
			if !strings.Contains(csp, "frame-ancestors 'none'") || xfo != "DENY" {
				t.Errorf("status %d, CSP %q, X-Frame-Options %q: want unframeable", rec.Code, csp, xfo)
			}
		})
	}
}

func TestEmbedDisabledWithoutFrameAncestors(t *testing.T) {
	r := newEmbedRig(t)
	signedIn := r.mainCookie()
	for _, path := range []string{"/embed/factors", "/embed/login", "/embed/signed-out", "/embed/popup-login?pre=x"} {
		rec := r.do(http.MethodGet, path, nil, signedIn)
		if rec.Code != http.StatusNotFound || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: status %d, X-Frame-Options %q; want 404, DENY", path, rec.Code, rec.Header().Get("X-Frame-Options"))
		}
	}
	if rec := r.do(http.MethodPost, "/embed/pre-session", url.Values{}); rec.Code != http.StatusNotFound {
		t.Errorf("POST /embed/pre-session: status %d, want 404", rec.Code)
	}
}

func TestEmbedPageLayout(t *testing.T) {
	r := newEmbedRig(t, accountOrigin)
	rec := r.do(http.MethodGet, "/embed/factors", nil, r.mainCookie())
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if strings.Contains(body, `<header class="top"`) {
		t.Error("the embedded page shows the portal's header")
	}
	if !strings.Contains(body, `data-embed-parents="`+accountOrigin+`"`) {
		t.Error("the embedded page does not name its allowed parent")
	}
	if !strings.Contains(body, `href="/embed/factors/`) || strings.Contains(body, `href="/factors/`) || strings.Contains(body, `href="/recovery-code"`) {
		t.Error("links inside the frame must stay under /embed/")
	}
	// Signed out, the frame offers its own sign-in, not Universal Login.
	rec = r.do(http.MethodGet, "/embed/factors", nil)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/embed/login?return=%2Fembed%2Ffactors" {
		t.Errorf("signed out: status %d to %q, want 302 to /embed/login?return=%%2Fembed%%2Ffactors", rec.Code, rec.Header().Get("Location"))
	}
	// The portal's own pages stay as they were.
	if body := r.do(http.MethodGet, "/factors", nil, r.mainCookie()).Body.String(); !strings.Contains(body, `<header class="top"`) || strings.Contains(body, "data-embed-parents") {
		t.Error("/factors lost its header or gained the embed layout")
	}
}

var handoffCodeAttr = regexp.MustCompile(`data-handoff-code="([^"]+)"`)

// startPopup opens a pre-session as the iframe would and signs in the popup:
// it returns the pre-session cookie and the code the popup hands over.
func (r *embedRig) startPopup() (*http.Cookie, string) {
	r.t.Helper()
	rec := r.do(http.MethodPost, "/embed/pre-session", url.Values{})
	if rec.Code != http.StatusOK {
		r.t.Fatalf("pre-session: status %d", rec.Code)
	}
	pre := cookieNamed(r.t, rec, session.CookiePreSession)
	if !pre.Partitioned || pre.SameSite != http.SameSiteNoneMode || !pre.Secure || !pre.HttpOnly {
		r.t.Errorf("pre-session cookie %+v: want Partitioned, SameSite=None, Secure, HttpOnly", pre)
	}
	var answer struct{ Popup, Pre string }
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || answer.Popup != "/embed/popup-login?pre="+answer.Pre || answer.Pre != sha256Text(pre.Value) {
		r.t.Fatalf("pre-session answer %q, want the popup address and the binding of the cookie's secret", rec.Body.String())
	}
	if strings.Contains(answer.Popup, pre.Value) {
		r.t.Error("the popup's URL carries the pre-session cookie's value")
	}
	// The popup is already signed in at top level: straight to popup-done.
	rec = r.do(http.MethodGet, answer.Popup, nil, r.mainCookie())
	if rec.Code != http.StatusFound || !strings.HasPrefix(rec.Header().Get("Location"), popupDonePath+"?pre=") {
		r.t.Fatalf("popup-login: status %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	done := r.do(http.MethodGet, rec.Header().Get("Location"), nil, r.mainCookie())
	m := handoffCodeAttr.FindStringSubmatch(done.Body.String())
	if done.Code != http.StatusOK || m == nil {
		r.t.Fatalf("popup-done: status %d, no code", done.Code)
	}
	// Without an opener, the page keeps the code under the pre-session's
	// name (the frame reads it with storage access).
	if !strings.Contains(done.Body.String(), `data-handoff-pre="`+answer.Pre+`"`) {
		r.t.Error("popup-done does not name the pre-session its code belongs to")
	}
	if coop := done.Header().Get("Cross-Origin-Opener-Policy"); coop != "unsafe-none" {
		r.t.Errorf("popup-done COOP %q would cut the popup off from its opener", coop)
	}
	return pre, m[1]
}

// sha256Text is a pre-session's binding: its secret's SHA-256, base64url.
func sha256Text(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func (r *embedRig) handoff(code string, pre *http.Cookie) *httptest.ResponseRecorder {
	return r.do(http.MethodPost, "/embed/handoff", url.Values{"code": {code}}, pre)
}

func TestHandoffGivesTheFrameItsOwnSession(t *testing.T) {
	r := newEmbedRig(t, accountOrigin)
	pre, code := r.startPopup()
	rec := r.handoff(code, pre)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("handoff: status %d, want 204", rec.Code)
	}
	embedSess := cookieNamed(t, rec, session.CookieEmbed)
	if !embedSess.Partitioned || embedSess.SameSite != http.SameSiteNoneMode || !embedSess.Secure || !embedSess.HttpOnly {
		t.Errorf("embed session cookie %+v: want Partitioned, SameSite=None, Secure, HttpOnly", embedSess)
	}
	if got := r.do(http.MethodGet, "/embed/factors", nil, embedSess); got.Code != http.StatusOK || !strings.Contains(got.Body.String(), "Alice Example") {
		t.Errorf("/embed/factors with the embed session: status %d", got.Code)
	}
	// The partitioned cookie is for the frame only, never the portal's own pages.
	renamed := &http.Cookie{Name: session.CookieTopLevel, Value: embedSess.Value}
	for _, c := range []*http.Cookie{embedSess, renamed} {
		if got := r.do(http.MethodGet, "/factors", nil, c); got.Code != http.StatusFound {
			t.Errorf("/factors with %s: status %d, want 302 to sign-in", c.Name, got.Code)
		}
	}
}

func TestHandoffCodeIsRefused(t *testing.T) {
	tests := []struct {
		name string
		use  func(r *embedRig, pre *http.Cookie, code string) *httptest.ResponseRecorder
	}{
		{"replayed", func(r *embedRig, pre *http.Cookie, code string) *httptest.ResponseRecorder {
			if first := r.handoff(code, pre); first.Code != http.StatusNoContent {
				r.t.Fatalf("first use: status %d", first.Code)
			}
			return r.handoff(code, pre)
		}},
		{"from another pre-session", func(r *embedRig, _ *http.Cookie, code string) *httptest.ResponseRecorder {
			other, _ := r.startPopup()
			return r.handoff(code, other)
		}},
		{"without a pre-session", func(r *embedRig, _ *http.Cookie, code string) *httptest.ResponseRecorder {
			return r.handoff(code, nil)
		}},
		{"after 60 seconds", func(r *embedRig, pre *http.Cookie, code string) *httptest.ResponseRecorder {
			r.now = r.now.Add(61 * time.Second)
			return r.handoff(code, pre)
		}},
		{"made up", func(r *embedRig, pre *http.Cookie, _ string) *httptest.ResponseRecorder {
			return r.handoff(session.NewToken(32), pre)
		}},
		{"tried from another partition first, then from its own", func(r *embedRig, pre *http.Cookie, code string) *httptest.ResponseRecorder {
			other, _ := r.startPopup()
			if got := r.handoff(code, other); got.Code != http.StatusForbidden {
				r.t.Fatalf("other partition: status %d", got.Code)
			}
			return r.handoff(code, pre)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newEmbedRig(t, accountOrigin)
			pre, code := r.startPopup()
			rec := tt.use(r, pre, code)
			if rec.Code != http.StatusForbidden {
				t.Errorf("status %d, want 403", rec.Code)
			}
			for _, c := range rec.Result().Cookies() {
				if c.Name == session.CookieEmbed && c.MaxAge >= 0 {
					t.Error("a refused handoff set an embed session")
				}
			}
		})
	}
}

func TestPopupMintsOneCodePerPreSession(t *testing.T) {
	r := newEmbedRig(t, accountOrigin)
	rec := r.do(http.MethodPost, "/embed/pre-session", url.Values{})
	var answer struct{ Popup string }
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
		t.Fatal(err)
	}
	done := strings.Replace(answer.Popup, "/embed/popup-login", popupDonePath, 1)
	if first := r.do(http.MethodGet, done, nil, r.mainCookie()); first.Code != http.StatusOK {
		t.Fatalf("first popup-done: status %d", first.Code)
	}
	if second := r.do(http.MethodGet, done, nil, r.mainCookie()); second.Code != http.StatusForbidden || handoffCodeAttr.MatchString(second.Body.String()) {
		t.Errorf("second popup-done for the same pre-session: status %d, want 403 without a code", second.Code)
	}
	// A signed-out popup signs in first and comes back to the same pre-session.
	rec = r.do(http.MethodPost, "/embed/pre-session", url.Values{})
	_ = json.Unmarshal(rec.Body.Bytes(), &answer)
	login := r.do(http.MethodGet, answer.Popup, nil)
	loc, _ := url.Parse(login.Header().Get("Location"))
	if login.Code != http.StatusFound || loc.Path != "/login" || !isPopupReturn(loc.Query().Get("return")) {
		t.Errorf("signed-out popup-login: status %d to %q", login.Code, login.Header().Get("Location"))
	}
}

var hiddenInput = regexp.MustCompile(`name="(csrf_token|regen_nonce|enrol_nonce)" value="([^"]+)"`)

func TestEmbedPagesNameTheirEventForTheParent(t *testing.T) {
	r := newEmbedRig(t, accountOrigin)
	signedIn := r.mainCookie()
	page := r.do(http.MethodGet, "/embed/recovery-code", nil, signedIn)
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page.Body.String(), -1) {
		form.Set(m[1], m[2])
	}
	if form.Get("csrf_token") == "" || form.Get("regen_nonce") == "" {
		t.Fatalf("/embed/recovery-code: status %d, no form tokens", page.Code)
	}
	// A new code: the POST leads to its one display, in the frame.
	regen := r.do(http.MethodPost, "/embed/recovery-code", form, signedIn)
	if regen.Code != http.StatusSeeOther || regen.Header().Get("Location") != "/embed/recovery-code/new" {
		t.Fatalf("regeneration in the frame: %d to %q", regen.Code, regen.Header().Get("Location"))
	}
	shown := r.do(http.MethodGet, "/embed/recovery-code/new", nil, cookieNamed(t, regen, session.CookieTopLevel))
	tests := []struct {
		name, event string
		rec         *httptest.ResponseRecorder
	}{
		{"a list without news", "", r.do(http.MethodGet, "/embed/factors", nil, signedIn)},
		{"a new recovery code", "recovery-code-regenerated", shown},
		{"signed out", "signed-out", r.do(http.MethodGet, "/embed/signed-out", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := `data-embed-event="` + tt.event + `"`; tt.rec.Code != http.StatusOK || !strings.Contains(tt.rec.Body.String(), want) {
				t.Errorf("status %d, want 200 with %s", tt.rec.Code, want)
			}
		})
	}
}

// A signed-out frame goes to its sign-in page with the page it asked for, and
// that page keeps only framed pages for signed-in users as the destination;
// "Open in a new tab" opens the same page at top level.
func TestEmbedSignInReturnsToTheFramedPage(t *testing.T) {
	r := newEmbedRig(t, accountOrigin)
	redirects := []struct {
		method, path, wantLocation string
	}{
		{http.MethodGet, "/embed/factors", "/embed/login?return=%2Fembed%2Ffactors"},
		{http.MethodGet, "/embed/recovery-code", "/embed/login?return=%2Fembed%2Frecovery-code"},
		{http.MethodGet, "/embed/factors/sms%7Cdev_1/delete", "/embed/login?return=%2Fembed%2Ffactors%2Fsms%257Cdev_1%2Fdelete"},
		// A form sent after the session ended comes back to its
		// confirmation, marked so the page says why; it is never replayed.
		{http.MethodPost, "/embed/factors/sms%7Cdev_1/delete", "/embed/login?return=%2Fembed%2Ffactors%2Fsms%257Cdev_1%2Fdelete%3Freconfirm%3D1"},
	}
	for _, tc := range redirects {
		rec := r.do(tc.method, tc.path, url.Values{})
		if loc := rec.Header().Get("Location"); loc != tc.wantLocation {
			t.Errorf("%s %s signed out: to %q, want %q", tc.method, tc.path, loc, tc.wantLocation)
		}
	}

	pages := []struct {
		name, ret, wantReturn, wantNewTab string
	}{
		{"none", "", "/embed/factors", "/factors"},
		{"factors", "/embed/factors", "/embed/factors", "/factors"},
		{"recovery", "/embed/recovery-code", "/embed/recovery-code", "/recovery-code"},
		{"confirmation", "/embed/factors/sms%7Cdev_1/delete?reconfirm=1", "/embed/factors/sms%7Cdev_1/delete?reconfirm=1", "/factors/sms%7Cdev_1/delete?reconfirm=1"},
		{"top-level page", "/factors", "/embed/factors", "/factors"},
		{"sign-in page itself", "/embed/login", "/embed/factors", "/factors"},
		{"popup step", "/embed/popup-done?pre=x", "/embed/factors", "/factors"},
		{"other origin", "//evil.example/embed/factors", "/embed/factors", "/factors"},
		{"encoded other origin", "/%2F%2Fevil.example/embed/factors", "/embed/factors", "/factors"},
		{"scheme", "javascript:alert(1)", "/embed/factors", "/factors"},
		{"dot segments", "/embed/factors/../../logout", "/embed/factors", "/factors"},
		{"not a delete page", "/embed/factors/x/other", "/embed/factors", "/factors"},
	}
	for _, tc := range pages {
		t.Run(tc.name, func(t *testing.T) {
			rec := r.do(http.MethodGet, "/embed/login?"+url.Values{"return": {tc.ret}}.Encode(), nil)
			body := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if want := `data-return="` + tc.wantReturn + `"`; !strings.Contains(body, want) {
				t.Errorf("want %s in the sign-in page", want)
			}
			if want := `href="` + tc.wantNewTab + `"`; !strings.Contains(body, want) {
				t.Errorf("want the new-tab link %s", want)
			}
		})
	}
}

// Starting iframe sign-ins is limited per client address, so pre-sessions
// cannot be piled up; other addresses are not affected.
func TestPreSessionsAreLimitedPerAddress(t *testing.T) {
	r := newEmbedRig(t, accountOrigin)
	start := func(addr string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "https://mfa.example.com/embed/pre-session", strings.NewReader(""))
		req.RemoteAddr = addr + ":40000"
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := httptest.NewRecorder()
		r.handler.ServeHTTP(rec, req)
		return rec
	}
	for i := range preSessionRule.Max {
		if rec := start("192.0.2.1"); rec.Code != http.StatusOK {
			t.Fatalf("pre-session %d: status %d", i+1, rec.Code)
		}
	}
	rec := start("192.0.2.1")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Errorf("one over the limit: status %d, Retry-After %q; want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if c := rec.Result().Cookies(); len(c) != 0 {
		t.Errorf("a refused pre-session set cookies: %v", c)
	}
	if rec := start("192.0.2.2"); rec.Code != http.StatusOK {
		t.Errorf("another address: status %d, want 200", rec.Code)
	}
	r.now = r.now.Add(preSessionRule.Window)
	if rec := start("192.0.2.1"); rec.Code != http.StatusOK {
		t.Errorf("after the window: status %d, want 200", rec.Code)
	}
}

// Rotating addresses does not escape the pre-session limits: an IPv6 /64
// is one client, and all clients together have a ceiling.
func TestPreSessionLimitsHoldAcrossAddresses(t *testing.T) {
	start := func(h http.Handler, addr string) int {
		req := httptest.NewRequest(http.MethodPost, "https://mfa.example.com/embed/pre-session", strings.NewReader(""))
		req.RemoteAddr = addr
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	r := newEmbedRig(t, accountOrigin)
	for i := range preSessionRule.Max {
		if code := start(r.handler, fmt.Sprintf("[2001:db8:1:2::%x]:40000", i+1)); code != http.StatusOK {
			t.Fatalf("pre-session %d from one /64: %d", i+1, code)
		}
	}
	if code := start(r.handler, "[2001:db8:1:2:ffff::1]:40000"); code != http.StatusTooManyRequests {
		t.Errorf("one more from the same /64: %d, want 429", code)
	}
	if code := start(r.handler, "[2001:db8:1:3::1]:40000"); code != http.StatusOK {
		t.Errorf("another /64: %d, want 200", code)
	}

	// The ceiling: every address new, still bounded.
	r = newEmbedRig(t, accountOrigin)
	refused := 0
	for i := range preSessionCeiling.Max + 50 {
		if start(r.handler, fmt.Sprintf("10.%d.%d.%d:40000", i>>16&255, i>>8&255, i&255)) == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused != 50 {
		t.Errorf("%d of %d pre-sessions from distinct addresses refused, want the 50 over the ceiling", refused, preSessionCeiling.Max+50)
	}
}

func TestClientKey(t *testing.T) {
	for ip, want := range map[string]string{
		"192.0.2.7": "192.0.2.7", "::ffff:192.0.2.7": "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "2001:db8:1:2::9": "2001:db8:1:2::/64", "nonsense": "unknown",
	} {
		if got := clientKey(ip); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", ip, got, want)
		}
	}
}

// Behind a proxy that TRUSTED_PROXIES does not name, the portal says so,
// once.
func TestWarnsWhenOnlyAProxyIsSeen(t *testing.T) {
	var logs bytes.Buffer
	deps, _ := testDeps(t, time.Now, &logs)
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/healthz", nil)
		req.Header.Set("X-Forwarded-For", "198.51.100.4")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if n := strings.Count(logs.String(), "TRUSTED_PROXIES is empty"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, logs.String())
	}
}
