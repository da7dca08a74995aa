package auth0emu

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	m2m, web := e.tenant.M2MClient(), e.tenant.WebClient()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(m2m.ID+":"+m2m.Secret))
	mgmt := e.tenant.ManagementAudience()
	tests := []struct {
		name       string
		form       url.Values
		header     []string
		wantStatus int
		wantError  string
	}{
		{"post", url.Values{"grant_type": {"client_credentials"}, "client_id": {m2m.ID}, "client_secret": {m2m.Secret}, "audience": {mgmt}}, nil, 200, ""},
		{"basic", url.Values{"grant_type": {"client_credentials"}, "audience": {mgmt}}, []string{"Authorization", basic}, 200, ""},
		{"scope subset", url.Values{"grant_type": {"client_credentials"}, "client_id": {m2m.ID}, "client_secret": {m2m.Secret}, "audience": {mgmt}, "scope": {"update:users"}}, nil, 200, ""},
		{"scope not granted", url.Values{"grant_type": {"client_credentials"}, "client_id": {m2m.ID}, "client_secret": {m2m.Secret}, "audience": {mgmt}, "scope": {"delete:users"}}, nil, 403, "access_denied"},
		{"wrong secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {m2m.ID}, "client_secret": {"nope"}, "audience": {mgmt}}, nil, 401, "invalid_client"},
		{"unknown client", url.Values{"grant_type": {"client_credentials"}, "client_id": {"who"}, "client_secret": {"x"}, "audience": {mgmt}}, nil, 401, "invalid_client"},
		{"no secret", url.Values{"grant_type": {"client_credentials"}, "client_id": {m2m.ID}, "audience": {mgmt}}, nil, 401, "invalid_client"},
		{"both methods", url.Values{"grant_type": {"client_credentials"}, "client_secret": {m2m.Secret}, "audience": {mgmt}}, []string{"Authorization", basic}, 400, "invalid_request"},
		{"web client may not", url.Values{"grant_type": {"client_credentials"}, "client_id": {web.ID}, "client_secret": {web.Secret}, "audience": {mgmt}}, nil, 403, "unauthorized_client"},
		{"no audience", url.Values{"grant_type": {"client_credentials"}, "client_id": {m2m.ID}, "client_secret": {m2m.Secret}}, nil, 403, "access_denied"},
		{"mfa audience", url.Values{"grant_type": {"client_credentials"}, "client_id": {m2m.ID}, "client_secret": {m2m.Secret}, "audience": {e.tenant.MFAAudience()}}, nil, 403, "access_denied"},
		{"unknown audience", url.Values{"grant_type": {"client_credentials"}, "client_id": {m2m.ID}, "client_secret": {m2m.Secret}, "audience": {"https://api.example.com/"}}, nil, 403, "access_denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.call(http.MethodPost, "/oauth/token", "", strings.NewReader(tc.form.Encode()),
				append([]string{"Content-Type", "application/x-www-form-urlencoded"}, tc.header...)...)
			if tc.wantError != "" {
				wantAuthError(t, status, body, tc.wantStatus, tc.wantError)
				return
			}
			m := decodeObject(t, body)
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			// Same field set as the recorded client_credentials answer.
			if status != 200 || strings.Join(keys, ",") != "access_token,expires_in,token_type" || m["expires_in"] != float64(86400) || m["token_type"] != "Bearer" {
				t.Fatalf("%d %v", status, m)
			}
			tok, err := jwt.ParseSigned(m["access_token"].(string), signatureAlgs)
			if err != nil {
				t.Fatal(err)
			}
			var c accessClaims
			_ = tok.UnsafeClaimsWithoutVerification(&c)
			if !c.Audience.Contains(mgmt) || c.Subject != m2m.ID+"@clients" || !strings.Contains(c.Scope, "update:users") || c.GTY != "client-credentials" {
				t.Fatalf("claims %+v", c)
			}
		})
	}
	t.Run("x/oauth2 clientcredentials", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: m2m.ID, ClientSecret: m2m.Secret, TokenURL: e.srv.URL + "/oauth/token",
			EndpointParams: url.Values{"audience": {mgmt}}}
		tok, err := cc.Token(context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client()))
		if err != nil || tok.AccessToken == "" {
			t.Fatalf("token %v err %v", tok, err)
		}
	})
}

