package auth0emu

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const testRedirectURI = "http://portal.test/callback"
const testLogoutURL = "http://portal.test/signed-out"

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock { return &testClock{now: time.Now().Truncate(time.Second)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a tenant served by httptest with a browser-like client.
type env struct {
	t      *testing.T
	tenant *Tenant
	srv    *httptest.Server
	clock  *testClock
	client *http.Client // cookie jar; stops before leaving the tenant
}

func newEnv(t *testing.T, mutate ...func(*Options)) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	clock := newTestClock()
	opts := Options{
		BaseURL:   "http://" + srv.Listener.Addr().String(),
		Now:       clock.Now,
		WebClient: Client{RedirectURIs: []string{testRedirectURI}, LogoutURLs: []string{testLogoutURL}},
		M2MClient: Client{Scopes: []string{"update:users", "read:users", scopeReadAuthMethods, scopeUpdateAuthMethods, scopeDeleteAuthMethods}},
	}
	for _, m := range mutate {
		m(&opts)
	}
	tenant, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv.Config.Handler = tenant
	srv.Start()
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	origin := opts.BaseURL
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), origin+"/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return &env{t: t, tenant: tenant, srv: srv, clock: clock, client: client}
}

func (e *env) oauthConfig() *oauth2.Config {
	web := e.tenant.WebClient()
	return &oauth2.Config{
		ClientID: web.ID, ClientSecret: web.Secret, RedirectURL: testRedirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/authorize", TokenURL: e.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "profile", "email", scopeReadAuthenticators, scopeRemoveAuthenticators},
	}
}

// authorizeURL builds a portal-like /authorize URL for the MFA audience.
func (e *env) authorizeURL(verifier, state string, extra map[string]string) string {
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("audience", e.tenant.MFAAudience()),
		oauth2.SetAuthURLParam("nonce", "nonce-"+state),
	}
	for k, v := range extra {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return e.oauthConfig().AuthCodeURL(state, opts...)
}

// signIn runs the browser part and returns the callback URL.
func (e *env) signIn(s SignIn, extra map[string]string) (*url.URL, string, error) {
	verifier := oauth2.GenerateVerifier()
	cb, err := CompleteSignIn(context.Background(), e.client, e.authorizeURL(verifier, "st-1", extra), s)
	return cb, verifier, err
}

// mustSignIn signs in and exchanges the code for tokens.
func (e *env) mustSignIn(s SignIn) *oauth2.Token {
	e.t.Helper()
	cb, verifier, err := e.signIn(s, nil)
	if err != nil {
		e.t.Fatalf("sign-in: %v", err)
	}
	code := cb.Query().Get("code")
	if code == "" {
		e.t.Fatalf("callback without code: %s", cb)
	}
	tok, err := e.oauthConfig().Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	return tok
}

func (e *env) mfaToken(userID string, scopes ...string) string {
	e.t.Helper()
	tok, err := e.tenant.MintAccessToken(userID, e.tenant.MFAAudience(), scopes, 10*time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func (e *env) mgmtToken(scopes ...string) string {
	e.t.Helper()
	tok, err := e.tenant.MintAccessToken(e.tenant.M2MClient().ID+"@clients", e.tenant.ManagementAudience(), scopes, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// call sends a request to the tenant and returns status, headers and body.
func (e *env) call(method, path, token string, body io.Reader, header ...string) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// postForm posts to /oauth/token.
func (e *env) postToken(form url.Values, header ...string) (int, map[string]any) {
	e.t.Helper()
	status, _, b := e.call(http.MethodPost, "/oauth/token", "", strings.NewReader(form.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
	return status, decodeObject(e.t, b)
}

func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, b)
	}
	return m
}

func wantAuthError(t *testing.T, gotStatus int, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if gotStatus != wantStatus {
		t.Fatalf("status = %d, want %d; body %s", gotStatus, wantStatus, body)
	}
	m := decodeObject(t, body)
	if m["error"] != wantCode {
		t.Fatalf("error = %v, want %s; body %s", m["error"], wantCode, body)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Fatalf("no error_description: %s", body)
	}
}

func findAuthenticator(list []Authenticator, id string) (Authenticator, bool) {
	for _, a := range list {
		if a.ID == id {
			return a, true
		}
	}
	return Authenticator{}, false
}
