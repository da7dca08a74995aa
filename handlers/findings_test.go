package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mfaportal/internal/redistest"
	"mfaportal/kvstore"
	"mfaportal/mfaapi"
	"mfaportal/ratelimit"
	"mfaportal/session"
	"mfaportal/signin"
)

// The findings of the session review, each through the real router, in
// every way the portal keeps sessions: sealed cookies with memory state,
// records in memory, records in a real Redis.

// stateBackend is one way of keeping the server-side state.
type stateBackend struct {
	name    string
	records bool
	// fresh is the state a portal process starts with; restart is what a
	// restarted process finds (memory: nothing; Redis: the same).
	fresh   func(now func() time.Time) kvstore.Store
	restart func(old kvstore.Store, now func() time.Time) kvstore.Store
}

func stateBackends(t *testing.T) []stateBackend {
	memory := func(now func() time.Time) kvstore.Store { return kvstore.NewMemory(now, 0) }
	gone := func(_ kvstore.Store, now func() time.Time) kvstore.Store { return kvstore.NewMemory(now, 0) }
	var srv *redistest.Server
	return []stateBackend{
		{name: "cookie", fresh: memory, restart: gone},
		{name: "memory", records: true, fresh: memory, restart: gone},
		{name: "redis", records: true,
			fresh: func(func() time.Time) kvstore.Store {
				if srv == nil {
					srv = redistest.Start(t, "")
				}
				srv.Client.FlushAll(context.Background())
				return kvstore.NewRedis(srv.Client)
			},
			restart: func(old kvstore.Store, _ func() time.Time) kvstore.Store { return old },
		},
	}
}

// countingRecovery counts regenerations reaching "Auth0".
type countingRecovery struct{ calls atomic.Int32 }

func (r *countingRecovery) RegenerateRecoveryCode(context.Context, string) (string, error) {
	n := r.calls.Add(1)
	time.Sleep(5 * time.Millisecond) // let concurrent requests overlap
	return strings.Repeat("ABCD", 5) + string(rune('A'+n)) + "XYZ", nil
}

// fakeSignIn completes every sign-in as name, counting code exchanges.
type fakeSignIn struct {
	name      string
	now       func() time.Time
	exchanges atomic.Int32
}

func (f *fakeSignIn) AuthCodeURL(_ context.Context, tx signin.Transaction, _ signin.AuthRequest) (string, error) {
	return testIssuer + "authorize?state=" + url.QueryEscape(tx.State), nil
}

func (f *fakeSignIn) Exchange(context.Context, string, signin.Transaction) (*signin.Identity, error) {
	f.exchanges.Add(1)
	return &signin.Identity{Sub: "auth0|alice", Name: f.name, AccessToken: strings.Repeat("t", 1000),
		TokenExpiry: f.now().Add(10 * time.Minute), AuthTime: f.now()}, nil
}

func (f *fakeSignIn) LogoutURL(returnTo string) string { return testIssuer + "v2/logout" }

// rig is the router over one state backend, as one browser sees it.
type rig struct {
	t        *testing.T
	b        stateBackend
	now      time.Time
	kv       kvstore.Store
	store    *session.Store
	recovery *countingRecovery
	signIn   *fakeSignIn
	handler  http.Handler
}

func newRig(t *testing.T, b stateBackend, kv kvstore.Store, name string) *rig {
	t.Helper()
	r := &rig{t: t, b: b, now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), kv: kv, recovery: &countingRecovery{}}
	clock := func() time.Time { return r.now }
	if r.kv == nil {
		r.kv = b.fresh(clock)
	}
	r.signIn = &fakeSignIn{name: name, now: clock}
	deps, store := testDepsOn(t, clock, nil, r.kv, b.records)
	deps.SignIn, deps.Recovery, deps.FrameAncestors = r.signIn, r.recovery, []string{"https://account.example.com"}
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	r.store, r.handler = store, h
	return r
}

// restarted is this portal after a restart with the same keys.
func (r *rig) restarted() *rig {
	return newRig(r.t, r.b, r.b.restart(r.kv, func() time.Time { return r.now }), r.signIn.name)
}

