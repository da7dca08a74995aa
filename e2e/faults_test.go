package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mfaportal/auth0emu"
)

// upstreamCall is one request that reached the tenant, as the tap saw it.
type upstreamCall struct {
	method, path string
	grantType    string // for POST /oauth/token
	at           time.Time
	status       int
	reset        int64 // X-Ratelimit-Reset of the answer, Unix seconds
}

// upstreamTap records every request to the tenant, so a test can check not
// only how many calls were made but when, and of which grant.
type upstreamTap struct {
	mu    sync.Mutex
	calls []upstreamCall
	// m2mStatus and m2mLatency, when set, fail or slow every
	// client-credentials request (the portal's M2M token) and nothing else:
	// the code exchange at sign-in goes through.
	m2mStatus  atomic.Int32
	m2mLatency atomic.Int64
}

func (u *upstreamTap) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := upstreamCall{method: r.Method, path: r.URL.Path, at: time.Now()}
		if r.Method == http.MethodPost && r.URL.Path == "/oauth/token" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			call.grantType = form.Get("grant_type")
		}
		if call.grantType == "client_credentials" {
			if d := time.Duration(u.m2mLatency.Load()); d > 0 {
				select {
				case <-time.After(d):
				case <-r.Context().Done():
					return
				}
			}
			if status := int(u.m2mStatus.Load()); status != 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				io.WriteString(w, `{"error":"server_error","error_description":"injected by the test"}`)
				u.mu.Lock()
				u.calls = append(u.calls, upstreamCall{method: r.Method, path: r.URL.Path, grantType: call.grantType, status: status, at: call.at})
				u.mu.Unlock()
				return
			}
		}
		tw := &tappedWriter{ResponseWriter: w}
		defer func() {
			call.status = tw.status
			call.reset, _ = strconv.ParseInt(w.Header().Get("X-Ratelimit-Reset"), 10, 64)
			u.mu.Lock()
			u.calls = append(u.calls, call)
			u.mu.Unlock()
		}()
		next.ServeHTTP(tw, r)
	})
}

// matching returns the calls for which match is true, in order.
func (u *upstreamTap) matching(match func(upstreamCall) bool) []upstreamCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []upstreamCall
	for _, c := range u.calls {
		if match(c) {
			out = append(out, c)
		}
	}
	return out
}

func (u *upstreamTap) reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.calls = nil
}

func clientCredentials(c upstreamCall) bool {
	return c.path == "/oauth/token" && c.grantType == "client_credentials"
}

// tappedWriter keeps the status and still lets the emulator hijack the
// connection, which is how it drops an answer.
type tappedWriter struct {
	http.ResponseWriter
	status int
}

