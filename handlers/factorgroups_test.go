package handlers

import (
	"reflect"
	"strings"
	"testing"

	"mfaportal/mfaapi"
)

// summary is a group as a test reads it: kind, the id it is named by, how
// it is removed, and what Auth0 said about it.
func summary(g factorGroup) string {
	removal := map[removal]string{removeNone: "keep", removeMFA: "mfa:" + g.DeleteID, removeManagement: "mgmt:" + g.MethodID}[g.Removal]
	parts := []string{kindName(g.Kind), g.ID, removal}
	if g.HasOTPTwin {
		parts = append(parts, "with-otp")
	}
	if len(g.Channels) > 0 {
		parts = append(parts, strings.Join(g.Channels, "+"))
	}
	if g.Name != "" {
		parts = append(parts, "name="+g.Name)
	}
	if g.Masked != "" {
		parts = append(parts, "masked="+g.Masked)
	}
	if g.VerifiedOnly {
		parts = append(parts, "verified")
	}
	if g.Renamable {
		parts = append(parts, "renamable")
	}
	return strings.Join(parts, " ")
}

func summaries(groups []factorGroup) []string {
	var out []string
	for _, g := range groups {
		out = append(out, summary(g))
	}
	return out
}

// The MFA API list Auth0 recorded (TestMFAListAuthenticators.yaml), made
// active: its push and the totp beside it have different suffixes.
var recordedMFAList = []mfaapi.Authenticator{
	{ID: "sms|dev_klnv5yshzzoosSUm", AuthenticatorType: "oob", OOBChannel: "sms", Name: "XXXXXXXXX9167", Active: true},
	{ID: "recovery-code|dev_i1kgKoFSZLbPt6G1", AuthenticatorType: "recovery-code", Active: true},
	{ID: "push|dev_BBTKYpxKHOXVBnql", AuthenticatorType: "oob", OOBChannel: "auth0", Active: true},
	{ID: "totp|dev_WzMZ2sZbUw1wbC2F", AuthenticatorType: "otp", Active: true},
	{ID: "totp|dev_wLdxko6pjg6ziKL9", AuthenticatorType: "otp", Active: true},
	{ID: "email|dev_hdkmORJuqOmjRRQU", AuthenticatorType: "oob", OOBChannel: "email", Name: "****@exam*******", Active: true},
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func TestGroupFactors(t *testing.T) {
	tests := []struct {
		name     string
		auths    []mfaapi.Authenticator
		methods  []mfaapi.AuthMethod
		detailed bool
		want     []string
	}{
		{
			name:  "recorded list: the push's OTP twin is the totp Auth0 names, whatever its suffix",
			auths: recordedMFAList,
			methods: []mfaapi.AuthMethod{
				{ID: "push|dev_BBTKYpxKHOXVBnql", Type: "push", Confirmed: yes(), Name: "Pixel 8", AuthenticationMethods: []mfaapi.AuthMethodMember{
					{ID: "push|dev_BBTKYpxKHOXVBnql", Type: "push"}, {ID: "totp|dev_WzMZ2sZbUw1wbC2F", Type: "totp"}}},
				{ID: "totp|dev_wLdxko6pjg6ziKL9", Type: "totp", Confirmed: yes(), Name: "MyTotp"},
				{ID: "phone|dev_klnv5yshzzoosSUm", Type: "phone", Confirmed: yes(), PhoneNumber: "XXXXXXXXX9167", PreferredAuthenticationMethod: "sms",
					AuthenticationMethods: []mfaapi.AuthMethodMember{{ID: "sms|dev_klnv5yshzzoosSUm", Type: "sms"}}},
				{ID: "email|dev_hdkmORJuqOmjRRQU", Type: "email", Confirmed: yes(), Email: "****@exam*******"},
				{ID: "recovery-code|dev_i1kgKoFSZLbPt6G1", Type: "recovery-code", Confirmed: yes()},
			},
			detailed: true,
			want: []string{
				"app totp|dev_wLdxko6pjg6ziKL9 mfa:totp|dev_wLdxko6pjg6ziKL9 name=MyTotp renamable",
				"guardian push|dev_BBTKYpxKHOXVBnql mfa:push|dev_BBTKYpxKHOXVBnql with-otp name=Pixel 8",
				"phone sms|dev_klnv5yshzzoosSUm mfa:sms|dev_klnv5yshzzoosSUm sms masked=XXXXXXXXX9167 renamable",
				"email email|dev_hdkmORJuqOmjRRQU mfa:email|dev_hdkmORJuqOmjRRQU masked=****@exam******* renamable",
				"recovery-code recovery-code|dev_i1kgKoFSZLbPt6G1 keep",
			},
		},
		{
			name:  "recorded list without the Management API: every entry alone, no twin claimed, nothing to remove",
			auths: recordedMFAList,
			want: []string{
				"app totp|dev_WzMZ2sZbUw1wbC2F keep",
				"app totp|dev_wLdxko6pjg6ziKL9 keep",
				"guardian push|dev_BBTKYpxKHOXVBnql keep",
				"phone sms|dev_klnv5yshzzoosSUm keep sms masked=XXXXXXXXX9167",
				"email email|dev_hdkmORJuqOmjRRQU keep masked=****@exam*******",
				"recovery-code recovery-code|dev_i1kgKoFSZLbPt6G1 keep",
			},
		},
		{
			name: "methods linked by link_id are one group",
			auths: []mfaapi.Authenticator{
				{ID: "totp|dev_T2", AuthenticatorType: "otp", Active: true},
				{ID: "push|dev_P1", AuthenticatorType: "oob", OOBChannel: "auth0", Name: "iPhone", Active: true},
			},
			methods: []mfaapi.AuthMethod{
				{ID: "totp|dev_T2", Type: "totp", LinkID: "push|dev_P1"},
				{ID: "push|dev_P1", Type: "push", Name: "iPhone"},
			},
			detailed: true,
			want:     []string{"guardian push|dev_P1 mfa:push|dev_P1 with-otp name=iPhone"},
		},
		{
			name: "two emails that read alike are told apart by type; only the enrolled one goes",
			auths: []mfaapi.Authenticator{
				{ID: "email|dev_V", AuthenticatorType: "oob", OOBChannel: "email", Name: "alic****@exam*******", Active: true},
				{ID: "email|dev_E", AuthenticatorType: "oob", OOBChannel: "email", Name: "alic****@exam*******", Active: true},
			},
			methods: []mfaapi.AuthMethod{
				{ID: "email|dev_V", Type: "email-verification", Confirmed: yes(), Email: "alic****@exam*******"},
				{ID: "email|dev_E", Type: "email", Confirmed: yes(), Name: "Backup", Email: "alic****@exam*******"},
			},
			detailed: true,
			want: []string{
				"email email|dev_V keep masked=alic****@exam******* verified",
				"email email|dev_E mfa:email|dev_E name=Backup masked=alic****@exam******* renamable",
			},
		},
		{
			name: "security keys and passkeys come from the Management API alone; unconfirmed ones are hidden",
			methods: []mfaapi.AuthMethod{
				{ID: "webauthn-roaming|dev_K", Type: "webauthn-roaming", Confirmed: yes(), Name: "YubiKey"},
				{ID: "passkey|dev_PK", Type: "passkey", Confirmed: yes(), Name: "MacBook"},
				{ID: "webauthn-platform|dev_W", Type: "webauthn-platform", Confirmed: no()},
			},
			detailed: true,
			want: []string{
				"security-key webauthn-roaming|dev_K mgmt:webauthn-roaming|dev_K name=YubiKey renamable",
				"passkey passkey|dev_PK mgmt:passkey|dev_PK name=MacBook",
			},
		},
		{
			name: "a phone with text and voice, listed by its members; an entry the MFA API calls inactive is hidden",
			auths: []mfaapi.Authenticator{
				{ID: "voice|dev_PH", AuthenticatorType: "oob", OOBChannel: "voice", Name: "XXXXXXXXX9167", Active: true},
				{ID: "sms|dev_PH", AuthenticatorType: "oob", OOBChannel: "sms", Name: "XXXXXXXXX9167", Active: true},
				{ID: "totp|dev_OLD", AuthenticatorType: "otp", Active: false},
			},
			methods: []mfaapi.AuthMethod{
				{ID: "phone|dev_PH", Type: "phone", PhoneNumber: "XXXXXXXXX9167", PreferredAuthenticationMethod: "voice", AuthenticationMethods: []mfaapi.AuthMethodMember{
					{ID: "sms|dev_PH", Type: "sms"}, {ID: "voice|dev_PH", Type: "voice"}}},
				{ID: "totp|dev_OLD", Type: "totp", Confirmed: no()},
			},
			detailed: true,
			want:     []string{"phone sms|dev_PH mfa:sms|dev_PH sms+voice masked=XXXXXXXXX9167 renamable"},
		},
		{
			name:     "an active entry the Management API does not name stands alone and is not removed blind",
			auths:    []mfaapi.Authenticator{{ID: "totp|dev_X", AuthenticatorType: "otp", Active: true}},
			methods:  nil,
			detailed: true,
			want:     []string{"app totp|dev_X keep"},
		},
		{
			name: "ids of an unexpected shape are never shown or used",
			auths: []mfaapi.Authenticator{{ID: "totp|dev_ok", AuthenticatorType: "otp", Active: true},
				{ID: "../../etc", AuthenticatorType: "otp", Active: true}, {ID: "totp|a/b", AuthenticatorType: "otp", Active: true}},
			methods:  []mfaapi.AuthMethod{{ID: "totp|dev_ok", Type: "totp"}},
			detailed: true,
			want:     []string{"app totp|dev_ok mfa:totp|dev_ok renamable"},
		},
		{name: "empty", detailed: true, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summaries(groupFactors(tt.auths, tt.methods, tt.detailed))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("groups =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestGroupDeletable(t *testing.T) {
	groups := groupFactors([]mfaapi.Authenticator{
		{ID: "recovery-code|dev_R", AuthenticatorType: "recovery-code", Active: true},
		{ID: "email|dev_V", AuthenticatorType: "oob", OOBChannel: "email", Active: true},
		{ID: "totp|dev_A", AuthenticatorType: "otp", Active: true},
	}, []mfaapi.AuthMethod{
		{ID: "recovery-code|dev_R", Type: "recovery-code"},
		{ID: "email|dev_V", Type: "email-verification"},
		{ID: "totp|dev_A", Type: "totp"},
	}, true)
	if n := countDeletable(groups); n != 1 {
		t.Fatalf("countDeletable = %d, want 1 (only the app)", n)
	}
}

func TestMaskedForDisplay(t *testing.T) {
	tests := map[string]string{
		"XXXXXXXXX9167":    "•••\u00a09167",
		"****@exam*******": "•••@exam•••",
		"u***@example.com": "u•••@example.com",
		"+1***5678":        "+1•••5678",
		"":                 "",
		"Plain":            "Plain",
	}
	for in, want := range tests {
		if got := maskedForDisplay(in); got != want {
			t.Errorf("maskedForDisplay(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidAuthenticatorID(t *testing.T) {
	valid := []string{"totp|dev_abc", "recovery-code|dev_X-1_y", "email|verified_Z", "a|b"}
	invalid := []string{"", "totp", "|dev", "totp|", "TOTP|dev", "totp|dev|x", "totp|dev/x", "totp|dév", "totp|dev x",
		"totp|" + strings.Repeat("a", 129), strings.Repeat("a", 33) + "|x", "../..|x", "totp|%7C"}
	for _, id := range valid {
		if !validAuthenticatorID(id) {
			t.Errorf("validAuthenticatorID(%q) = false", id)
		}
	}
	for _, id := range invalid {
		if validAuthenticatorID(id) {
			t.Errorf("validAuthenticatorID(%q) = true", id)
		}
	}
}
