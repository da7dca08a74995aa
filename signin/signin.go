// Package signin signs users in at Auth0 with OIDC: the authorization code
// flow with PKCE, state and nonce, for the /mfa/ audience, and the ID token
// checks go-oidc leaves to its caller (nonce, azp, auth_time).
package signin

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// clockSkew is the leeway allowed between our clock and Auth0's.
const clockSkew = time.Minute

// defaultMFATokenLifetime is what Auth0 documents for /mfa/ audience tokens;
// used only when the token response omits expires_in.
const defaultMFATokenLifetime = 10 * time.Minute

// Scopes are what the portal asks Auth0 for: who the user is, and what the
// /mfa/ audience token may do with their authenticators. "mfaportal check"
// reads the same list.
var Scopes = []string{oidc.ScopeOpenID, "profile", "email", "read:authenticators", "remove:authenticators", "enroll"}

// Config says how to reach the tenant and who we are to it.
type Config struct {
	Issuer       string // e.g. https://login.example.com/
	ClientID     string
	ClientSecret string
	RedirectURL  string
	MFAAudience  string        // https://{tenant}/mfa/
	MaxAuthAge   time.Duration // sent as max_age and enforced on auth_time
	HTTPClient   *http.Client  // with a timeout
	Now          func() time.Time
}

// Transaction is one sign-in round trip's secrets: the state the callback
// must echo, the nonce the ID token must carry, the PKCE verifier.
type Transaction struct {
	State    string
	Nonce    string
	Verifier string
}

// NewTransaction returns fresh random secrets for one round trip.
func NewTransaction() Transaction {
	return Transaction{State: randomToken(32), Nonce: randomToken(32), Verifier: oauth2.GenerateVerifier()}
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("signin: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Identity is what a completed sign-in yields.
type Identity struct {
	Sub         string
	Name        string
	AccessToken string
	TokenExpiry time.Time
	AuthTime    time.Time
}

// AuthRequest carries what the user asked for on the way to Universal Login.
type AuthRequest struct {
	LoginHint string
	UILocales string
}

// Client signs users in at Auth0 with the authorization code flow, PKCE, state
// and nonce. Discovery happens on first use rather than at start, so the
// portal can start (and say it is not ready) while Auth0 is unreachable.
type Client struct {
	cfg Config

	mu       sync.Mutex // guards verifier and oauth; never held across a request
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
	// discovery makes concurrent first uses share one discovery request.
	discovery singleflight.Group
	// jwksFailedAt is when a JWKS request last failed (Unix nanoseconds; 0
	// after a success). go-oidc reports a key fetch that failed like a bad
	// signature; this tells the two apart.
	jwksFailedAt atomic.Int64
}

// New returns a sign-in client for cfg; nothing is fetched yet.
func New(cfg Config) *Client {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{cfg: cfg}
}

// Ready loads the issuer's discovery document if it is not loaded yet.
func (o *Client) Ready(ctx context.Context) error {
	_, _, err := o.load(ctx)
	return err
}

// load returns the flow's configuration, loading the issuer's discovery
// on first use. The request is shared by concurrent callers and detached
// from each of them; a caller waits only as long as its own ctx allows, so
// a slow issuer never holds up a readiness probe past its deadline.
func (o *Client) load(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	if oc, v := o.loaded(); oc != nil {
		return oc, v, nil
	}
	done := o.discovery.DoChan("discovery", func() (any, error) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(o.cfg.HTTPClient.Timeout, 10*time.Second))
		defer cancel()
		return nil, o.discover(dctx)
	})
	select {
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("%w: discovery: %v", ErrUnavailable, ctx.Err())
	case r := <-done:
		if r.Err != nil {
			return nil, nil, r.Err
		}
	}
	oc, v := o.loaded()
	return oc, v, nil
}

func (o *Client) loaded() (*oauth2.Config, *oidc.IDTokenVerifier) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.oauth, o.verifier
}

// discover fetches the discovery document and builds the verifier, whose
// key set fetches the JWKS through a client that notes failures.
func (o *Client) discover(ctx context.Context) error {
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Issuer)
	if err != nil {
		return fmt.Errorf("%w: discovery: %v", ErrUnavailable, err)
	}
	jwksClient := *o.cfg.HTTPClient
	jwksClient.Transport = jwksWatch{next: transportOf(o.cfg.HTTPClient), failedAt: &o.jwksFailedAt}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.verifier = provider.VerifierContext(oidc.ClientContext(context.WithoutCancel(ctx), &jwksClient), &oidc.Config{
		ClientID: o.cfg.ClientID,
		// Pin RS256: Auth0 signs ID tokens with it, and accepting anything the
		// token header names is how alg:none and HS256-with-secret attacks work.
		SupportedSigningAlgs: []string{oidc.RS256},
		Now:                  o.cfg.Now,
	})
	o.oauth = &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		RedirectURL:  o.cfg.RedirectURL,
		Endpoint:     provider.Endpoint(),
		Scopes:       Scopes,
	}
	o.oauth.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	return nil
}

func transportOf(c *http.Client) http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// jwksWatch notes whether the JWKS could be fetched.
type jwksWatch struct {
	next     http.RoundTripper
	failedAt *atomic.Int64
}

