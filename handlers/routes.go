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
	e.IPExtractor = ipExtractor(d.TrustedProxies)

	e.Use(
		middleware.Recover(),
		withRequestID,
		p.withLanguage,
		p.accessLog,
		securityHeaders(contentSecurityPolicy(d.Issuer, nil), strings.HasPrefix(d.PublicURL, "https://")),
		middleware.BodyLimit("64K"),
		refuseCrossOrigin,
	)

	// Public: health and static files.
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/factors") })
	e.GET("/healthz", handleHealthz)
	e.GET("/readyz", handleReadyz(d.ReadinessChecks, p.log, d.Metrics))
	e.GET("/static/*", echo.WrapHandler(static.Handler()))

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
			e.GET(pg.path, pg.get, mw...)
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
		get, post := pg.get, pg.post
		if !pg.signedIn {
			get, post = pg.embedGet, pg.embedPost
		}
		if get != nil {
			e.GET(embedPrefix+pg.path, get, embedMW...)
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
		e.GET("/embed/popup-login", p.handlePopupLogin, keepOpener)
		e.GET(popupDonePath, p.handlePopupDone, keepOpener, p.requireSession)
	}
	return e, nil
}
