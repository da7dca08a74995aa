package auth0emu

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// get fetches path on the tenant with the env's browser client.
func (e *env) get(rawURL string) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.client.Get(rawURL)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t)
	web := e.tenant.WebClient()
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	base := func() url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {web.ID}, "redirect_uri": {testRedirectURI}, "state": {"xyz"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "scope": {"openid"}}
	}
	pageErrors := []struct {
		name   string
		mutate func(url.Values)
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }},
		{"m2m client", func(q url.Values) { q.Set("client_id", e.tenant.M2MClient().ID) }},
		{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "http://evil.test/cb") }},
		{"redirect prefix only", func(q url.Values) { q.Set("redirect_uri", testRedirectURI+"/x") }},
	}
	for _, tc := range pageErrors {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			tc.mutate(q)
			resp, body := e.get(e.srv.URL + "/authorize?" + q.Encode())
			if resp.StatusCode != 400 || !strings.Contains(body, `data-testid="emulator-banner"`) || resp.Header.Get("Location") != "" {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
		})
	}
	redirectErrors := []struct {
		name, wantError string
		mutate          func(url.Values)
	}{
		{"token response type", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
		{"no pkce", "invalid_request", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
		{"plain pkce", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"unknown audience", "access_denied", func(q url.Values) { q.Set("audience", "https://api.example.com/") }},
		{"management audience", "access_denied", func(q url.Values) { q.Set("audience", e.tenant.ManagementAudience()) }},
		{"bad max_age", "invalid_request", func(q url.Values) { q.Set("max_age", "-3") }},
		{"form_post mode", "invalid_request", func(q url.Values) { q.Set("response_mode", "form_post") }},
		{"prompt none without session", "login_required", func(q url.Values) { q.Set("prompt", "none") }},
	}
	for _, tc := range redirectErrors {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			tc.mutate(q)
			resp, _ := e.get(e.srv.URL + "/authorize?" + q.Encode())
			loc, err := resp.Location()
			if resp.StatusCode != http.StatusFound || err != nil {
				t.Fatalf("status %d err %v", resp.StatusCode, err)
			}
			if !strings.HasPrefix(loc.String(), testRedirectURI+"?") || loc.Query().Get("error") != tc.wantError ||
				loc.Query().Get("error_description") == "" || loc.Query().Get("state") != "xyz" {
				t.Fatalf("redirect %s", loc)
			}
		})
	}
}

func TestLoginPageDetails(t *testing.T) {
	e := newEnv(t)
	resp, body := e.get(e.authorizeURL(oauth2.GenerateVerifier(), "s", map[string]string{"login_hint": `bob"<x>@example.com`, "ui_locales": "fr-CA en"}))
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/u/login" {
		t.Fatalf("landed on %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	for _, want := range []string{`value="bob&#34;&lt;x&gt;@example.com"`, "Mot de passe", "Tenant Auth0 émulé", `lang="fr"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	h := resp.Header
	if h.Get("X-Frame-Options") != "deny" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", h)
	}
	_, body = e.get(e.authorizeURL(oauth2.GenerateVerifier(), "s", nil))
	if !strings.Contains(body, "This is not Auth0") || !strings.Contains(body, "Password") {
		t.Errorf("english page: %s", body)
	}
}

func TestEveryPageHasBanner(t *testing.T) {
	e := newEnv(t)
	state := driveToMFA(t, e, "alice@example.com", "alice-demo-pass", "sms")
	pages := []string{
		e.srv.URL + "/u/mfa?state=" + state + "&method=otp",
		e.srv.URL + "/u/mfa?state=" + state + "&method=push",
		e.srv.URL + "/u/mfa?state=" + state + "&method=recovery-code",
		e.srv.URL + "/u/mfa?state=" + state + "&method=email",
		e.srv.URL + "/u/login?state=expired",
		e.srv.URL + "/v2/logout",
		e.srv.URL + "/authorize?client_id=nope",
	}
	for _, p := range pages {
		_, body := e.get(p)
		if !strings.Contains(body, `data-testid="emulator-banner"`) || !strings.Contains(body, "not Auth0") {
			t.Errorf("%s lacks the banner", p)
		}
	}
}

func TestUnicodeNameIsEscaped(t *testing.T) {
	e := newEnv(t)
	tok := e.mustSignIn(SignIn{Email: "dave@example.com", Password: "dave-demo-pass", MFAMethod: "otp"})
	status, _, body := e.call(http.MethodGet, "/userinfo", tok.AccessToken, nil)
	if status != 200 || !strings.Contains(string(body), `"name":"Dave \u003cb\u003eÜnïcødé\u003c/b\u003e 🛡"`) {
		t.Fatalf("%d %s", status, body)
	}
}

