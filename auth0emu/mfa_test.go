package auth0emu

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var signatureAlgs = []jose.SignatureAlgorithm{jose.RS256}

var devID = regexp.MustCompile(`^(totp|push|sms|voice|email|recovery-code)\|dev_[A-Za-z0-9]{16}$`)

func TestAliceAuthenticators(t *testing.T) {
	e := newEnv(t)
	list := e.tenant.Authenticators("auth0|alice")
	if len(list) != 9 {
		t.Fatalf("got %d authenticators: %+v", len(list), list)
	}
	suffix := func(id string) string { _, s, _ := strings.Cut(id, "_"); return s }
	var push, twin, sms, voice Authenticator
	counts := map[string]int{}
	for _, a := range list {
		if !devID.MatchString(a.ID) {
			t.Errorf("id %q does not look like Auth0's", a.ID)
		}
		kind, _, _ := strings.Cut(a.ID, "|")
		counts[kind]++
		switch {
		case kind == "push":
			push = a
		case kind == "sms":
			sms = a
		case kind == "voice":
			voice = a
		}
	}
	// The OTP twin has a suffix of its own, as in Auth0's recorded list:
	// only the tenant (its Management API) says which totp it is.
	twinID := e.tenant.MemberIDs("auth0|alice", push.ID)[1]
	for _, a := range list {
		if a.ID == twinID {
			twin = a
		}
	}
	if suffix(twinID) == suffix(push.ID) {
		t.Errorf("push %s and its twin %s share a suffix; Auth0's do not", push.ID, twinID)
	}
	want := map[string]int{"totp": 3, "push": 1, "sms": 1, "voice": 1, "email": 2, "recovery-code": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s count = %d, want %d", k, counts[k], n)
		}
	}
	if push.OOBChannel != "auth0" || push.AuthenticatorType != "oob" || push.Name != "Alice's iPhone" || !push.Active {
		t.Errorf("push = %+v", push)
	}
	if twin.ID == "" || twin.AuthenticatorType != "otp" || twin.Name != "" {
		t.Errorf("push twin = %+v", twin)
	}
	if suffix(sms.ID) != suffix(voice.ID) || sms.Name != "XXXXXXXX9167" || sms.OOBChannel != "sms" || voice.OOBChannel != "voice" {
		t.Errorf("sms %+v voice %+v", sms, voice)
	}
	var verified, enrolled, recovery, inactive int
	for _, a := range list {
		switch {
		case a.ID == e.tenant.MethodID("auth0|alice", "email-verification"):
			verified++
			if a.Name != "alic****@exam*******" || a.OOBChannel != "email" {
				t.Errorf("verified email = %+v", a)
			}
		case strings.HasPrefix(a.ID, "email|dev_"):
			enrolled++
			if a.Name != "alic****@exam*******" {
				t.Errorf("enrolled email = %+v", a)
			}
		case a.AuthenticatorType == "recovery-code":
			recovery++
			if a.Name != "" || a.OOBChannel != "" {
				t.Errorf("recovery = %+v", a)
			}
		}
		if !a.Active {
			inactive++
		}
	}
	if verified != 1 || enrolled != 1 || recovery != 1 || inactive != 1 {
		t.Errorf("verified %d enrolled %d recovery %d inactive %d", verified, enrolled, recovery, inactive)
	}
	// Stable across restarts: ids derive from the seed.
	if again := newEnv(t).tenant.Authenticators("auth0|alice"); again[0].ID != list[0].ID {
		t.Errorf("ids changed across tenants: %s vs %s", again[0].ID, list[0].ID)
	}
}

