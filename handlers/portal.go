package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/authmethods"
	"mfaportal/i18n"
	"mfaportal/metrics"
	"mfaportal/mfaapi"
	"mfaportal/ratelimit"
	"mfaportal/session"
	"mfaportal/signin"
	"mfaportal/tenantfactors"
)

// factorAPI is the part of the MFA API the pages use.
type factorAPI interface {
	ListAuthenticators(ctx context.Context, accessToken string) ([]mfaapi.Authenticator, error)
	DeleteAuthenticator(ctx context.Context, accessToken, id string) error
}

// methodStore is the Management API's picture of a user's methods, cached
// per user (package authmethods); every change through it forgets the cache.
type methodStore interface {
	// Cached is the cached list, asking Auth0 nothing; Fetch asks the
	// Management API and caches its answer.
	Cached(ctx context.Context, userID string) ([]mfaapi.AuthMethod, bool)
	Fetch(ctx context.Context, userID string) ([]mfaapi.AuthMethod, error)
	Forget(ctx context.Context, userID string) error
	Update(ctx context.Context, userID, methodID string, u mfaapi.MethodUpdate) error
	Delete(ctx context.Context, userID, methodID string) error
}

// recoveryCodes regenerates a user's recovery code through the Management API.
type recoveryCodes interface {
	RegenerateRecoveryCode(ctx context.Context, userID string) (string, error)
}

// enroller adds a method through the MFA API (package mfaapi): an
// association made with the user's token, then confirmed with its first
// code.
type enroller interface {
	Associate(ctx context.Context, accessToken, channel, phoneNumber, email string) (mfaapi.Association, error)
	ConfirmOTP(ctx context.Context, accessToken, otp string) error
	ConfirmOOB(ctx context.Context, accessToken, oobCode, bindingCode string) error
}

// factorOffer is what the tenant lets users add (package tenantfactors).
type factorOffer interface {
	Offer(ctx context.Context) tenantfactors.Offer
}

// configuredOffer is an offer without the tenant's word: Deps.Offer nil.
type configuredOffer tenantfactors.Offer

func (o configuredOffer) Offer(context.Context) tenantfactors.Offer { return tenantfactors.Offer(o) }

// signInFlow is the OIDC round trip with Auth0.
type signInFlow interface {
	AuthCodeURL(ctx context.Context, tx signin.Transaction, req signin.AuthRequest) (string, error)
	Exchange(ctx context.Context, code string, tx signin.Transaction) (*signin.Identity, error)
	LogoutURL(returnTo string) string
}

// sessionStore keeps sessions, the sign-in round trip and the one-time
// tokens (see package session).
type sessionStore interface {
	Load(r *http.Request, p session.Purpose) (*session.Session, error)
	Save(w http.ResponseWriter, r *http.Request, s *session.Session) error
	Start(r *http.Request, p session.Purpose) (*session.Session, error)
	End(w http.ResponseWriter, r *http.Request, s *session.Session) error
	Spend(ctx context.Context, token string) error
	PutEnrolment(ctx context.Context, sess *session.Session, e *session.Enrolment) error
	Enrolment(ctx context.Context, sess *session.Session) (*session.Enrolment, error)
	DropEnrolment(ctx context.Context, sess *session.Session) error
	SaveLogin(w http.ResponseWriter, l *session.Login) error
	TakeLogin(w http.ResponseWriter, r *http.Request) (*session.Login, error)
	OpenPreSession(ctx context.Context, w http.ResponseWriter) (string, error)
	PreSessionOpen(ctx context.Context, binding string) (bool, error)
	MintHandoff(ctx context.Context, binding string, from *session.Session) (string, error)
	Handoff(w http.ResponseWriter, r *http.Request, code string) (*session.Session, error)
}

// limiter counts attempts at destructive actions (see limits.go).
type limiter interface {
	Allow(ctx context.Context, rule ratelimit.Rule, who string) error
}

var (
	_ signInFlow    = (*signin.Client)(nil)
	_ factorAPI     = (*mfaapi.Client)(nil)
	_ recoveryCodes = (*mfaapi.Management)(nil)
	_ methodStore   = (*authmethods.Cache)(nil)
	_ sessionStore  = (*session.Store)(nil)
	_ limiter       = (*ratelimit.Limiter)(nil)
	_ enroller      = (*mfaapi.Enroller)(nil)
	_ factorOffer   = (*tenantfactors.Source)(nil)
)

