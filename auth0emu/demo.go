package auth0emu

import (
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Demo TOTP secrets, fixed so `go run . dev` can print them and a developer
// can add them to an authenticator app.
const (
	DemoAliceTOTPSecret    = "ALICEAPPTOTPSECRETDEMOKEYAAAAAAA"
	DemoAlicePushSecret    = "ALICEPUSHTWINSECRETDEMOKEYAAAAAA"
	DemoAliceOldTOTPSecret = "ALICEOLDTOTPSECRETDEMOKEYAAAAAAA"
	DemoBobTOTPSecret      = "BOBTOTPSECRETDEMOKEYAAAAAAAAAAAA"
	DemoDaveTOTPSecret     = "DAVETOTPSECRETDEMOKEYAAAAAAAAAAA"
	DemoAliceRecoveryCode  = "ALICERECOVERYCODE0000001"
)

func demoTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err) // constant input
	}
	return t
}

// DemoUsers returns the built-in users. Passwords are "<firstname>-demo-pass".
//   - alice@example.com: TOTP app, push with its OTP twin, phone (sms+voice),
//     a verified-only email, an enrolled email, a recovery code, an inactive
//     TOTP, a security key and a passkey;
//   - bob@example.com: TOTP only;
//   - carol@example.com: no factors;
//   - dave@example.com: a name with markup and Unicode, TOTP and sms.
func DemoUsers() []User {
	inactive := false
	return []User{
		{
			UserID: "auth0|alice", Email: "alice@example.com", Password: "alice-demo-pass", Name: "Alice Example",
			Factors: []Factor{
				{Type: kindTOTP, Secret: DemoAliceTOTPSecret, Name: "Authenticator app",
					CreatedAt: demoTime("2024-01-15T09:30:00Z"), LastAuthAt: demoTime("2025-06-01T08:00:00Z")},
				{Type: kindPush, Device: "Alice's iPhone", Secret: DemoAlicePushSecret,
					CreatedAt: demoTime("2024-03-02T14:05:00Z"), LastAuthAt: demoTime("2025-05-20T17:45:00Z")},
				{Type: kindPhone, Number: "+14155559167", Channels: []string{"sms", "voice"}, Name: "Work phone",
					CreatedAt: demoTime("2024-04-10T11:00:00Z")},
				{Type: kindEmail, Address: "alice@example.com", VerifiedOnly: true, CreatedAt: demoTime("2023-11-01T10:00:00Z")},
				{Type: kindEmail, Address: "alice.backup@example.com", Name: "Backup email", CreatedAt: demoTime("2024-05-05T12:00:00Z")},
				{Type: kindRecovery, Code: DemoAliceRecoveryCode, CreatedAt: demoTime("2024-01-15T09:31:00Z")},
				{Type: kindTOTP, Secret: DemoAliceOldTOTPSecret, Active: &inactive, Name: "Old phone",
					CreatedAt: demoTime("2023-12-24T18:00:00Z")},
				{Type: kindWebAuthnRoaming, Name: "YubiKey 5C",
					CreatedAt: demoTime("2024-09-12T16:20:00Z"), LastAuthAt: demoTime("2025-05-28T07:10:00Z")},
				{Type: kindPasskey, Name: "MacBook passkey", UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15",
					CreatedAt: demoTime("2025-02-03T10:45:00Z")},
			},
		},
		{
			UserID: "auth0|bob", Email: "bob@example.com", Password: "bob-demo-pass", Name: "Bob Example",
			Factors: []Factor{{Type: kindTOTP, Secret: DemoBobTOTPSecret, CreatedAt: demoTime("2024-02-20T08:15:00Z")}},
		},
		{UserID: "auth0|carol", Email: "carol@example.com", Password: "carol-demo-pass", Name: "Carol Example"},
		{
			UserID: "auth0|dave", Email: "dave@example.com", Password: "dave-demo-pass", Name: "Dave <b>Ünïcødé</b> 🛡",
			Factors: []Factor{
				{Type: kindTOTP, Secret: DemoDaveTOTPSecret, Name: "Clé <i>TOTP</i> ✓", CreatedAt: demoTime("2024-06-30T23:59:00Z")},
				{Type: kindPhone, Number: "+33612345678", Channels: []string{"sms"}, CreatedAt: demoTime("2024-07-01T00:01:00Z")},
			},
		},
	}
}

// usersFile is the JSON users file: {"users": [...]}.
type usersFile struct {
	Users []User `json:"users"`
}