func TestTokenBadInput(t *testing.T) {
	e := newEnv(t)
	web := e.tenant.WebClient()
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, contentType, body string
		wantStatus              int
		wantError               string
	}{
		{"empty form", form, "", 400, "invalid_request"},
		{"malformed form", form, "grant_type=%zz", 400, "invalid_request"},
		{"unknown grant", form, "grant_type=magic&client_id=" + web.ID, 400, "unsupported_grant_type"},
		{"auth0 grant not enabled", form, "grant_type=http%3A%2F%2Fauth0.com%2Foauth%2Fgrant-type%2Fpasswordless%2Fotp&client_id=" + web.ID + "&client_secret=" + web.Secret, 403, "unauthorized_client"},
		{"repeated parameter", form, "grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"},
		{"missing client_id", form, "grant_type=authorization_code&code=x", 400, "invalid_request"},
		{"missing code", form, "grant_type=authorization_code&client_id=" + web.ID + "&client_secret=" + web.Secret, 400, "invalid_request"},
		{"unknown code", form, "grant_type=authorization_code&code=nope&client_id=" + web.ID + "&client_secret=" + web.Secret, 400, "invalid_grant"},
		{"missing refresh token", form, "grant_type=refresh_token&client_id=" + web.ID + "&client_secret=" + web.Secret, 400, "invalid_request"},
		{"unknown refresh token", form, "grant_type=refresh_token&refresh_token=x&client_id=" + web.ID + "&client_secret=" + web.Secret, 403, "invalid_grant"},
		{"malformed json", "application/json", `{"grant_type":`, 400, "invalid_request"},
		{"json not strings", "application/json", `{"grant_type":1}`, 400, "invalid_request"},
		{"json trailing", "application/json", `{"grant_type":"client_credentials"} {}`, 400, "invalid_request"},
		{"json array", "application/json", `[]`, 400, "invalid_request"},
		{"text body", "text/plain", "grant_type=client_credentials", 400, "invalid_request"},
		{"no content type", "", "grant_type=client_credentials", 400, "invalid_request"},
		{"oversized", form, "grant_type=client_credentials&pad=" + strings.Repeat("a", maxTokenBody), 413, "invalid_request"},
		{"oversized json", "application/json", `{"pad":"` + strings.Repeat("a", maxTokenBody) + `"}`, 413, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var header []string
			if tc.contentType != "" {
				header = []string{"Content-Type", tc.contentType}
			}
			status, _, body := e.call(http.MethodPost, "/oauth/token", "", strings.NewReader(tc.body), header...)
			wantAuthError(t, status, body, tc.wantStatus, tc.wantError)
		})
	}
	t.Run("json body works", func(t *testing.T) {
		m2m := e.tenant.M2MClient()
		status, _, body := e.call(http.MethodPost, "/oauth/token", "", strings.NewReader(`{"grant_type":"client_credentials","client_id":"`+m2m.ID+`","client_secret":"`+m2m.Secret+`","audience":"`+e.tenant.ManagementAudience()+`"}`), "Content-Type", "application/json")
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
	})
}