// Deps is everything the handlers need, passed explicitly.
type Deps struct {
	SignIn   signInFlow
	Factors  factorAPI
	Recovery recoveryCodes
	Methods  methodStore
	Sessions sessionStore
	Limits   limiter
	// ViewLimits counts page views (VIEWS_PER_MINUTE); nil means Limits.
	// It may be this replica's own memory even when Limits is shared: the
	// view limit only keeps one browser from spending the tenant's rate
	// limit, so counting per replica is close enough, and saves every view
	// a round trip to Redis. Limits on changes stay shared.
	ViewLimits limiter
	Enrol      enroller
	// Offer is what users may add; nil means tenantfactors.Default.
	Offer factorOffer

	PublicURL       string // e.g. https://mfa.example.com, no trailing slash
	Issuer          string // the ID token issuer: the callback's iss, the CSP form-action
	FrameAncestors  []string
	UpstreamTimeout time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
	// AssetVersion busts browser caches of /static files between releases.
	AssetVersion string
	// Catalog is every language's words; nil means i18n.New().
	Catalog *i18n.Catalog

	// ViewsPerMinute bounds one user's page views (VIEWS_PER_MINUTE); 0
	// means the default, 60.
	ViewsPerMinute int

	// Metrics records request metrics and error classes; nil records nothing.
	Metrics *metrics.Metrics
	// ReadinessChecks are what /readyz waits for (issuer discovery, Redis).
	ReadinessChecks []ReadinessCheck
	// TrustedProxies are the networks whose X-Forwarded-For is believed for
	// the client address. Empty: the TCP peer is the client.
	TrustedProxies []*net.IPNet
}

// portal holds the dependencies the handlers are methods over.
type portal struct {
	signIn     signInFlow
	factors    factorAPI
	recovery   recoveryCodes
	methods    methodStore
	sessions   sessionStore
	limits     limiter
	viewLimits limiter
	enrol      enroller
	offer      factorOffer
	views      ratelimit.Rule // the page-view limit
	publicURL  string
	issuer     string
	timeout    time.Duration
	log        *slog.Logger
	now        func() time.Time
	assetVer   string
	catalog    *i18n.Catalog
	metrics    *metrics.Metrics // nil-safe: nil records nothing
	ancestors  []string         // origins allowed to frame /embed/; empty: no /embed/
	pages      pageTable        // set by New (routes.go)
	buffers    sync.Pool        // of *bytes.Buffer, for render
}

func newPortal(d Deps) (*portal, error) {
	if d.SignIn == nil || d.Factors == nil || d.Recovery == nil || d.Methods == nil || d.Sessions == nil || d.Limits == nil || d.Enrol == nil {
		return nil, errors.New("handlers: SignIn, Factors, Recovery, Methods, Sessions, Limits and Enrol are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ViewLimits == nil {
		d.ViewLimits = d.Limits
	}
	if d.Offer == nil {
		d.Offer = configuredOffer(tenantfactors.Default)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Catalog == nil {
		d.Catalog = i18n.New()
	}
	if d.UpstreamTimeout <= 0 {
		d.UpstreamTimeout = 10 * time.Second
	}
	if d.ViewsPerMinute <= 0 {
		d.ViewsPerMinute = 60
	}
	return &portal{
		views:  viewRule(d.ViewsPerMinute),
		signIn: d.SignIn, factors: d.Factors, recovery: d.Recovery, methods: d.Methods, sessions: d.Sessions, limits: d.Limits, viewLimits: d.ViewLimits, enrol: d.Enrol, offer: d.Offer,
		publicURL: d.PublicURL, issuer: d.Issuer, timeout: d.UpstreamTimeout, log: d.Logger, now: d.Now,
		assetVer: d.AssetVersion, catalog: d.Catalog, metrics: d.Metrics, ancestors: d.FrameAncestors,
	}, nil
}

// upstreamContext bounds one request's calls to Auth0.
func (p *portal) upstreamContext(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), p.timeout)
}

func (p *portal) redirectSeeOther(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}

// checkLimit counts one attempt at rule by who, and counts a refusal in
// the metrics. The page-view rule is counted by viewLimits.
func (p *portal) checkLimit(ctx context.Context, rule ratelimit.Rule, who string) error {
	l := p.limits
	if rule == p.views {
		l = p.viewLimits
	}
	err := l.Allow(ctx, rule, who)
	var ex *ratelimit.ExceededError
	if errors.As(err, &ex) {
		p.metrics.RateLimited(rule.Name)
	}
	return err
}
