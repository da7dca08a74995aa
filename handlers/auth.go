package handlers

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"regexp"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"mfaportal/session"
	"mfaportal/signin"
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
	tx := signin.NewTransaction()
	var req signin.AuthRequest
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
	login := &session.Login{State: tx.State, Nonce: tx.Nonce, Verifier: tx.Verifier, ReturnPath: safeReturnPath(q.Get("return"))}
	if err := p.sessions.SaveLogin(c.Response(), login); err != nil {
		return err
	}
	keepOpenerForPopup(c, login.ReturnPath)
	return c.Redirect(http.StatusFound, to)
}

// handleCallback handles "GET /callback": Auth0 sends the browser back here
// with a code. The round trip is spent on the first callback, whatever
// happens, even if the browser sends its cookie again.
func (p *portal) handleCallback(c echo.Context) error {
	login, err := p.sessions.TakeLogin(c.Response(), c.Request())
	if err != nil {
		return err
	}
	if login == nil {
		return errLoginExpired
	}
	keepOpenerForPopup(c, login.ReturnPath)
	q := c.Request().URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(login.State)) != 1 {
		return errStateMismatch
	}
	// RFC 9207: when the authorization server names itself, it must be
	// ours; an answer from another server (a mix-up attack) is refused.
	if q.Has("iss") && q.Get("iss") != p.issuer {
		return errIssuerMismatch
	}
	if e := q.Get("error"); e != "" {
		return signInRefused(e)
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		return errNoCode
	}
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	id, err := p.signIn.Exchange(ctx, code, signin.Transaction{State: login.State, Nonce: login.Nonce, Verifier: login.Verifier})
	if err != nil {
		p.audit(c, auditSignedIn, "", err)
		return err
	}
	// A new session, new id and new CSRF token: nothing is adopted from a
	// cookie the browser brought, and any earlier session is ended.
	sess, err := p.sessions.Start(c.Request(), session.TopLevel)
	if err != nil {
		return err
	}
	sess.Sub, sess.Name, sess.AccessToken = id.Sub, id.Name, id.AccessToken
	sess.TokenExpiry, sess.AuthTime = id.TokenExpiry, id.AuthTime
	if err := p.sessions.Save(c.Response(), c.Request(), sess); err != nil {
		return err
	}
	p.audit(c, auditSignedIn, sess.Sub, nil)
	return c.Redirect(http.StatusSeeOther, login.ReturnPath)
}

// oauthOutages are the error codes (RFC 6749 4.1.2.1) by which Auth0 says
// it could not serve the sign-in: an outage, shown and counted as one.
var oauthOutages = map[string]bool{"server_error": true, "temporarily_unavailable": true}

// oauthRefusals are the other codes Auth0 may send back instead of a code
// (RFC 6749 4.1.2.1, OIDC Core 3.1.2.6): something about this attempt, not
// an outage. Only these and the outages are named in the log; anything
// else is "other", since the callback's query is the browser's to choose.
var oauthRefusals = map[string]bool{
	"invalid_request": true, "unauthorized_client": true, "unsupported_response_type": true,
	"invalid_scope": true, "interaction_required": true, "login_required": true,
	"account_selection_required": true, "consent_required": true, "invalid_request_uri": true,
	"invalid_request_object": true, "request_not_supported": true, "request_uri_not_supported": true,
	"registration_not_supported": true, "mfa_required": true, "mfa_registration_required": true,
	"unmet_authentication_requirements": true,
}

// signInRefused explains an OAuth error Auth0 sent back instead of a code.
// Auth0's error_description is not shown (it is not written for end users)
// nor logged (the browser chose it); the code is logged from a fixed list.
func signInRefused(code string) error {
	switch {
	case code == "access_denied":
		return fmt.Errorf("%w: %s", errSignInCancelled, code)
	case oauthOutages[code]:
		return fmt.Errorf("%w: authorize answered %s", signin.ErrUnavailable, code)
	case oauthRefusals[code]:
		return fmt.Errorf("%w: %s", errSignInError, code)
	}
	return fmt.Errorf("%w: other", errSignInError)
}

// handleLogout handles "POST /logout": it ends the session here (its whole
// family: the frames handed off from it too) and at Auth0.
func (p *portal) handleLogout(c echo.Context) error {
	sess, err := p.sessions.Load(c.Request(), session.TopLevel)
	if err != nil {
		return err
	}
	if sess == nil {
		return p.redirectSeeOther(c, "/signed-out")
	}
	if !validCSRF(c, sess) {
		return errCSRF
	}
	if err := p.sessions.End(c.Response(), c.Request(), sess); err != nil {
		return err
	}
	p.audit(c, auditSignedOut, sess.Sub, nil)
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
