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

// handleEmbedLogin handles "GET /embed/login?return=…": the iframe's
// sign-in page. After the handoff the frame goes to the page it started
// from; "Open in a new tab" opens that page's top-level twin, whose own
// sign-in brings the user back to it.
func (p *portal) handleEmbedLogin(c echo.Context) error {
	returnPath := p.pages.embedReturnPath(c.QueryParam("return"))
	pg := p.page(c, p.tr(c).T("embed.signin.title"), nil)
	return p.render(c, http.StatusOK, pg, views.EmbedSignIn(views.EmbedSignInPage{
		Page: pg, ReturnPath: returnPath, NewTabURL: strings.TrimPrefix(returnPath, embedPrefix),
	}))
}

// handlePreSession handles "POST /embed/pre-session": the iframe marks its
// partition with a random secret and gets the popup's address, which names
// only the secret's hash.
func (p *portal) handlePreSession(c echo.Context) error {
	err := p.checkLimit(c.Request().Context(), preSessionRule, clientKey(c.RealIP()))
	if err == nil {
		err = p.checkLimit(c.Request().Context(), preSessionCeiling, "all")
	}
	if err != nil {
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
