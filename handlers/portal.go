package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"mfaportal/i18n"
	"mfaportal/mfaapi"
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
	AuthCodeURL(ctx context.Context, tx *loginTx, req authRequest) (string, error)
	Exchange(ctx context.Context, code string, tx *loginTx) (*identity, error)
	LogoutURL(returnTo string) string
}

var (
	_ signInFlow    = (*OIDC)(nil)
	_ factorAPI     = (*mfaapi.Client)(nil)
	_ recoveryCodes = (*mfaapi.Management)(nil)
)

// Deps is everything the handlers need, passed explicitly.
type Deps struct {
	SignIn          signInFlow
	Factors         factorAPI
	Recovery        recoveryCodes
	SessionKeys     [][]byte
	PublicURL       string // e.g. https://mfa.example.com, no trailing slash
	Issuer          string // for the CSP form-action
	FrameAncestors  []string
	UpstreamTimeout time.Duration
	Logger          *slog.Logger
	Now             func() time.Time
	// AssetVersion busts browser caches of /static files between releases.
	AssetVersion string
	// Ops is what operating the portal needs: metrics, readiness checks,
	// trusted proxies (see health.go and metrics.go). Its zero value is fine.
	Ops Operations
	// Redis, when set, holds the sessions and the per-user limits, so that
	// several replicas behave as one. Nil: encrypted-cookie sessions and
	// in-memory limits, for a single instance.
	Redis redis.UniversalClient
	// Catalog is every language's words; nil means i18n.New().
	Catalog *i18n.Catalog
}

// portal holds the dependencies the handlers are methods over.
type portal struct {
	signIn    signInFlow
	factors   factorAPI
	recovery  recoveryCodes
	sessions  *sessionStore
	limits    actionLimiter
	publicURL string
	timeout   time.Duration
	log       *slog.Logger
	now       func() time.Time
	assetVer  string
	catalog   *i18n.Catalog
	metrics   *Metrics // nil-safe: nil records nothing
	embed     *embedding
	buffers   sync.Pool // of *bytes.Buffer, for render
}

func newPortal(d Deps) (*portal, error) {
	if d.SignIn == nil || d.Factors == nil || d.Recovery == nil {
		return nil, errors.New("handlers: SignIn, Factors and Recovery are required")
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
	sessions, err := newSessionStore(d.SessionKeys, d.Now)
	var limits actionLimiter = newMemoryLimiter(d.Now)
	if d.Redis != nil {
		sessions, err = newRedisSessionStore(d.SessionKeys, d.Now, d.Redis)
		limits = newRedisLimiter(d.Redis)
	}
	if err != nil {
		return nil, err
	}
	embed, err := newEmbedding(d)
	if err != nil {
		return nil, err
	}
	return &portal{embed: embed,
		signIn: d.SignIn, factors: d.Factors, recovery: d.Recovery,
		sessions: sessions, limits: limits, publicURL: d.PublicURL, timeout: d.UpstreamTimeout,
		log: d.Logger, now: d.Now, assetVer: d.AssetVersion, catalog: d.Catalog, metrics: d.Ops.Metrics,
		buffers: sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}, nil
}

// upstreamContext bounds one request's calls to Auth0.
func (p *portal) upstreamContext(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), p.timeout)
}

// page fills the layout's data for the current request.
func (p *portal) page(c echo.Context, title string, sess *userSession) views.Page {
	pr := p.tr(c)
	pg := views.Page{Lang: pr.Lang(), Title: title, RequestID: requestID(c), AssetVersion: p.assetVer}
	if sess != nil && sess.signedIn(p.now()) {
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
		pg.ParentOrigins = strings.Join(p.embed.ancestors, " ")
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
