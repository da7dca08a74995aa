package handlers

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/i18n"
	"mfaportal/session"
	"mfaportal/views"
)

const (
	ctxSession = "mfaportal.session"
	ctxEmbed   = "mfaportal.embed"
)

// securityHeaders sets the headers every response carries. No page of the
// portal may be cached: each is personal, and the recovery code page must
// never be kept anywhere. With hsts (the public URL is https), browsers are
// told to use only https for a year, subdomains included.
//
// Framing is refused here for every page; the /embed/ routes alone lift it
// (embedFramed).
func securityHeaders(csp string, hsts bool) echo.MiddlewareFunc {
	// Built once: every response carries them, and setting each anew cost
	// an allocation apiece. Each value is a slice of one with no spare
	// capacity, so a later Add elsewhere copies instead of writing into it.
	one := func(v string) []string { return []string{v}[:1:1] }
	always := map[string][]string{
		"Content-Security-Policy":      one(csp),
		"X-Content-Type-Options":       one("nosniff"),
		"Referrer-Policy":              one("no-referrer"),
		"Cross-Origin-Opener-Policy":   one("same-origin"),
		"Cross-Origin-Resource-Policy": one("same-origin"),
		"Permissions-Policy":           one("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
		"X-Frame-Options":              one("DENY"),
	}
	if hsts {
		always["Strict-Transport-Security"] = one("max-age=31536000; includeSubDomains")
	}
	noStore, noCache := one("no-store"), one("no-cache")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			for k, v := range always {
				h[k] = v
			}
			if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
				h["Cache-Control"] = noStore
				h["Pragma"] = noCache
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

// accessLog logs one line per request, never the query string (it can hold
// a login hint) and never a header or body, and times it by route template
// (c.Path(), e.g. "/factors/:id/delete"), never the raw path, which holds
// factor ids. Any error is rendered first, so the status is the one sent.
func (p *portal) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		took := time.Since(start)
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && route == "/*" {
			route = "unmatched"
		}
		p.metrics.ObserveRequest(route, c.Request().Method, c.Response().Status, took)
		p.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Request().Method),
			slog.String("client_ip", c.RealIP()),
			slog.String("route", c.Path()),
			slog.Int("status", c.Response().Status),
			slog.Duration("latency", took))
		return nil
	}
}

// requireSession lets signed-in users through. Anyone else goes to sign-in
// and comes back to the same page; a POST comes back to its confirmation
// page (same path), never to a silent replay.
func (p *portal) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := p.sessions.Load(c.Request(), session.TopLevel)
		if err != nil {
			return err // the session store is down: a clear 503, not a sign-in loop
		}
		if !sess.SignedIn(p.now()) {
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

// pollHeader marks the Guardian page's own checks (static/app.js). When
// one is answered with a redirect (approved: to the list or the first
// recovery code; signed out: to sign-in), fetch follows it before the
// script navigates there itself.
const pollHeader = "Mfaportal-Poll"

// skipPollRedirects answers that followed GET with nothing: the page is
// loaded by the navigation that comes next, which is what must spend its
// one-time content (a message, a recovery code shown once) and its
// upstream call.
func skipPollRedirects(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodGet && c.Request().Header.Get(pollHeader) != "" {
			c.Response().Header().Set("Cache-Control", "no-store")
			return c.NoContent(http.StatusNoContent)
		}
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
		if !validCSRF(c, sessionFromContext(c)) {
			return errCSRF
		}
		return next(c)
	}
}

func validCSRF(c echo.Context, sess *session.Session) bool {
	if sess == nil || sess.CSRFToken == "" {
		return false
	}
	got := c.Request().PostFormValue("csrf_token")
	if got == "" {
		got = c.Request().Header.Get("X-CSRF-Token")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) == 1
}

// sessionFromContext is the session requireSession or requireEmbedSession
// found; nil outside them.
func sessionFromContext(c echo.Context) *session.Session {
	s, _ := c.Get(ctxSession).(*session.Session)
	return s
}

// langCookieName remembers a language chosen with ?lang= (a helpdesk link,
// say), so the next pages and the next sign-in stay in it.
const langCookieName = "__Host-mfaportal-lang"

// withLanguage chooses the request's language (lang parameter, then the
// cookie, then Accept-Language, then English) and puts its printer in the
// request's context, where handlers and templates find it. It runs before
// anything can fail, so error pages are in the chosen language too.
func (p *portal) withLanguage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		cookie := ""
		if ck, err := r.Cookie(langCookieName); err == nil {
			cookie = ck.Value
		}
		tag, fromParam := p.catalog.Negotiate(c.QueryParam("lang"), cookie, r.Header.Get("Accept-Language"))
		if fromParam && tag.String() != cookie {
			c.SetCookie(&http.Cookie{
				Name: langCookieName, Value: tag.String(), Path: "/",
				MaxAge: int(365 * 24 * time.Hour / time.Second), Secure: true, HttpOnly: true,
				SameSite: http.SameSiteLaxMode,
			})
		}
		c.SetRequest(r.WithContext(i18n.WithPrinter(r.Context(), p.catalog.Printer(tag))))
		return next(c)
	}
}

// tr is the request's printer. Outside withLanguage (a handler called on
// its own in a test), it is the default language's.
func (p *portal) tr(c echo.Context) *i18n.Printer {
	if pr := i18n.FromContext(c.Request().Context()); pr != nil {
		return pr
	}
	return p.catalog.Printer(p.catalog.Default())
}

// embedFramed makes a response frameable by the configured origins only
// (csp names them) and marks the request as an iframe page (header-less
// layout, links to the embed twins). Every other page keeps
// frame-ancestors 'none' and X-Frame-Options DENY.
func (p *portal) embedFramed(csp string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Del("X-Frame-Options")
			c.Set(ctxEmbed, true)
			c.SetRequest(c.Request().WithContext(views.WithEmbed(c.Request().Context(), p.pages.embedHref)))
			return next(c)
		}
	}
}

// keepOpener serves the popup's pages. They are top-level, never framed,
// but must keep their opener: Cross-Origin-Opener-Policy same-origin would
// cut the popup off from the iframe that opened it.
func keepOpener(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cross-Origin-Opener-Policy", "unsafe-none")
		return next(c)
	}
}

// requireEmbedSession lets a signed-in iframe through. Same-site embedding
// carries the portal's own Lax session; cross-site embedding carries the
// partitioned embed session. Anyone else gets the iframe's sign-in page.
func (p *portal) requireEmbedSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, purpose := range []session.Purpose{session.TopLevel, session.Embed} {
			sess, err := p.sessions.Load(c.Request(), purpose)
			if err != nil {
				return err
			}
			if sess.SignedIn(p.now()) {
				c.Set(ctxSession, sess)
				return next(c)
			}
		}
		status := http.StatusFound
		if c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
			status = http.StatusSeeOther
		}
		// The page the frame asked for comes back after sign-in, as a
		// helpdesk link does at top level.
		return c.Redirect(status, "/embed/login?"+url.Values{"return": {returnPathOf(c)}}.Encode())
	}
}

func isEmbed(c echo.Context) bool {
	v, _ := c.Get(ctxEmbed).(bool)
	return v
}