func (r *rig) send(method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	body := ""
	if form != nil {
		body = form.Encode()
	}
	req := httptest.NewRequest(method, "https://mfa.example.com"+target, strings.NewReader(body))
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

// cookieOf is the named cookie the answer set, nil when none (or deleted).
// When an answer sets it twice the last one counts, as in a browser.
func cookieOf(rec *httptest.ResponseRecorder, name string) *http.Cookie {
	var last *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			last = c
		}
	}
	if last == nil || last.MaxAge < 0 {
		return nil
	}
	return last
}

// signInThroughCallback runs /login and /callback and returns the session
// cookie, failing unless the callback redirects to the return path.
func (r *rig) signInThroughCallback(returnPath string) *http.Cookie {
	r.t.Helper()
	login := r.send(http.MethodGet, "/login?return="+url.QueryEscape(returnPath), nil)
	loc, _ := url.Parse(login.Header().Get("Location"))
	tx := cookieOf(login, session.CookieLogin)
	if login.Code != http.StatusFound || tx == nil {
		r.t.Fatalf("/login: %d, login cookie %v", login.Code, tx)
	}
	cb := r.send(http.MethodGet, "/callback?code=c0de&state="+url.QueryEscape(loc.Query().Get("state")), nil, tx)
	sess := cookieOf(cb, session.CookieTopLevel)
	if cb.Code != http.StatusSeeOther || cb.Header().Get("Location") != returnPath || sess == nil {
		r.t.Fatalf("/callback: %d to %q (session cookie %v):\n%.600s", cb.Code, cb.Header().Get("Location"), sess, cb.Body.String())
	}
	return sess
}

func formOf(t *testing.T, rec *httptest.ResponseRecorder) url.Values {
	t.Helper()
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(rec.Body.String(), -1) {
		form.Set(m[1], m[2])
	}
	if form.Get("csrf_token") == "" {
		t.Fatalf("no form tokens on the page (status %d)", rec.Code)
	}
	return form
}

