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
		securityHeaders(contentSecurityPolicy(d.Issuer, d.FrameAncestors), len(d.FrameAncestors) > 0,
			strings.HasPrefix(d.PublicURL, "https://")),
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
	return e, nil
}