func TestSSOSession(t *testing.T) {
	alice := SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "otp"}
	t.Run("second sign-in skips the password but not MFA", func(t *testing.T) {
		e := newEnv(t)
		e.mustSignIn(alice)
		logins := e.tenant.Calls(RouteLoginSubmit)
		e.mustSignIn(SignIn{MFAMethod: "otp"}) // no password given: it must not be asked
		if e.tenant.Calls(RouteLoginSubmit) != logins {
			t.Fatal("password asked again despite the SSO session")
		}
		if e.tenant.Calls(RouteMFASubmit) != 2 {
			t.Fatalf("MFA submitted %d times, want 2", e.tenant.Calls(RouteMFASubmit))
		}
	})
	t.Run("prompt=login forces the password", func(t *testing.T) {
		e := newEnv(t)
		e.mustSignIn(alice)
		if _, _, err := e.signIn(SignIn{MFAMethod: "otp"}, map[string]string{"prompt": "login"}); err == nil {
			t.Fatal("signed in without a password under prompt=login")
		}
	})
	t.Run("max_age honoured", func(t *testing.T) {
		e := newEnv(t)
		e.mustSignIn(alice)
		if _, _, err := e.signIn(SignIn{MFAMethod: "otp"}, map[string]string{"max_age": "300"}); err != nil {
			t.Fatalf("fresh session refused: %v", err)
		}
		e.clock.Advance(301 * time.Second)
		if _, _, err := e.signIn(SignIn{MFAMethod: "otp"}, map[string]string{"max_age": "300"}); err == nil {
			t.Fatal("old session accepted under max_age")
		}
	})
	t.Run("prompt=none with session and no MFA", func(t *testing.T) {
		e := newEnv(t)
		e.mustSignIn(SignIn{Email: "carol@example.com", Password: "carol-demo-pass"})
		resp, _ := e.get(e.authorizeURL(oauth2.GenerateVerifier(), "s", map[string]string{"prompt": "none"}))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("prompt=none: %d %v", resp.StatusCode, loc)
		}
		// Switch the session to alice, who has factors.
		if _, _, err := e.signIn(alice, map[string]string{"prompt": "login"}); err != nil {
			t.Fatal(err)
		}
		resp, _ = e.get(e.authorizeURL(oauth2.GenerateVerifier(), "s", map[string]string{"prompt": "none"}))
		if loc, _ := resp.Location(); loc == nil || loc.Query().Get("error") != "interaction_required" {
			t.Fatalf("prompt=none with MFA due: %v", loc)
		}
	})
	t.Run("logout", func(t *testing.T) {
		e := newEnv(t)
		e.mustSignIn(alice)
		web := e.tenant.WebClient()
		resp, _ := e.get(e.srv.URL + "/v2/logout?" + url.Values{"client_id": {web.ID}, "returnTo": {"http://evil.test/"}}.Encode())
		if resp.StatusCode != 400 {
			t.Fatalf("unlisted returnTo: %d", resp.StatusCode)
		}
		resp, _ = e.get(e.srv.URL + "/v2/logout?" + url.Values{"client_id": {web.ID}, "returnTo": {testLogoutURL}}.Encode())
		if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc.String() != testLogoutURL {
			t.Fatalf("logout: %d %v", resp.StatusCode, loc)
		}
		if _, _, err := e.signIn(SignIn{MFAMethod: "otp"}, nil); err == nil {
			t.Fatal("session survived logout")
		}
	})
}

func TestRuntimeRegistration(t *testing.T) {
	e := newEnv(t)
	e.tenant.AddRedirectURI("http://127.0.0.1:8081/callback")
	e.tenant.AddLogoutURL("http://127.0.0.1:8081/")
	web := e.tenant.WebClient()
	if len(web.RedirectURIs) != 2 || len(web.LogoutURLs) != 2 {
		t.Fatalf("client %+v", web)
	}
	web.RedirectURIs[0] = "mutated"
	if e.tenant.WebClient().RedirectURIs[0] == "mutated" {
		t.Fatal("WebClient exposes internal state")
	}
	cfg := e.oauthConfig()
	cfg.RedirectURL = "http://127.0.0.1:8081/callback"
	cb, err := CompleteSignIn(context.Background(), e.client, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), SignIn{Email: "carol@example.com", Password: "carol-demo-pass"})
	if err != nil || cb.Host != "127.0.0.1:8081" {
		t.Fatalf("cb %v err %v", cb, err)
	}
}

func TestDiscoveryAndUserInfo(t *testing.T) {
	e := newEnv(t)
	status, _, body := e.call(http.MethodGet, "/.well-known/openid-configuration", "", nil)
	d := decodeObject(t, body)
	if status != 200 || d["issuer"] != e.tenant.Issuer() || d["jwks_uri"] != e.tenant.Issuer()+".well-known/jwks.json" {
		t.Fatalf("%d %v", status, d)
	}
	status, _, body = e.call(http.MethodGet, "/userinfo", "", nil)
	wantAuthError(t, status, body, 401, "invalid_token")
	tok := e.mfaToken("auth0|bob", scopeReadAuthenticators)
	status, _, body = e.call(http.MethodGet, "/userinfo", tok, nil)
	if u := decodeObject(t, body); status != 200 || u["sub"] != "auth0|bob" || u["email"] != "bob@example.com" {
		t.Fatalf("%d %s", status, body)
	}
}