func TestSessionFindings(t *testing.T) {
	for _, b := range stateBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("ten concurrent regeneration POSTs: one regeneration upstream", func(t *testing.T) {
				r := newRig(t, b, nil, "Alice")
				sess := r.signInThroughCallback("/recovery-code")
				form := formOf(t, r.send(http.MethodGet, "/recovery-code", nil, sess))
				statuses := make([]int, 10)
				var wg sync.WaitGroup
				for i := range statuses {
					wg.Add(1)
					go func() {
						defer wg.Done()
						statuses[i] = r.send(http.MethodPost, "/recovery-code", form, sess).Code
					}()
				}
				wg.Wait()
				if n := r.recovery.calls.Load(); n != 1 {
					t.Errorf("%d regenerations upstream, want exactly 1 (statuses %v)", n, statuses)
				}
				ok := 0
				for _, s := range statuses {
					if s == http.StatusSeeOther { // to the new code's one display
						ok++
					} else if s != http.StatusConflict && s != http.StatusTooManyRequests {
						t.Errorf("status %d for a repeated form, want 409 (or 429)", s)
					}
				}
				if ok != 1 {
					t.Errorf("%d answers showed a new code, want 1: %v", ok, statuses)
				}
				// The old cookie and nonce replayed, now and after a restart.
				// (409 form used, or 429 when the replay also meets the
				// per-user limit first; either way nothing reaches Auth0.)
				if rec := r.send(http.MethodPost, "/recovery-code", form, sess); rec.Code != http.StatusConflict && rec.Code != http.StatusTooManyRequests {
					t.Errorf("replayed form: %d, want 409 or 429", rec.Code)
				}
				if rec := r.restarted().send(http.MethodPost, "/recovery-code", form, sess); rec.Code == http.StatusOK {
					t.Errorf("replayed form after a restart: %d", rec.Code)
				}
				if n := r.recovery.calls.Load(); n != 1 {
					t.Errorf("replays reached Auth0: %d regenerations", n)
				}
			})

			t.Run("embed and top-level sessions are not interchangeable", func(t *testing.T) {
				r := newRig(t, b, nil, "Alice")
				top := r.signInThroughCallback("/factors")
				embed := signedIn(t, r.store, r.now, session.Embed)
				asTop := &http.Cookie{Name: session.CookieTopLevel, Value: embed.Value}
				if rec := r.send(http.MethodGet, "/factors", nil, asTop); rec.Code != http.StatusFound {
					t.Errorf("embed session as the top-level cookie: %d, want 302 to sign-in", rec.Code)
				}
				asEmbed := &http.Cookie{Name: session.CookieEmbed, Value: top.Value}
				if rec := r.send(http.MethodGet, "/embed/factors", nil, asEmbed); rec.Code != http.StatusFound ||
					!strings.HasPrefix(rec.Header().Get("Location"), "/embed/login") {
					t.Errorf("top-level session as the embed cookie: %d %s, want 302 to /embed/login", rec.Code, rec.Header().Get("Location"))
				}
			})

			t.Run("top-level sign-out ends the frame's session handed off from it", func(t *testing.T) {
				r := newRig(t, b, nil, "Alice")
				top := r.signInThroughCallback("/factors")
				pre := r.send(http.MethodPost, "/embed/pre-session", url.Values{})
				preCookie := cookieOf(pre, session.CookiePreSession)
				var answer struct{ Pre string }
				if err := json.Unmarshal(pre.Body.Bytes(), &answer); err != nil || preCookie == nil {
					t.Fatalf("pre-session: %d %s", pre.Code, pre.Body.String())
				}
				binding := answer.Pre
				done := r.send(http.MethodGet, popupDonePath+"?pre="+binding, nil, top)
				code := handoffCodeAttr.FindStringSubmatch(done.Body.String())
				if code == nil {
					t.Fatalf("popup-done: %d, no code", done.Code)
				}
				ho := r.send(http.MethodPost, "/embed/handoff", url.Values{"code": {code[1]}}, preCookie)
				embed := cookieOf(ho, session.CookieEmbed)
				if ho.Code != http.StatusNoContent || embed == nil {
					t.Fatalf("handoff: %d", ho.Code)
				}
				if rec := r.send(http.MethodGet, "/embed/factors", nil, embed); rec.Code != http.StatusOK {
					t.Fatalf("/embed/factors before sign-out: %d", rec.Code)
				}
				list := r.send(http.MethodGet, "/factors", nil, top)
				if out := r.send(http.MethodPost, "/logout", url.Values{"csrf_token": {formOf(t, list).Get("csrf_token")}}, top); out.Code != http.StatusSeeOther {
					t.Fatalf("logout: %d", out.Code)
				}
				if rec := r.send(http.MethodGet, "/embed/factors", nil, embed); rec.Code != http.StatusFound {
					t.Errorf("/embed/factors with the frame's session after top-level sign-out: %d, want 302 to /embed/login", rec.Code)
				}
			})

			t.Run("a signed-out cookie stays dead after a restart with the same keys", func(t *testing.T) {
				r := newRig(t, b, nil, "Alice")
				top := r.signInThroughCallback("/factors")
				list := r.send(http.MethodGet, "/factors", nil, top)
				r.send(http.MethodPost, "/logout", url.Values{"csrf_token": {formOf(t, list).Get("csrf_token")}}, top)
				if rec := r.restarted().send(http.MethodGet, "/factors", nil, top); rec.Code != http.StatusFound {
					t.Errorf("the signed-out cookie after a restart: %d, want 302 to sign-in", rec.Code)
				}
			})

			t.Run("the login round trip is spent by a failed callback", func(t *testing.T) {
				r := newRig(t, b, nil, "Alice")
				login := r.send(http.MethodGet, "/login", nil)
				tx := cookieOf(login, session.CookieLogin)
				loc, _ := url.Parse(login.Header().Get("Location"))
				if rec := r.send(http.MethodGet, "/callback?code=c0de&state=wrong", nil, tx); rec.Code != http.StatusBadRequest {
					t.Fatalf("callback with a wrong state: %d, want 400", rec.Code)
				}
				rec := r.send(http.MethodGet, "/callback?code=c0de&state="+url.QueryEscape(loc.Query().Get("state")), nil, tx)
				if rec.Code != http.StatusBadRequest || cookieOf(rec, session.CookieTopLevel) != nil || r.signIn.exchanges.Load() != 0 {
					t.Errorf("the same login cookie again: %d, %d exchanges; want 400 and no sign-in", rec.Code, r.signIn.exchanges.Load())
				}
			})

			for _, n := range []int{212, 216, 220, 222, 400} {
				name := strings.Repeat("<", n)
				t.Run(fmt.Sprintf("a display name of %d '<' signs in and removes", n), func(t *testing.T) {
					r := newRig(t, b, nil, name)
					sess := r.signInThroughCallback("/factors")
					confirm := r.send(http.MethodGet, "/factors/sms%7Cdev_klnv5yshzzoosSUm/delete", nil, sess)
					rec := r.send(http.MethodPost, "/factors/sms%7Cdev_klnv5yshzzoosSUm/delete", formOf(t, confirm), sess)
					if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/factors" {
						t.Fatalf("removal: %d to %q, want 303 to /factors", rec.Code, rec.Header().Get("Location"))
					}
					if c := cookieOf(rec, session.CookieTopLevel); c == nil || len(c.String()) >= 4096 {
						t.Fatalf("the session cookie after the removal: %v", c)
					}
					page := r.send(http.MethodGet, "/factors", nil, cookieOf(rec, session.CookieTopLevel))
					if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), "&lt;&lt;&lt;") || strings.Contains(page.Body.String(), "<<<") {
						t.Errorf("the list after removal: %d, want the name shown escaped", page.Code)
					}
				})
			}
		})
	}
}