func (w *tappedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *tappedWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *tappedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *tappedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var _ http.Hijacker = (*tappedWriter)(nil)

// friendlyPage reports what is wrong with p as an error page for a person:
// a heading, a request id, no upstream error text.
func friendlyPage(p page) []string {
	var problems []string
	if !strings.Contains(p.body, `data-testid="error-heading"`) {
		problems = append(problems, "no error heading")
	}
	if !strings.Contains(p.body, `data-testid="request-id"`) {
		problems = append(problems, "no request id")
	}
	for _, raw := range []string{"error_description", "mfaapi:", "handlers:", "Injected by the emulator", "context deadline", "oidc:"} {
		if strings.Contains(p.body, raw) {
			problems = append(problems, "raw error text "+strconv.Quote(raw))
		}
	}
	return problems
}

func expectFriendly(t *testing.T, p page) {
	t.Helper()
	for _, problem := range friendlyPage(p) {
		t.Errorf("%d page for a person: %s", p.status, problem)
	}
}

// regenerationForm is what the recovery-code page posts.
func regenerationForm(t *testing.T, b *browser) url.Values {
	t.Helper()
	form := b.get("/recovery-code")
	return url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")}}
}

// regenerate posts the recovery-code form as the page would.
func regenerate(t *testing.T, b *browser) page {
	t.Helper()
	return b.post("/recovery-code", regenerationForm(t, b))
}

// removeFactor confirms and posts the removal of id as the pages would.
func removeFactor(t *testing.T, b *browser, id string) page {
	t.Helper()
	path := "/factors/" + url.PathEscape(id) + "/delete"
	return b.post(path, url.Values{"csrf_token": {csrf(t, b.get(path))}})
}

// upstreamDeadline is UPSTREAM_TIMEOUT plus what rendering may take: a page
// must arrive within it whatever the tenant does.
const upstreamDeadline = 4 * time.Second

// TestUpstreamSlowerThanTheTimeout: whichever call is slow, the person gets
// a page that says so within the deadline, and nothing is half-done.
// (The slow list is in TestUpstreamErrorsBecomeFriendlyPages.)
func TestUpstreamSlowerThanTheTimeout(t *testing.T) {
	t.Parallel()
	// Slower than UPSTREAM_TIMEOUT and than upstreamDeadline, so a portal
	// that waited for the answer would fail the deadline check.
	slow := auth0emu.Fault{Latency: upstreamDeadline + 500*time.Millisecond}
	tests := []struct {
		name string
		// prepare gets the person to the step the slow call is made in, makes
		// the tenant slow, and returns that step.
		prepare func(t *testing.T, e *env, b *browser) (slowStep func() page)
		// status and says describe the page; check looks at the tenant.
		status int
		says   string
		check  func(t *testing.T, e *env, b *browser, before state)
	}{
		{
			name: "removal",
			prepare: func(t *testing.T, e *env, b *browser) func() page {
				b.signInAlice("/factors")
				path := "/factors/" + url.PathEscape(e.idOf(alice, "totp|dev_")) + "/delete"
				form := url.Values{"csrf_token": {csrf(t, b.get(path))}}
				e.tenant.Inject(auth0emu.RouteDeleteAuthenticator, slow)
				return func() page { return b.post(path, form) }
			},
			status: http.StatusGatewayTimeout, says: "The sign-in service is taking too long",
			check: func(t *testing.T, e *env, b *browser, before state) {
				if !slices.Equal(before.ids, e.ids(alice)) {
					t.Error("the factors changed although the removal timed out")
				}
			},
		},
		{
			// The POST may have reached Auth0, so the outcome is unknown.
			name: "regeneration",
			prepare: func(t *testing.T, e *env, b *browser) func() page {
				b.signInAlice("/factors")
				form := regenerationForm(t, b)
				e.tenant.Inject(auth0emu.RouteRegenerateRecoveryCode, slow)
				e.tenant.ResetCalls()
				return func() page { return b.post("/recovery-code", form) }
			},
			status: http.StatusBadGateway, says: "We couldn&#39;t confirm the result",
			check: func(t *testing.T, e *env, b *browser, before state) {
				if n := e.tenant.Calls(auth0emu.RouteRegenerateRecoveryCode); n != 1 {
					t.Errorf("%d regeneration calls, want 1 (never retried)", n)
				}
			},
		},
		{
			// Slow from the start, so no token was ever cached: the pages
			// before list without the Management API's details.
			name: "M2M token for a regeneration",
			prepare: func(t *testing.T, e *env, b *browser) func() page {
				e.tap.m2mLatency.Store(int64(slow.Latency))
				b.signInAlice("/factors")
				form := regenerationForm(t, b)
				return func() page { return b.post("/recovery-code", form) }
			},
			status: http.StatusGatewayTimeout, says: "The sign-in service is taking too long",
			check: func(t *testing.T, e *env, b *browser, before state) {
				if e.tenant.RecoveryCode(alice) != before.code {
					t.Error("the recovery code changed without a token")
				}
			},
		},
		{
			name: "code exchange at sign-in",
			prepare: func(t *testing.T, e *env, b *browser) func() page {
				login := b.getOnce("/login")
				back, err := auth0emu.CompleteSignIn(t.Context(), b.c, login.header.Get("Location"), aliceSignIn)
				if err != nil {
					t.Fatal(err)
				}
				e.tenant.Inject(auth0emu.RouteToken, slow)
				return func() page {
					req, _ := http.NewRequest(http.MethodGet, back.String(), nil)
					return b.doOnce(req)
				}
			},
			status: http.StatusGatewayTimeout, says: "The sign-in service is taking too long",
			check: func(t *testing.T, e *env, b *browser, before state) {
				if hasSession(t, b) {
					t.Error("a session exists although the code exchange timed out")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			outcome := suites.faults.begin(t)
			tap := &upstreamTap{}
			e := newEnvWith(t, envSpec{front: tap.wrap})
			e.tap = tap
			b := e.newBrowser()
			before := state{ids: e.ids(alice), code: e.tenant.RecoveryCode(alice)}
			slowStep := tt.prepare(t, e, b)
			start := time.Now()
			p := slowStep()
			took := time.Since(start)
			e.tenant.ClearFaults()
			tap.m2mLatency.Store(0)
			if took > upstreamDeadline {
				t.Errorf("the page took %v; UPSTREAM_TIMEOUT is 3s", took)
			}
			if p.status != tt.status || !strings.Contains(p.body, tt.says) {
				t.Errorf("%d, want %d saying %q", p.status, tt.status, tt.says)
			}
			expectFriendly(t, p)
			tt.check(t, e, b, before)
			outcome.held = p.status == tt.status
		})
	}
}

// state is what a fault must not change behind the person's back.
type state struct {
	ids  []string
	code string
}

var aliceSignIn = auth0emu.SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "otp"}

// TestRateLimitIsWaitedOutOnce: a 429 whose reset is near is waited for and
// the idempotent call retried once, after the reset; a POST is not retried.
func TestRateLimitIsWaitedOutOnce(t *testing.T) {
	t.Parallel()
	tap := &upstreamTap{}
	// A one-second window: an injected 429 announces a reset within a
	// second, which the portal is willing to wait for.
	second := auth0emu.RateLimit{Limit: 1_000_000, Window: time.Second}
	e := newEnvWith(t, envSpec{
		realClock:  true,
		rateLimits: map[string]auth0emu.RateLimit{auth0emu.RouteListAuthenticators: second, auth0emu.RouteDeleteAuthenticator: second, auth0emu.RouteRegenerateRecoveryCode: second},
		front:      tap.wrap,
	})
	b := e.newBrowser()
	b.signInAlice("/factors")
	app := e.idOf(alice, "totp|dev_")

	tests := []struct {
		name  string
		route string
		// isCall picks the tenant calls the fault is on.
		isCall func(upstreamCall) bool
		act    func(t *testing.T) page
		// calls is how many times the tenant is called; ok says the page.
		calls int
		ok    func(t *testing.T, p page)
	}{
		{
			name: "list", route: auth0emu.RouteListAuthenticators,
			isCall: func(c upstreamCall) bool { return c.method == http.MethodGet && c.path == "/mfa/authenticators" },
			act:    func(t *testing.T) page { return b.get("/factors") },
			calls:  2,
			ok: func(t *testing.T, p page) {
				if p.status != http.StatusOK || !strings.Contains(p.body, "Authenticator app") {
					t.Errorf("%d, want the list", p.status)
				}
			},
		},
		{
			name: "removal", route: auth0emu.RouteDeleteAuthenticator,
			isCall: func(c upstreamCall) bool { return c.method == http.MethodDelete },
			act:    func(t *testing.T) page { return removeFactor(t, b, app) },
			calls:  2,
			ok: func(t *testing.T, p page) {
				if p.status != http.StatusOK || p.url.Path != "/factors" || !strings.Contains(p.body, `data-testid="flash"`) {
					t.Errorf("%d %s, want the list with a success message", p.status, p.url.Path)
				}
				if slices.Contains(e.ids(alice), app) {
					t.Error("the authenticator app is still there")
				}
			},
		},
		{
			// Not idempotent: shown with the wait instead of retried.
			name: "regeneration", route: auth0emu.RouteRegenerateRecoveryCode,
			isCall: func(c upstreamCall) bool { return strings.HasSuffix(c.path, "/recovery-code-regeneration") },
			act:    func(t *testing.T) page { return regenerate(t, b) },
			calls:  1,
			ok: func(t *testing.T, p page) {
				if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Please wait") {
					t.Errorf("%d, want the wait page", p.status)
				}
				if ra, err := strconv.Atoi(p.header.Get("Retry-After")); err != nil || ra < 0 || ra > 1 {
					t.Errorf("Retry-After %q, want the one-second window's reset", p.header.Get("Retry-After"))
				}
				if strings.Contains(p.body, `data-testid="recovery-code"`) {
					t.Error("a code is shown although Auth0 refused")
				}
				expectFriendly(t, p)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome := suites.faults.begin(t)
			tap.reset()
			e.tenant.Inject(tt.route, auth0emu.Fault{Status: http.StatusTooManyRequests, Times: 1})
			defer e.tenant.ClearFaults()
			start := time.Now()
			p := tt.act(t)
			if took := time.Since(start); took > upstreamDeadline {
				t.Errorf("took %v", took)
			}
			tt.ok(t, p)
			calls := tap.matching(tt.isCall)
			if len(calls) != tt.calls {
				t.Fatalf("%d tenant calls, want %d", len(calls), tt.calls)
			}
			if calls[0].status != http.StatusTooManyRequests || calls[0].reset == 0 {
				t.Fatalf("first call: %d reset %d, want the injected 429 with a reset", calls[0].status, calls[0].reset)
			}
			if tt.calls > 1 {
				resetAt := time.Unix(calls[0].reset, 0)
				if calls[1].at.Before(resetAt) {
					t.Errorf("retried at %s, before the reset %s", calls[1].at.Format(time.StampMilli), resetAt.Format(time.StampMilli))
				}
				if calls[1].status >= 300 {
					t.Errorf("the retry got %d", calls[1].status)
				}
			}
			outcome.held = true
		})
	}
}

