// Package auth0emu is an emulated Auth0 tenant for development and tests.
//
// It serves, on one origin, the parts of Auth0 the portal talks to: OIDC
// discovery and JWKS, a Universal-Login-like sign-in with an MFA challenge,
// /oauth/token, the MFA API (/mfa/authenticators) and the Management API
// endpoints for recovery codes and authentication methods. It is not Auth0:
// its pages say so, it keeps everything in memory, and it refuses to listen on
// a non-loopback address unless told otherwise.
package auth0emu

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Tenant. Zero values get sensible defaults.
type Options struct {
	// BaseURL is the public origin without a trailing slash, e.g.
	// "http://127.0.0.1:9010". The issuer is BaseURL+"/".
	BaseURL string
	// Users are the seed users; nil means DemoUsers().
	Users []User
	// WebClient is the regular web application the portal signs in with.
	// A zero ID becomes "portal-web"; an empty secret becomes a random one.
	WebClient Client
	// M2MClient is the machine-to-machine application with a client grant
	// on the Management API. A zero ID becomes "portal-m2m"; nil Scopes
	// become what the portal's README asks a tenant to grant: update:users,
	// read:, update:, delete:authentication_methods and
	// read:guardian_factors (plus read:users).
	M2MClient Client
	// DisabledFactors names the MFA factors switched off (Guardian names:
	// "otp", "push-notification", "sms", "email", ...); nil means only duo.
	DisabledFactors []string
	// PhoneMessageTypes are the phone factor's channels ("sms", "voice");
	// nil means both.
	PhoneMessageTypes []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MFATokenLifetime is the lifetime of /mfa/ audience access tokens;
	// 0 means 600 s, what Auth0 documents.
	MFATokenLifetime time.Duration
	// KeyGracePeriod is how long a rotated-out signing key stays in the
	// JWKS; 0 means one hour.
	KeyGracePeriod time.Duration
	// RateLimits maps route names (Route* constants) to limits; routes not
	// named get a limit no normal test reaches.
	RateLimits map[string]RateLimit
	// Logger receives request logs; nil discards them.
	Logger *slog.Logger
}

// Client is an application registered in the tenant.
type Client struct {
	ID           string
	Secret       string
	RedirectURIs []string // allowed callback URLs, matched exactly
	LogoutURLs   []string // allowed logout returnTo URLs, matched exactly
	Scopes       []string // for the M2M client: the Management API client grant
}

// RateLimit allows Limit requests per fixed Window.
type RateLimit struct {
	Limit  int
	Window time.Duration
}

// User is a seed user. The JSON form is the users file schema (see README.md).
type User struct {
	UserID   string   `json:"user_id"`
	Email    string   `json:"email"`
	Password string   `json:"password"`
	Name     string   `json:"name,omitempty"`
	Factors  []Factor `json:"factors,omitempty"`
}

// Factor is one enrolled (or verified) MFA factor of a seed user.
type Factor struct {
	// Type is one of totp, push, phone, email, recovery-code, and the
	// methods only the Management API lists: webauthn-roaming (a security
	// key), webauthn-platform (this device's biometrics), passkey.
	Type string `json:"type"`
	// Secret is the base32 TOTP secret (totp, and push's OTP twin); empty
	// means a random one.
	Secret string `json:"secret,omitempty"`
	// Device is the push device name.
	Device string `json:"device,omitempty"`
	// Number is the E.164 phone number and Channels its channels (sms, voice).
	Number   string   `json:"number,omitempty"`
	Channels []string `json:"channels,omitempty"`
	// Address is the email address; VerifiedOnly marks the user's verified
	// email that Auth0 lists but that was never enrolled as a factor.
	Address      string `json:"address,omitempty"`
	VerifiedOnly bool   `json:"verified_only,omitempty"`
	// Code is the recovery code (24 characters A-Z0-9); empty means random.
	Code string `json:"code,omitempty"`
	// Active nil means true.
	Active *bool `json:"active,omitempty"`
	// Name is the label the Management API shows (at most 20 characters).
	Name string `json:"name,omitempty"`
	// UserAgent is the browser a passkey was made in.
	UserAgent string `json:"user_agent,omitempty"`
	// CreatedAt, EnrolledAt and LastAuthAt are the Management API's dates;
	// enrolled_at is sent only when set (Auth0's recordings have none).
	CreatedAt  time.Time `json:"created_at,omitzero"`
	EnrolledAt time.Time `json:"enrolled_at,omitzero"`
	LastAuthAt time.Time `json:"last_auth_at,omitzero"`
}

// Authenticator is one entry of GET /mfa/authenticators.
type Authenticator struct {
	ID                string `json:"id"`
	AuthenticatorType string `json:"authenticator_type"`
	Active            bool   `json:"active"`
	OOBChannel        string `json:"oob_channel,omitempty"`
	Name              string `json:"name,omitempty"`
}

// Tenant is an emulated Auth0 tenant. It is safe for concurrent use.
type Tenant struct {
	baseURL  string
	now      func() time.Time
	log      *slog.Logger
	mfaTTL   time.Duration
	mux      *http.ServeMux
	keys     *keyring
	tokens   *tokenCache
	faults   *faultTable
	limits   *rateLimiter
	pages    *pageSet
	started  time.Time
	routeSet map[string]bool
	counters map[string]*atomic.Int64 // fixed after New

	mu           sync.RWMutex
	web, m2m     Client
	users        map[string]*userRecord // by user_id
	byEmail      map[string]string      // lower-case email -> user_id
	transactions map[string]*loginTxn   // by state handle
	codes        map[string]*authCode   // by authorization code
	refresh      map[string]*refreshGrant
	sessions     map[string]*ssoSession       // by cookie value
	pending      map[string]*pendingEnrolment // by oob_code, or an OTP factor's id
	factors      factorSettings               // fixed after New
}