func TestAuthorizationCodeExchange(t *testing.T) {
	signedIn := func(t *testing.T) (*env, string, string) {
		e := newEnv(t)
		cb, verifier, err := e.signIn(SignIn{Email: "carol@example.com", Password: "carol-demo-pass"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return e, cb.Query().Get("code"), verifier
	}
	exchange := func(e *env, code, verifier, redirect string, client Client) (int, map[string]any) {
		return e.postToken(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {redirect}, "client_id": {client.ID}, "client_secret": {client.Secret}})
	}
	t.Run("ok with basic auth", func(t *testing.T) {
		e, code, verifier := signedIn(t)
		web := e.tenant.WebClient()
		status, m := e.postToken(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {testRedirectURI}},
			"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(web.ID)+":"+url.QueryEscape(web.Secret))))
		if status != 200 || m["id_token"] == nil || m["token_type"] != "Bearer" {
			t.Fatalf("%d %v", status, m)
		}
	})
	tests := []struct {
		name   string
		mutate func(e *env, code, verifier *string, redirect *string, c *Client)
		status int
		err    string
	}{
		{"wrong verifier", func(e *env, code, v, r *string, c *Client) { *v = oauth2.GenerateVerifier() }, 400, "invalid_grant"},
		{"no verifier", func(e *env, code, v, r *string, c *Client) { *v = "" }, 400, "invalid_grant"},
		{"wrong redirect", func(e *env, code, v, r *string, c *Client) { *r = "http://portal.test/other" }, 400, "invalid_grant"},
		{"expired", func(e *env, code, v, r *string, c *Client) { e.clock.Advance(61 * time.Second) }, 400, "invalid_grant"},
		{"other client", func(e *env, code, v, r *string, c *Client) { *c = e.tenant.M2MClient() }, 403, "unauthorized_client"},
		{"wrong secret", func(e *env, code, v, r *string, c *Client) { c.Secret = "x" }, 401, "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, code, verifier := signedIn(t)
			redirect, client := testRedirectURI, e.tenant.WebClient()
			tc.mutate(e, &code, &verifier, &redirect, &client)
			status, m := exchange(e, code, verifier, redirect, client)
			if status != tc.status || m["error"] != tc.err {
				t.Fatalf("%d %v, want %d %s", status, m, tc.status, tc.err)
			}
		})
	}
	t.Run("a failed attempt uses the code up", func(t *testing.T) {
		e, code, verifier := signedIn(t)
		exchange(e, code, "wrong-"+verifier, testRedirectURI, e.tenant.WebClient())
		if status, m := exchange(e, code, verifier, testRedirectURI, e.tenant.WebClient()); status != 400 || m["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, m)
		}
	})
	t.Run("refresh token", func(t *testing.T) {
		e := newEnv(t)
		verifier := oauth2.GenerateVerifier()
		cfg := e.oauthConfig()
		cfg.Scopes = append(cfg.Scopes, "offline_access")
		cb, err := CompleteSignIn(context.Background(), e.client, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), SignIn{Email: "carol@example.com", Password: "carol-demo-pass"})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
		tok, err := cfg.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("tok %+v err %v", tok, err)
		}
		web := e.tenant.WebClient()
		status, m := e.postToken(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {web.ID}, "client_secret": {web.Secret}})
		if status != 200 || m["access_token"] == nil || m["refresh_token"] != tok.RefreshToken {
			t.Fatalf("%d %v", status, m)
		}
	})
}

// FuzzTokenEndpoint throws arbitrary bodies, content types and basic
// credentials at /oauth/token: every answer is a JSON error or a token,
// never a 500 or a panic.
func FuzzTokenEndpoint(f *testing.F) {
	tenant, err := New(Options{BaseURL: "http://127.0.0.1:9", WebClient: Client{ID: "web", Secret: "websecret", RedirectURIs: []string{testRedirectURI}},
		M2MClient: Client{ID: "m2m", Secret: "m2msecret"}})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []struct{ ct, body, basic string }{
		{"application/x-www-form-urlencoded", "audience=test-audience&client_id=m2m&client_secret=m2msecret&grant_type=client_credentials", ""},
		{"application/x-www-form-urlencoded", "client_id=web&code=test-code&code_verifier=test-code-verifier&grant_type=authorization_code", ""},
		{"application/x-www-form-urlencoded", "client_id=web&grant_type=refresh_token&refresh_token=test-refresh-token", "web:websecret"},
		{"application/json", `{"grant_type":"client_credentials","client_id":"m2m","client_secret":"m2msecret","audience":"http://127.0.0.1:9/api/v2/"}`, ""},
		{"application/json", `{"grant_type":["x"]}`, ""},
		{"multipart/form-data; boundary=x", "--x--", ""},
		{"application/x-www-form-urlencoded", "grant_type=http%3A%2F%2Fauth0.com%2Foauth%2Fgrant-type%2Fmfa-oob&mfa_token=mfa-token", "%zz:%"},
	}
	for _, s := range seeds {
		f.Add(s.ct, s.body, s.basic)
	}
	f.Fuzz(func(t *testing.T, contentType, body, basic string) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if basic != "" {
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(basic)))
		}
		rec := httptest.NewRecorder()
		tenant.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401, 403, 413:
		default:
			t.Fatalf("status %d for %q %q: %s", rec.Code, contentType, body, rec.Body)
		}
		m := decodeObject(t, rec.Body.Bytes())
		if rec.Code == 200 {
			if m["access_token"] == nil {
				t.Fatalf("200 without access_token: %s", rec.Body)
			}
			return
		}
		if s, _ := m["error"].(string); s == "" {
			t.Fatalf("error body without error: %s", rec.Body)
		}
	})
}