// TestRateLimitWithADistantResetIsShown: a reset too far to hold the
// person's request for is shown with the wait; nothing is retried or
// changed. (The list's case is in TestUpstreamErrorsBecomeFriendlyPages.)
func TestRateLimitWithADistantResetIsShown(t *testing.T) {
	t.Parallel()
	outcome := suites.faults.begin(t)
	// The default one-minute window: the reset is a minute away. The real
	// clock, because the page counts the wait from now.
	e := newEnvWith(t, envSpec{realClock: true})
	b := e.newBrowser()
	b.signInAlice("/factors")
	before := e.ids(alice)
	e.tenant.ResetCalls()
	e.tenant.Inject(auth0emu.RouteDeleteAuthenticator, auth0emu.Fault{Status: http.StatusTooManyRequests, Times: 5})
	p := removeFactor(t, b, e.idOf(alice, "totp|dev_"))
	if p.status != http.StatusTooManyRequests || !waitOfAMinute.MatchString(p.body) {
		t.Errorf("%d, want the wait page naming the wait", p.status)
	}
	if ra, err := strconv.Atoi(p.header.Get("Retry-After")); err != nil || ra < 30 || ra > 60 {
		t.Errorf("Retry-After %q, want the minute's reset", p.header.Get("Retry-After"))
	}
	expectFriendly(t, p)
	if n := e.tenant.Calls(auth0emu.RouteDeleteAuthenticator); n != 1 {
		t.Errorf("%d removal calls, want 1: a minute's wait is not sat out", n)
	}
	if !slices.Equal(before, e.ids(alice)) {
		t.Error("the factors changed")
	}
	outcome.held = p.status == http.StatusTooManyRequests
}

