// Package check is "mfaportal check", which asks the Auth0 tenant whether
// the portal's configuration will work before it goes live, and
// "mfaportal healthcheck", the container's liveness probe.
package check

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mfaportal/config"
	"mfaportal/mfaapi"
	"mfaportal/signin"
)

// errChecksFailed makes "mfaportal check" exit non-zero; the report above
// it has already said what is wrong.
var errChecksFailed = errors.New("some checks failed: fix what is marked ✗ above")

// managementScopes are the M2M application's Management API scopes, each
// with the feature it enables, in the order the README lists them.
var managementScopes = []struct{ scope, feature string }{
	{"read:authentication_methods", "names, dates, security keys and passkeys on the factors page, and which entries go together"},
	{"update:authentication_methods", "renaming a method and choosing a phone's channel"},
	{"delete:authentication_methods", "removing security keys and passkeys"},
	{"update:users", "replacing the recovery code"},
	{"read:guardian_factors", "offering only the kinds of method the tenant has switched on (without it, MFA_FACTORS decides)"},
}

// Run handles "mfaportal check": it loads the configuration as serve
// does, then asks the tenant whether it will work, and says in plain words
// what to change in the Auth0 dashboard when it will not.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	r := &checkReport{w: stdout}
	cfg, err := config.Load(args, getenv, os.ReadFile)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, err)
		return nil
	}
	if err != nil {
		r.fail("configuration", err.Error())
		return errChecksFailed
	}
	r.pass("configuration is valid (" + cfg.PublicOrigin() + " signing in on " + cfg.Issuer() + ")")
	// The portal's own client for Auth0, which never follows a redirect:
	// here redirects are answers (where /authorize sends the browser).
	ck := checker{cfg: cfg, report: r, client: mfaapi.NewHTTPClient(cfg.UpstreamTimeout)}
	authorizeURL := ck.discovery(ctx)
	ck.webClient(ctx)
	ck.m2mToken(ctx)
	ck.callback(ctx, authorizeURL)
	fmt.Fprintf(stdout, "  note: also list %s/signed-out in the application's Allowed Logout URLs (this cannot be checked from here).\n", cfg.PublicOrigin())
	if r.failed > 0 {
		return errChecksFailed
	}
	fmt.Fprintln(stdout, "All checks passed.")
	return nil
}

// checkReport prints one line per check, with how to fix a failure.
type checkReport struct {
	w      io.Writer
	failed int
}

func (r *checkReport) pass(what string) { fmt.Fprintf(r.w, "✓ %s\n", what) }

func (r *checkReport) fail(what, fix string) {
	r.failed++
	fmt.Fprintf(r.w, "✗ %s\n    %s\n", what, strings.ReplaceAll(fix, "\n", "\n    "))
}

// unsure reports what could not be told either way; it does not fail.
func (r *checkReport) unsure(what, detail string) { fmt.Fprintf(r.w, "? %s\n    %s\n", what, detail) }

type checker struct {
	cfg    *config.Config
	client *http.Client
	report *checkReport
}

// discovery fetches the issuer's OpenID configuration and returns its
// authorization endpoint (the conventional one when discovery fails).
func (ck checker) discovery(ctx context.Context) string {
	fallback := ck.cfg.Issuer() + "authorize"
	var doc struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
	}
	what := "issuer discovery (" + ck.cfg.Issuer() + ".well-known/openid-configuration)"
	status, body, err := ck.do(ctx, http.MethodGet, ck.cfg.Issuer()+".well-known/openid-configuration", nil)
	switch {
	case err != nil:
		ck.report.fail(what, "could not reach the issuer: "+err.Error()+"\nCheck AUTH0_DOMAIN and that this host can reach it (DNS, firewall, proxy).")
		return fallback
	case status != http.StatusOK:
		ck.report.fail(what, fmt.Sprintf("the issuer answered HTTP %d; check AUTH0_DOMAIN (the tenant or custom domain users sign in on).", status))
		return fallback
	case json.Unmarshal(body, &doc) != nil:
		ck.report.fail(what, "the answer is not a discovery document; check AUTH0_DOMAIN.")
		return fallback
	case doc.Issuer != ck.cfg.Issuer():
		ck.report.fail(what, fmt.Sprintf("the document names the issuer %q, not %q; set AUTH0_DOMAIN to the domain it names.", doc.Issuer, ck.cfg.Issuer()))
		return fallback
	case doc.AuthorizationEndpoint == "" || doc.TokenEndpoint == "" || doc.JWKSURI == "":
		ck.report.fail(what, "the document lacks the authorization, token or JWKS endpoint.")
		return fallback
	}
	ck.report.pass("issuer discovery loaded: " + doc.Issuer)
	return doc.AuthorizationEndpoint
}

