package auth0emu

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
)

// Browser sign-in lifetimes.
const (
	txnLifetime      = 30 * time.Minute
	sessionLifetime  = 7 * 24 * time.Hour
	sessionCookie    = "auth0emu_session"
	maxFormBody      = 16 << 10
	maxMFAAttempts   = 5
	oobCodeDigits    = 6
	mfaMethodOTP     = "otp"
	mfaMethodPush    = "push"
	mfaMethodSMS     = "sms"
	mfaMethodVoice   = "voice"
	mfaMethodEmail   = "email"
	mfaMethodRecover = "recovery-code"
)

// loginTxn is one /authorize request on its way through the sign-in pages.
// Its id is the unguessable "state" handle the pages carry, as Universal
// Login's /u/login?state=… does. Fields are guarded by Tenant.mu.
type loginTxn struct {
	id                                  string
	clientID, redirectURI, state, nonce string
	challenge, scope, audience          string
	locale, loginHint                   string
	created                             time.Time
	userID, sid                         string
	authTime                            time.Time
	mfaDone                             bool
	sentCodes                           map[string]string // sms/voice/email code "sent" per method
	newRecoveryCode                     string            // shown once after a recovery code was used
	failures                            int
}

// ssoSession is the emulator's own session cookie, like Auth0's.
type ssoSession struct {
	userID   string
	authTime time.Time
	expires  time.Time
}

// authorizeRequest is the validated part of a GET /authorize.
type authorizeRequest struct {
	client                  Client
	redirectURI, state      string
	nonce, challenge, scope string
	audience, locale, hint  string
	promptLogin, promptNone bool
	maxAge                  int // -1 when absent
}

// handleAuthorize serves "GET /authorize".
func (t *Tenant) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ar, ok := t.parseAuthorize(w, r)
	if !ok {
		return
	}
	now := t.now()
	txn := &loginTxn{
		id: randomString(alnum, 32), clientID: ar.client.ID, redirectURI: ar.redirectURI, state: ar.state,
		nonce: ar.nonce, challenge: ar.challenge, scope: ar.scope, audience: ar.audience,
		locale: ar.locale, loginHint: ar.hint, created: now, sentCodes: map[string]string{},
	}
	sess, sid := t.currentSession(r)
	reuse := sess != nil && !ar.promptLogin &&
		(ar.maxAge < 0 || now.Sub(sess.authTime) <= time.Duration(ar.maxAge)*time.Second)
	if reuse {
		txn.userID, txn.authTime, txn.sid = sess.userID, sess.authTime, sid
	}
	if ar.promptNone {
		t.authorizeSilently(w, r, txn, reuse)
		return
	}
	t.mu.Lock()
	t.sweep(now)
	t.transactions[txn.id] = txn
	t.mu.Unlock()
	t.advance(w, r, txn.id)
}

// parseAuthorize validates the request. Errors about the client or its
// redirect URI are shown here; the rest go back to the client.
func (t *Tenant) parseAuthorize(w http.ResponseWriter, r *http.Request) (authorizeRequest, bool) {
	q := r.URL.Query()
	locale := localeFrom(q.Get("ui_locales"))
	t.mu.RLock()
	client, known := t.clientByID(q.Get("client_id"))
	isWeb := known && client.ID == t.web.ID
	t.mu.RUnlock()
	if !isWeb {
		t.renderErrorLocale(w, r, http.StatusBadRequest, locale, "invalid_request", "Unknown client or the client may not sign users in.")
		return authorizeRequest{}, false
	}
	ar := authorizeRequest{
		client: client, redirectURI: q.Get("redirect_uri"), state: q.Get("state"), nonce: q.Get("nonce"),
		challenge: q.Get("code_challenge"), audience: q.Get("audience"), locale: locale, hint: q.Get("login_hint"), maxAge: -1,
	}
	if !slices.Contains(client.RedirectURIs, ar.redirectURI) {
		t.renderErrorLocale(w, r, http.StatusBadRequest, locale, "invalid_request",
			"Callback URL mismatch: the redirect_uri is not in the application's Allowed Callback URLs.")
		return authorizeRequest{}, false
	}
	fail := func(code, desc string) (authorizeRequest, bool) {
		redirectWithParams(w, r, ar.redirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {ar.state}})
		return authorizeRequest{}, false
	}
	if q.Get("response_type") != "code" {
		return fail("unsupported_response_type", "Unsupported response type: "+q.Get("response_type"))
	}
	if rm := q.Get("response_mode"); rm != "" && rm != "query" {
		return fail("invalid_request", "Unsupported response_mode: "+rm)
	}
	if q.Get("code_challenge_method") != "S256" || len(ar.challenge) != 43 {
		return fail("invalid_request", "PKCE is required: send code_challenge (43 characters) with code_challenge_method=S256")
	}
	switch ar.audience {
	case "", t.MFAAudience():
	case t.ManagementAudience():
		return fail("access_denied", `Client is not authorized to access "`+ar.audience+`".`)
	default:
		return fail("access_denied", "Service not found: "+ar.audience)
	}
	if v := q.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fail("invalid_request", "max_age must be a non-negative integer")
		}
		ar.maxAge = n
	}
	for _, p := range strings.Fields(q.Get("prompt")) {
		switch p {
		case "login":
			ar.promptLogin = true
		case "none":
			ar.promptNone = true
		}
	}
	if ar.maxAge == 0 {
		ar.promptLogin = true
	}
	ar.scope = grantedScopes(q.Get("scope"), ar.audience == t.MFAAudience())
	return ar, true
}

