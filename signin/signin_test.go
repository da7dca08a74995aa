package signin

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mfaportal/auth0emu"
)

// signInAtEmulator runs Universal Login on an emulated tenant for tx and
// returns the authorization code.
func signInAtEmulator(t *testing.T, o *Client, tx Transaction) string {
	t.Helper()
	to, err := o.AuthCodeURL(t.Context(), tx, AuthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	back, err := auth0emu.CompleteSignIn(t.Context(), &http.Client{Jar: jar}, to,
		auth0emu.SignIn{Email: "bob@example.com", Password: "bob-demo-pass", MFAMethod: "otp"})
	if err != nil {
		t.Fatal(err)
	}
	if back.Query().Get("state") != tx.State {
		t.Fatalf("state not echoed: %s", back)
	}
	return back.Query().Get("code")
}

func newEmulatedOIDC(t *testing.T, now func() time.Time) (*Client, *auth0emu.Tenant) {
	t.Helper()
	var tenant *auth0emu.Tenant
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tenant.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	tenant, err := auth0emu.New(auth0emu.Options{BaseURL: srv.URL, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	tenant.AddRedirectURI("http://127.0.0.1:1/callback")
	return New(Config{
		Issuer: tenant.Issuer(), ClientID: tenant.WebClient().ID, ClientSecret: tenant.WebClient().Secret,
		RedirectURL: "http://127.0.0.1:1/callback", MFAAudience: tenant.MFAAudience(),
		MaxAuthAge: time.Hour, Now: now,
	}), tenant
}

func newTx() Transaction { return NewTransaction() }

func TestExchange(t *testing.T) {
	o, _ := newEmulatedOIDC(t, time.Now)
	tx := newTx()
	id, err := o.Exchange(t.Context(), signInAtEmulator(t, o, tx), tx)
	if err != nil {
		t.Fatal(err)
	}
	if id.Sub != "auth0|bob" || id.AccessToken == "" || time.Until(id.TokenExpiry) > 10*time.Minute || time.Until(id.TokenExpiry) < 9*time.Minute {
		t.Errorf("identity %+v", id)
	}
}

func TestExchangeRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(tx Transaction) Transaction
	}{
		{"another nonce", func(tx Transaction) Transaction { tx.Nonce = randomToken(32); return tx }},
		{"an empty nonce", func(tx Transaction) Transaction { tx.Nonce = ""; return tx }},
		{"another PKCE verifier", func(tx Transaction) Transaction { tx.Verifier = oauth2.GenerateVerifier(); return tx }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _ := newEmulatedOIDC(t, time.Now)
			tx := newTx()
			code := signInAtEmulator(t, o, tx)
			if _, err := o.Exchange(t.Context(), code, tt.mangle(tx)); !errors.Is(err, ErrRejected) {
				t.Errorf("err = %v, want ErrRejected", err)
			}
		})
	}
	t.Run("a replayed code", func(t *testing.T) {
		o, _ := newEmulatedOIDC(t, time.Now)
		tx := newTx()
		code := signInAtEmulator(t, o, tx)
		if _, err := o.Exchange(t.Context(), code, tx); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Exchange(t.Context(), code, tx); !errors.Is(err, ErrRejected) {
			t.Errorf("second use: err = %v, want ErrRejected", err)
		}
	})
	t.Run("an expired ID token", func(t *testing.T) {
		clock := time.Now()
		o, _ := newEmulatedOIDC(t, func() time.Time { return clock })
		tx := newTx()
		code := signInAtEmulator(t, o, tx)
		o.cfg.Now = func() time.Time { return clock.Add(11 * time.Hour) }
		o.verifier = nil
		o.oauth = nil
		if _, err := o.Exchange(t.Context(), code, tx); err == nil {
			t.Error("accepted")
		}
	})
}

