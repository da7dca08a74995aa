package auth0emu

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestRegenerateRecoveryCode(t *testing.T) {
	e := newEnv(t)
	path := "/api/v2/users/auth0%7Calice/recovery-code-regeneration"
	tests := []struct {
		name, path, token string
		wantStatus        int
	}{
		{"no token", path, "", 401},
		{"mfa token", path, e.mfaToken("auth0|alice", "update:users"), 401},
		{"missing scope", path, e.mgmtToken("read:users"), 403},
		{"unknown user", "/api/v2/users/auth0%7Cnobody/recovery-code-regeneration", e.mgmtToken("update:users"), 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.call(http.MethodPost, tc.path, tc.token, strings.NewReader("{}"), "Content-Type", "application/json")
			m := decodeObject(t, body)
			if status != tc.wantStatus || m["statusCode"] != float64(tc.wantStatus) || m["message"] == "" || m["error"] != http.StatusText(tc.wantStatus) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}
	t.Run("ok", func(t *testing.T) {
		old := e.tenant.RecoveryCode("auth0|alice")
		status, _, body := e.call(http.MethodPost, path, e.mgmtToken("update:users"), strings.NewReader("{}"), "Content-Type", "application/json")
		m := decodeObject(t, body)
		code, _ := m["recovery_code"].(string)
		if status != 200 || len(code) != 24 || strings.Trim(code, upperAlnum) != "" || code == old || e.tenant.RecoveryCode("auth0|alice") != code {
			t.Fatalf("%d %s", status, body)
		}
		// The old code stops working at the challenge.
		_, _, err := e.signIn(SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "recovery-code", Code: old}, nil)
		if err == nil {
			t.Fatal("old recovery code still accepted")
		}
		if _, _, err := e.signIn(SignIn{MFAMethod: "recovery-code", Code: code}, map[string]string{}); err != nil {
			t.Fatalf("new recovery code refused: %v", err)
		}
	})
	t.Run("user without a recovery code gets one", func(t *testing.T) {
		status, _, body := e.call(http.MethodPost, "/api/v2/users/auth0%7Ccarol/recovery-code-regeneration", e.mgmtToken("update:users"), nil)
		if status != 200 || e.tenant.RecoveryCode("auth0|carol") == "" {
			t.Fatalf("%d %s", status, body)
		}
	})
}

