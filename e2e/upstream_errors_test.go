package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"mfaportal/auth0emu"
)

// TestUpstreamErrorsBecomeFriendlyPages: whatever Auth0 answers, the user
// gets a page that says what happened and what to do, with a request id,
// and never the raw error.
func TestUpstreamErrorsBecomeFriendlyPages(t *testing.T) {
	tests := []struct {
		name       string
		fault      auth0emu.Fault
		status     int
		says       string
		retryAfter bool
	}{
		{"403", auth0emu.Fault{Status: 403, Times: 5}, http.StatusForbidden, "This action isn&#39;t allowed", false},
		{"429 with a reset", auth0emu.Fault{Status: 429, Times: 5}, http.StatusTooManyRequests, "Please wait", true},
		{"500 after retries", auth0emu.Fault{Status: 500, Times: 5}, http.StatusBadGateway, "The sign-in service isn&#39;t working right now", false},
		{"503 after retries", auth0emu.Fault{Status: 503, Times: 5}, http.StatusBadGateway, "The sign-in service isn&#39;t working right now", false},
		{"slower than the timeout", auth0emu.Fault{Latency: 5 * time.Second}, http.StatusGatewayTimeout, "The sign-in service is taking too long", false},
		// Last: a refused token ends the session (TestRefusedTokenEndsTheSession).
		{"401", auth0emu.Fault{Status: 401, Times: 5}, http.StatusUnauthorized, "Please sign in again", false},
	}
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.tenant.ClearFaults()
			e.tenant.Inject(auth0emu.RouteListAuthenticators, tt.fault)
			defer e.tenant.ClearFaults()
			start := time.Now()
			p := b.getOnce("/factors")
			if took := time.Since(start); took > 4*time.Second {
				t.Errorf("took %v; the upstream timeout is 3s", took)
			}
			if p.status != tt.status {
				t.Errorf("status %d, want %d", p.status, tt.status)
			}
			if !strings.Contains(p.body, tt.says) {
				t.Errorf("page does not say %q", tt.says)
			}
			if !strings.Contains(p.body, `data-testid="request-id"`) {
				t.Error("no request id on the page")
			}
			if strings.Contains(p.body, "error_description") || strings.Contains(p.body, "mfaapi:") {
				t.Error("raw upstream error text on the page")
			}
			if tt.retryAfter && p.header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
}

// TestRefusedTokenEndsTheSession: once Auth0 refuses the session's token,
// the page says to sign in again without also counting minutes left, and the
// next page goes to sign-in instead of asking Auth0 with the dead token.
func TestRefusedTokenEndsTheSession(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	e.tenant.Inject(auth0emu.RouteListAuthenticators, auth0emu.Fault{Status: 401, Times: 5})
	p := b.getOnce("/factors")
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Please sign in again") {
		t.Fatalf("status %d; want the 401 page", p.status)
	}
	if strings.Contains(p.body, "data-seconds-left") || strings.Contains(p.body, "Alice Example") {
		t.Error("the 401 page still shows the session as signed in")
	}
	e.tenant.ResetCalls()
	next := b.getOnce("/factors")
	if next.status != http.StatusFound || !strings.HasPrefix(next.header.Get("Location"), "/login") {
		t.Errorf("next page: %d to %q, want a redirect to sign-in", next.status, next.header.Get("Location"))
	}
	if n := e.tenant.Calls(auth0emu.RouteListAuthenticators); n != 0 {
		t.Errorf("%d calls to Auth0 with the refused token", n)
	}
}

// TestDroppedDeleteIsShownAsDone: Auth0 applied the DELETE but the answer was
// lost; the retry's 404 means it is gone, which is what the user wanted.
func TestDroppedDeleteIsShownAsDone(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	app := e.idOf(alice, "totp|dev_")
	confirm := b.get("/factors/" + url.PathEscape(app) + "/delete")
	e.tenant.Inject(auth0emu.RouteDeleteAuthenticator, auth0emu.Fault{DropAfterApply: 1})
	p := b.post("/factors/"+url.PathEscape(app)+"/delete", url.Values{"csrf_token": {csrf(t, confirm)}})
	if p.url.Path != "/factors" || !strings.Contains(p.body, "Authenticator app") || p.status != http.StatusOK {
		t.Fatalf("%d %s", p.status, p.url)
	}
	if !strings.Contains(p.body, `data-testid="flash"`) {
		t.Error("no message about the removal")
	}
	if slices.Contains(e.ids(alice), app) {
		t.Error("the factor is still there")
	}
}

// TestDroppedRegenerationIsNotRetried: the POST may have reached Auth0, so it
// is made exactly once and the user is told the outcome is unknown.
func TestDroppedRegenerationIsNotRetried(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	form := b.get("/recovery-code")
	e.tenant.ResetCalls()
	e.tenant.Inject(auth0emu.RouteRegenerateRecoveryCode, auth0emu.Fault{DropAfterApply: 1})
	p := b.post("/recovery-code", url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")}})
	if n := e.tenant.Calls(auth0emu.RouteRegenerateRecoveryCode); n != 1 {
		t.Errorf("%d regeneration calls, want exactly 1", n)
	}
	if p.status != http.StatusBadGateway || !strings.Contains(p.body, "We couldn&#39;t confirm the result") {
		t.Errorf("%d; want a page saying the outcome is unknown", p.status)
	}
	if strings.Contains(p.body, e.tenant.RecoveryCode(alice)) {
		t.Error("a code is shown although the answer was lost")
	}
}

func TestRegenerationFailureShowsNoCode(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	form := b.get("/recovery-code")
	before := e.tenant.RecoveryCode(alice)
	e.tenant.Inject(auth0emu.RouteRegenerateRecoveryCode, auth0emu.Fault{Status: 500, Times: 1})
	p := b.post("/recovery-code", url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")}})
	if p.status != http.StatusBadGateway || strings.Contains(p.body, `data-testid="recovery-code"`) {
		t.Errorf("%d; a failed regeneration must not look done", p.status)
	}
	if e.tenant.RecoveryCode(alice) != before {
		t.Error("the code changed although Auth0 failed")
	}
	if n := e.tenant.Calls(auth0emu.RouteRegenerateRecoveryCode); n != 1 {
		t.Errorf("%d calls: the POST was retried", n)
	}
}

// TestM2MTokenIsFetchedOnce: page views (their Management API details)
// and regenerations share one cached M2M token.
func TestM2MTokenIsFetchedOnce(t *testing.T) {
	tap := &upstreamTap{}
	e := newEnvWith(t, envSpec{front: tap.wrap})
	var browsers []*browser
	for range 3 {
		b := e.newBrowser()
		b.signInAlice("/factors")
		browsers = append(browsers, b)
	}
	e.tenant.ResetCalls()
	for _, b := range browsers {
		form := b.get("/recovery-code")
		if p := b.post("/recovery-code", url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")}}); p.status != http.StatusOK {
			t.Fatalf("regenerate: %d", p.status)
		}
	}
	if n := len(tap.matching(clientCredentials)); n != 1 {
		t.Errorf("%d M2M token requests for 3 sign-ins, their pages and 3 regenerations, want 1", n)
	}
}