// LoadUsers reads a users file strictly (unknown fields are errors) and
// validates it.
func LoadUsers(r io.Reader) ([]User, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f usersFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("auth0emu: users file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("auth0emu: users file: trailing data after the JSON object")
	}
	if f.Users == nil {
		return nil, errors.New(`auth0emu: users file: missing "users" array`)
	}
	if err := validateUsers(f.Users); err != nil {
		return nil, err
	}
	return f.Users, nil
}

var phoneNumber = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// validateUsers collects every problem of the seed users into one error.
func validateUsers(users []User) error {
	var problems []string
	ids, emails := map[string]bool{}, map[string]bool{}
	for i, u := range users {
		where := fmt.Sprintf("users[%d]", i)
		switch {
		case u.UserID == "":
			problems = append(problems, where+": user_id is required")
		case ids[u.UserID]:
			problems = append(problems, where+": duplicate user_id "+u.UserID)
		}
		ids[u.UserID] = true
		email := strings.ToLower(u.Email)
		switch {
		case !strings.Contains(u.Email, "@"):
			problems = append(problems, where+": email must be an address")
		case emails[email]:
			problems = append(problems, where+": duplicate email")
		}
		emails[email] = true
		if u.Password == "" {
			problems = append(problems, where+": password is required")
		}
		if !utf8.ValidString(u.Name) {
			problems = append(problems, where+": name must be valid UTF-8")
		}
		recoveryCodes := 0
		for j, f := range u.Factors {
			if f.Type == kindRecovery {
				recoveryCodes++
			}
			for _, p := range validateFactor(f) {
				problems = append(problems, fmt.Sprintf("%s.factors[%d]: %s", where, j, p))
			}
		}
		if recoveryCodes > 1 {
			problems = append(problems, where+": at most one recovery-code factor")
		}
	}
	if len(problems) > 0 {
		return errors.New("auth0emu: invalid users:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

func validateFactor(f Factor) []string {
	var p []string
	if utf8.RuneCountInString(f.Name) > maxMethodNameLength {
		p = append(p, "name must be at most 20 characters")
	}
	unexpected := func(field string, set bool) {
		if set {
			p = append(p, field+" does not apply to type "+f.Type)
		}
	}
	switch f.Type {
	case kindTOTP, kindPush:
		if f.Secret != "" {
			if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(strings.ToUpper(f.Secret), "=")); err != nil || len(f.Secret) < 16 {
				p = append(p, "secret must be base32, at least 16 characters")
			}
		}
		unexpected("number", f.Number != "")
		unexpected("address", f.Address != "")
		unexpected("code", f.Code != "")
		if f.Type == kindTOTP {
			unexpected("device", f.Device != "")
		}
	case kindPhone:
		if !phoneNumber.MatchString(f.Number) {
			p = append(p, "number must be E.164, e.g. +14155550100")
		}
		seen := map[string]bool{}
		for _, ch := range f.Channels {
			if ch != "sms" && ch != "voice" || seen[ch] {
				p = append(p, "channels must be distinct values of sms, voice")
			}
			seen[ch] = true
		}
		unexpected("secret", f.Secret != "")
	case kindEmail:
		if !strings.Contains(f.Address, "@") {
			p = append(p, "address must be an email address")
		}
		unexpected("secret", f.Secret != "")
	case kindWebAuthnRoaming, kindWebAuthnPlatform, kindPasskey:
		unexpected("secret", f.Secret != "")
		unexpected("number", f.Number != "")
		unexpected("address", f.Address != "")
		unexpected("code", f.Code != "")
		unexpected("device", f.Device != "")
	case kindRecovery:
		if f.Code != "" {
			c := normalizeRecoveryCode(f.Code)
			if len(c) != 24 || strings.Trim(c, upperAlnum) != "" {
				p = append(p, "code must be 24 characters A-Z, 0-9")
			}
		}
		unexpected("secret", f.Secret != "")
	default:
		p = append(p, fmt.Sprintf("type %q must be one of totp, push, phone, email, recovery-code, webauthn-roaming, webauthn-platform, passkey", f.Type))
	}
	if f.VerifiedOnly && f.Type != kindEmail {
		p = append(p, "verified_only applies to email only")
	}
	if f.UserAgent != "" && f.Type != kindPasskey {
		p = append(p, "user_agent applies to passkey only")
	}
	if len(f.Channels) > 0 && f.Type != kindPhone {
		p = append(p, "channels apply to phone only")
	}
	return slices.Compact(p)
}