func TestAuthenticationMethods(t *testing.T) {
	e := newEnv(t)
	read, update, del := e.mgmtToken(scopeReadAuthMethods), e.mgmtToken(scopeUpdateAuthMethods), e.mgmtToken(scopeDeleteAuthMethods)
	base := "/api/v2/users/auth0%7Calice/authentication-methods"

	status, _, body := e.call(http.MethodGet, base+"?include_totals=true&per_page=50", read, nil)
	var list authMethodList
	if err := json.Unmarshal(body, &list); status != 200 || err != nil || list.Total != 9 || list.Limit != 50 || len(list.Authenticators) != 9 {
		t.Fatalf("%d %s", status, body)
	}
	byType := map[string]authMethod{}
	for _, m := range list.Authenticators {
		byType[m.Type] = m
	}
	phone := byType["phone"]
	if phone.PhoneNumber != "XXXXXXXX9167" || phone.PreferredAuthenticationMethod != "sms" || len(phone.AuthenticationMethods) != 2 || phone.Name != "Work phone" {
		t.Errorf("phone %+v", phone)
	}
	if push := byType["push"]; push.Name != "Alice's iPhone" || push.LastAuthAt != "2025-05-20T17:45:00.000Z" || push.CreatedAt != "2024-03-02T14:05:00.000Z" {
		t.Errorf("push %+v", push)
	}
	if ev := byType["email-verification"]; ev.Email != "alic****@exam*******" || !strings.HasPrefix(ev.ID, "email|dev_") {
		t.Errorf("verified email %+v: want type email-verification with an ordinary email id", ev)
	}
	// The push method names its OTP twin, whose id (with a suffix of its
	// own) is the one the MFA API lists.
	push := byType["push"]
	if len(push.AuthenticationMethods) != 2 || push.AuthenticationMethods[0].ID != push.ID || push.AuthenticationMethods[1].Type != "totp" {
		t.Fatalf("push members %+v", push.AuthenticationMethods)
	}
	if a, ok := findAuthenticator(e.tenant.Authenticators("auth0|alice"), push.AuthenticationMethods[1].ID); !ok || a.AuthenticatorType != "otp" {
		t.Errorf("the push's totp member %s is not the MFA API's OTP twin", push.AuthenticationMethods[1].ID)
	}
	for _, typ := range []string{"webauthn-roaming", "passkey"} {
		m := byType[typ]
		if m.Name == "" || m.KeyID == "" || m.CreatedAt == "" {
			t.Errorf("%s %+v", typ, m)
		}
		if _, listed := findAuthenticator(e.tenant.Authenticators("auth0|alice"), m.ID); listed {
			t.Errorf("the MFA API lists the %s %s; it cannot see them", typ, m.ID)
		}
	}
	if pk := byType["passkey"]; pk.CredentialDeviceType != "multi_device" || pk.UserAgent == "" {
		t.Errorf("passkey %+v", pk)
	}

	status, _, body = e.call(http.MethodGet, base+"?page=1&per_page=5", read, nil)
	var page []authMethod
	if err := json.Unmarshal(body, &page); status != 200 || err != nil || len(page) != 4 {
		t.Fatalf("page 1: %d %s", status, body)
	}

	one := base + "/" + strings.ReplaceAll(phone.ID, "|", "%7C")
	status, _, body = e.call(http.MethodPatch, one, update, strings.NewReader(`{"name":"Desk phone","preferred_authentication_method":"voice"}`), "Content-Type", "application/json")
	m := decodeObject(t, body)
	if status != 200 || m["name"] != "Desk phone" || m["preferred_authentication_method"] != "voice" || m["confirmed"] != nil {
		t.Fatalf("patch %d %s", status, body)
	}
	status, _, body = e.call(http.MethodGet, one, read, nil)
	if m := decodeObject(t, body); status != 200 || m["name"] != "Desk phone" || m["confirmed"] != true {
		t.Fatalf("get %d %s", status, body)
	}

	errorsTable := []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"list needs scope", http.MethodGet, base, update, "", 403},
		{"list unknown user", http.MethodGet, "/api/v2/users/nobody/authentication-methods", read, "", 404},
		{"list bad query", http.MethodGet, base + "?per_page=abc", read, "", 400},
		{"get unknown method", http.MethodGet, base + "/totp%7Cdev_nope", read, "", 404},
		{"patch name too long", http.MethodPatch, one, update, `{"name":"` + strings.Repeat("é", 21) + `"}`, 400},
		{"patch unknown field", http.MethodPatch, one, update, `{"nickname":"x"}`, 400},
		{"patch malformed", http.MethodPatch, one, update, `{"name":`, 400},
		{"patch bad channel", http.MethodPatch, one, update, `{"preferred_authentication_method":"carrier-pigeon"}`, 400},
		{"patch needs scope", http.MethodPatch, one, read, `{"name":"x"}`, 403},
		{"delete needs scope", http.MethodDelete, one, read, "", 403},
		{"delete verified email", http.MethodDelete, base + "/" + strings.ReplaceAll(byType["email-verification"].ID, "|", "%7C"), del, "", 400},
	}
	for _, tc := range errorsTable {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := e.call(tc.method, tc.path, tc.token, strings.NewReader(tc.body), "Content-Type", "application/json")
			if m := decodeObject(t, body); status != tc.want || m["statusCode"] != float64(tc.want) {
				t.Fatalf("%d %s", status, body)
			}
		})
	}

	key := base + "/" + strings.ReplaceAll(byType["webauthn-roaming"].ID, "|", "%7C")
	if status, _, body := e.call(http.MethodDelete, key, del, nil); status != 204 || e.tenant.MethodID("auth0|alice", "webauthn-roaming") != "" {
		t.Fatalf("delete security key: %d %s", status, body)
	}
	status, _, _ = e.call(http.MethodDelete, one, del, nil)
	if _, found := findAuthenticator(e.tenant.Authenticators("auth0|alice"), strings.Replace(phone.ID, "phone|", "sms|", 1)); status != 204 || found {
		t.Fatalf("delete phone: %d, sms still listed %v", status, found)
	}
	status, _, _ = e.call(http.MethodDelete, base, del, nil)
	left := e.tenant.Authenticators("auth0|alice")
	if status != 204 || len(left) != 1 || left[0].ID != byType["email-verification"].ID {
		t.Fatalf("delete all: %d, left %+v", status, left)
	}
	status, _, body = e.call(http.MethodGet, "/api/v2/users/auth0%7Ccarol/authentication-methods?include_totals=true", read, nil)
	if status != 200 || string(body) != `{"authenticators":[],"start":0,"limit":50}` {
		t.Fatalf("empty list as recorded: %s", body)
	}
}