func TestCheckAZP(t *testing.T) {
	o := New(Config{ClientID: "us"})
	tests := []struct {
		aud  []string
		azp  string
		fail bool
	}{
		{[]string{"us"}, "", false},
		{[]string{"us"}, "us", false},
		{[]string{"us", "https://t/userinfo"}, "us", false},
		{[]string{"us", "https://t/userinfo"}, "", true},
		{[]string{"us", "other"}, "other", true},
		{[]string{"us"}, "other", true},
		{[]string{"other"}, "", true},
	}
	for _, tt := range tests {
		if err := o.checkAZP(tt.aud, tt.azp); (err != nil) != tt.fail {
			t.Errorf("checkAZP(%v, %q) = %v, want failure %v", tt.aud, tt.azp, err, tt.fail)
		}
	}
}

func TestCheckAuthTime(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	o := New(Config{MaxAuthAge: time.Hour, Now: func() time.Time { return now }})
	tests := []struct {
		name string
		at   int64
		fail bool
	}{
		{"just now", now.Unix(), false},
		{"59 minutes ago", now.Add(-59 * time.Minute).Unix(), false},
		{"missing", 0, true},
		{"older than max_age", now.Add(-2 * time.Hour).Unix(), true},
		{"in the future", now.Add(5 * time.Minute).Unix(), true},
	}
	for _, tt := range tests {
		if _, err := o.checkAuthTime(tt.at); (err != nil) != tt.fail {
			t.Errorf("%s: err = %v, want failure %v", tt.name, err, tt.fail)
		}
	}
}

func TestAuthCodeURL(t *testing.T) {
	o, tenant := newEmulatedOIDC(t, time.Now)
	tx := newTx()
	to, err := o.AuthCodeURL(context.Background(), tx, AuthRequest{LoginHint: "bob@example.com", UILocales: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"code_challenge_method=S256", "audience=" + strings.ReplaceAll(tenant.MFAAudience(), ":", "%3A"),
		"scope=openid+profile+email+read%3Aauthenticators+remove%3Aauthenticators",
		"max_age=3600", "login_hint=bob%40example.com", "ui_locales=fr", "nonce=" + tx.Nonce, "state=" + tx.State,
	} {
		if !strings.Contains(strings.ReplaceAll(to, "%2F", "/"), strings.ReplaceAll(want, "%2F", "/")) {
			t.Errorf("authorize URL lacks %s: %s", want, to)
		}
	}
	if strings.Contains(to, tx.Verifier) {
		t.Error("the PKCE verifier is in the URL")
	}
}

// A JWKS outage while the signing key rotates is Auth0 being unavailable,
// not the sign-in being rejected: it must show and count as an outage.
func TestJWKSOutageDuringRotationIsUnavailable(t *testing.T) {
	o, tenant := newEmulatedOIDC(t, time.Now)
	tx := newTx()
	if _, err := o.Exchange(t.Context(), signInAtEmulator(t, o, tx), tx); err != nil {
		t.Fatal(err) // the keys before the rotation are now cached
	}
	tenant.RotateKeys()
	tenant.Inject(auth0emu.RouteJWKS, auth0emu.Fault{Status: http.StatusServiceUnavailable, Times: 100})
	tx = newTx()
	_, err := o.Exchange(t.Context(), signInAtEmulator(t, o, tx), tx)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRejected) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	// Once the JWKS answers again, the new key verifies.
	tenant.ClearFaults()
	tx = newTx()
	if _, err := o.Exchange(t.Context(), signInAtEmulator(t, o, tx), tx); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

// A slow issuer holds up each caller only until its own deadline: a
// readiness probe answers in time even while sign-in waits on discovery.
func TestSlowDiscoveryKeepsToEachDeadline(t *testing.T) {
	release := make(chan struct{})
	var tenant *auth0emu.Tenant
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			<-release
		}
		tenant.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(release)
	tenant, _ = auth0emu.New(auth0emu.Options{BaseURL: srv.URL})
	o := New(Config{Issuer: tenant.Issuer(), ClientID: tenant.WebClient().ID, MaxAuthAge: time.Hour})
	// A sign-in that waits as long as it may.
	go o.Ready(context.Background())
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := o.Ready(ctx)
		cancel()
		if took := time.Since(start); took > time.Second || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Ready with a 200ms deadline: %v after %v", err, took)
		}
	}
}