// webClient proves the web application's credentials without a user: a
// code exchange with a made-up code is refused as invalid_grant only once
// the client has authenticated.
func (ck checker) webClient(ctx context.Context) {
	what := "web application credentials (AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET)"
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {"mfaportal-check-not-a-real-code"},
		"redirect_uri": {ck.cfg.RedirectURL()}, "code_verifier": {oauth2.GenerateVerifier()},
		"client_id": {ck.cfg.ClientID}, "client_secret": {ck.cfg.ClientSecret},
	}
	status, body, err := ck.do(ctx, http.MethodPost, ck.cfg.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		ck.report.fail(what, "could not reach the token endpoint "+ck.cfg.TokenURL()+": "+err.Error())
		return
	}
	code, desc := oauthError(body)
	switch {
	case code == "invalid_grant":
		ck.report.pass("web application credentials accepted")
	case code == "invalid_client" || status == http.StatusUnauthorized:
		ck.report.fail(what, "the token endpoint refused them (invalid_client): copy the Client ID and Client Secret again from the Regular Web Application's Settings tab.")
	case code == "unauthorized_client":
		ck.report.fail(what, "grant type Authorization Code is not enabled: turn it on under the application's Settings → Advanced Settings → Grant Types.")
	default:
		ck.report.unsure(what, fmt.Sprintf("unexpected answer to a test exchange: HTTP %d %s %s", status, code, desc))
	}
}

// m2mToken obtains a Management API token exactly as the portal will, and
// checks it carries update:users.
func (ck checker) m2mToken(ctx context.Context) {
	what := "Management API token for the M2M application (AUTH0_M2M_CLIENT_ID, AUTH0_M2M_CLIENT_SECRET)"
	tokens := mfaapi.NewM2MTokenSource(ctx, ck.cfg.TokenURL(), ck.cfg.M2MClientID, ck.cfg.M2MClientSecret, ck.cfg.ManagementAudience(), ck.client)
	tok, err := tokens.Token()
	if err != nil {
		ck.report.fail(what, m2mFix(err, ck.cfg.ManagementAudience()))
		return
	}
	ck.report.pass("the M2M application obtains a Management API token")
	scopes, err := unverifiedScopes(tok.AccessToken)
	if err != nil {
		ck.report.unsure("M2M token scope", "the token is not a readable JWT, so its scope is unknown: "+err.Error())
		return
	}
	for _, s := range managementScopes {
		if slices.Contains(scopes, s.scope) {
			ck.report.pass("the M2M token has " + s.scope + ": " + s.feature)
			continue
		}
		ck.report.fail("M2M token scope "+s.scope, "the token lacks "+s.scope+" (it has: "+strings.Join(scopes, " ")+
			"), so "+s.feature+" will not work: tick "+s.scope+" for this application under APIs → Auth0 Management API → Machine to Machine Applications.")
	}
}

// m2mFix says what the token endpoint's refusal means in the dashboard.
func m2mFix(err error, audience string) string {
	var apiErr *mfaapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Status == 0 {
		return "could not reach the token endpoint: " + err.Error()
	}
	switch apiErr.Code {
	case "invalid_client":
		return "the token endpoint refused the credentials (invalid_client): copy the Client ID and Client Secret again from the M2M application's Settings tab."
	case "unauthorized_client":
		return "the token endpoint refused client credentials (unauthorized_client): grant type Client Credentials is not enabled; turn it on under the M2M application's Settings → Advanced Settings → Grant Types."
	case "access_denied":
		return "the M2M application has no client grant for the Management API (" + audience + "): authorise it under APIs → Auth0 Management API → Machine to Machine Applications, with update:users.\n(Auth0 said: " + apiErr.Description + ")"
	}
	return fmt.Sprintf("the token endpoint answered HTTP %d %s: %s", apiErr.Status, apiErr.Code, apiErr.Description)
}

