package auth0emu

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestFullFlowWithMFA is what the portal does: discovery, authorization
// code + PKCE with the /mfa/ audience through the challenge, ID token
// verification with go-oidc, then the MFA API with the access token.
func TestFullFlowWithMFA(t *testing.T) {
	e := newEnv(t)
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	provider, err := oidc.NewProvider(ctx, e.tenant.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := e.oauthConfig()
	cfg.Endpoint = provider.Endpoint()

	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("audience", e.tenant.MFAAudience()), oauth2.SetAuthURLParam("nonce", "n-0S6_WzA2Mj"))
	cb, err := CompleteSignIn(context.Background(), e.client, authURL,
		SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "otp"})
	if err != nil {
		t.Fatalf("CompleteSignIn: %v", err)
	}
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirectURI {
		t.Fatalf("callback = %s", cb)
	}
	if cb.Query().Get("state") != "state-123" {
		t.Fatalf("state not echoed: %s", cb)
	}
	tok, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: e.clock.Now}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	var claims struct {
		Nonce    string   `json:"nonce"`
		AuthTime int64    `json:"auth_time"`
		AMR      []string `json:"amr"`
		Name     string   `json:"name"`
		Email    string   `json:"email"`
		AZP      string   `json:"azp"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != "auth0|alice" || claims.Nonce != "n-0S6_WzA2Mj" || claims.Name != "Alice Example" ||
		claims.Email != "alice@example.com" || claims.AuthTime != e.clock.Now().Unix() || !slices.Contains(claims.AMR, "mfa") || claims.AZP != cfg.ClientID {
		t.Fatalf("ID token claims = %+v sub %s", claims, idt.Subject)
	}
	if got := time.Until(tok.Expiry); got < 590*time.Second || got > 610*time.Second {
		t.Fatalf("MFA access token lifetime = %v, want 600s", got)
	}
	if scope, _ := tok.Extra("scope").(string); !strings.Contains(scope, scopeReadAuthenticators) {
		t.Fatalf("scope = %q", scope)
	}
	status, _, body := e.call(http.MethodGet, "/mfa/authenticators", tok.AccessToken, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"push|dev_`) {
		t.Fatalf("list = %d %s", status, body)
	}
	// The code is single use.
	if _, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("second exchange of the same code succeeded")
	}
}

func TestChallengeMethods(t *testing.T) {
	tests := []struct {
		name, email, method string
	}{
		{"alice otp", "alice@example.com", "otp"},
		{"alice push", "alice@example.com", "push"},
		{"alice sms", "alice@example.com", "sms"},
		{"alice voice", "alice@example.com", "voice"},
		{"alice email", "alice@example.com", "email"},
		{"bob otp", "bob@example.com", "otp"},
		{"dave sms", "dave@example.com", "sms"},
		{"default method", "bob@example.com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			password := strings.Split(tc.email, "@")[0] + "-demo-pass"
			tok := e.mustSignIn(SignIn{Email: tc.email, Password: password, MFAMethod: tc.method})
			if tok.AccessToken == "" {
				t.Fatal("no access token")
			}
		})
	}
}

func TestNoChallengeWithoutStrongFactors(t *testing.T) {
	active := true
	e := newEnv(t, func(o *Options) {
		o.Users = append(DemoUsers(), User{UserID: "auth0|erin", Email: "erin@example.com", Password: "erin-demo-pass",
			Factors: []Factor{{Type: "email", Address: "erin@example.com", Active: &active}}})
	})
	for _, who := range []string{"carol", "erin"} {
		cb, _, err := e.signIn(SignIn{Email: who + "@example.com", Password: who + "-demo-pass"}, map[string]string{"prompt": "login"})
		if err != nil || cb.Query().Get("code") == "" {
			t.Fatalf("%s: callback %v err %v", who, cb, err)
		}
	}
	// The same pages with an explicit MFA method fail for carol: nothing to challenge.
	mfaPages := e.tenant.Calls(RouteMFAPage)
	if mfaPages != 0 {
		t.Fatalf("MFA page shown %d times for users without strong factors", mfaPages)
	}
}