func TestListAuthenticatorsAuth(t *testing.T) {
	e := newEnv(t)
	foreignKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: foreignKey}, nil)
	forged, _ := jwt.Signed(signer).Claims(accessClaims{Claims: jwt.Claims{Issuer: e.tenant.Issuer(), Subject: "auth0|alice",
		Audience: jwt.Audience{e.tenant.MFAAudience()}, Expiry: jwt.NewNumericDate(time.Now().Add(time.Hour))}, Scope: scopeReadAuthenticators}).Serialize()
	expired, _ := e.tenant.MintAccessToken("auth0|alice", e.tenant.MFAAudience(), []string{scopeReadAuthenticators}, -time.Second)
	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantError  string
	}{
		{"no token", "", 401, "invalid_token"},
		{"garbage", "not.a.jwt", 401, "invalid_token"},
		{"forged signature", forged, 401, "invalid_token"},
		{"expired", expired, 401, "invalid_token"},
		{"management audience", e.mgmtToken(scopeReadAuthenticators), 401, "invalid_token"},
		{"missing scope", e.mfaToken("auth0|alice", scopeRemoveAuthenticators), 403, "insufficient_scope"},
		{"ok", e.mfaToken("auth0|alice", scopeReadAuthenticators), 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := e.call(http.MethodGet, "/mfa/authenticators", tc.token, nil)
			if tc.wantError != "" {
				wantAuthError(t, status, body, tc.wantStatus, tc.wantError)
				return
			}
			if status != tc.wantStatus {
				t.Fatalf("status %d: %s", status, body)
			}
			var got []Authenticator
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if want, _ := json.Marshal(e.tenant.Authenticators("auth0|alice")); string(want) != string(body) {
				t.Fatalf("body %s\nwant %s", body, want)
			}
			if h.Get("Content-Type") != "application/json; charset=utf-8" || h.Get("X-Ratelimit-Limit") == "" {
				t.Fatalf("headers %v", h)
			}
		})
	}
	t.Run("expires by the tenant clock", func(t *testing.T) {
		tok := e.mfaToken("auth0|alice", scopeReadAuthenticators)
		e.clock.Advance(11 * time.Minute)
		status, _, body := e.call(http.MethodGet, "/mfa/authenticators", tok, nil)
		wantAuthError(t, status, body, 401, "invalid_token")
	})
}

