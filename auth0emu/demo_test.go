package auth0emu

import (
	"encoding/base32"
	"encoding/json"
	"strings"
	"testing"
)

func TestDemoUsersAreValid(t *testing.T) {
	if err := validateUsers(DemoUsers()); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{DemoAliceTOTPSecret, DemoAlicePushSecret, DemoAliceOldTOTPSecret, DemoBobTOTPSecret, DemoDaveTOTPSecret} {
		if _, err := base32.StdEncoding.DecodeString(s); err != nil || len(s) != 32 {
			t.Errorf("secret %s: %v", s, err)
		}
	}
	// Round trip through the users file format.
	b, err := json.Marshal(usersFile{Users: DemoUsers()})
	if err != nil {
		t.Fatal(err)
	}
	users, err := LoadUsers(strings.NewReader(string(b)))
	if err != nil || len(users) != 4 || users[3].Name != "Dave <b>Ünïcødé</b> 🛡" {
		t.Fatalf("round trip: %v %+v", err, users)
	}
}

func TestLoadUsers(t *testing.T) {
	issueExample := `{"users":[{"user_id":"auth0|alice","email":"a@example.com","password":"p","name":"A",
		"factors":[{"type":"totp","secret":"JBSWY3DPEHPK3PXP"},{"type":"push","device":"Phone"},
		{"type":"phone","number":"+14155550100","channels":["sms","voice"]},
		{"type":"email","address":"a@example.com","verified_only":true},
		{"type":"recovery-code","code":"ABCDEFGHIJKLMNOPQRSTUVWX"},{"type":"totp","active":false}]}]}`
	users, err := LoadUsers(strings.NewReader(issueExample))
	if err != nil || len(users[0].Factors) != 6 || *users[0].Factors[5].Active {
		t.Fatalf("issue example: %v", err)
	}
	bad := map[string]string{
		"unknown field":     `{"users":[{"user_id":"u","email":"a@b","password":"p","role":"admin"}]}`,
		"trailing":          `{"users":[]} {}`,
		"no users":          `{}`,
		"no user_id":        `{"users":[{"email":"a@b","password":"p"}]}`,
		"duplicate email":   `{"users":[{"user_id":"1","email":"a@b","password":"p"},{"user_id":"2","email":"A@b","password":"p"}]}`,
		"bad type":          `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"webauthn"}]}]}`,
		"bad secret":        `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"totp","secret":"not base32!"}]}]}`,
		"bad phone":         `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"phone","number":"555"}]}]}`,
		"bad channel":       `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"phone","number":"+14155550100","channels":["fax"]}]}]}`,
		"bad recovery":      `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"recovery-code","code":"short"}]}]}`,
		"two recovery":      `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"recovery-code"},{"type":"recovery-code"}]}]}`,
		"misplaced field":   `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"totp","number":"+14155550100"}]}]}`,
		"name too long":     `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"totp","name":"123456789012345678901"}]}]}`,
		"email without at":  `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"email","address":"nope"}]}]}`,
		"not json":          `users:`,
		"verified on phone": `{"users":[{"user_id":"u","email":"a@b","password":"p","factors":[{"type":"phone","number":"+14155550100","verified_only":true}]}]}`,
	}
	for name, in := range bad {
		if _, err := LoadUsers(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, base := range []string{"", "http://127.0.0.1:9010/"} {
		if _, err := New(Options{BaseURL: base}); err == nil {
			t.Errorf("BaseURL %q accepted", base)
		}
	}
	if _, err := New(Options{BaseURL: "http://x", Users: []User{{UserID: "u"}}}); err == nil {
		t.Error("invalid users accepted")
	}
	tenant, err := New(Options{BaseURL: "http://127.0.0.1:9010"})
	if err != nil {
		t.Fatal(err)
	}
	web, m2m := tenant.WebClient(), tenant.M2MClient()
	if web.ID != "portal-web" || m2m.ID != "portal-m2m" || len(web.Secret) < 32 || web.Secret == m2m.Secret ||
		strings.Join(m2m.Scopes, " ") != "update:users read:users read:authentication_methods update:authentication_methods delete:authentication_methods read:guardian_factors" || tenant.Issuer() != "http://127.0.0.1:9010/" ||
		tenant.MFAAudience() != "http://127.0.0.1:9010/mfa/" || tenant.ManagementAudience() != "http://127.0.0.1:9010/api/v2/" {
		t.Fatalf("defaults: %+v %+v", web, m2m)
	}
}
