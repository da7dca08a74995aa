package handlers

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

const (
	ctxSession   = "mfaportal.session"
	ctxRequestID = "mfaportal.request_id"
)

// incomingRequestID accepts an X-Request-ID from a proxy only when it is
// short and plain, so it is safe to log and show.
var incomingRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// withRequestID tags every request with an id that the error pages show and
// the logs carry, so a helpdesk can find what happened.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !incomingRequestID.MatchString(id) {
			id = randomToken(12)
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func requestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// securityHeaders sets the headers every response carries. No page of the
// portal may be cached: each is personal, and the recovery code page must
// never be kept anywhere. With hsts (the public URL is https), browsers are
// told to use only https for a year, subdomains included.
//
// Framing is refused here for every page; the /embed/ routes alone lift it
// (embedFramed).
func securityHeaders(csp string, hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
			h.Set("X-Frame-Options", "DENY")
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			}
			if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
				h.Set("Cache-Control", "no-store")
				h.Set("Pragma", "no-cache")
			}
			return next(c)
		}
	}
}

// contentSecurityPolicy allows only our own scripts and styles; forms may
// also lead to the issuer, because sign-out and expired-session POSTs
// redirect there and browsers apply form-action to redirects.
func contentSecurityPolicy(issuer string, frameAncestors []string) string {
	ancestors := "'none'"
	if len(frameAncestors) > 0 {
		ancestors = strings.Join(frameAncestors, " ")
	}
	formAction := "'self'"
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self'",
		"connect-src 'self'",
		"form-action " + formAction,
		"base-uri 'none'",
		"frame-ancestors " + ancestors,
	}, "; ")
}

// refuseCrossOrigin refuses state-changing requests that a browser marks as
// coming from another origin (Sec-Fetch-Site, then Origin), using the
// standard library's CrossOriginProtection. The per-session CSRF token
// below is the second, independent check.
func refuseCrossOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c echo.Context) error {
		if err := cop.Check(c.Request()); err != nil {
			return errCrossSite
		}
		return next(c)
	}
}

// accessLog logs one line per request: never the query string (it can hold
// a login hint) and never a header or body.
func accessLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("request_id", requestID(c)),
				slog.String("method", c.Request().Method),
				slog.String("client_ip", c.RealIP()),
				slog.String("route", c.Path()),
				slog.Int("status", c.Response().Status),
				slog.Duration("latency", time.Since(start)))
			return nil
		}
	}
}

// requireSession lets signed-in users through. Anyone else goes to sign-in
// and comes back to the same page; a POST comes back to its confirmation
// page (same path), never to a silent replay.
func (p *portal) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := p.sessions.load(c.Request())
		if err != nil {
			return err // the session store is down: a clear 503, not a sign-in loop
		}
		if sess == nil || !sess.signedIn(p.now()) {
			status := http.StatusFound
			if c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
				status = http.StatusSeeOther
			}
			return c.Redirect(status, loginURLFor(c))
		}
		c.Set(ctxSession, sess)
		return next(c)
	}
}

// loginURLFor sends a signed-out user to sign-in and back to this page. A
// helpdesk link's login_hint and lang travel along to Universal Login.
func loginURLFor(c echo.Context) string {
	q := url.Values{"return": {returnPathOf(c)}}
	for _, k := range []string{"login_hint", "lang"} {
		if v := c.QueryParam(k); v != "" {
			q.Set(k, v)
		}
	}
	return "/login?" + q.Encode()
}

// requireCSRF checks the synchronizer token bound to the session. It runs
// after requireSession, so the session is there.
func (p *portal) requireCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !validCSRF(c, p.sessionFromContext(c)) {
			return errCSRF
		}
		return next(c)
	}
}

func validCSRF(c echo.Context, sess *userSession) bool {
	if sess == nil || sess.CSRFToken == "" {
		return false
	}
	got := c.Request().PostFormValue("csrf_token")
	if got == "" {
		got = c.Request().Header.Get("X-CSRF-Token")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) == 1
}

func (p *portal) sessionFromContext(c echo.Context) *userSession {
	s, _ := c.Get(ctxSession).(*userSession)
	return s
}