// waitOfAMinute is how the wait page words a reset about a minute away.
var waitOfAMinute = regexp.MustCompile(`Please wait (a minute|5[0-9] seconds) and try again`)

// TestServerErrorsAreRetriedThenExplained: a passing 500 is retried away; a
// lasting one ends, after the retries, in a page that says Auth0 is down.
func TestServerErrorsAreRetriedThenExplained(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	tests := []struct {
		name   string
		route  string
		fault  auth0emu.Fault
		act    func(t *testing.T) page
		calls  int
		status int
		says   string
	}{
		{"one 500 on the list", auth0emu.RouteListAuthenticators, auth0emu.Fault{Status: 500, Times: 1},
			func(t *testing.T) page { return b.get("/factors") }, 2, http.StatusOK, "Authenticator app"},
		{"one 503 on a removal", auth0emu.RouteDeleteAuthenticator, auth0emu.Fault{Status: 503, Times: 1},
			func(t *testing.T) page { return removeFactor(t, b, e.tenant.MethodID(alice, "email")) }, 2, http.StatusOK, `data-testid="flash"`},
		{"lasting 500s on a removal", auth0emu.RouteDeleteAuthenticator, auth0emu.Fault{Status: 500, Times: 10},
			func(t *testing.T) page { return removeFactor(t, b, e.idOf(alice, "totp|dev_")) }, 3, http.StatusBadGateway, "The sign-in service isn&#39;t working right now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome := suites.faults.begin(t)
			before := state{ids: e.ids(alice), code: e.tenant.RecoveryCode(alice)}
			e.tenant.ResetCalls()
			e.tenant.Inject(tt.route, tt.fault)
			defer e.tenant.ClearFaults()
			p := tt.act(t)
			if p.status != tt.status || !strings.Contains(p.body, tt.says) {
				t.Errorf("%d, want %d saying %q", p.status, tt.status, tt.says)
			}
			if tt.calls >= 0 {
				if n := e.tenant.Calls(tt.route); n != tt.calls {
					t.Errorf("%d calls, want %d", n, tt.calls)
				}
			}
			if p.status >= 400 {
				expectFriendly(t, p)
				if !slices.Equal(before.ids, e.ids(alice)) || before.code != e.tenant.RecoveryCode(alice) {
					t.Error("the tenant changed although the page says it failed")
				}
				if strings.Contains(p.body, `data-testid="recovery-code"`) {
					t.Error("a code is shown although the regeneration failed")
				}
			}
			outcome.held = p.status == tt.status
		})
	}
}

