package auth0emu

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
)

// Enrolment through the MFA API, as Auth0's "manage authenticators" flow
// does it: POST /mfa/associate with an access token for the /mfa/ audience
// carrying the enroll scope, then the mfa-otp or mfa-oob grant at
// /oauth/token with that same token as mfa_token. The answers' shapes are
// the recordings' (TestMFAAddAuthenticator__*, TestMFAVerifyWith*); what
// they leave open is written down in README.md ("Enrolment").
const (
	grantMFAOTP = auth0GrantPrefix + "mfa-otp"
	grantMFAOOB = auth0GrantPrefix + "mfa-oob"

	// enrolmentLifetime bounds an unconfirmed association (assumed: the
	// recorded oob_code is an Iron token whose lifetime is not published).
	enrolmentLifetime = 5 * time.Minute
	// maxPendingEnrolments is the assumed limit on a user's unconfirmed
	// associations; the next one is refused until one is confirmed or
	// expires.
	maxPendingEnrolments = 5
	// maxConfirmAttempts wrong codes end an association.
	maxConfirmAttempts = 5
	maxAssociateBody   = 16 << 10
)

// e164 is Auth0's phone_number format: "+", a country code, up to 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// pendingEnrolment is an association awaiting confirmation. Its factor is
// already in the user's list, inactive, as Auth0 lists it.
type pendingEnrolment struct {
	userID   string
	factor   *factorRecord
	channel  string // otp, sms, voice, email, auth0
	oobCode  string // oob channels: what the grant presents
	sent     string // sms, voice, email: the binding code "sent"
	recovery string // the first enrolment's recovery code
	expires  time.Time
	attempts int
	push     string // auth0: "", "approved" or "denied"
}

// associateRequest is the JSON body of POST /mfa/associate.
type associateRequest struct {
	AuthenticatorTypes []string `json:"authenticator_types"`
	OOBChannels        []string `json:"oob_channels"`
	PhoneNumber        string   `json:"phone_number"`
	Email              string   `json:"email"`
	ClientID           string   `json:"client_id"`
	ClientSecret       string   `json:"client_secret"`
}

// associateResponse is the recorded answer; fields absent for a channel
// are omitted as in the recordings.
type associateResponse struct {
	AuthenticatorType string   `json:"authenticator_type"`
	Secret            string   `json:"secret,omitempty"`
	BarcodeURI        string   `json:"barcode_uri,omitempty"`
	BindingMethod     string   `json:"binding_method,omitempty"`
	RecoveryCodes     []string `json:"recovery_codes,omitempty"`
	OOBChannel        string   `json:"oob_channel,omitempty"`
	OOBCode           string   `json:"oob_code,omitempty"`
}

