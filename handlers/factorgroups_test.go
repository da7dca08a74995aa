package handlers

import (
	"reflect"
	"strings"
	"testing"

	"mfaportal/mfaapi"
)

func TestGroupFactors(t *testing.T) {
	otp := func(id string) mfaapi.Authenticator {
		return mfaapi.Authenticator{ID: id, AuthenticatorType: "otp", Active: true}
	}
	oob := func(id, ch, name string) mfaapi.Authenticator {
		return mfaapi.Authenticator{ID: id, AuthenticatorType: "oob", OOBChannel: ch, Name: name, Active: true}
	}
	tests := []struct {
		name string
		in   []mfaapi.Authenticator
		want []factorGroup
	}{
		{
			name: "recorded Auth0 list: inactive entries hidden",
			// From testdata/auth0-reference/recordings/TestMFAListAuthenticators.yaml.
			in: []mfaapi.Authenticator{
				{ID: "sms|dev_klnv5yshzzoosSUm", AuthenticatorType: "oob", OOBChannel: "sms", Name: "XXXXXXXXX9167"},
				{ID: "recovery-code|dev_i1kgKoFSZLbPt6G1", AuthenticatorType: "recovery-code"},
				{ID: "push|dev_BBTKYpxKHOXVBnql", AuthenticatorType: "oob", OOBChannel: "auth0"},
				{ID: "totp|dev_WzMZ2sZbUw1wbC2F", AuthenticatorType: "otp"},
				{ID: "email|dev_hdkmORJuqOmjRRQU", AuthenticatorType: "oob", OOBChannel: "email", Name: "****@exam*******", Active: true},
			},
			want: []factorGroup{{Kind: kindEmail, DeleteID: "email|dev_hdkmORJuqOmjRRQU", MemberIDs: []string{"email|dev_hdkmORJuqOmjRRQU"}, Name: "****@exam*******"}},
		},
		{
			name: "push claims its OTP twin by id suffix; a separate app stays separate",
			in:   []mfaapi.Authenticator{otp("totp|dev_app1"), otp("totp|dev_P1"), oob("push|dev_P1", "auth0", "Alice's iPhone")},
			want: []factorGroup{
				{Kind: kindApp, DeleteID: "totp|dev_app1", MemberIDs: []string{"totp|dev_app1"}},
				{Kind: kindGuardian, DeleteID: "push|dev_P1", MemberIDs: []string{"push|dev_P1", "totp|dev_P1"}, Name: "Alice's iPhone"},
			},
		},
		{
			name: "sms and voice on one phone are one group, sms first",
			in:   []mfaapi.Authenticator{oob("voice|dev_PH", "voice", "XXXXXXXXX9167"), oob("sms|dev_PH", "sms", "XXXXXXXXX9167")},
			want: []factorGroup{{Kind: kindPhone, DeleteID: "voice|dev_PH", MemberIDs: []string{"voice|dev_PH", "sms|dev_PH"}, Channels: []string{"sms", "voice"}, Name: "XXXXXXXXX9167"}},
		},
		{
			name: "oob_channels array is understood",
			in:   []mfaapi.Authenticator{{ID: "sms|dev_Q", AuthenticatorType: "oob", OOBChannels: []string{"sms"}, Name: "XXXX1234", Active: true}},
			want: []factorGroup{{Kind: kindPhone, DeleteID: "sms|dev_Q", MemberIDs: []string{"sms|dev_Q"}, Channels: []string{"sms"}, Name: "XXXX1234"}},
		},
		{
			name: "verified-only email and recovery code are not deletable",
			in:   []mfaapi.Authenticator{{ID: "recovery-code|dev_R", AuthenticatorType: "recovery-code", Active: true}, oob("email|verified_E", "email", "a***@example.com")},
			want: []factorGroup{
				{Kind: kindEmail, DeleteID: "email|verified_E", MemberIDs: []string{"email|verified_E"}, Name: "a***@example.com", VerifiedOnly: true},
				{Kind: kindRecovery, DeleteID: "recovery-code|dev_R", MemberIDs: []string{"recovery-code|dev_R"}},
			},
		},
		{
			name: "ids of an unexpected shape are never shown or used",
			in:   []mfaapi.Authenticator{otp("totp|dev_ok"), otp("../../etc"), otp("totp|a/b"), otp("")},
			want: []factorGroup{{Kind: kindApp, DeleteID: "totp|dev_ok", MemberIDs: []string{"totp|dev_ok"}}},
		},
		{name: "empty", in: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := groupFactors(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("groupFactors() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestGroupDeletable(t *testing.T) {
	groups := groupFactors([]mfaapi.Authenticator{
		{ID: "recovery-code|dev_R", AuthenticatorType: "recovery-code", Active: true},
		{ID: "email|verified_E", AuthenticatorType: "oob", OOBChannel: "email", Active: true},
		{ID: "totp|dev_A", AuthenticatorType: "otp", Active: true},
	})
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