// TestTokenEndpointErrorsAtSignIn: when Auth0 fails while redeeming the
// code, the person is told and offered to sign in again; the code, which is
// single use, is not retried, and no session is made.
func TestTokenEndpointErrorsAtSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			outcome := suites.faults.begin(t)
			b := e.newBrowser()
			login := b.getOnce("/login")
			back, err := auth0emu.CompleteSignIn(t.Context(), b.c, login.header.Get("Location"), aliceSignIn)
			if err != nil {
				t.Fatal(err)
			}
			e.tenant.ResetCalls()
			e.tenant.Inject(auth0emu.RouteToken, auth0emu.Fault{Status: status, Times: 5})
			defer e.tenant.ClearFaults()
			req, _ := http.NewRequest(http.MethodGet, back.String(), nil)
			p := b.doOnce(req)
			if p.status < 400 {
				t.Errorf("callback: %d, want an error page", p.status)
			}
			expectFriendly(t, p)
			if !strings.Contains(p.body, `href="/login`) {
				t.Error("the page does not offer to sign in again")
			}
			if n := e.tenant.Calls(auth0emu.RouteToken); n != 1 {
				t.Errorf("%d token calls: a single-use code was retried", n)
			}
			leaked := hasSession(t, b)
			if leaked {
				t.Error("a session exists")
			}
			outcome.held = p.status >= 400 && !leaked
		})
	}
}