// An error Auth0 reports about the user's own attempt is a 4xx page and an
// INFO line with a fixed code; only Auth0's own outage codes are a 502 and
// an ERROR. Text the browser put in the callback never reaches the log.
func TestCallbackErrorsAreNotOutages(t *testing.T) {
	tests := []struct {
		code   string
		status int
		level  string
		class  string
	}{
		{"access_denied", http.StatusForbidden, "INFO", "sign_in_cancelled"},
		{"login_required", http.StatusBadRequest, "INFO", "sign_in_refused"},
		{"<script>alert(1)</script> made-up", http.StatusBadRequest, "INFO", "sign_in_refused"},
		{"server_error", http.StatusBadGateway, "ERROR", "unavailable"},
		{"temporarily_unavailable", http.StatusBadGateway, "ERROR", "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			var logs bytes.Buffer
			now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			deps, _ := testDeps(t, func() time.Time { return now }, &logs)
			deps.SignIn = &fakeSignIn{name: "Alice", now: func() time.Time { return now }}
			h, err := New(deps)
			if err != nil {
				t.Fatal(err)
			}
			login := httptest.NewRecorder()
			h.ServeHTTP(login, httptest.NewRequest(http.MethodGet, "https://mfa.example.com/login", nil))
			loc, _ := url.Parse(login.Header().Get("Location"))
			req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/callback?"+url.Values{
				"state": {loc.Query().Get("state")}, "error": {tt.code}, "error_description": {"free text from the query"}}.Encode(), nil)
			req.AddCookie(cookieOf(login, session.CookieLogin))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d", rec.Code, tt.status)
			}
			line := ""
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `"request failed"`) {
					line = l
				}
			}
			if !strings.Contains(line, `"level":"`+tt.level+`"`) || !strings.Contains(line, `"error_class":"`+tt.class+`"`) {
				t.Errorf("log line %s, want level %s class %s", line, tt.level, tt.class)
			}
			if strings.Contains(logs.String(), "script") || strings.Contains(logs.String(), "free text") {
				t.Errorf("the browser's text reached the log: %s", logs.String())
			}
		})
	}
}