func TestRecoveryCodeAtChallengeRotates(t *testing.T) {
	e := newEnv(t)
	old := e.tenant.RecoveryCode("auth0|alice")
	if old != DemoAliceRecoveryCode {
		t.Fatalf("seed recovery code = %q", old)
	}
	e.mustSignIn(SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "recovery-code", Code: strings.ToLower(old)})
	next := e.tenant.RecoveryCode("auth0|alice")
	if next == old || len(next) != 24 {
		t.Fatalf("recovery code not rotated: %q", next)
	}
	_, _, err := e.signIn(SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "recovery-code", Code: old}, map[string]string{"prompt": "login"})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("old recovery code accepted: %v", err)
	}
}

func TestChallengeFailures(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		e := newEnv(t)
		_, _, err := e.signIn(SignIn{Email: "alice@example.com", Password: "nope"}, nil)
		if err == nil || !strings.Contains(err.Error(), "Wrong email or password") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong otp", func(t *testing.T) {
		e := newEnv(t)
		_, _, err := e.signIn(SignIn{Email: "bob@example.com", Password: "bob-demo-pass", MFAMethod: "otp", Code: "000000"}, nil)
		if err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("method not offered", func(t *testing.T) {
		e := newEnv(t)
		_, _, err := e.signIn(SignIn{Email: "bob@example.com", Password: "bob-demo-pass", MFAMethod: "push"}, nil)
		if err == nil || !strings.Contains(err.Error(), "not offered") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("inactive factor is not accepted", func(t *testing.T) {
		e := newEnv(t)
		code, err := totpAt(DemoAliceOldTOTPSecret, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = e.signIn(SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "otp", Code: code}, nil)
		if err == nil {
			t.Fatal("code of an inactive TOTP accepted")
		}
	})
	t.Run("push denied", func(t *testing.T) {
		e := newEnv(t)
		cb := driveToMFA(t, e, "alice@example.com", "alice-demo-pass", "push")
		status, loc := postMFA(t, e, cb, url.Values{"method": {"push"}, "action": {"deny"}})
		if status != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st-1" {
			t.Fatalf("deny = %d %v", status, loc)
		}
	})
	t.Run("too many attempts", func(t *testing.T) {
		e := newEnv(t)
		state := driveToMFA(t, e, "bob@example.com", "bob-demo-pass", "otp")
		var status int
		var loc *url.URL
		for range maxMFAAttempts {
			status, loc = postMFA(t, e, state, url.Values{"method": {"otp"}, "code": {"000000"}, "action": {"verify"}})
		}
		if status != http.StatusFound || loc.Query().Get("error") != "access_denied" {
			t.Fatalf("after %d failures: %d %v", maxMFAAttempts, status, loc)
		}
	})
}

// driveToMFA signs in with a password and returns the transaction handle
// of the MFA page it lands on.
func driveToMFA(t *testing.T, e *env, email, password, method string) string {
	t.Helper()
	resp, err := e.client.Get(e.authorizeURL(oauth2.GenerateVerifier(), "st-1", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	state := resp.Request.URL.Query().Get("state")
	resp, err = e.client.PostForm(e.srv.URL+"/u/login", url.Values{"state": {state}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/u/mfa" {
		t.Fatalf("landed on %s", resp.Request.URL)
	}
	resp, err = e.client.Get(e.srv.URL + "/u/mfa?state=" + url.QueryEscape(state) + "&method=" + method)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return state
}

func postMFA(t *testing.T, e *env, state string, form url.Values) (int, *url.URL) {
	t.Helper()
	form.Set("state", state)
	resp, err := e.client.PostForm(e.srv.URL+"/u/mfa", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	return resp.StatusCode, loc
}

// A developer without an authenticator app signs in with the code the
// challenge page shows: it is the one an app would show for the user's
// active secret, not the retired one's.
func TestChallengePageShowsCurrentCode(t *testing.T) {
	e := newEnv(t)
	state := driveToMFA(t, e, "alice@example.com", "alice-demo-pass", "otp")
	_, body := e.get(e.srv.URL + "/u/mfa?state=" + url.QueryEscape(state) + "&method=otp")
	want, err := totpAt(DemoAliceTOTPSecret, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `<code data-testid="totp-code">`+want+`</code>`) {
		t.Fatalf("page lacks the current code %s:\n%s", want, body)
	}
	status, loc := postMFA(t, e, state, url.Values{"method": {"otp"}, "code": {want}, "action": {"verify"}})
	if status != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("shown code refused: %d %v", status, loc)
	}
}
