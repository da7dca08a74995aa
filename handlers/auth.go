package handlers

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"mfaportal/views"
)

// loginHintPattern accepts what an email-or-username hint looks like and
// nothing that could smuggle parameters or markup into Universal Login.
var loginHintPattern = regexp.MustCompile(`^[A-Za-z0-9._%+@'-]{1,254}$`)

// handleLogin handles "GET /login": it starts a sign-in round trip and sends
// the browser to Universal Login. It changes no server state: the round trip
// lives in its own short-lived cookie.
func (p *portal) handleLogin(c echo.Context) error {
	q := c.Request().URL.Query()
	tx := &loginTx{
		State:      randomToken(32),
		Nonce:      randomToken(32),
		Verifier:   oauth2.GenerateVerifier(),
		ReturnPath: safeReturnPath(q.Get("return")),
		Created:    p.now(),
	}
	var req authRequest
	if hint := q.Get("login_hint"); loginHintPattern.MatchString(hint) && utf8.ValidString(hint) {
		req.LoginHint = hint
	}
	// Universal Login speaks the language the portal chose (lang, the
	// language cookie, Accept-Language): one language, validated.
	req.UILocales = p.tr(c).Lang()
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	to, err := p.signIn.AuthCodeURL(ctx, tx, req)
	if err != nil {
		return err
	}
	if err := p.sessions.saveLogin(c.Response(), c.Request(), tx); err != nil {
		return err
	}
	keepOpenerForPopup(c, tx.ReturnPath)
	return c.Redirect(http.StatusFound, to)
}

// handleCallback handles "GET /callback": Auth0 sends the browser back here
// with a code. The round trip is used once, whatever happens.
func (p *portal) handleCallback(c echo.Context) error {
	tx := p.sessions.loadLogin(c.Request())
	p.sessions.clearLogin(c.Response())
	if tx == nil {
		return errLoginExpired
	}
	keepOpenerForPopup(c, tx.ReturnPath)
	q := c.Request().URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(tx.State)) != 1 {
		pe := *errSignInFailed
		pe.Err = errors.New("state mismatch")
		return &pe
	}
	if e := q.Get("error"); e != "" {
		return p.signInRefused(e, tx.ReturnPath)
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		pe := *errSignInFailed
		pe.Err = errors.New("callback without a usable code")
		return &pe
	}
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	id, err := p.signIn.Exchange(ctx, code, tx)
	if err != nil {
		p.audit(c, auditSignedIn, err)
		return err
	}
	// A new session, new id and new CSRF token: nothing is adopted from a
	// cookie the browser brought, and any earlier session is revoked.
	sess, err := p.sessions.regenerate(c.Request())
	if err != nil {
		return err
	}
	sess.Sub = id.Sub
	sess.Name = id.Name
	sess.AccessToken = id.AccessToken
	sess.TokenExpiry = id.TokenExpiry
	sess.AuthTime = id.AuthTime
	if err := p.sessions.save(c.Response(), c.Request(), sess); err != nil {
		return err
	}
	p.audit(c, auditSignedIn, nil, slog.String("sub", sess.Sub))
	return c.Redirect(http.StatusSeeOther, tx.ReturnPath)
}

// signInRefused explains an OAuth error Auth0 sent back instead of a code.
// Auth0's error_description is not shown: it is not written for end users.
func (p *portal) signInRefused(code, returnPath string) error {
	again := "/login?return=" + url.QueryEscape(returnPath)
	if code == "access_denied" {
		return &pageError{Status: http.StatusForbidden, Heading: "error.sign_in_cancelled.heading",
			Message:   "error.sign_in_cancelled.message",
			ActionURL: again, ActionText: "action.sign_in", Err: errors.New("authorize error: " + code)}
	}
	return &pageError{Status: http.StatusBadGateway, Heading: "error.sign_in_error.heading",
		Message:   "error.sign_in_error.message",
		ActionURL: again, ActionText: "action.sign_in", Err: errors.New("authorize error: " + code)}
}

// handleLogout handles "POST /logout": it ends the session here (the cookie
// is revoked, so a copy of it is useless) and at Auth0.
func (p *portal) handleLogout(c echo.Context) error {
	sess, err := p.sessions.load(c.Request())
	if err != nil {
		return err
	}
	if sess == nil {
		return p.redirectSeeOther(c, "/signed-out")
	}
	if !validCSRF(c, sess) {
		return errCSRF
	}
	if err := p.sessions.destroy(c.Response(), c.Request(), sess); err != nil {
		return err
	}
	p.audit(c, auditSignedOut, nil, slog.String("sub", sess.Sub))
	return p.redirectSeeOther(c, p.signIn.LogoutURL(p.publicURL+"/signed-out"))
}

// handleSignedOut handles "GET /signed-out".
func (p *portal) handleSignedOut(c echo.Context) error {
	pg := p.page(c, p.tr(c).T("signedout.title"), nil)
	return p.render(c, http.StatusOK, pg, views.SignedOut(views.SignedOutPage{Page: pg}))
}

// keepOpenerForPopup relaxes Cross-Origin-Opener-Policy on the redirects of
// a sign-in that runs in the embed popup: one same-origin hop would cut the
// popup off from the iframe waiting for its handoff code.
func keepOpenerForPopup(c echo.Context, returnPath string) {
	if isPopupReturn(returnPath) {
		c.Response().Header().Set("Cross-Origin-Opener-Policy", "unsafe-none")
	}
}