// The review's smaller holes: the callback's iss (RFC 9207), request ids
// from anyone, the static folder's listing, embed audit events without sub.
func TestSmallHoles(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	newRouter := func(logs *bytes.Buffer, trusted []*net.IPNet) (http.Handler, *fakeSignIn, *session.Store) {
		deps, store := testDeps(t, func() time.Time { return now }, logs)
		sign := &fakeSignIn{name: "Alice", now: func() time.Time { return now }}
		deps.SignIn, deps.TrustedProxies, deps.FrameAncestors = sign, trusted, []string{"https://account.example.com"}
		h, err := New(deps)
		if err != nil {
			t.Fatal(err)
		}
		return h, sign, store
	}

	t.Run("callback iss", func(t *testing.T) {
		for iss, want := range map[string]int{"": http.StatusSeeOther, testIssuer: http.StatusSeeOther, "https://evil.example/": http.StatusBadRequest} {
			h, sign, _ := newRouter(nil, nil)
			login := httptest.NewRecorder()
			h.ServeHTTP(login, httptest.NewRequest(http.MethodGet, "https://mfa.example.com/login", nil))
			loc, _ := url.Parse(login.Header().Get("Location"))
			q := url.Values{"state": {loc.Query().Get("state")}, "code": {"c0de"}}
			if iss != "" {
				q.Set("iss", iss)
			}
			req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/callback?"+q.Encode(), nil)
			req.AddCookie(cookieOf(login, session.CookieLogin))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != want || (want != http.StatusSeeOther && sign.exchanges.Load() != 0) {
				t.Errorf("iss %q: %d (%d exchanges), want %d", iss, rec.Code, sign.exchanges.Load(), want)
			}
		}
	})

	t.Run("request ids only from trusted proxies", func(t *testing.T) {
		_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
		h, _, _ := newRouter(nil, []*net.IPNet{proxies})
		for addr, keep := range map[string]bool{"10.1.2.3:5000": true, "192.0.2.9:5000": false} {
			req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/healthz", nil)
			req.RemoteAddr = addr
			req.Header.Set("X-Request-ID", "planted-by-client-123")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Header().Get("X-Request-ID") == "planted-by-client-123"; got != keep {
				t.Errorf("from %s: kept %v, want %v", addr, got, keep)
			}
		}
	})

	t.Run("no listing of the static folder", func(t *testing.T) {
		h, _, _ := newRouter(nil, nil)
		for _, path := range []string{"/static/", "/static"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://mfa.example.com"+path, nil))
			if rec.Code == http.StatusOK || strings.Contains(rec.Body.String(), `href="style.css"`) {
				t.Errorf("GET %s: %d, lists the files", path, rec.Code)
			}
		}
	})

	t.Run("embed sign-in and sign-out are audited with the sub", func(t *testing.T) {
		var logs bytes.Buffer
		h, _, store := newRouter(&logs, nil)
		top := signedIn(t, store, now, session.TopLevel)
		send := func(method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, "https://mfa.example.com"+target, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			for _, c := range cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		pre := send(http.MethodPost, "/embed/pre-session", url.Values{})
		var answer struct{ Pre string }
		json.Unmarshal(pre.Body.Bytes(), &answer)
		done := send(http.MethodGet, popupDonePath+"?pre="+answer.Pre, nil, top)
		code := handoffCodeAttr.FindStringSubmatch(done.Body.String())
		if code == nil {
			t.Fatalf("popup-done: %d", done.Code)
		}
		ho := send(http.MethodPost, "/embed/handoff", url.Values{"code": {code[1]}}, cookieOf(pre, session.CookiePreSession))
		frame := cookieOf(ho, session.CookieEmbed)
		page := send(http.MethodGet, "/embed/factors", nil, frame)
		send(http.MethodPost, "/embed/logout", url.Values{"csrf_token": {formOf(t, page).Get("csrf_token")}}, frame)
		for _, event := range []string{"signed_in", "signed_out"} {
			found := false
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, `"event":"`+event+`"`) && strings.Contains(line, `"sub":"auth0|64a1f0c2e4b0a1b2c3d4e5f6"`) {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s audit event with the sub:\n%s", event, logs.String())
			}
		}
	})
}