// TestLostRemovalAnswerIsRetriedOnce extends TestDroppedDeleteIsShownAsDone:
// the retry that finds the factor gone is made once, not until the budget
// runs out.
func TestLostRemovalAnswerIsRetriedOnce(t *testing.T) {
	t.Parallel()
	outcome := suites.faults.begin(t)
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	app := e.idOf(alice, "totp|dev_")
	e.tenant.ResetCalls()
	e.tenant.Inject(auth0emu.RouteDeleteAuthenticator, auth0emu.Fault{DropAfterApply: 1})
	p := removeFactor(t, b, app)
	if n := e.tenant.Calls(auth0emu.RouteDeleteAuthenticator); n != 2 {
		t.Errorf("%d removal calls, want 2: the lost one and the retry that finds it gone", n)
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="flash"`) || slices.Contains(e.ids(alice), app) {
		t.Errorf("%d %s, want the list with a success message and the factor gone", p.status, p.url.Path)
	}
	outcome.held = p.status == http.StatusOK
}

// TestSignInSurvivesKeyRotation: after the tenant rotates its signing key,
// the portal fetches the JWKS once to learn the new kid and sign-in works.
func TestSignInSurvivesKeyRotation(t *testing.T) {
	t.Parallel()
	outcome := suites.faults.begin(t)
	e := newEnv(t)
	if p := e.newBrowser().signInAlice("/factors"); p.status != http.StatusOK {
		t.Fatalf("first sign-in: %d", p.status)
	}
	e.tenant.RotateKeys()
	e.tenant.ResetCalls()
	for i := range 3 {
		if p := e.newBrowser().signInAlice("/factors"); p.status != http.StatusOK || p.url.Path != "/factors" {
			t.Fatalf("sign-in %d after the rotation: %d %s", i+1, p.status, p.url)
		}
	}
	if n := e.tenant.Calls(auth0emu.RouteJWKS); n != 1 {
		t.Errorf("%d JWKS fetches for three sign-ins after a rotation, want 1", n)
	}
	outcome.held = e.tenant.Calls(auth0emu.RouteJWKS) == 1
}

// TestM2MTokenOutage: while the M2M token endpoint fails, the factors page
// still lists from the MFA API (saying details are unavailable), and a
// regeneration explains the outage and changes nothing.
func TestM2MTokenOutage(t *testing.T) {
	t.Parallel()
	outcome := suites.faults.begin(t)
	tap := &upstreamTap{}
	e := newEnvWith(t, envSpec{front: tap.wrap})
	tap.m2mStatus.Store(http.StatusInternalServerError)
	b := e.newBrowser()
	before := state{ids: e.ids(alice), code: e.tenant.RecoveryCode(alice)}
	list := b.signInAlice("/factors")
	if list.status != http.StatusOK || !strings.Contains(list.body, `data-testid="details-unavailable"`) || strings.Contains(list.body, `data-testid="remove"`) {
		t.Errorf("/factors while the M2M token fails: %d; want the list, the notice and no removal", list.status)
	}
	p := regenerate(t, b)
	if p.status != http.StatusBadGateway || !strings.Contains(p.body, "The sign-in service isn&#39;t working right now") {
		t.Errorf("regeneration: %d, want 502 explaining the outage", p.status)
	}
	expectFriendly(t, p)
	after := state{ids: e.ids(alice), code: e.tenant.RecoveryCode(alice)}
	if !slices.Equal(before.ids, after.ids) || before.code != after.code {
		t.Error("the outage changed the tenant")
	}
	outcome.held = p.status == http.StatusBadGateway && before.code == after.code
}

// loadUsers are n users with an authenticator app each.
func loadUsers(n int) []auth0emu.User {
	users := make([]auth0emu.User, n)
	for i := range users {
		users[i] = auth0emu.User{
			UserID:   fmt.Sprintf("auth0|load%02d", i),
			Email:    fmt.Sprintf("load%02d@example.com", i),
			Password: fmt.Sprintf("load%02d-demo-pass", i),
			Factors:  []auth0emu.Factor{{Type: "totp"}},
		}
	}
	return users
}

// TestConcurrentRegenerationsShareOneM2MToken: fifty people regenerating at
// once cause one client-credentials request, and everyone gets a code.
func TestConcurrentRegenerationsShareOneM2MToken(t *testing.T) {
	t.Parallel()
	outcome := suites.faults.begin(t)
	const people = 50
	users := loadUsers(people)
	tap := &upstreamTap{}
	e := newEnvWith(t, envSpec{users: users, front: tap.wrap})

	// Signed in without opening a page: nobody has made the portal fetch
	// its M2M token yet.
	browsers := make([]*browser, people)
	for i, u := range users {
		browsers[i] = e.newBrowser()
		browsers[i].signInOnly(auth0emu.SignIn{Email: u.Email, Password: u.Password, MFAMethod: "otp"})
	}
	tap.reset()

	// Everyone at once opens the recovery page (its list asks the
	// Management API) and regenerates.
	statuses := make([]int, people)
	errs := make([]error, people)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range people {
		wg.Go(func() {
			<-start
			statuses[i], errs[i] = browsers[i].regenerateQuietly()
		})
	}
	close(start)
	wg.Wait()

	for i := range people {
		if errs[i] != nil || statuses[i] != http.StatusOK {
			t.Errorf("%s: %d %v", users[i].UserID, statuses[i], errs[i])
		}
	}
	m2m := tap.matching(clientCredentials)
	if len(m2m) != 1 {
		t.Errorf("%d client-credentials requests for %d people listing and regenerating at once, want 1", len(m2m), people)
	}
	regens := tap.matching(func(c upstreamCall) bool { return strings.HasSuffix(c.path, "/recovery-code-regeneration") })
	if len(regens) != people {
		t.Errorf("%d regeneration calls, want %d", len(regens), people)
	}
	outcome.held = len(m2m) == 1 && len(regens) == people
}