// handleAssociate serves "POST /mfa/associate".
func (t *Tenant) handleAssociate(w http.ResponseWriter, r *http.Request) {
	claims, ok := t.authorizeMFA(w, r, scopeEnroll)
	if !ok {
		return
	}
	var req associateRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAssociateBody))
	if err := dec.Decode(&req); err != nil {
		writeAuthError(w, http.StatusBadRequest, "invalid_request", "Invalid request body")
		return
	}
	if req.ClientID != "" && req.ClientID != claims.AZP {
		writeAuthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	channel, oerr := associateChannel(req)
	if oerr != nil {
		writeAuthError(w, oerr.status, oerr.code, oerr.description)
		return
	}
	if !t.factors.allows(channel) {
		// Assumed from Auth0's error vocabulary for the MFA API: a factor
		// the tenant switched off is an unsupported challenge type.
		writeAuthError(w, http.StatusBadRequest, "unsupported_challenge_type", "The factor is not enabled for this tenant")
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.userByID(claims.Subject)
	if u == nil {
		writeAuthError(w, http.StatusUnauthorized, "invalid_token", "The user no longer exists")
		return
	}
	t.expireEnrolments(now)
	if t.countPending(u.id) >= maxPendingEnrolments {
		writeAuthError(w, http.StatusTooManyRequests, "too_many_requests", "Too many pending enrollments. Confirm or wait for one to expire.")
		return
	}
	p := &pendingEnrolment{userID: u.id, channel: channel, expires: now.Add(enrolmentLifetime)}
	f := &factorRecord{suffix: randomString(alnum, 16), createdAt: now.UTC()}
	switch channel {
	case "otp":
		f.kind, f.secret = kindTOTP, randomString(base32Alphab, 32)
	case "auth0":
		f.kind, f.secret, f.twinSuffix = kindPush, randomString(base32Alphab, 32), randomString(alnum, 16)
	case "sms", "voice":
		f.kind, f.number, f.channels, f.preferred = kindPhone, req.PhoneNumber, []string{channel}, channel
	case "email":
		f.kind, f.address = kindEmail, strings.TrimSpace(req.Email)
	}
	p.factor = f
	resp := associateResponse{AuthenticatorType: "oob", OOBChannel: channel}
	if channel == "otp" {
		resp = associateResponse{AuthenticatorType: "otp", Secret: f.secret, BarcodeURI: t.barcodeURI(u,
			"secret", f.secret, "issuer", t.issuerName(), "algorithm", "SHA1", "digits", "6", "period", "30")}
	} else {
		p.oobCode = "Fe26.2*emulated*" + randomString(alnum, 64)
		resp.OOBCode = p.oobCode
		if channel == "auth0" {
			resp.BarcodeURI = t.barcodeURI(u, "enrollment_tx_id", randomString(alnum, 32), "base_url", t.baseURL)
		} else {
			p.sent = randomString(digits, oobCodeDigits)
			resp.BindingMethod = "prompt"
		}
	}
	// The first enrolment brings the user's recovery code, as the docs
	// and the SMS recording show; it is kept only once confirmed. A user
	// who has a method already (Bob: an app, no recovery code) gets none.
	if u.firstEnrolment() && !t.hasPendingRecovery(u.id) {
		p.recovery = newRecoveryCode()
		resp.RecoveryCodes = []string{p.recovery}
	}
	u.factors = append(u.factors, f)
	u.refreshList()
	t.pending[p.key()] = p
	writeJSON(w, http.StatusOK, resp)
}

// associateChannel validates what to enrol and names its channel.
func associateChannel(req associateRequest) (string, *oauthError) {
	switch {
	case slices.Equal(req.AuthenticatorTypes, []string{"otp"}):
		return "otp", nil
	case !slices.Equal(req.AuthenticatorTypes, []string{"oob"}):
		return "", badRequest("invalid_request", "authenticator_types must be [\"otp\"] or [\"oob\"]")
	case len(req.OOBChannels) != 1:
		return "", badRequest("invalid_request", "oob_channels must name one channel")
	}
	switch ch := req.OOBChannels[0]; ch {
	case "auth0":
		return ch, nil
	case "sms", "voice":
		if !e164.MatchString(req.PhoneNumber) {
			return "", badRequest("invalid_request", "phone_number must be in E.164 format")
		}
		return ch, nil
	case "email":
		if a := strings.TrimSpace(req.Email); a == "" || len(a) > 254 || !strings.Contains(a, "@") {
			return "", badRequest("invalid_request", "email is required")
		}
		return ch, nil
	}
	return "", badRequest("unsupported_challenge_type", "Unsupported oob_channel")
}

// key is where the association is kept: the oob_code, or for an OTP
// association (which the grant finds by user) its factor's id.
func (p *pendingEnrolment) key() string {
	if p.oobCode != "" {
		return p.oobCode
	}
	return p.factor.primaryID()
}

// barcodeURI is the otpauth URI in the recordings' order and escaping:
// "otpauth://totp/My%20Test%20Tenant:user%40example.com?secret=…&issuer=…".
func (t *Tenant) barcodeURI(u *userRecord, pairs ...string) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var b strings.Builder
	b.WriteString("otpauth://totp/" + esc(t.issuerName()) + ":" + esc(u.email) + "?")
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pairs[i] + "=" + esc(pairs[i+1]))
	}
	return b.String()
}

// issuerName is the tenant's friendly name in authenticator apps.
func (t *Tenant) issuerName() string { return "Emulated tenant" }

// expireEnrolments drops lapsed associations and their inactive factors;
// callers hold the write lock.
func (t *Tenant) expireEnrolments(now time.Time) {
	for k, p := range t.pending {
		if now.After(p.expires) {
			t.dropEnrolment(k, p)
		}
	}
}

func (t *Tenant) dropEnrolment(key string, p *pendingEnrolment) {
	delete(t.pending, key)
	if u := t.userByID(p.userID); u != nil && !p.factor.active {
		u.removeFactor(p.factor)
	}
}

// forgetPendingOf drops the association of f, removed before it was
// confirmed, so its code confirms nothing; callers hold the write lock.
func (t *Tenant) forgetPendingOf(f *factorRecord) {
	for k, p := range t.pending {
		if p.factor == f {
			delete(t.pending, k)
		}
	}
}

// firstEnrolment reports whether u has no active method yet (a verified
// email is no enrolment).
func (u *userRecord) firstEnrolment() bool {
	for _, f := range u.factors {
		if f.active && !f.verifiedOnly {
			return false
		}
	}
	return true
}

func (t *Tenant) countPending(userID string) int {
	n := 0
	for _, p := range t.pending {
		if p.userID == userID {
			n++
		}
	}
	return n
}

func (t *Tenant) hasPendingRecovery(userID string) bool {
	for _, p := range t.pending {
		if p.userID == userID && p.recovery != "" {
			return true
		}
	}
	return false
}

