package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"mfaportal/i18n"
	"mfaportal/metrics"
	"mfaportal/mfaapi"
	"mfaportal/ratelimit"
	"mfaportal/session"
	"mfaportal/signin"
	"mfaportal/views"
)

// factorAPI is the part of the MFA API the pages use.
type factorAPI interface {
	ListAuthenticators(ctx context.Context, accessToken string) ([]mfaapi.Authenticator, error)
	DeleteAuthenticator(ctx context.Context, accessToken, id string) error
}

// recoveryCodes regenerates a user's recovery code through the Management API.
type recoveryCodes interface {
	RegenerateRecoveryCode(ctx context.Context, userID string) (string, error)
}

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
	_ sessionStore  = (*session.Store)(nil)
	_ limiter       = (*ratelimit.Limiter)(nil)
)

// Deps is everything the handlers need, passed explicitly.
type Deps struct {
	SignIn   signInFlow
	Factors  factorAPI
	Recovery recoveryCodes
	Sessions sessionStore
	Limits   limiter

	PublicURL       string // e.g. https://mfa.example.com, no trailing slash
	Issuer          string // for the CSP form-action
	FrameAncestors  []string
	UpstreamTimeout time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
	// AssetVersion busts browser caches of /static files between releases.
	AssetVersion string
	// Catalog is every language's words; nil means i18n.New().
	Catalog *i18n.Catalog

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
	signIn    signInFlow
	factors   factorAPI
	recovery  recoveryCodes
	sessions  sessionStore
	limits    limiter
	publicURL string
	timeout   time.Duration
	log       *slog.Logger
	now       func() time.Time
	assetVer  string
	catalog   *i18n.Catalog
	metrics   *metrics.Metrics // nil-safe: nil records nothing
	ancestors []string         // origins allowed to frame /embed/; empty: no /embed/
	pages     []page           // see pages.go
	buffers   sync.Pool        // of *bytes.Buffer, for render
}

func newPortal(d Deps) (*portal, error) {
	if d.SignIn == nil || d.Factors == nil || d.Recovery == nil || d.Sessions == nil || d.Limits == nil {
		return nil, errors.New("handlers: SignIn, Factors, Recovery, Sessions and Limits are required")
	}
	if d.Now == nil {
		d.Now = time.Now
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
	p := &portal{
		signIn: d.SignIn, factors: d.Factors, recovery: d.Recovery, sessions: d.Sessions, limits: d.Limits,
		publicURL: d.PublicURL, timeout: d.UpstreamTimeout, log: d.Logger, now: d.Now,
		assetVer: d.AssetVersion, catalog: d.Catalog, metrics: d.Metrics, ancestors: d.FrameAncestors,
		buffers: sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
	p.pages = p.pageTable()
	return p, nil
}

// upstreamContext bounds one request's calls to Auth0.
func (p *portal) upstreamContext(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), p.timeout)
}

// page fills the layout's data for the current request.
func (p *portal) page(c echo.Context, title string, sess *session.Session) views.Page {
	pr := p.tr(c)
	pg := views.Page{Lang: pr.Lang(), Title: title, RequestID: requestID(c), AssetVersion: p.assetVer}
	if sess.SignedIn(p.now()) {
		left := sess.TokenExpiry.Sub(p.now())
		pg.User = &views.User{
			Name:        sess.Name,
			SessionEnds: sess.TokenExpiry,
			MinutesLeft: int((left + time.Minute - 1) / time.Minute),
			SecondsLeft: int(left / time.Second),
			// UTC until the page's script shows it on the browser's clock:
			// the server doesn't know the user's time zone.
			EndsAt: pr.Time(sess.TokenExpiry.UTC()),
		}
		pg.CSRFToken = sess.CSRFToken
	}
	if isEmbed(c) {
		pg.Embed = true
		pg.ParentOrigins = p.parentOrigins()
	}
	return pg
}

// render writes a page inside the layout.
// The page is rendered into a buffer first: one write with a Content-Length
// (templ would otherwise flush mid-page), and a render error can still become
// an error page because nothing has been sent yet.
func (p *portal) render(c echo.Context, status int, pg views.Page, body templ.Component) error {
	buf := p.buffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			p.buffers.Put(buf)
		}
	}()
	if err := views.Layout(pg, body).Render(c.Request().Context(), buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

func (p *portal) redirectSeeOther(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}