// grantedScopes keeps the OIDC scopes and, for the /mfa/ audience, the MFA
// API scopes; Auth0 drops what the API does not define.
func grantedScopes(requested string, mfa bool) string {
	var out []string
	for _, s := range strings.Fields(requested) {
		switch s {
		case "openid", "profile", "email", "offline_access":
		case scopeReadAuthenticators, scopeRemoveAuthenticators, scopeEnroll:
			if !mfa {
				continue
			}
		default:
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// authorizeSilently answers prompt=none: a code when the session suffices,
// an OAuth error otherwise.
func (t *Tenant) authorizeSilently(w http.ResponseWriter, r *http.Request, txn *loginTxn, hasSession bool) {
	fail := func(code, desc string) {
		redirectWithParams(w, r, txn.redirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {txn.state}})
	}
	if !hasSession {
		fail("login_required", "Login required")
		return
	}
	t.mu.Lock()
	u := t.userByID(txn.userID)
	needsMFA := u != nil && txn.audience == t.MFAAudience() && u.needsMFA()
	t.mu.Unlock()
	if u == nil || needsMFA {
		fail("interaction_required", "Multifactor authentication required")
		return
	}
	t.mu.Lock()
	t.transactions[txn.id] = txn
	t.mu.Unlock()
	t.complete(w, r, txn.id)
}

// advance sends the browser to the next step of the transaction: the
// password page, the MFA challenge, or back to the client with a code.
func (t *Tenant) advance(w http.ResponseWriter, r *http.Request, txnID string) {
	t.mu.RLock()
	txn := t.transactions[txnID]
	var step string
	switch {
	case txn == nil:
		step = "gone"
	case txn.userID == "":
		step = "login"
	case txn.audience == t.MFAAudience() && !txn.mfaDone && t.userByID(txn.userID) != nil && t.userByID(txn.userID).needsMFA():
		step = "mfa"
	default:
		step = "done"
	}
	t.mu.RUnlock()
	switch step {
	case "gone":
		t.renderTxnGone(w, r)
	case "login":
		http.Redirect(w, r, "/u/login?state="+url.QueryEscape(txnID), http.StatusFound)
	case "mfa":
		http.Redirect(w, r, "/u/mfa?state="+url.QueryEscape(txnID), http.StatusFound)
	default:
		t.complete(w, r, txnID)
	}
}

// complete issues the authorization code and redirects to the client.
func (t *Tenant) complete(w http.ResponseWriter, r *http.Request, txnID string) {
	now := t.now()
	code := randomString(alnum, 32)
	t.mu.Lock()
	txn := t.transactions[txnID]
	delete(t.transactions, txnID)
	if txn != nil {
		amr := []string{"pwd"}
		if txn.mfaDone {
			amr = []string{"mfa"}
		}
		t.codes[code] = &authCode{
			clientID: txn.clientID, redirectURI: txn.redirectURI, challenge: txn.challenge, userID: txn.userID,
			scope: txn.scope, audience: txn.audience, nonce: txn.nonce, sid: txn.sid,
			authTime: txn.authTime, expires: now.Add(authCodeLifetime), amr: amr,
		}
	}
	t.mu.Unlock()
	if txn == nil {
		t.renderTxnGone(w, r)
		return
	}
	t.log.Info("authorization code issued", "user", txn.userID, "mfa", txn.mfaDone)
	redirectWithParams(w, r, txn.redirectURI, url.Values{"code": {code}, "state": {txn.state}})
}

// redirectWithParams redirects to base with params added to its query.
func redirectWithParams(w http.ResponseWriter, r *http.Request, base string, params url.Values) {
	u, err := url.Parse(base)
	if err != nil {
		http.Error(w, "bad redirect", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, vs := range params {
		if len(vs) == 1 && vs[0] == "" && k == "state" {
			continue
		}
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// sweep drops expired transactions, codes and sessions; callers hold the
// write lock. The maps stay small because completed flows delete entries.
func (t *Tenant) sweep(now time.Time) {
	for id, txn := range t.transactions {
		if now.Sub(txn.created) > txnLifetime {
			delete(t.transactions, id)
		}
	}
	for c, ac := range t.codes {
		if !now.Before(ac.expires) {
			delete(t.codes, c)
		}
	}
	for id, s := range t.sessions {
		if !now.Before(s.expires) {
			delete(t.sessions, id)
		}
	}
}

// txnFromForm returns the live transaction named by the "state" handle.
// renderTxnGone is Universal Login's answer to a sign-in transaction that
// expired or was already used.
func (t *Tenant) renderTxnGone(w http.ResponseWriter, r *http.Request) {
	t.renderError(w, r, http.StatusBadRequest, "invalid_request", "This sign-in transaction expired or was already used. Start again from the application.")
}

func (t *Tenant) txnFromRequest(r *http.Request) (*loginTxn, string) {
	id := r.FormValue("state")
	t.mu.RLock()
	defer t.mu.RUnlock()
	txn := t.transactions[id]
	if txn == nil || t.now().Sub(txn.created) > txnLifetime {
		return nil, id
	}
	return txn, id
}

// currentSession returns the emulator SSO session of the browser.
func (t *Tenant) currentSession(r *http.Request) (*ssoSession, string) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, ""
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	s := t.sessions[c.Value]
	if s == nil || !t.now().Before(s.expires) || t.userByID(s.userID) == nil {
		return nil, ""
	}
	copied := *s
	return &copied, c.Value
}

// startSession records a password sign-in and sets the SSO cookie.
func (t *Tenant) startSession(w http.ResponseWriter, r *http.Request, userID string, authTime time.Time) string {
	sid := randomString(alnum, 32)
	t.mu.Lock()
	t.sessions[sid] = &ssoSession{userID: userID, authTime: authTime, expires: authTime.Add(sessionLifetime)}
	t.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil, MaxAge: int(sessionLifetime / time.Second),
	})
	return sid
}

// endSession forgets the browser's SSO session.
func (t *Tenant) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		t.mu.Lock()
		delete(t.sessions, c.Value)
		t.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// handleLoginPage serves "GET /u/login".
func (t *Tenant) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	txn, _ := t.txnFromRequest(r)
	if txn == nil {
		t.renderTxnGone(w, r)
		return
	}
	t.mu.RLock()
	data := loginPage{State: txn.id, Email: txn.loginHint}
	locale := txn.locale
	t.mu.RUnlock()
	t.renderPage(w, r, http.StatusOK, "login", locale, data)
}

// submittedTxn reads a sign-in page's form and the transaction it belongs
// to, answering the error page itself when either is missing.
func (t *Tenant) submittedTxn(w http.ResponseWriter, r *http.Request) (*loginTxn, string, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		t.renderError(w, r, http.StatusBadRequest, "invalid_request", "The form could not be read.")
		return nil, "", false
	}
	txn, txnID := t.txnFromRequest(r)
	if txn == nil {
		t.renderTxnGone(w, r)
		return nil, "", false
	}
	return txn, txnID, true
}

// handleLoginSubmit serves "POST /u/login".
func (t *Tenant) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	txn, txnID, found := t.submittedTxn(w, r)
	if !found {
		return
	}
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	t.mu.RLock()
	u := t.users[t.byEmail[strings.ToLower(email)]]
	ok := u != nil && u.checkPassword(password)
	locale := txn.locale
	t.mu.RUnlock()
	if !ok {
		t.log.Info("sign-in failed: wrong email or password")
		t.renderPage(w, r, http.StatusBadRequest, "login", locale, loginPage{State: txnID, Email: email, Error: tr(locale, "wrong_credentials")})
		return
	}
	now := t.now()
	sid := t.startSession(w, r, u.id, now)
	t.mu.Lock()
	if txn := t.transactions[txnID]; txn != nil {
		txn.userID, txn.authTime, txn.sid, txn.mfaDone = u.id, now, sid, false
	}
	t.mu.Unlock()
	t.log.Info("password accepted", "user", u.id)
	t.advance(w, r, txnID)
}

