package check

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"mfaportal/auth0emu"
)

// checkEnv starts an emulated tenant and returns a portal environment for
// it; tweak adjusts the tenant before it starts answering.
func checkEnv(t *testing.T, opts auth0emu.Options, registerCallback bool) map[string]string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.BaseURL = "http://" + ln.Addr().String()
	tenant, err := auth0emu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	portalURL := "http://127.0.0.1:18080"
	if registerCallback {
		tenant.AddRedirectURI(portalURL + "/callback")
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: tenant}}
	srv.Start()
	t.Cleanup(srv.Close)
	return map[string]string{
		"PUBLIC_URL":              portalURL,
		"AUTH0_DOMAIN":            opts.BaseURL,
		"AUTH0_CLIENT_ID":         tenant.WebClient().ID,
		"AUTH0_CLIENT_SECRET":     tenant.WebClient().Secret,
		"AUTH0_M2M_CLIENT_ID":     tenant.M2MClient().ID,
		"AUTH0_M2M_CLIENT_SECRET": tenant.M2MClient().Secret,
		"SESSION_KEYS":            base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
		"UPSTREAM_TIMEOUT":        "3s",
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		opts     auth0emu.Options
		callback bool
		override map[string]string
		wantOK   bool
		want     []string
	}{
		{name: "all good", callback: true, wantOK: true, want: []string{
			"✓ configuration is valid", "✓ issuer discovery loaded", "✓ web application credentials accepted",
			"✓ the M2M application obtains a Management API token", "✓ the M2M token has read:authentication_methods: names, dates", "✓ the M2M token has update:authentication_methods: renaming",
			"✓ the M2M token has delete:authentication_methods: removing security keys", "✓ the M2M token has update:users: replacing the recovery code",
			"✓ the M2M token has read:guardian_factors: offering only the kinds of method the tenant has switched on",
			"✓ callback URL accepted", "All checks passed."}},
		{name: "wrong M2M secret", callback: true, override: map[string]string{"AUTH0_M2M_CLIENT_SECRET": "wrong-secret"}, want: []string{
			"✗ Management API token", "invalid_client", "M2M application's Settings tab", "✓ callback URL accepted"}},
		{name: "wrong web secret", callback: true, override: map[string]string{"AUTH0_CLIENT_SECRET": "wrong-secret"}, want: []string{
			"✗ web application credentials", "Regular Web Application's Settings tab"}},
		{name: "M2M id is the web app's", callback: true, override: map[string]string{"AUTH0_M2M_CLIENT_ID": "portal-web"}, want: []string{
			"✗ Management API token", "grant type Client Credentials is not enabled"}},
		{name: "scope missing", opts: auth0emu.Options{M2MClient: auth0emu.Client{Scopes: []string{"read:users"}}}, callback: true, want: []string{
			"✓ the M2M application obtains", "✗ M2M token scope update:users", "lacks update:users (it has: read:users)", "so replacing the recovery code will not work",
			"✗ M2M token scope read:authentication_methods", "✗ M2M token scope delete:authentication_methods", "✗ M2M token scope read:guardian_factors"}},
		{name: "callback not registered", callback: false, want: []string{
			"✗ callback URL http://127.0.0.1:18080/callback", "Allowed Callback URLs"}},
		{name: "invalid configuration", callback: true, override: map[string]string{"SESSION_KEYS": "short"}, want: []string{
			"✗ configuration", "SESSION_KEYS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := checkEnv(t, tt.opts, tt.callback)
			if tt.override["AUTH0_M2M_CLIENT_ID"] == "portal-web" {
				// Same id, its own secret: authenticates, but may not use client credentials.
				tt.override["AUTH0_M2M_CLIENT_SECRET"] = env["AUTH0_CLIENT_SECRET"]
				tt.override["AUTH0_M2M_CLIENT_ID"] = env["AUTH0_CLIENT_ID"]
			}
			for k, v := range tt.override {
				env[k] = v
			}
			var out bytes.Buffer
			err := Run(context.Background(), nil, func(k string) string { return env[k] }, &out)
			t.Log("\n" + out.String())
			if tt.wantOK != (err == nil) {
				t.Errorf("run check: err = %v, want ok=%v\n%s", err, tt.wantOK, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tt.wantOK && strings.Contains(out.String(), "✗") {
				t.Errorf("a passing check printed a failure:\n%s", out.String())
			}
			for _, secret := range []string{env["AUTH0_CLIENT_SECRET"], env["AUTH0_M2M_CLIENT_SECRET"]} {
				if len(secret) > 8 && strings.Contains(out.String(), secret) {
					t.Errorf("the output shows a secret:\n%s", out.String())
				}
			}
		})
	}
}

func TestUnverifiedScopes(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		token   string
		want    string
		wantErr bool
	}{
		{"h." + enc([]byte(`{"scope":"read:users update:users"}`)) + ".s", "read:users update:users", false},
		{"h." + enc([]byte(`{}`)) + ".s", "", false},
		{"opaque-token", "", true},
		{"h.!!!.s", "", true},
	}
	for _, tt := range tests {
		got, err := unverifiedScopes(tt.token)
		if (err != nil) != tt.wantErr || strings.Join(got, " ") != tt.want {
			t.Errorf("unverifiedScopes(%q) = %v, %v; want %q, err %v", tt.token, got, err, tt.want, tt.wantErr)
		}
	}
}
