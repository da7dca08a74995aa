package auth0emu

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Factor kinds as the seed file names them.
const (
	kindTOTP     = "totp"
	kindPush     = "push"
	kindPhone    = "phone"
	kindEmail    = "email"
	kindRecovery = "recovery-code"
	// Security keys and passkeys: the Management API lists them; the MFA
	// API (/mfa/authenticators) does not know them.
	kindWebAuthnRoaming  = "webauthn-roaming"
	kindWebAuthnPlatform = "webauthn-platform"
	kindPasskey          = "passkey"
)

// isWebAuthn reports whether kind is a security key or passkey.
func isWebAuthn(kind string) bool {
	return kind == kindWebAuthnRoaming || kind == kindWebAuthnPlatform || kind == kindPasskey
}

// userRecord is a user's live state. Fields are guarded by Tenant.mu.
type userRecord struct {
	id, email, password, name string
	factors                   []*factorRecord
	// listJSON is the GET /mfa/authenticators body, rebuilt on every change
	// so the hot path only copies bytes.
	listJSON []byte
}

// factorRecord is one enrolment. A push enrolment also answers as its OTP
// twin and a phone enrolment as one sms and/or voice authenticator: Auth0
// lists and deletes those together, so they are one record here.
type factorRecord struct {
	kind   string
	suffix string // the part after "dev_"
	// twinSuffix is a push enrolment's OTP twin's own suffix: Auth0's
	// recorded list has push|dev_BBTKYpxKHOXVBnql beside a totp with
	// another suffix, so nothing pairs them by the shape of an id.
	twinSuffix   string
	active       bool
	verifiedOnly bool
	secret       string // totp, push twin
	device       string
	number       string
	channels     []string
	preferred    string // phone: sms or voice
	address      string
	code         string // recovery code
	name         string
	keyID        string // webauthn: the credential id
	userAgent    string // passkey: the browser that made it
	createdAt    time.Time
	enrolledAt   time.Time
	lastAuthAt   time.Time
}

func newUserRecord(u User, created time.Time) *userRecord {
	rec := &userRecord{id: u.UserID, email: u.Email, password: u.Password, name: cmpOr(u.Name, u.Email)}
	for i, f := range u.Factors {
		rec.factors = append(rec.factors, newFactorRecord(u.UserID, i, f, created))
	}
	rec.refreshList()
	return rec
}

func newFactorRecord(userID string, index int, f Factor, created time.Time) *factorRecord {
	fr := &factorRecord{
		kind:         f.Type,
		suffix:       stableSuffix(userID, index, f.Type),
		active:       f.Active == nil || *f.Active,
		verifiedOnly: f.VerifiedOnly,
		secret:       strings.ToUpper(f.Secret),
		device:       f.Device,
		number:       f.Number,
		channels:     slices.Clone(f.Channels),
		address:      f.Address,
		code:         normalizeRecoveryCode(f.Code),
		name:         f.Name,
		userAgent:    f.UserAgent,
		createdAt:    cmpOr(f.CreatedAt, created).UTC(),
		lastAuthAt:   f.LastAuthAt.UTC(),
	}
	// Auth0's recorded methods carry no enrolled_at: only a seed that
	// sets it makes the emulator send it.
	fr.enrolledAt = f.EnrolledAt.UTC()
	switch fr.kind {
	case kindTOTP, kindPush:
		if fr.secret == "" {
			fr.secret = randomString(base32Alphab, 32)
		}
		if fr.kind == kindPush {
			fr.twinSuffix = stableSuffix(userID, index, "push otp twin")
			if fr.name == "" {
				fr.name = fr.device
			}
		}
	case kindWebAuthnRoaming, kindWebAuthnPlatform, kindPasskey:
		fr.keyID = base64.RawURLEncoding.EncodeToString([]byte(stableSuffix(userID, index, "credential") + stableSuffix(userID, index, "id")))
	case kindPhone:
		if len(fr.channels) == 0 {
			fr.channels = []string{"sms"}
		}
		fr.preferred = fr.channels[0]
	case kindRecovery:
		if fr.code == "" {
			fr.code = newRecoveryCode()
		}
	}
	return fr
}