// unverifiedScopes reads the "scope" claim of a JWT without verifying its
// signature. That is enough here: the token came straight from the token
// endpoint over the connection we opened, and we only report what the
// tenant says it granted; the Management API verifies it when it is used.
func unverifiedScopes(jwt string) ([]string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, errors.New("not three dot-separated parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("payload is not base64url")
	}
	var claims struct {
		Scope string `json:"scope"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, errors.New("payload is not JSON")
	}
	return strings.Fields(claims.Scope), nil
}

// callback asks /authorize to start a sign-in with our redirect_uri and
// reads where it sends the browser: to the login page when the callback is
// registered, to an error page when it is not. Nothing is signed in.
func (ck checker) callback(ctx context.Context, authorizeURL string) {
	callback := ck.cfg.RedirectURL()
	what := "callback URL " + callback
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	q := url.Values{
		"response_type": {"code"}, "client_id": {ck.cfg.ClientID}, "redirect_uri": {callback},
		"scope": {strings.Join(signin.Scopes, " ")}, "audience": {ck.cfg.MFAAudience()},
		"state": {randomState()}, "nonce": {randomState()},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	target := authorizeURL + "?" + q.Encode()
	resp, body, err := ck.get(ctx, target)
	if err != nil {
		ck.report.fail(what, "could not reach "+authorizeURL+": "+err.Error())
		return
	}
	notListed := "add it to the Regular Web Application's Allowed Callback URLs (Settings → Application URIs), and check AUTH0_CLIENT_ID."
	loc, _ := resp.Location()
	switch {
	case loc != nil && strings.HasPrefix(loc.String(), callback):
		// Auth0 sent the browser back to us: the callback is accepted, but
		// the request was refused for another reason it names.
		if e := loc.Query().Get("error"); e != "" {
			ck.report.fail("sign-in request", fmt.Sprintf("Auth0 accepted the callback but refused the sign-in: %s: %s", e, loc.Query().Get("error_description")))
			return
		}
		ck.report.pass("callback URL accepted: " + callback)
	case loc != nil && (strings.HasPrefix(loc.Path, "/u/") || strings.HasSuffix(loc.Path, "/login")):
		ck.report.pass("callback URL accepted (Auth0 sent the sign-in on to its login page): " + callback)
	case loc != nil && strings.Contains(loc.Path, "error"):
		ck.report.fail(what, "Auth0 refused the sign-in request and sent the browser to its error page; most likely the callback is not registered: "+notListed)
	case resp.StatusCode >= 400 && strings.Contains(strings.ToLower(string(body)), "callback"):
		ck.report.fail(what, "Auth0 says the callback URL is not allowed: "+notListed)
	case resp.StatusCode >= 400:
		ck.report.fail(what, fmt.Sprintf("Auth0 refused the sign-in request (HTTP %d): ", resp.StatusCode)+notListed)
	default:
		ck.report.unsure(what, fmt.Sprintf("could not tell from the answer (HTTP %d); make sure it is in the application's Allowed Callback URLs.", resp.StatusCode))
	}
}

func (ck checker) do(ctx context.Context, method, target string, form io.Reader) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, form)
	if err != nil {
		return 0, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := ck.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, body, err
}

func (ck checker) get(ctx context.Context, target string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := ck.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, body, err
}

func oauthError(body []byte) (code, description string) {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error, e.Description
}

func randomState() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Healthcheck handles "mfaportal healthcheck", for a container's
// HEALTHCHECK where the distroless image has no shell or curl: it GETs
// /healthz on the portal's own listener and fails unless the answer is 200.
func Healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(args, getenv, os.ReadFile)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.ListenAddr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", resp.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