// One browser cannot spend the tenant's rate limit: past VIEWS_PER_MINUTE
// views a user's pages answer 429 without asking Auth0, and come back
// after the minute.
func TestViewLimit(t *testing.T) {
	clk := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	deps, store := testDeps(t, func() time.Time { return clk }, nil)
	deps.ViewsPerMinute = 10
	calls := &countingFactors{benchFactorList{auths: benchAuthenticators}, 0}
	deps.Factors = calls
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	cookie := signedIn(t, store, clk, session.TopLevel)
	view := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/factors", nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for i := range 10 {
		if rec := view(); rec.Code != http.StatusOK {
			t.Fatalf("view %d: %d", i+1, rec.Code)
		}
	}
	rec := view()
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "Pages were opened very often") {
		t.Errorf("view 11: %d, want 429 with Retry-After and a clear message", rec.Code)
	}
	if calls.n != 10 {
		t.Errorf("%d MFA API calls for 11 views, want 10", calls.n)
	}
	clk = clk.Add(time.Minute)
	if rec := view(); rec.Code != http.StatusOK {
		t.Errorf("after the minute: %d", rec.Code)
	}
}

// countingFactors counts list calls.
type countingFactors struct {
	benchFactorList
	n int
}

func (f *countingFactors) ListAuthenticators(ctx context.Context, tok string) ([]mfaapi.Authenticator, error) {
	f.n++
	return f.benchFactorList.ListAuthenticators(ctx, tok)
}

// A new recovery code is shown exactly once, after a redirect: the browser's
// Back or a reload neither resubmits the form nor shows the code again.
func TestNewRecoveryCodeIsShownOnce(t *testing.T) {
	for _, b := range stateBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			r := newRig(t, b, nil, "Alice")
			sess := r.signInThroughCallback("/recovery-code")
			form := formOf(t, r.send(http.MethodGet, "/recovery-code", nil, sess))
			post := r.send(http.MethodPost, "/recovery-code", form, sess)
			if post.Code != http.StatusSeeOther || post.Header().Get("Location") != "/recovery-code/new" || strings.Contains(post.Body.String(), "ABCD") {
				t.Fatalf("regeneration: %d to %q", post.Code, post.Header().Get("Location"))
			}
			sess = cookieOf(post, session.CookieTopLevel)
			first := r.send(http.MethodGet, "/recovery-code/new", nil, sess)
			if first.Code != http.StatusOK || !strings.Contains(first.Body.String(), `data-testid="recovery-code"`) || !strings.Contains(first.Body.String(), "ABCD") {
				t.Fatalf("the display: %d", first.Code)
			}
			if c := cookieOf(first, session.CookieTopLevel); c != nil {
				sess = c
			}
			again := r.send(http.MethodGet, "/recovery-code/new", nil, sess)
			if again.Code != http.StatusOK || strings.Contains(again.Body.String(), "ABCD") || !strings.Contains(again.Body.String(), `data-testid="code-already-shown"`) {
				t.Errorf("a reload shows the code again (or no explanation): %d", again.Code)
			}
			if r.recovery.calls.Load() != 1 {
				t.Errorf("%d regenerations", r.recovery.calls.Load())
			}
		})
	}
}

// Page views are counted by ViewLimits (the replica's own memory when
// sessions are in Redis); every other limit by the shared Limits.
func TestViewsCountedApartFromChanges(t *testing.T) {
	clk := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	deps, store := testDeps(t, func() time.Time { return clk }, nil)
	shared, local := &countingLimiter{}, &countingLimiter{}
	deps.Limits, deps.ViewLimits = shared, local
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	cookie := signedIn(t, store, clk, session.TopLevel)
	req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/factors", nil)
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("view: %d", rec.Code)
	}
	if strings.Join(local.rules, ",") != "view" || len(shared.rules) != 0 {
		t.Errorf("a view counted by local %v and shared %v, want local only", local.rules, shared.rules)
	}
}

type countingLimiter struct{ rules []string }

func (l *countingLimiter) Allow(_ context.Context, rule ratelimit.Rule, _ string) error {
	l.rules = append(l.rules, rule.Name)
	return nil
}
