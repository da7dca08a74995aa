package auth0emu

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Token endpoint limits and lifetimes.
const (
	maxTokenBody       = 64 << 10
	authCodeLifetime   = 60 * time.Second
	apiTokenLifetime   = 86400 * time.Second
	idTokenLifetime    = 36000 * time.Second
	grantAuthCode      = "authorization_code"
	grantClientCreds   = "client_credentials"
	grantRefreshToken  = "refresh_token"
	auth0GrantPrefix   = "http://auth0.com/oauth/grant-type/"
	ietfGrantPrefix    = "urn:ietf:params:oauth:grant-type:"
	grantPasswordRealm = "password"
)

// authCode is an issued authorization code; single use.
type authCode struct {
	clientID, redirectURI, challenge string
	userID, scope, audience, nonce   string
	sid                              string
	authTime, expires                time.Time
	amr                              []string
}

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	clientID, userID, scope, audience, sid string
	authTime                               time.Time
	amr                                    []string
}

// oauthError is an error answer of the token endpoint.
type oauthError struct {
	status            int
	code, description string
}

func badRequest(code, description string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, description: description}
}

// tokenResponse is the successful /oauth/token body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
}

// handleToken serves "POST /oauth/token".
func (t *Tenant) handleToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	resp, oerr := t.token(w, r)
	if oerr != nil {
		writeAuthError(w, oerr.status, oerr.code, oerr.description)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (t *Tenant) token(w http.ResponseWriter, r *http.Request) (*tokenResponse, *oauthError) {
	params, oerr := readTokenParams(w, r)
	if oerr != nil {
		return nil, oerr
	}
	grant := params.Get("grant_type")
	if grant == "" {
		return nil, badRequest("invalid_request", "Missing required parameter: grant_type")
	}
	if !knownGrant(grant) {
		return nil, badRequest("unsupported_grant_type", "Unsupported grant type: "+grant)
	}
	client, oerr := t.authenticateClient(r, params)
	if oerr != nil {
		return nil, oerr
	}
	switch {
	case grant == grantAuthCode && client.ID == t.WebClient().ID:
		return t.exchangeCode(client, params)
	case grant == grantRefreshToken && client.ID == t.WebClient().ID:
		return t.exchangeRefreshToken(client, params)
	case grant == grantClientCreds && client.ID == t.M2MClient().ID:
		return t.clientCredentials(client, params)
	case (grant == grantMFAOTP || grant == grantMFAOOB) && client.ID == t.WebClient().ID:
		return t.confirmEnrolment(client, grant, params)
	}
	return nil, &oauthError{status: http.StatusForbidden, code: "unauthorized_client",
		description: "Grant type '" + grant + "' not allowed for the client."}
}

// knownGrant reports whether Auth0 knows the grant at all; known grants the
// client may not use answer unauthorized_client as Auth0 does.
func knownGrant(g string) bool {
	switch g {
	case grantAuthCode, grantClientCreds, grantRefreshToken, grantPasswordRealm:
		return true
	}
	return strings.HasPrefix(g, auth0GrantPrefix) || strings.HasPrefix(g, ietfGrantPrefix)
}

// readTokenParams parses a form or JSON body (Auth0 accepts both), bounded
// in size, with every parameter at most once.
func readTokenParams(w http.ResponseWriter, r *http.Request) (url.Values, *oauthError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenBody)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var params url.Values
	var err error
	switch mediaType {
	case "application/json":
		params, err = readJSONParams(r)
	case "application/x-www-form-urlencoded":
		if err = r.ParseForm(); err == nil {
			params = r.PostForm
		}
	default:
		return nil, badRequest("invalid_request", "Content-Type must be application/x-www-form-urlencoded or application/json")
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request", description: "Request body too large"}
		}
		return nil, badRequest("invalid_request", "Malformed request body")
	}
	for name, vs := range params {
		if len(vs) > 1 {
			return nil, badRequest("invalid_request", "Parameter must not be repeated: "+name)
		}
	}
	return params, nil
}

func readJSONParams(r *http.Request) (url.Values, error) {
	var raw map[string]any
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	params := url.Values{}
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("parameter " + k + " is not a string")
		}
		params.Set(k, s)
	}
	return params, nil
}

// authenticateClient accepts client_secret_basic or client_secret_post,
// not both.
func (t *Tenant) authenticateClient(r *http.Request, params url.Values) (Client, *oauthError) {
	id, secret := params.Get("client_id"), params.Get("client_secret")
	if basicID, basicSecret, ok := r.BasicAuth(); ok {
		if secret != "" {
			return Client{}, badRequest("invalid_request", "Use only one client authentication method")
		}
		// RFC 6749 §2.3.1: basic credentials are form-encoded first.
		uid, err1 := url.QueryUnescape(basicID)
		usecret, err2 := url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil || (id != "" && id != uid) {
			return Client{}, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Client authentication failed"}
		}
		id, secret = uid, usecret
	}
	if id == "" {
		return Client{}, badRequest("invalid_request", "Missing required parameter: client_id")
	}
	t.mu.RLock()
	c, ok := t.clientByID(id)
	t.mu.RUnlock()
	if !ok || secret == "" || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: "Client authentication failed"}
	}
	return c, nil
}