func TestDeleteAuthenticator(t *testing.T) {
	idOf := func(list []Authenticator, prefix string) string {
		for _, a := range list {
			if strings.HasPrefix(a.ID, prefix) {
				return a.ID
			}
		}
		return ""
	}
	var tenant *Tenant // set per case below
	pushTwin := func(list []Authenticator) string { return tenant.MemberIDs("auth0|alice", idOf(list, "push|"))[1] }
	enrolledEmail := func([]Authenticator) string { return tenant.MethodID("auth0|alice", "email") }
	verifiedEmail := func([]Authenticator) string { return tenant.MethodID("auth0|alice", "email-verification") }
	tests := []struct {
		name       string
		pick       func([]Authenticator) string
		wantStatus int
		wantGone   []string // id prefixes (or exact ids) that disappear
		wantError  string
	}{
		{"push takes its otp twin", func(l []Authenticator) string { return idOf(l, "push|") }, 204, []string{"push|"}, ""},
		{"otp twin takes push", pushTwin, 204, []string{"push|"}, ""},
		{"sms takes voice", func(l []Authenticator) string { return idOf(l, "sms|") }, 204, []string{"sms|", "voice|"}, ""},
		{"voice takes sms", func(l []Authenticator) string { return idOf(l, "voice|") }, 204, []string{"sms|", "voice|"}, ""},
		{"enrolled email", enrolledEmail, 204, nil, ""},
		{"recovery code", func(l []Authenticator) string { return idOf(l, "recovery-code|") }, 204, []string{"recovery-code|"}, ""},
		{"verified email refuses", verifiedEmail, 400, nil, "invalid_request"},
		{"security key is not the MFA API's", func([]Authenticator) string { return tenant.MethodID("auth0|alice", "webauthn-roaming") }, 404, nil, "not_found"},
		{"unknown id", func([]Authenticator) string { return "totp|dev_AAAAAAAAAAAAAAAA" }, 404, nil, "not_found"},
		{"management phone id", func(l []Authenticator) string { return "phone|" + strings.SplitN(idOf(l, "sms|"), "|", 2)[1] }, 404, nil, "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tenant = e.tenant
			before := e.tenant.Authenticators("auth0|alice")
			id := tc.pick(before)
			twinID := pushTwin(before)
			status, _, body := e.call(http.MethodDelete, "/mfa/authenticators/"+strings.ReplaceAll(id, "|", "%7C"), e.mfaToken("auth0|alice", scopeRemoveAuthenticators), nil)
			if tc.wantError != "" {
				wantAuthError(t, status, body, tc.wantStatus, tc.wantError)
				if len(e.tenant.Authenticators("auth0|alice")) != len(before) {
					t.Fatal("a refused delete changed the list")
				}
				return
			}
			if status != tc.wantStatus || len(body) != 0 {
				t.Fatalf("status %d body %q", status, body)
			}
			after := e.tenant.Authenticators("auth0|alice")
			if _, still := findAuthenticator(after, id); still {
				t.Fatalf("%s still listed", id)
			}
			for _, gone := range tc.wantGone {
				if idOf(after, gone) != "" {
					t.Fatalf("%s* still listed: %+v", gone, after)
				}
			}
			if tc.name == "push takes its otp twin" || tc.name == "otp twin takes push" {
				if _, twin := findAuthenticator(after, twinID); twin {
					t.Fatal("otp twin survived")
				}
				if len(after) != len(before)-2 {
					t.Fatalf("removed %d entries, want 2", len(before)-len(after))
				}
			}
		})
	}
	t.Run("another user's id", func(t *testing.T) {
		e := newEnv(t)
		bobs := e.tenant.Authenticators("auth0|bob")[0].ID
		status, _, body := e.call(http.MethodDelete, "/mfa/authenticators/"+bobs, e.mfaToken("auth0|alice", scopeRemoveAuthenticators), nil)
		wantAuthError(t, status, body, 404, "not_found")
		if len(e.tenant.Authenticators("auth0|bob")) != 1 {
			t.Fatal("bob lost a factor")
		}
	})
	t.Run("needs remove scope", func(t *testing.T) {
		e := newEnv(t)
		id := e.tenant.Authenticators("auth0|bob")[0].ID
		status, _, body := e.call(http.MethodDelete, "/mfa/authenticators/"+id, e.mfaToken("auth0|bob", scopeReadAuthenticators), nil)
		wantAuthError(t, status, body, 403, "insufficient_scope")
	})
	t.Run("needs a token", func(t *testing.T) {
		e := newEnv(t)
		id := e.tenant.Authenticators("auth0|bob")[0].ID
		status, _, body := e.call(http.MethodDelete, "/mfa/authenticators/"+id, "", nil)
		wantAuthError(t, status, body, 401, "invalid_token")
	})
}

func TestTOTPCode(t *testing.T) {
	e := newEnv(t)
	code, err := e.tenant.TOTPCode("auth0|bob")
	want, _ := totpAt(DemoBobTOTPSecret, e.clock.Now())
	if err != nil || code != want {
		t.Fatalf("TOTPCode = %q, %v; want %q", code, err, want)
	}
	if _, err := e.tenant.TOTPCode("auth0|carol"); err == nil {
		t.Fatal("carol has no TOTP but got a code")
	}
	if _, err := e.tenant.TOTPCode("nobody"); err == nil {
		t.Fatal("unknown user got a code")
	}
}

func TestMasks(t *testing.T) {
	for in, want := range map[string]string{
		"foo@example.com":      "****@exam*******",
		"chuck334@example.com": "chuc****@exam*******",
		"ü@a.io":               "****@****",
	} {
		if got := maskEmail(in); got != want {
			t.Errorf("maskEmail(%q) = %q, want %q", in, got, want)
		}
	}
	if got := maskPhone("+44207183875044"); got != "XXXXXXXXXXX5044" {
		t.Errorf("maskPhone = %q", got)
	}
}