// New builds a tenant from opts. It generates the first signing key.
func New(opts Options) (*Tenant, error) {
	if opts.BaseURL == "" {
		return nil, errors.New("auth0emu: Options.BaseURL is required, e.g. http://127.0.0.1:9010")
	}
	if strings.HasSuffix(opts.BaseURL, "/") {
		return nil, fmt.Errorf("auth0emu: Options.BaseURL %q must not end with a slash", opts.BaseURL)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	users := opts.Users
	if users == nil {
		users = DemoUsers()
	}
	if err := validateUsers(users); err != nil {
		return nil, err
	}
	grace := opts.KeyGracePeriod
	if grace == 0 {
		grace = time.Hour
	}
	keys, err := newKeyring(now, grace)
	if err != nil {
		return nil, err
	}
	pages, err := newPageSet()
	if err != nil {
		return nil, err
	}
	t := &Tenant{
		baseURL: opts.BaseURL,
		now:     now,
		log:     logger,
		mfaTTL:  cmpOr(opts.MFATokenLifetime, 600*time.Second),
		keys:    keys,
		tokens:  newTokenCache(),
		faults:  newFaultTable(),
		pages:   pages,
		started: now(),
		web:     withClientDefaults(opts.WebClient, "portal-web", nil),
		m2m: withClientDefaults(opts.M2MClient, "portal-m2m", []string{"update:users", "read:users",
			scopeReadAuthMethods, scopeUpdateAuthMethods, scopeDeleteAuthMethods, scopeReadGuardianFactors}),
		factors:      newFactorSettings(opts.DisabledFactors, opts.PhoneMessageTypes),
		users:        map[string]*userRecord{},
		byEmail:      map[string]string{},
		transactions: map[string]*loginTxn{},
		codes:        map[string]*authCode{},
		refresh:      map[string]*refreshGrant{},
		sessions:     map[string]*ssoSession{},
		pending:      map[string]*pendingEnrolment{},
	}
	for _, u := range users {
		rec := newUserRecord(u, t.started)
		t.users[u.UserID] = rec
		t.byEmail[strings.ToLower(u.Email)] = u.UserID
	}
	t.limits = newRateLimiter(opts.RateLimits, now)
	t.routes()
	return t, nil
}

func withClientDefaults(c Client, id string, scopes []string) Client {
	if c.ID == "" {
		c.ID = id
	}
	if c.Secret == "" {
		c.Secret = randomString(alnum, 48)
	}
	if c.Scopes == nil {
		c.Scopes = scopes
	}
	return cloneClient(c)
}

// cloneClient copies c so callers cannot alias the tenant's slices.
func cloneClient(c Client) Client {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.LogoutURLs = slices.Clone(c.LogoutURLs)
	c.Scopes = slices.Clone(c.Scopes)
	return c
}

func cmpOr[T comparable](v, fallback T) T {
	var zero T
	if v == zero {
		return fallback
	}
	return v
}

// ServeHTTP serves the whole tenant.
func (t *Tenant) ServeHTTP(w http.ResponseWriter, r *http.Request) { t.mux.ServeHTTP(w, r) }

// Issuer is the OIDC issuer, BaseURL + "/".
func (t *Tenant) Issuer() string { return t.baseURL + "/" }

// MFAAudience is the audience of the MFA API, BaseURL + "/mfa/".
func (t *Tenant) MFAAudience() string { return t.baseURL + "/mfa/" }

// ManagementAudience is the audience of the Management API, BaseURL + "/api/v2/".
func (t *Tenant) ManagementAudience() string { return t.baseURL + "/api/v2/" }

func (t *Tenant) userinfoAudience() string { return t.baseURL + "/userinfo" }

// WebClient returns a copy of the regular web application.
func (t *Tenant) WebClient() Client {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return cloneClient(t.web)
}

// M2MClient returns a copy of the machine-to-machine application.
func (t *Tenant) M2MClient() Client {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return cloneClient(t.m2m)
}

// AddRedirectURI allows uri as a callback URL of the web client; `go run .
// dev` knows the portal's port only after the tenant exists.
func (t *Tenant) AddRedirectURI(uri string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !slices.Contains(t.web.RedirectURIs, uri) {
		t.web.RedirectURIs = append(t.web.RedirectURIs, uri)
	}
}

// AddLogoutURL allows uri as a logout returnTo URL of the web client.
func (t *Tenant) AddLogoutURL(uri string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !slices.Contains(t.web.LogoutURLs, uri) {
		t.web.LogoutURLs = append(t.web.LogoutURLs, uri)
	}
}

// clientByID returns the registered client with id; callers hold t.mu.
func (t *Tenant) clientByID(id string) (Client, bool) {
	switch id {
	case "":
		return Client{}, false
	case t.web.ID:
		return t.web, true
	case t.m2m.ID:
		return t.m2m, true
	}
	return Client{}, false
}

const (
	alnum        = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	digits       = "0123456789"
	base32Alphab = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

// randomString returns n characters drawn uniformly from alphabet with
// crypto/rand: codes, handles and secrets must not be guessable.
func randomString(alphabet string, n int) string {
	var b strings.Builder
	b.Grow(n)
	limit := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, limit)
		if err != nil {
			panic("auth0emu: crypto/rand failed: " + err.Error()) // never happens on supported platforms
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

var _ http.Handler = (*Tenant)(nil)
var _ http.ResponseWriter = (*discardWriter)(nil)

// discardWriter swallows a response; used when a fault drops the connection.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header {
	if d.h == nil {
		d.h = http.Header{}
	}
	return d.h
}
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