// mfaMethods lists the challenge methods the user's active factors allow,
// in enrolment order.
func (u *userRecord) mfaMethods() []string {
	var out []string
	add := func(m string) {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	for _, f := range u.factors {
		if !f.active {
			continue
		}
		switch f.kind {
		case kindPush:
			add(mfaMethodPush)
			add(mfaMethodOTP)
		case kindTOTP:
			add(mfaMethodOTP)
		case kindPhone:
			for _, ch := range f.channels {
				add(ch)
			}
		case kindEmail:
			add(mfaMethodEmail)
		}
	}
	if rc := u.recovery(); rc != nil && rc.active {
		add(mfaMethodRecover)
	}
	return out
}

// handleMFAPage serves "GET /u/mfa": the challenge for one method, with
// what the emulator would have put on the user's device shown on the page.
func (t *Tenant) handleMFAPage(w http.ResponseWriter, r *http.Request) {
	txn, txnID := t.txnFromRequest(r)
	if txn == nil {
		t.renderTxnGone(w, r)
		return
	}
	t.mu.Lock()
	page, locale, ok := t.mfaPageLocked(txn, r.URL.Query().Get("method"), "")
	t.mu.Unlock()
	if !ok {
		t.advance(w, r, txnID)
		return
	}
	t.renderPage(w, r, http.StatusOK, page.template(), locale, page)
}

// mfaPageLocked builds the challenge page; callers hold the write lock
// (it may "send" a code). ok is false when no challenge is due.
func (t *Tenant) mfaPageLocked(txn *loginTxn, method, errMsg string) (mfaPage, string, bool) {
	if txn.newRecoveryCode != "" {
		return mfaPage{State: txn.id, NewRecoveryCode: txn.newRecoveryCode}, txn.locale, true
	}
	u := t.userByID(txn.userID)
	if u == nil || txn.mfaDone {
		return mfaPage{}, "", false
	}
	methods := u.mfaMethods()
	if len(methods) == 0 {
		return mfaPage{}, "", false
	}
	if !slices.Contains(methods, method) {
		method = methods[0]
	}
	page := mfaPage{State: txn.id, Method: method, Error: errMsg, EmulatorTime: t.now().Unix()}
	for _, m := range methods {
		page.Methods = append(page.Methods, methodLink{Method: m, Label: tr(txn.locale, "method_"+m),
			URL: "/u/mfa?state=" + url.QueryEscape(txn.id) + "&method=" + url.QueryEscape(m), Current: m == method})
	}
	switch method {
	case mfaMethodOTP:
		page.TOTPSecret = firstOTPSecret(u)
		if page.TOTPSecret != "" {
			// The code an app would show now, so a developer signs in
			// without one; the secret stays for tests that compute it.
			page.TOTPCode, _ = totp.GenerateCodeCustom(page.TOTPSecret, t.now(), totpOpts)
		}
	case mfaMethodPush:
		page.PushDevice = firstPushDevice(u)
	case mfaMethodRecover:
		page.RecoveryCode = u.recovery().code
	default: // sms, voice, email: the code that would have been sent
		if txn.sentCodes[method] == "" {
			txn.sentCodes[method] = randomString(digits, oobCodeDigits)
		}
		page.SentCode = txn.sentCodes[method]
		page.Destination = oobDestination(u, method)
	}
	return page, txn.locale, true
}

func firstOTPSecret(u *userRecord) string {
	for _, kind := range []string{kindTOTP, kindPush} {
		for _, f := range u.factors {
			if f.active && f.kind == kind {
				return f.secret
			}
		}
	}
	return ""
}

func firstPushDevice(u *userRecord) string {
	for _, f := range u.factors {
		if f.active && f.kind == kindPush {
			return f.device
		}
	}
	return ""
}

// oobDestination is the masked phone or email a code "went" to.
func oobDestination(u *userRecord, method string) string {
	for _, f := range u.factors {
		if !f.active {
			continue
		}
		if f.kind == kindPhone && slices.Contains(f.channels, method) {
			return maskPhone(f.number)
		}
		if f.kind == kindEmail && method == mfaMethodEmail {
			return maskEmail(f.address)
		}
	}
	return ""
}

// handleMFASubmit serves "POST /u/mfa".
func (t *Tenant) handleMFASubmit(w http.ResponseWriter, r *http.Request) {
	txn, txnID, found := t.submittedTxn(w, r)
	if !found {
		return
	}
	method, action, code := r.PostForm.Get("method"), r.PostForm.Get("action"), strings.TrimSpace(r.PostForm.Get("code"))
	now := t.now()

	t.mu.Lock()
	u := t.userByID(txn.userID)
	if txn.newRecoveryCode != "" && action == "continue" {
		txn.newRecoveryCode = ""
		t.mu.Unlock()
		t.advance(w, r, txnID)
		return
	}
	if u == nil || txn.mfaDone || txn.newRecoveryCode != "" {
		t.mu.Unlock()
		t.advance(w, r, txnID)
		return
	}
	if method == mfaMethodPush && action == "deny" {
		delete(t.transactions, txnID)
		t.mu.Unlock()
		redirectWithParams(w, r, txn.redirectURI, url.Values{"error": {"access_denied"}, "error_description": {"MFA Authorization rejected."}, "state": {txn.state}})
		return
	}
	passed := slices.Contains(u.mfaMethods(), method) && t.verifyChallengeLocked(u, txn, method, action, code, now)
	if !passed {
		txn.failures++
		if txn.failures >= maxMFAAttempts {
			delete(t.transactions, txnID)
			t.mu.Unlock()
			redirectWithParams(w, r, txn.redirectURI, url.Values{"error": {"access_denied"}, "error_description": {"Too many failed MFA attempts."}, "state": {txn.state}})
			return
		}
		page, locale, _ := t.mfaPageLocked(txn, method, tr(txn.locale, "wrong_code"))
		t.mu.Unlock()
		t.log.Info("MFA challenge failed", "user", u.id, "method", method)
		t.renderPage(w, r, http.StatusBadRequest, page.template(), locale, page)
		return
	}
	txn.mfaDone = true
	if method == mfaMethodRecover {
		// Auth0 rotates a used recovery code and shows the new one once.
		txn.newRecoveryCode = u.regenerateRecovery(now)
		u.recovery().lastAuthAt = now.UTC()
		page, locale, _ := t.mfaPageLocked(txn, "", "")
		t.mu.Unlock()
		t.log.Info("recovery code used and rotated", "user", u.id)
		t.renderPage(w, r, http.StatusOK, page.template(), locale, page)
		return
	}
	t.mu.Unlock()
	t.log.Info("MFA challenge passed", "user", u.id, "method", method)
	t.advance(w, r, txnID)
}

// verifyChallengeLocked checks one challenge answer and records the use;
// callers hold the write lock.
func (t *Tenant) verifyChallengeLocked(u *userRecord, txn *loginTxn, method, action, code string, now time.Time) bool {
	switch method {
	case mfaMethodOTP:
		return u.checkTOTP(code, now)
	case mfaMethodPush:
		if action != "approve" {
			return false
		}
		for _, f := range u.factors {
			if f.active && f.kind == kindPush {
				f.lastAuthAt = now.UTC()
				return true
			}
		}
		return false
	case mfaMethodRecover:
		rc := u.recovery()
		return rc != nil && rc.active && code != "" &&
			subtle.ConstantTimeCompare([]byte(normalizeRecoveryCode(code)), []byte(rc.code)) == 1
	case mfaMethodSMS, mfaMethodVoice, mfaMethodEmail:
		sent := txn.sentCodes[method]
		if sent == "" || subtle.ConstantTimeCompare([]byte(code), []byte(sent)) != 1 {
			return false
		}
		delete(txn.sentCodes, method)
		for _, f := range u.factors {
			if f.active && (f.kind == kindPhone && slices.Contains(f.channels, method) || f.kind == kindEmail && method == mfaMethodEmail) {
				f.lastAuthAt = now.UTC()
				break
			}
		}
		return true
	}
	return false
}
