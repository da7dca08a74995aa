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
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = p.errorHandler
	e.IPExtractor = ipExtractor(d.Ops.TrustedProxies)

	e.Use(
		middleware.Recover(),
		withRequestID,
		p.withLanguage,
		accessLog(p.log),
		d.Ops.Metrics.middleware,
		securityHeaders(contentSecurityPolicy(d.Issuer, nil), strings.HasPrefix(d.PublicURL, "https://")),
		middleware.BodyLimit("64K"),
		refuseCrossOrigin,
	)

	// Public: sign-in round trip, health, static files.
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/factors") })
	e.GET("/login", p.handleLogin)
	e.GET("/callback", p.handleCallback)
	e.POST("/logout", p.handleLogout)
	e.GET("/signed-out", p.handleSignedOut)
	e.GET("/healthz", handleHealthz)
	e.GET("/readyz", handleReadyz(d.Ops.ReadinessChecks, p.log, d.Ops.Metrics))
	e.GET("/static/*", echo.WrapHandler(static.Handler()))

	// Signed in. Each POST is the same path as its confirmation page, so an
	// expired session sends the user back to confirm again, never replays.
	auth := p.requireSession
	csrf := p.requireCSRF
	e.GET("/factors", p.handleFactors, auth)
	e.GET("/factors/:id/delete", p.handleDeleteConfirm, auth)
	e.POST("/factors/:id/delete", p.handleDelete, auth, csrf)
	e.GET("/recovery-code", p.handleRecoveryPage, auth)
	e.POST("/recovery-code", p.handleRegenerate, auth, csrf)

	// Embedded in an account area (404 unless FRAME_ANCESTORS is set). Only
	// these pages may be framed, and only by the configured origins. The
	// popup pages finish a framed sign-in at top level.
	framed, popup, embedAuth := p.embedFramed, p.embedPopup, p.requireEmbedSession
	e.GET("/embed/login", p.handleEmbedLogin, framed)
	e.POST("/embed/pre-session", p.handlePreSession, framed)
	e.POST("/embed/handoff", p.handleHandoff, framed)
	e.POST("/embed/logout", p.handleEmbedLogout, framed)
	e.GET("/embed/signed-out", p.handleEmbedSignedOut, framed)
	e.GET("/embed/factors", p.handleFactors, framed, embedAuth)
	e.GET("/embed/factors/:id/delete", p.handleDeleteConfirm, framed, embedAuth)
	e.POST("/embed/factors/:id/delete", p.handleDelete, framed, embedAuth, csrf)
	e.GET("/embed/recovery-code", p.handleRecoveryPage, framed, embedAuth)
	e.POST("/embed/recovery-code", p.handleRegenerate, framed, embedAuth, csrf)
	e.GET("/embed/popup-login", p.handlePopupLogin, popup)
	e.GET(popupDonePath, p.handlePopupDone, popup, auth)
	return e, nil
}
