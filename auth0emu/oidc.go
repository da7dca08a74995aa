package auth0emu

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// handleDiscovery serves "GET /.well-known/openid-configuration".
func (t *Tenant) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := t.Issuer()
	w.Header().Set("Cache-Control", "public, max-age=15")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "authorize",
		"token_endpoint":                        iss + "oauth/token",
		"userinfo_endpoint":                     iss + "userinfo",
		"mfa_challenge_endpoint":                iss + "mfa/challenge",
		"jwks_uri":                              iss + ".well-known/jwks.json",
		"end_session_endpoint":                  iss + "v2/logout",
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "client_credentials", "refresh_token"},
		"code_challenge_methods_supported":      []string{"S256"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"claims_supported": []string{"aud", "auth_time", "amr", "azp", "email", "email_verified", "exp", "iat",
			"iss", "name", "nickname", "nonce", "sid", "sub"},
		"request_uri_parameter_supported": false,
	})
}

// handleJWKS serves "GET /.well-known/jwks.json": the current key and the
// keys still in their grace period.
func (t *Tenant) handleJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=15")
	writeJSON(w, http.StatusOK, t.keys.jwks())
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// handleUserInfo serves "GET /userinfo".
func (t *Tenant) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	claims, err := t.verifyAccessToken(bearerToken(r), t.userinfoAudience())
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeAuthError(w, http.StatusUnauthorized, "invalid_token", describeTokenError(err))
		return
	}
	t.mu.RLock()
	u := t.userByID(claims.Subject)
	var body map[string]any
	if u != nil {
		body = map[string]any{"sub": u.id, "name": u.name, "nickname": nickname(u.email), "email": u.email, "email_verified": true}
	}
	t.mu.RUnlock()
	if body == nil {
		writeAuthError(w, http.StatusUnauthorized, "invalid_token", "The user no longer exists")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

func nickname(email string) string {
	local, _, _ := strings.Cut(email, "@")
	return local
}

// handleLogout serves "GET /v2/logout": it ends the emulator's SSO session
// and sends the browser to returnTo if that is an allowed logout URL.
func (t *Tenant) handleLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	returnTo := q.Get("returnTo")
	if returnTo != "" && !t.logoutURLAllowed(q.Get("client_id"), returnTo) {
		t.renderError(w, r, http.StatusBadRequest, "invalid_request",
			`The "returnTo" querystring parameter is not defined as a valid URL in "Allowed Logout URLs".`)
		return
	}
	t.endSession(w, r)
	if returnTo == "" {
		t.renderPage(w, r, http.StatusOK, "logged_out", localeFrom(q.Get("ui_locales")), nil)
		return
	}
	http.Redirect(w, r, returnTo, http.StatusFound)
}

// logoutURLAllowed checks returnTo against the client's logout URLs, or,
// without client_id, against every client's, as Auth0's tenant-level list.
func (t *Tenant) logoutURLAllowed(clientID, returnTo string) bool {
	if _, err := url.Parse(returnTo); err != nil {
		return false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if clientID != "" {
		c, ok := t.clientByID(clientID)
		return ok && slices.Contains(c.LogoutURLs, returnTo)
	}
	return slices.Contains(t.web.LogoutURLs, returnTo) || slices.Contains(t.m2m.LogoutURLs, returnTo)
}