func (w jwksWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK {
		w.failedAt.Store(time.Now().UnixNano())
	} else {
		w.failedAt.Store(0)
	}
	return resp, err
}

// AuthCodeURL returns where to send the browser to sign in for tx.
func (o *Client) AuthCodeURL(ctx context.Context, tx Transaction, req AuthRequest) (string, error) {
	oc, _, err := o.load(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(tx.Verifier),
		oidc.Nonce(tx.Nonce),
		oauth2.SetAuthURLParam("audience", o.cfg.MFAAudience),
		oauth2.SetAuthURLParam("max_age", strconv.Itoa(int(o.cfg.MaxAuthAge/time.Second))),
	}
	if req.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.LoginHint))
	}
	if req.UILocales != "" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", req.UILocales))
	}
	return oc.AuthCodeURL(tx.State, opts...), nil
}

// Exchange redeems the code and verifies the ID token, including the checks
// go-oidc leaves to its caller: nonce, azp and auth_time.
func (o *Client) Exchange(ctx context.Context, code string, tx Transaction) (*Identity, error) {
	oc, verifier, err := o.load(ctx)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.cfg.HTTPClient)
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(tx.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			// An outage or a rate limit at Auth0 is not a bad sign-in: say
			// "try again later", and let monitoring see it as an upstream error.
			if re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests) {
				return nil, fmt.Errorf("%w: token endpoint answered %d", ErrUnavailable, re.Response.StatusCode)
			}
			return nil, fmt.Errorf("%w: token endpoint said %q", ErrRejected, re.ErrorCode)
		}
		return nil, fmt.Errorf("%w: token exchange: %w", ErrUnavailable, err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return nil, fmt.Errorf("%w: no id_token in the token response", ErrRejected)
	}
	verifying := time.Now().UnixNano()
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil {
		if failed := o.jwksFailedAt.Load(); failed != 0 && failed >= verifying {
			// The keys could not be fetched (say, during a key rotation):
			// an outage, not a bad token.
			return nil, fmt.Errorf("%w: id token keys: %v", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: id token: %v", ErrRejected, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(tx.Nonce)) != 1 || tx.Nonce == "" {
		return nil, fmt.Errorf("%w: nonce mismatch", ErrRejected)
	}
	var claims struct {
		AZP      string `json:"azp"`
		AuthTime int64  `json:"auth_time"`
		Name     string `json:"name"`
		Nickname string `json:"nickname"`
		Email    string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: id token claims: %v", ErrRejected, err)
	}
	if err := o.checkAZP(idt.Audience, claims.AZP); err != nil {
		return nil, err
	}
	authTime, err := o.checkAuthTime(claims.AuthTime)
	if err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("%w: no access token", ErrRejected)
	}
	// Expiry from expires_in on our own clock (oauth2 stamps tok.Expiry with
	// the wall clock, which a test clock or a skewed host would disagree with).
	lifetime := time.Duration(tok.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = defaultMFATokenLifetime
	}
	expiry := o.cfg.Now().Add(lifetime)
	name := claims.Name
	if name == "" {
		name = claims.Nickname
	}
	return &Identity{
		Sub:         idt.Subject,
		Name:        name,
		AccessToken: tok.AccessToken,
		TokenExpiry: expiry,
		AuthTime:    authTime,
	}, nil
}

// checkAZP applies OIDC Core 3.1.3.7 (8)-(9): with several audiences the
// authorized party must be present and be us; when present it must be us.
func (o *Client) checkAZP(aud []string, azp string) error {
	if len(aud) > 1 && azp == "" {
		return fmt.Errorf("%w: several audiences and no azp", ErrRejected)
	}
	if azp != "" && azp != o.cfg.ClientID {
		return fmt.Errorf("%w: azp is another client", ErrRejected)
	}
	if !slices.Contains(aud, o.cfg.ClientID) {
		return fmt.Errorf("%w: aud does not name us", ErrRejected)
	}
	return nil
}

// checkAuthTime requires auth_time (we always send max_age) and that the
// authentication is no older than max_age and not in the future.
func (o *Client) checkAuthTime(authTime int64) (time.Time, error) {
	if authTime <= 0 {
		return time.Time{}, fmt.Errorf("%w: no auth_time", ErrRejected)
	}
	at := time.Unix(authTime, 0)
	now := o.cfg.Now()
	if at.After(now.Add(clockSkew)) {
		return time.Time{}, fmt.Errorf("%w: auth_time in the future", ErrRejected)
	}
	if now.Sub(at) > o.cfg.MaxAuthAge+clockSkew {
		return time.Time{}, fmt.Errorf("%w: authentication older than max_age", ErrRejected)
	}
	return at, nil
}

// LogoutURL is Auth0's logout endpoint, which ends the Auth0 session too and
// sends the browser back to returnTo (which must be an allowed logout URL).
func (o *Client) LogoutURL(returnTo string) string {
	q := url.Values{"client_id": {o.cfg.ClientID}, "returnTo": {returnTo}}
	return o.cfg.Issuer + "v2/logout?" + q.Encode()
}

var (
	// ErrRejected: Auth0 or the token failed a check; the user should
	// simply try again, and we log why.
	ErrRejected = errors.New("signin: rejected")
	// ErrUnavailable: we could not reach Auth0.
	ErrUnavailable = errors.New("signin: unavailable")
)
