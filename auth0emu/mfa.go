package auth0emu

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// MFA API scopes.
const (
	scopeReadAuthenticators   = "read:authenticators"
	scopeRemoveAuthenticators = "remove:authenticators"
	scopeEnroll               = "enroll"
)

// authorizeMFA verifies the bearer token for the /mfa/ audience and scope;
// on failure it has answered and returns false.
func (t *Tenant) authorizeMFA(w http.ResponseWriter, r *http.Request, scope string) (accessClaims, bool) {
	claims, err := t.verifyAccessToken(bearerToken(r), t.MFAAudience())
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeAuthError(w, http.StatusUnauthorized, "invalid_token", describeTokenError(err))
		return accessClaims{}, false
	}
	if !slices.Contains(claims.scopes(), scope) {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
		writeAuthError(w, http.StatusForbidden, "insufficient_scope", "Insufficient scope, expected any of: "+scope)
		return accessClaims{}, false
	}
	return claims, true
}

// handleListAuthenticators serves "GET /mfa/authenticators", the hot path:
// the body is prebuilt whenever the user's factors change.
func (t *Tenant) handleListAuthenticators(w http.ResponseWriter, r *http.Request) {
	claims, ok := t.authorizeMFA(w, r, scopeReadAuthenticators)
	if !ok {
		return
	}
	body := []byte("[]")
	t.mu.RLock()
	if u := t.userByID(claims.Subject); u != nil {
		body = u.listJSON
	}
	t.mu.RUnlock()
	writeJSONBytes(w, http.StatusOK, body)
}

// handleDeleteAuthenticator serves "DELETE /mfa/authenticators/{id}".
// Deleting either half of a push/OTP or sms/voice pair deletes both.
func (t *Tenant) handleDeleteAuthenticator(w http.ResponseWriter, r *http.Request) {
	claims, ok := t.authorizeMFA(w, r, scopeRemoveAuthenticators)
	if !ok {
		return
	}
	id := r.PathValue("id")
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.userByID(claims.Subject)
	var f *factorRecord
	if u != nil {
		f = u.findFactor(id)
	}
	switch {
	case f == nil || f.kind == kindPhone && id == f.primaryID() || isWebAuthn(f.kind):
		// phone|dev_… is a Management API id, and security keys and
		// passkeys are Management API methods: the MFA API knows neither.
		writeAuthError(w, http.StatusNotFound, "not_found", "Authenticator not found")
		return
	case f.verifiedOnly:
		writeAuthError(w, http.StatusBadRequest, "invalid_request",
			"The verified email is not an enrolled authenticator and cannot be deleted")
		return
	}
	u.removeFactor(f)
	t.forgetPendingOf(f)
	t.log.Info("authenticator deleted", "user", u.id, "kind", f.kind)
	w.Header().Set("Content-Type", "application/json") // as recorded, on an empty 204
	w.WriteHeader(http.StatusNoContent)
}

// totpOpts are Auth0's (and authenticator apps') TOTP parameters.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPCode returns the current code of the user's first active TOTP
// authenticator (a standalone app first, else a push enrolment's OTP twin),
// by the tenant's clock.
func (t *Tenant) TOTPCode(userID string) (string, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u := t.userByID(userID)
	if u == nil {
		return "", errors.New("auth0emu: unknown user")
	}
	var secret string
	for _, kind := range []string{kindTOTP, kindPush} {
		for _, f := range u.factors {
			if f.active && f.kind == kind && secret == "" {
				secret = f.secret
			}
		}
	}
	if secret == "" {
		return "", errors.New("auth0emu: user has no active TOTP authenticator")
	}
	return totp.GenerateCodeCustom(secret, t.now(), totpOpts)
}

// checkTOTP reports whether code is valid now for an active OTP enrolment
// of u, and records the use. Callers hold the write lock.
func (u *userRecord) checkTOTP(code string, now time.Time) bool {
	for _, f := range u.factors {
		if !f.active || !f.hasOTP() {
			continue
		}
		if ok, err := totp.ValidateCustom(code, f.secret, now, totpOpts); err == nil && ok {
			f.lastAuthAt = now.UTC()
			return true
		}
	}
	return false
}
