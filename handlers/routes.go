package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"mfaportal/static"
)

// New returns the portal's whole HTTP surface.
func New(d Deps) (*echo.Echo, error) {
	p, err := newPortal(d)
	if err != nil {
		return nil, err
	}
	p.pages = p.pageTable()
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = p.errorHandler
	e.IPExtractor = ipExtractorWarning(d.TrustedProxies, func() {
		p.log.Warn("requests arrive through a proxy (X-Forwarded-For) but TRUSTED_PROXIES is empty: " +
			"the portal sees only the proxy's address, so all its clients share one per-address limit; " +
			"set TRUSTED_PROXIES to the proxy's network")
	})

	e.Use(
		middleware.Recover(),
		withRequestID(d.TrustedProxies),
		p.withLanguage,
		p.accessLog,
		securityHeaders(contentSecurityPolicy(d.Issuer, nil), strings.HasPrefix(d.PublicURL, "https://")),
		middleware.BodyLimit("64K"),
		refuseCrossOrigin,
		skipPollRedirects,
	)

	// get serves a GET route and its HEAD: load balancers and monitors
	// probe with HEAD, and net/http sends a HEAD answer without its body.
	get := func(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
		e.GET(path, h, mw...)
		e.HEAD(path, h, mw...)
	}

	// Public: health and static files.
	get("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/factors") })
	get("/healthz", handleHealthz)
	get("/readyz", handleReadyz(d.ReadinessChecks, p.log, d.Metrics))
	get("/static/*", echo.WrapHandler(static.Handler()))

	// Every page, and its embed twin when framing origins are configured:
	// only those may be framed, and only by those origins. Without them
	// /embed/ does not exist (404).
	embed := len(p.ancestors) > 0
	framed := p.embedFramed(contentSecurityPolicy(d.Issuer, p.ancestors))
	for _, pg := range p.pages {
		var mw, embedMW []echo.MiddlewareFunc
		if pg.signedIn {
			mw, embedMW = []echo.MiddlewareFunc{p.requireSession}, []echo.MiddlewareFunc{framed, p.requireEmbedSession}
		} else {
			embedMW = []echo.MiddlewareFunc{framed}
		}
		if pg.get != nil {
			get(pg.path, pg.get, mw...)
		}
		if pg.post != nil {
			post := append(mw, p.requireCSRF)
			if !pg.signedIn {
				post = mw // sign-out checks the token of whichever session it ends
			}
			e.POST(pg.path, pg.post, post...)
		}
		if !embed || !pg.twin {
			continue
		}
		embedGet, post := pg.get, pg.post
		if !pg.signedIn {
			embedGet, post = pg.embedGet, pg.embedPost
		}
		if embedGet != nil {
			get(embedPrefix+pg.path, embedGet, embedMW...)
		}
		if post != nil {
			if pg.signedIn {
				e.POST(embedPrefix+pg.path, post, append(embedMW, p.requireCSRF)...)
			} else {
				e.POST(embedPrefix+pg.path, post, embedMW...)
			}
		}
	}

	// The framed sign-in's popup: the frame opens a pre-session and trades
	// the popup's one-time code for its own session; the popup's pages are
	// top-level and keep their opener.
	if embed {
		e.POST("/embed/pre-session", p.handlePreSession, framed)
		e.POST("/embed/handoff", p.handleHandoff, framed)
		get("/embed/popup-login", p.handlePopupLogin, keepOpener)
		get(popupDonePath, p.handlePopupDone, keepOpener, p.requireSession)
	}
	return e, nil
}

// pageTable lists every page. Each POST has the same path as its
// confirmation page, so an expired session sends the user back to confirm
// again, never replays.
func (p *portal) pageTable() pageTable {
	return pageTable{
		{path: "/factors", get: p.handleFactors, signedIn: true, twin: true},
		{path: "/factors/:id", get: p.handleMethod, post: p.handleMethodChange, signedIn: true, twin: true},
		{path: "/factors/:id/delete", get: p.handleDeleteConfirm, post: p.handleDelete, signedIn: true, twin: true},
		{path: "/recovery-code", get: p.handleRecoveryPage, post: p.handleRegenerate, signedIn: true, twin: true},
		{path: "/recovery-code/new", get: p.handleNewRecoveryCode, signedIn: true, twin: true},
		{path: "/add", get: p.handleAdd, signedIn: true, twin: true},
		{path: "/add/app", get: p.offeredOnly(appSteps, p.handleAddApp), post: p.offeredOnly(appSteps, p.handleStartApp), signedIn: true, twin: true},
		// The steps' POSTs have GETs that lead back to the step, for a
		// sign-in that returns to them.
		{path: "/add/app/confirm", get: p.toStep(appSteps), post: p.handleConfirmApp, signedIn: true, twin: true},
		{path: "/add/app/cancel", get: p.toStep(appSteps), post: p.handleCancelAdd, signedIn: true, twin: true},
		{path: "/add/phone", get: p.offeredOnly(phoneSteps, p.handleAddPhone), post: p.offeredOnly(phoneSteps, p.handleStartPhone), signedIn: true, twin: true},
		{path: "/add/phone/confirm", get: p.toStep(phoneSteps), post: p.handleConfirmCode(phoneSteps), signedIn: true, twin: true},
		{path: "/add/phone/resend", get: p.toStep(phoneSteps), post: p.handleResend(phoneSteps), signedIn: true, twin: true},
		{path: "/add/phone/cancel", get: p.toStep(phoneSteps), post: p.handleCancelAdd, signedIn: true, twin: true},
		{path: "/add/guardian", get: p.offeredOnly(guardianSteps, p.handleAddGuardian), post: p.offeredOnly(guardianSteps, p.handleStartGuardian), signedIn: true, twin: true},
		{path: "/add/guardian/check", get: p.toStep(guardianSteps), post: p.handleCheckGuardian, signedIn: true, twin: true},
		{path: "/add/guardian/cancel", get: p.toStep(guardianSteps), post: p.handleCancelAdd, signedIn: true, twin: true},
		{path: "/add/email", get: p.offeredOnly(emailSteps, p.handleAddEmail), post: p.offeredOnly(emailSteps, p.handleStartEmail), signedIn: true, twin: true},
		{path: "/add/email/confirm", get: p.toStep(emailSteps), post: p.handleConfirmCode(emailSteps), signedIn: true, twin: true},
		{path: "/add/email/resend", get: p.toStep(emailSteps), post: p.handleResend(emailSteps), signedIn: true, twin: true},
		{path: "/add/email/cancel", get: p.toStep(emailSteps), post: p.handleCancelAdd, signedIn: true, twin: true},
		// Universal Login refuses frames: the frame's own sign-in page
		// signs in through a popup.
		{path: "/login", get: p.handleLogin, twin: true, embedGet: p.handleEmbedLogin, twinPath: "/embed/login"},
		{path: "/callback", get: p.handleCallback},
		// Auth0's logout page refuses frames too: the frame ends the
		// portal session only.
		{path: "/logout", post: p.handleLogout, twin: true, embedPost: p.handleEmbedLogout},
		{path: "/signed-out", get: p.handleSignedOut, twin: true, embedGet: p.handleEmbedSignedOut},
	}
}