// confirmEnrolment serves the mfa-otp and mfa-oob grants for an
// association made with the access token presented as mfa_token.
func (t *Tenant) confirmEnrolment(client Client, grant string, params url.Values) (*tokenResponse, *oauthError) {
	claims, err := t.verifyAccessToken(params.Get("mfa_token"), t.MFAAudience())
	if err != nil {
		return nil, &oauthError{status: http.StatusForbidden, code: "invalid_grant", description: "Malformed mfa_token"}
	}
	if claims.AZP != client.ID {
		return nil, &oauthError{status: http.StatusForbidden, code: "invalid_grant", description: "mfa_token was issued to another client"}
	}
	now := t.now()
	t.mu.Lock()
	t.expireEnrolments(now)
	p, oerr := t.matchEnrolment(claims.Subject, grant, params, now)
	if oerr != nil {
		t.mu.Unlock()
		return nil, oerr
	}
	u := t.userByID(p.userID)
	delete(t.pending, p.key())
	p.factor.active = true
	p.factor.enrolledAt, p.factor.lastAuthAt = now.UTC(), now.UTC()
	if p.recovery != "" && u.recovery() == nil {
		u.factors = append(u.factors, &factorRecord{kind: kindRecovery, suffix: randomString(alnum, 16), active: true,
			code: p.recovery, createdAt: now.UTC()})
	}
	u.refreshList()
	t.mu.Unlock()
	return t.issueUserTokens(client, claims.Subject, claims.Scope, t.MFAAudience(), "", "", now, []string{"mfa"}, "")
}

// matchEnrolment finds the user's association the grant confirms and
// checks its code; callers hold the write lock.
func (t *Tenant) matchEnrolment(userID, grant string, params url.Values, now time.Time) (*pendingEnrolment, *oauthError) {
	invalid := func(what string) *oauthError {
		return &oauthError{status: http.StatusForbidden, code: "invalid_grant", description: "Invalid " + what + "."}
	}
	if grant == grantMFAOTP {
		otpCode := params.Get("otp")
		if otpCode == "" {
			return nil, badRequest("invalid_request", "Missing required parameter: otp")
		}
		var candidates []*pendingEnrolment
		for _, p := range t.pending {
			if p.userID == userID && p.channel == "otp" {
				candidates = append(candidates, p)
			}
		}
		if len(candidates) == 0 {
			return nil, invalid("otp_code")
		}
		for _, p := range candidates {
			if ok, err := totp.ValidateCustom(otpCode, p.factor.secret, now, totpOpts); err == nil && ok {
				return p, nil
			}
		}
		for _, p := range candidates {
			t.failAttempt(p)
		}
		return nil, invalid("otp_code")
	}
	p := t.pending[params.Get("oob_code")]
	if p == nil || p.userID != userID {
		return nil, invalid("oob_code")
	}
	switch p.push {
	case "denied":
		t.dropEnrolment(p.key(), p)
		return nil, badRequest("access_denied", "MFA Authorization rejected.")
	case "approved":
		return p, nil
	}
	if p.channel == "auth0" {
		return nil, badRequest("authorization_pending", "Authorization pending: please repeat the request in a few seconds.")
	}
	binding := params.Get("binding_code")
	if binding == "" {
		return nil, badRequest("invalid_request", "Missing required parameter: binding_code")
	}
	if binding != p.sent {
		t.failAttempt(p)
		return nil, invalid("binding_code")
	}
	return p, nil
}

// failAttempt counts a wrong code; the last allowed one ends the
// association so it cannot be guessed.
func (t *Tenant) failAttempt(p *pendingEnrolment) {
	p.attempts++
	if p.attempts >= maxConfirmAttempts {
		t.dropEnrolment(p.key(), p)
	}
}

// PendingEnrolment is an unconfirmed association as the emulator's test
// page shows it: what a real tenant would have sent, and where.
type PendingEnrolment struct {
	UserID      string
	Channel     string // otp, sms, voice, email, auth0
	Destination string // the phone number or address
	SentCode    string // sms, voice, email
	OOBCode     string
}

// PendingEnrolments lists the unconfirmed associations of userID ("" for
// every user), oldest expiry first.
func (t *Tenant) PendingEnrolments(userID string) []PendingEnrolment {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireEnrolments(t.now())
	var ps []*pendingEnrolment
	for _, p := range t.pending {
		if userID == "" || p.userID == userID {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *pendingEnrolment) int {
		return cmp.Or(a.expires.Compare(b.expires), strings.Compare(a.key(), b.key()))
	})
	out := make([]PendingEnrolment, 0, len(ps))
	for _, p := range ps {
		out = append(out, PendingEnrolment{UserID: p.userID, Channel: p.channel, Destination: cmpOr(p.factor.number, p.factor.address),
			SentCode: p.sent, OOBCode: p.oobCode})
	}
	return out
}

// AnswerPush approves or denies a pending Guardian enrolment, as the
// device would after scanning its QR code. device names the phone.
func (t *Tenant) AnswerPush(oobCode string, approve bool, device string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pending[oobCode]
	if p == nil || p.channel != "auth0" || p.push != "" {
		return false
	}
	p.push = "denied"
	if approve {
		p.push = "approved"
		p.factor.device, p.factor.name = device, device
		if u := t.userByID(p.userID); u != nil {
			u.refreshList()
		}
	}
	return true
}