// stableSuffix derives a 16-character id suffix from the seed position, so
// the same users file yields the same authenticator ids on every start.
func stableSuffix(userID string, index int, kind string) string {
	sum := sha256.Sum256([]byte(userID + "\x00" + kind + "\x00" + string(rune('A'+index%26)) + strings.Repeat("#", index/26)))
	out := make([]byte, 16)
	for i := range out {
		out[i] = alnum[int(sum[i])%len(alnum)]
	}
	return string(out)
}

func newRecoveryCode() string { return randomString(upperAlnum, 24) }

// normalizeRecoveryCode lets people type the code with spaces, dashes or
// lower case, as Auth0's page does.
func normalizeRecoveryCode(s string) string {
	s = strings.ToUpper(s)
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, s)
}

// ids returns every authenticator id that names this enrolment.
func (f *factorRecord) ids() []string {
	switch f.kind {
	case kindPush:
		return []string{"push|dev_" + f.suffix, "totp|dev_" + f.twinSuffix}
	case kindPhone:
		ids := []string{"phone|dev_" + f.suffix}
		for _, ch := range f.channels {
			ids = append(ids, ch+"|dev_"+f.suffix)
		}
		return ids
	}
	// A verified-only email has an ordinary email|dev_… id: only the
	// Management API's type (email-verification) tells it apart.
	return []string{f.kind + "|dev_" + f.suffix}
}

func (f *factorRecord) primaryID() string { return f.ids()[0] }

// hasOTP reports whether the enrolment accepts TOTP codes.
func (f *factorRecord) hasOTP() bool { return f.kind == kindTOTP || f.kind == kindPush }

// authenticators is the factor as GET /mfa/authenticators lists it.
func (f *factorRecord) authenticators() []Authenticator {
	switch f.kind {
	case kindTOTP:
		return []Authenticator{{ID: "totp|dev_" + f.suffix, AuthenticatorType: "otp", Active: f.active}}
	case kindPush:
		return []Authenticator{
			{ID: "push|dev_" + f.suffix, AuthenticatorType: "oob", Active: f.active, OOBChannel: "auth0", Name: f.device},
			{ID: "totp|dev_" + f.twinSuffix, AuthenticatorType: "otp", Active: f.active},
		}
	case kindPhone:
		var out []Authenticator
		for _, ch := range f.channels {
			out = append(out, Authenticator{ID: ch + "|dev_" + f.suffix, AuthenticatorType: "oob", Active: f.active, OOBChannel: ch, Name: maskPhone(f.number)})
		}
		return out
	case kindEmail:
		return []Authenticator{{ID: f.primaryID(), AuthenticatorType: "oob", Active: f.active, OOBChannel: "email", Name: maskEmail(f.address)}}
	case kindRecovery:
		return []Authenticator{{ID: f.primaryID(), AuthenticatorType: "recovery-code", Active: f.active}}
	}
	return nil
}

// maskPhone keeps the last four characters, as Auth0 shows "XXXXXXXXXXX5044"
// for "+44207183875044".
func maskPhone(n string) string {
	r := []rune(n)
	for i := 0; i < len(r)-4; i++ {
		r[i] = 'X'
	}
	return string(r)
}

// maskEmail follows the recorded masks: "chuck334@example.com" becomes
// "chuc****@exam*******" and "foo@example.com" becomes "****@exam*******".
func maskEmail(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return strings.Repeat("*", len([]rune(a)))
	}
	local, domain := []rune(a[:at]), []rune(a[at+1:])
	maskedLocal := "****"
	if len(local) > 4 {
		maskedLocal = string(local[:4]) + "****"
	}
	keep := min(4, len(domain))
	if len(domain) <= 4 {
		keep = 0
	}
	return maskedLocal + "@" + string(domain[:keep]) + strings.Repeat("*", len(domain)-keep)
}

// authenticators lists the user's factors the way the MFA API does,
// inactive ones included.
func (u *userRecord) authenticators() []Authenticator {
	out := []Authenticator{}
	for _, f := range u.factors {
		out = append(out, f.authenticators()...)
	}
	return out
}