// exchangeCode redeems an authorization code once, checking client,
// redirect_uri and the PKCE verifier.
func (t *Tenant) exchangeCode(client Client, params url.Values) (*tokenResponse, *oauthError) {
	code := params.Get("code")
	if code == "" {
		return nil, badRequest("invalid_request", "Missing required parameter: code")
	}
	t.mu.Lock()
	ac := t.codes[code]
	delete(t.codes, code) // single use, whatever happens next
	t.mu.Unlock()
	invalid := badRequest("invalid_grant", "Invalid authorization code")
	if ac == nil || ac.clientID != client.ID || !t.now().Before(ac.expires) {
		return nil, invalid
	}
	if params.Get("redirect_uri") != ac.redirectURI {
		return nil, badRequest("invalid_grant", "redirect_uri does not match the one of the authorization request")
	}
	if !pkceMatches(params.Get("code_verifier"), ac.challenge) {
		return nil, badRequest("invalid_grant", "Failed to verify code verifier")
	}
	return t.issueUserTokens(client, ac.userID, ac.scope, ac.audience, ac.nonce, ac.sid, ac.authTime, ac.amr, "")
}

// pkceMatches checks an S256 code verifier (RFC 7636) against the challenge.
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, c := range verifier {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

func (t *Tenant) exchangeRefreshToken(client Client, params url.Values) (*tokenResponse, *oauthError) {
	rt := params.Get("refresh_token")
	if rt == "" {
		return nil, badRequest("invalid_request", "Missing required parameter: refresh_token")
	}
	t.mu.RLock()
	g := t.refresh[rt]
	t.mu.RUnlock()
	if g == nil || g.clientID != client.ID {
		return nil, &oauthError{status: http.StatusForbidden, code: "invalid_grant", description: "Unknown or invalid refresh token."}
	}
	return t.issueUserTokens(client, g.userID, g.scope, g.audience, "", g.sid, g.authTime, g.amr, rt)
}

// issueUserTokens mints the access token (and ID and refresh tokens when
// openid and offline_access were granted) for a signed-in user.
func (t *Tenant) issueUserTokens(client Client, userID, scope, audience, nonce, sid string, authTime time.Time, amr []string, refreshToken string) (*tokenResponse, *oauthError) {
	t.mu.RLock()
	u := t.userByID(userID)
	var name, email string
	if u != nil {
		name, email = u.name, u.email
	}
	t.mu.RUnlock()
	if u == nil {
		return nil, &oauthError{status: http.StatusForbidden, code: "invalid_grant", description: "The user no longer exists"}
	}
	now := t.now()
	scopes := strings.Fields(scope)
	lifetime := apiTokenLifetime
	aud := jwt.Audience{t.userinfoAudience()}
	if audience != "" {
		aud = jwt.Audience{audience, t.userinfoAudience()}
		if audience == t.MFAAudience() {
			lifetime = t.mfaTTL
		}
	}
	access, err := t.keys.sign(accessClaims{
		Claims: jwt.Claims{Issuer: t.Issuer(), Subject: userID, Audience: aud,
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(lifetime))},
		Scope: scope, AZP: client.ID,
	})
	if err != nil {
		return nil, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "signing failed"}
	}
	resp := &tokenResponse{AccessToken: access, Scope: scope, ExpiresIn: int(lifetime / time.Second), TokenType: "Bearer"}
	if slices.Contains(scopes, "openid") {
		claims := idClaims{
			Claims: jwt.Claims{Issuer: t.Issuer(), Subject: userID, Audience: jwt.Audience{client.ID},
				IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(idTokenLifetime))},
			Nonce: nonce, AuthTime: authTime.Unix(), AMR: amr, AZP: client.ID, SID: sid,
		}
		if slices.Contains(scopes, "profile") {
			claims.Name, claims.Nickname = name, nickname(email)
		}
		if slices.Contains(scopes, "email") {
			verified := true
			claims.Email, claims.EmailVerified = email, &verified
		}
		if resp.IDToken, err = t.keys.sign(claims); err != nil {
			return nil, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "signing failed"}
		}
	}
	if slices.Contains(scopes, "offline_access") {
		if refreshToken == "" {
			refreshToken = "v1." + randomString(alnum, 64)
			t.mu.Lock()
			t.refresh[refreshToken] = &refreshGrant{clientID: client.ID, userID: userID, scope: scope,
				audience: audience, sid: sid, authTime: authTime, amr: amr}
			t.mu.Unlock()
		}
		resp.RefreshToken = refreshToken
	}
	return resp, nil
}

// clientCredentials issues a Management API token for the M2M client's grant.
func (t *Tenant) clientCredentials(client Client, params url.Values) (*tokenResponse, *oauthError) {
	audience := params.Get("audience")
	forbidden := func(desc string) *oauthError {
		return &oauthError{status: http.StatusForbidden, code: "access_denied", description: desc}
	}
	switch audience {
	case "":
		return nil, forbidden("No audience parameter was provided, and no default audience has been configured")
	case t.ManagementAudience():
	case t.MFAAudience():
		return nil, forbidden(`Client is not authorized to access "` + audience + `". You need to create a "client-grant" associated to this API.`)
	default:
		return nil, forbidden("Service not found: " + audience)
	}
	granted := client.Scopes
	if requested := strings.Fields(params.Get("scope")); len(requested) > 0 {
		var missing []string
		for _, s := range requested {
			if !slices.Contains(client.Scopes, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			return nil, forbidden("Client has not been granted scopes: " + strings.Join(missing, ", "))
		}
		granted = requested
	}
	now := t.now()
	access, err := t.keys.sign(accessClaims{
		Claims: jwt.Claims{Issuer: t.Issuer(), Subject: client.ID + "@clients", Audience: jwt.Audience{audience},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(apiTokenLifetime))},
		Scope: strings.Join(granted, " "), AZP: client.ID, GTY: "client-credentials",
	})
	if err != nil {
		return nil, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "signing failed"}
	}
	// The recorded client_credentials answer carries no scope field.
	return &tokenResponse{AccessToken: access, ExpiresIn: int(apiTokenLifetime / time.Second), TokenType: "Bearer"}, nil
}
