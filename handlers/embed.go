package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/ratelimit"
	"mfaportal/session"
	"mfaportal/views"
)

const (
	ctxEmbed = "mfaportal.embed"

	popupDonePath = "/embed/popup-done"
	// defaultEmbedReturnPath is where a framed sign-in lands when the frame
	// did not start from another page.
	defaultEmbedReturnPath = "/embed/factors"
)

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
			c.SetRequest(c.Request().WithContext(views.WithEmbed(c.Request().Context(), p.embedHref)))
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

// embedReturnPath keeps a framed sign-in's destination only when it is the
// twin of a page for signed-in users (checked like any return path);
// anything else gives the factor list.
func (p *portal) embedReturnPath(raw string) string {
	to := safeReturnPath(raw)
	path, _, _ := strings.Cut(to, "?")
	if p.isFramedPage(path) {
		return to
	}
	return defaultEmbedReturnPath
}

func isEmbed(c echo.Context) bool {
	v, _ := c.Get(ctxEmbed).(bool)
	return v
}

// parentOrigins are the origins a framed page may post messages to.
func (p *portal) parentOrigins() string { return strings.Join(p.ancestors, " ") }

// handleEmbedLogin handles "GET /embed/login?return=…": the iframe's
// sign-in page. After the handoff the frame goes to the page it started
// from; "Open in a new tab" opens that page's top-level twin, whose own
// sign-in brings the user back to it.
func (p *portal) handleEmbedLogin(c echo.Context) error {
	returnPath := p.embedReturnPath(c.QueryParam("return"))
	pg := p.page(c, p.tr(c).T("embed.signin.title"), nil)
	return p.render(c, http.StatusOK, pg, views.EmbedSignIn(views.EmbedSignInPage{
		Page: pg, ReturnPath: returnPath, NewTabURL: strings.TrimPrefix(returnPath, embedPrefix),
	}))
}

// handlePreSession handles "POST /embed/pre-session": the iframe marks its
// partition with a random secret and gets the popup's address, which names
// only the secret's hash.
func (p *portal) handlePreSession(c echo.Context) error {
	if err := p.checkLimit(c.Request().Context(), preSessionRule, c.RealIP()); err != nil {
		// The frame's script reads this answer, not a person: no page.
		var ex *ratelimit.ExceededError
		if errors.As(err, &ex) {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(ex.Wait.Round(time.Second)/time.Second)))
			return c.JSON(http.StatusTooManyRequests, map[string]string{"error": "too_many_requests"})
		}
		return err
	}
	binding, err := p.sessions.OpenPreSession(c.Request().Context(), c.Response())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"popup": "/embed/popup-login?pre=" + binding, "pre": binding})
}

// handlePopupLogin handles "GET /embed/popup-login?pre=…": the popup signs
// in at top level (Universal Login refuses frames) and comes back to
// /embed/popup-done for the same pre-session.
func (p *portal) handlePopupLogin(c echo.Context) error {
	binding := c.QueryParam("pre")
	if open, err := p.sessions.PreSessionOpen(c.Request().Context(), binding); err != nil {
		return err
	} else if !open {
		return session.ErrHandoffRefused
	}
	done := popupDonePath + "?pre=" + binding
	if sess, err := p.sessions.Load(c.Request(), session.TopLevel); err == nil && sess.SignedIn(p.now()) {
		return c.Redirect(http.StatusFound, done)
	}
	return c.Redirect(http.StatusFound, "/login?"+url.Values{"return": {done}}.Encode())
}

// handlePopupDone handles "GET /embed/popup-done?pre=…" (signed in): it
// mints the one-time code for the iframe's pre-session; the page's script
// posts it to the opener on the portal's own origin and closes. When the
// opener is gone (a sign-in page's Cross-Origin-Opener-Policy cuts it), the
// script leaves the code in the portal's first-party localStorage under the
// pre-session's name, which the iframe reads once the browser grants it
// storage access.
func (p *portal) handlePopupDone(c echo.Context) error {
	sess := sessionFromContext(c)
	binding := c.QueryParam("pre")
	code, err := p.sessions.MintHandoff(c.Request().Context(), binding, sess)
	if err != nil {
		return err
	}
	pg := p.page(c, p.tr(c).T("embed.popup.title"), sess)
	return p.render(c, http.StatusOK, pg, views.PopupDone(views.PopupDonePage{Page: pg, Code: code, Binding: binding}))
}

// handleHandoff handles "POST /embed/handoff": the iframe trades the code
// for its own partitioned session, in the family of the popup's. The code
// is spent on the first try, right or wrong.
func (p *portal) handleHandoff(c echo.Context) error {
	sess, err := p.sessions.Handoff(c.Response(), c.Request(), c.Request().PostFormValue("code"))
	if err != nil {
		return err
	}
	p.audit(c, auditSignedIn, sess.Sub, nil)
	return c.NoContent(http.StatusNoContent)
}

// handleEmbedLogout handles "POST /embed/logout": the portal session the
// iframe used ends here, with its whole family. Auth0's own sign-out page
// refuses frames, so the Auth0 session is left to the account site's
// sign-out.
func (p *portal) handleEmbedLogout(c echo.Context) error {
	for _, purpose := range []session.Purpose{session.TopLevel, session.Embed} {
		sess, err := p.sessions.Load(c.Request(), purpose)
		if err != nil {
			return err
		}
		if sess == nil {
			continue
		}
		if !validCSRF(c, sess) {
			return errCSRF
		}
		if err := p.sessions.End(c.Response(), c.Request(), sess); err != nil {
			return err
		}
		p.audit(c, auditSignedOut, sess.Sub, nil)
	}
	return p.redirectSeeOther(c, "/embed/signed-out")
}

// handleEmbedSignedOut handles "GET /embed/signed-out" and tells the parent.
func (p *portal) handleEmbedSignedOut(c echo.Context) error {
	pg := p.page(c, p.tr(c).T("signedout.title"), nil)
	pg.EmbedEvent = "signed-out"
	return p.render(c, http.StatusOK, pg, views.SignedOut(views.SignedOutPage{Page: pg}))
}

// isPopupReturn reports whether a sign-in round trip belongs to the popup,
// whose pages must keep their opener.
func isPopupReturn(returnPath string) bool {
	return strings.HasPrefix(returnPath, popupDonePath+"?")
}