// refreshList rebuilds the cached list body; callers hold the write lock.
func (u *userRecord) refreshList() {
	b, err := json.Marshal(u.authenticators())
	if err != nil {
		panic("auth0emu: marshal authenticators: " + err.Error()) // plain structs always marshal
	}
	u.listJSON = b
}

// findFactor returns the enrolment any of whose ids is id.
func (u *userRecord) findFactor(id string) *factorRecord {
	for _, f := range u.factors {
		if slices.Contains(f.ids(), id) {
			return f
		}
	}
	return nil
}

// removeFactor deletes f (and so its twin ids) from the user.
func (u *userRecord) removeFactor(f *factorRecord) {
	u.factors = slices.DeleteFunc(u.factors, func(g *factorRecord) bool { return g == f })
	u.refreshList()
}

// recovery returns the user's recovery code enrolment, or nil.
func (u *userRecord) recovery() *factorRecord {
	for _, f := range u.factors {
		if f.kind == kindRecovery {
			return f
		}
	}
	return nil
}

// regenerateRecovery replaces the recovery code (enrolling one if the user
// has none, as Auth0 does for a fresh user) and returns the new code.
func (u *userRecord) regenerateRecovery(now time.Time) string {
	f := u.recovery()
	if f == nil {
		f = &factorRecord{kind: kindRecovery, suffix: randomString(alnum, 16), active: true, createdAt: now.UTC()}
		u.factors = append(u.factors, f)
	}
	f.code = newRecoveryCode()
	u.refreshList()
	return f.code
}

// needsMFA reports whether signing in for the /mfa/ audience challenges the
// user: Auth0 does not challenge users whose only factors are emails.
func (u *userRecord) needsMFA() bool {
	for _, f := range u.factors {
		if f.active && (f.kind == kindTOTP || f.kind == kindPush || f.kind == kindPhone) {
			return true
		}
	}
	return false
}

func (u *userRecord) checkPassword(p string) bool {
	return subtle.ConstantTimeCompare([]byte(u.password), []byte(p)) == 1
}

// userByID returns the user; callers hold t.mu.
func (t *Tenant) userByID(id string) *userRecord { return t.users[id] }

// Authenticators returns exactly what GET /mfa/authenticators returns for
// the user, inactive entries included; nil for an unknown user.
func (t *Tenant) Authenticators(userID string) []Authenticator {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u := t.userByID(userID)
	if u == nil {
		return nil
	}
	return u.authenticators()
}

// RecoveryCode returns the user's current recovery code, or "".
func (t *Tenant) RecoveryCode(userID string) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u := t.userByID(userID)
	if u == nil || u.recovery() == nil {
		return ""
	}
	return u.recovery().code
}

// MethodID returns the Management API id of the user's first method of
// methodType as GET …/authentication-methods types it ("totp", "push",
// "phone", "email", "email-verification", "webauthn-roaming", …), or "".
// For tests, which must not guess ids from their shape.
func (t *Tenant) MethodID(userID, methodType string) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u := t.userByID(userID)
	if u == nil {
		return ""
	}
	for _, f := range u.factors {
		if v := f.view(); v.Type == methodType && f.active {
			return v.ID
		}
	}
	return ""
}

// MemberIDs returns every id of the enrolment that id names: the MFA API's
// ids and the Management API's, as Auth0 links them.
func (t *Tenant) MemberIDs(userID, id string) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u := t.userByID(userID)
	if u == nil {
		return nil
	}
	if f := u.findFactor(id); f != nil {
		return slices.Clone(f.ids())
	}
	return nil
}

// MethodState returns a method's name and preferred channel as the
// Management API states them; ok is false when the user has no such method.
// For tests that check what a change did at the tenant.
func (t *Tenant) MethodState(userID, methodID string) (name, preferred string, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	u := t.userByID(userID)
	if u == nil {
		return "", "", false
	}
	f := u.findFactor(methodID)
	if f == nil {
		return "", "", false
	}
	return f.name, f.preferred, true
}
