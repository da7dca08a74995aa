package auth0emu

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// The tenant's factor settings answer as the OpenAPI document says, need
// read:guardian_factors, and a factor switched off cannot be associated.
func TestGuardianFactorSettings(t *testing.T) {
	mgmtAPI := loadSpec(t, "management-api.json")
	e := newEnv(t, func(o *Options) {
		o.DisabledFactors = []string{"duo", "email"}
		o.PhoneMessageTypes = []string{"sms"}
	})
	tok := e.mgmtToken(scopeReadGuardianFactors)
	status, _, body := e.call(http.MethodGet, "/api/v2/guardian/factors", tok, nil)
	if status != http.StatusOK {
		t.Fatalf("factors: %d %s", status, body)
	}
	mustValidate(t, "GET /guardian/factors", mgmtAPI, responseSchema(mgmtAPI, "/guardian/factors", "get", "200"), body)
	var factors []guardianFactor
	if err := json.Unmarshal(body, &factors); err != nil {
		t.Fatal(err)
	}
	var on []string
	for _, f := range factors {
		if f.Enabled {
			on = append(on, f.Name)
		}
	}
	if want := []string{"push-notification", "sms", "otp", "webauthn-roaming", "webauthn-platform", "recovery-code"}; !slices.Equal(on, want) {
		t.Errorf("enabled %v, want %v", on, want)
	}
	status, _, body = e.call(http.MethodGet, "/api/v2/guardian/factors/phone/message-types", tok, nil)
	mustValidate(t, "GET /guardian/factors/phone/message-types", mgmtAPI,
		responseSchema(mgmtAPI, "/guardian/factors/phone/message-types", "get", "200"), body)
	if status != http.StatusOK || string(body) != `{"message_types":["sms"]}` {
		t.Errorf("message types: %d %s", status, body)
	}
	if status, _, _ := e.call(http.MethodGet, "/api/v2/guardian/factors", e.mgmtToken(scopeReadAuthMethods), nil); status != http.StatusForbidden {
		t.Errorf("without read:guardian_factors: %d, want 403", status)
	}

	enrol := e.mfaToken("auth0|bob", scopeEnroll)
	for body, want := range map[string]int{
		`{"authenticator_types":["oob"],"oob_channels":["email"],"email":"bob@example.com"}`:     http.StatusBadRequest,
		`{"authenticator_types":["oob"],"oob_channels":["voice"],"phone_number":"+14155550123"}`: http.StatusBadRequest,
		`{"authenticator_types":["oob"],"oob_channels":["sms"],"phone_number":"+14155550123"}`:   http.StatusOK,
		`{"authenticator_types":["otp"]}`: http.StatusOK,
	} {
		status, m, _ := e.associate(enrol, body)
		if status != want || (want == http.StatusBadRequest && m["error"] != "unsupported_challenge_type") {
			t.Errorf("associate %s: %d %v, want %d", body, status, m, want)
		}
	}
}
