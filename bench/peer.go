package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"mfaportal/auth0emu"
)

// The peer: what people put in front of a small app when they do not take
// this portal. oauth2-proxy (pinned in bench/oauth2proxy/go.mod, built
// here from the Go module proxy's source, no binary downloaded) signs users
// in through the same emulated tenant with the same audience and scopes,
// keeps the session in its cookie, and passes the access token to a
// minimal app (childApp) that makes the same GET /mfa/authenticators and
// returns its JSON.

// oauth2ProxyCookie is the name oauth2-proxy's session cookies start with
// (it splits a large session into _0, _1, ...).
const oauth2ProxyCookie = "_oauth2_proxy"

// buildOAuth2Proxy builds the pinned oauth2-proxy into dir.
func buildOAuth2Proxy(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "oauth2-proxy")
	cmd := exec.CommandContext(ctx, "go", "build", "-C", filepath.Join(root, "bench", "oauth2proxy"), "-o", out, "github.com/oauth2-proxy/oauth2-proxy/v7")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building oauth2-proxy: %v: %s", err, b)
	}
	return out, nil
}

// moduleRoot is the portal's source tree (go run ./bench runs in it).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "bench", "oauth2proxy", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the bench from the portal's source tree (go run ./bench)")
		}
		dir = parent
	}
}

// startPeer starts the peer's app, then oauth2-proxy in front of it.
func startPeer(ctx context.Context, tenant *auth0emu.Tenant, tenantURL, binary, dir string) (proxy, app *process, err error) {
	app, err = startChild(ctx, "peer app", childApp, "", map[string]string{"BENCH_UPSTREAM": tenantURL + "/mfa/authenticators"})
	if err != nil {
		return nil, nil, err
	}
	addr, err := reserveAddr()
	if err != nil {
		app.stop()
		return nil, nil, err
	}
	proxyURL := "http://" + addr
	tenant.AddRedirectURI(proxyURL + "/oauth2/callback")
	web := tenant.WebClient()
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	// The alpha configuration, for what flags cannot say: the audience
	// parameter that makes Auth0 issue an MFA API token.
	config := fmt.Sprintf(`server:
  bindAddress: %q
upstreamConfig:
  upstreams:
    - id: app
      path: /
      uri: %q
injectRequestHeaders:
  - name: X-Forwarded-Access-Token
    values:
      - claimSource:
          claim: access_token
providers:
  - id: emulated-tenant
    provider: oidc
    clientID: %q
    clientSecret: %q
    scope: "openid profile email read:authenticators"
    code_challenge_method: S256
    loginURLParameters:
      - name: audience
        default: [%q]
    oidcConfig:
      issuerURL: %q
      emailClaim: email
      insecureAllowUnverifiedEmail: true
      audienceClaims: [aud]
`, addr, app.url, web.ID, web.Secret, tenant.MFAAudience(), tenant.Issuer())
	path := filepath.Join(dir, "oauth2-proxy.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		app.stop()
		return nil, nil, err
	}
	proxy, err = startProcess(ctx, "oauth2-proxy", binary, []string{
		"--alpha-config=" + path,
		"--cookie-secret=" + hex.EncodeToString(secret),
		"--cookie-secure=false",
		"--email-domain=*",
		"--redirect-url=" + proxyURL + "/oauth2/callback",
		"--ping-path=/healthz",
	}, nil, proxyURL)
	if err != nil {
		app.stop()
		return nil, nil, err
	}
	return proxy, app, nil
}

// signInPeer walks one user through oauth2-proxy's /oauth2/start, the
// tenant's pages and its callback, and returns its session cookies as one
// Cookie header.
func signInPeer(ctx context.Context, e *env, proxyURL string, transport http.RoundTripper, email string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{
		Jar: jar, Transport: transport, Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := get(ctx, client, proxyURL+"/oauth2/start?rd=%2F", "")
	if err != nil {
		return "", err
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, e.tenantURL+"/authorize") {
		return "", fmt.Errorf("oauth2-proxy /oauth2/start: want a redirect to the tenant, got %d %s", resp.StatusCode, loc)
	}
	back, err := auth0emu.CompleteSignIn(ctx, client, loc, auth0emu.SignIn{Email: email, Password: benchPassword, MFAMethod: "otp"})
	if err != nil {
		return "", err
	}
	resp, err = get(ctx, client, back.String(), "")
	if err != nil {
		return "", err
	}
	var parts []string
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, oauth2ProxyCookie) && !strings.HasSuffix(c.Name, "_csrf") && c.Value != "" {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("oauth2-proxy callback: status %d and no session cookie", resp.StatusCode)
	}
	return strings.Join(parts, "; "), nil
}
