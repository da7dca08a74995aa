package auth0emu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// associate posts body to /mfa/associate with a token for userID.
func (e *env) associate(token, body string) (int, map[string]any, []byte) {
	e.t.Helper()
	status, _, b := e.call(http.MethodPost, "/mfa/associate", token, strings.NewReader(body), "Content-Type", "application/json")
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return status, m, b
}

// confirm runs the mfa-otp or mfa-oob grant with the web client.
func (e *env) confirm(mfaToken, grant string, extra url.Values) (int, map[string]any) {
	e.t.Helper()
	web := e.tenant.WebClient()
	form := url.Values{"grant_type": {auth0GrantPrefix + grant}, "client_id": {web.ID}, "client_secret": {web.Secret}, "mfa_token": {mfaToken}}
	for k, v := range extra {
		form[k] = v
	}
	return e.postToken(form)
}

// added is the active flag of each authenticator of userID whose id
// starts with idPrefix and is not in before.
func (e *env) added(userID, idPrefix string, before []Authenticator) []bool {
	var out []bool
	for _, a := range e.tenant.Authenticators(userID) {
		if strings.HasPrefix(a.ID, idPrefix) && !slices.ContainsFunc(before, func(b Authenticator) bool { return b.ID == a.ID }) {
			out = append(out, a.Active)
		}
	}
	return out
}

// The recorded answers, channel by channel, with the same keys; an
// association is listed inactive until the grant confirms it.
func TestEnrolAsRecorded(t *testing.T) {
	t.Run("authenticator app", func(t *testing.T) {
		e := newEnv(t)
		rec := find(t, loadCassette(t, "TestMFAAddAuthenticator__Should_return_response_for_OTP.yaml"), "POST", "/mfa/associate")
		tok := e.mfaToken("auth0|alice", scopeEnroll, scopeReadAuthenticators)
		before := e.tenant.Authenticators("auth0|alice")
		status, got, body := e.associate(tok, `{"authenticator_types":["otp"]}`)
		if status != rec.status || !slices.Equal(keysOf(t, string(body)), keysOf(t, rec.body)) {
			t.Fatalf("got %d %s, recorded %d %s", status, body, rec.status, rec.body)
		}
		secret := got["secret"].(string)
		if !strings.HasPrefix(got["barcode_uri"].(string), "otpauth://totp/") || !strings.Contains(got["barcode_uri"].(string), "secret="+secret) {
			t.Errorf("barcode_uri %v", got["barcode_uri"])
		}
		if got := e.added("auth0|alice", "totp|", before); !slices.Equal(got, []bool{false}) {
			t.Fatalf("after associate: %v, want one new inactive totp", got)
		}
		if status, m := e.confirm(tok, "mfa-otp", url.Values{"otp": {"000000"}}); status != http.StatusForbidden || m["error"] != "invalid_grant" {
			t.Fatalf("wrong code: %d %v", status, m)
		}
		code, _ := totpAt(secret, e.clock.Now())
		recOK := find(t, loadCassette(t, "TestMFAVerifyWithOTP__Should_return_tokens_for_a_valid_request.yaml"), "POST", "/oauth/token")
		status, m := e.confirm(tok, "mfa-otp", url.Values{"otp": {code}})
		if status != recOK.status {
			t.Fatalf("right code: %d %v", status, m)
		}
		for _, k := range keysOf(t, recOK.body) {
			if _, ok := m[k]; !ok {
				t.Errorf("token answer lacks recorded %q: %v", k, m)
			}
		}
		if got := e.added("auth0|alice", "totp|", before); !slices.Equal(got, []bool{true}) {
			t.Errorf("after confirming: %v", got)
		}
		if status, m := e.confirm(tok, "mfa-otp", url.Values{"otp": {code}}); status != http.StatusForbidden {
			t.Errorf("confirmed twice: %d %v", status, m)
		}
	})
	t.Run("first method by text message brings the recovery code", func(t *testing.T) {
		e := newEnv(t)
		rec := find(t, loadCassette(t, "TestMFAAddAuthenticator__Should_return_response_for_OOB_SMS_channel.yaml"), "POST", "/mfa/associate")
		tok := e.mfaToken("auth0|carol", scopeEnroll)
		status, got, body := e.associate(tok, `{"authenticator_types":["oob"],"oob_channels":["sms"],"phone_number":"+33612345678"}`)
		if status != rec.status || !slices.Equal(keysOf(t, string(body)), keysOf(t, rec.body)) {
			t.Fatalf("got %d %s, recorded %d %s", status, body, rec.status, rec.body)
		}
		sent := e.tenant.PendingEnrolments("auth0|carol")
		if len(sent) != 1 || sent[0].Destination != "+33612345678" || len(sent[0].SentCode) != oobCodeDigits {
			t.Fatalf("test page would show %+v", sent)
		}
		if e.tenant.RecoveryCode("auth0|carol") != "" {
			t.Fatal("recovery code kept before the enrolment is confirmed")
		}
		oob := url.Values{"oob_code": {got["oob_code"].(string)}}
		oob.Set("binding_code", "000000")
		if status, m := e.confirm(tok, "mfa-oob", oob); status != http.StatusForbidden || m["error"] != "invalid_grant" {
			t.Fatalf("wrong binding code: %d %v", status, m)
		}
		oob.Set("binding_code", sent[0].SentCode)
		if status, m := e.confirm(tok, "mfa-oob", oob); status != http.StatusOK {
			t.Fatalf("right binding code: %d %v", status, m)
		}
		codes := got["recovery_codes"].([]any)
		if want := codes[0].(string); e.tenant.RecoveryCode("auth0|carol") != want {
			t.Errorf("recovery code %q, want the one associate returned %q", e.tenant.RecoveryCode("auth0|carol"), want)
		}
		if got := e.added("auth0|carol", "sms|", nil); !slices.Equal(got, []bool{true}) {
			t.Errorf("carol's sms: %v", got)
		}
	})
	t.Run("guardian waits for the device", func(t *testing.T) {
		e := newEnv(t)
		rec := find(t, loadCassette(t, "TestMFAAddAuthenticator__Should_return_response_for_OOB_Auth0_channel.yaml"), "POST", "/mfa/associate")
		pending := find(t, loadCassette(t, "TestMFAVerifyWithOOB__Should_return_an_error_when_requesting_before_authorizing.yaml"), "POST", "/oauth/token")
		denied := find(t, loadCassette(t, "TestMFAVerifyWithOOB__Should_return_an_error_when_requesting_when_authorization_has_been_denied.yaml"), "POST", "/oauth/token")
		tok := e.mfaToken("auth0|alice", scopeEnroll)
		before := e.tenant.Authenticators("auth0|alice")
		for _, approve := range []bool{false, true} {
			status, got, body := e.associate(tok, `{"authenticator_types":["oob"],"oob_channels":["auth0"]}`)
			if status != rec.status || !slices.Equal(keysOf(t, string(body)), keysOf(t, rec.body)) {
				t.Fatalf("got %d %s, recorded %d %s", status, body, rec.status, rec.body)
			}
			oob := url.Values{"oob_code": {got["oob_code"].(string)}}
			status, m := e.confirm(tok, "mfa-oob", oob)
			if b, _ := json.Marshal(m); status != pending.status || string(b) != pending.body {
				t.Fatalf("before the device answers: %d %s, recorded %d %s", status, b, pending.status, pending.body)
			}
			if !e.tenant.AnswerPush(got["oob_code"].(string), approve, "Alice's Pixel") {
				t.Fatal("push not pending")
			}
			status, m = e.confirm(tok, "mfa-oob", oob)
			if !approve {
				if b, _ := json.Marshal(m); status != denied.status || string(b) != denied.body {
					t.Fatalf("denied: %d %s, recorded %d %s", status, b, denied.status, denied.body)
				}
				if n := len(e.added("auth0|alice", "push|", before)); n != 0 {
					t.Fatalf("a denied enrolment stays listed (%d)", n)
				}
				continue
			}
			if status != http.StatusOK {
				t.Fatalf("approved: %d %v", status, m)
			}
			if got := e.added("auth0|alice", "push|", before); !slices.Equal(got, []bool{true}) {
				t.Fatalf("alice's new push: %v", got)
			}
		}
	})
}

// Refusals change nothing; unconfirmed associations are bounded and lapse
// without leaving clutter.
func TestEnrolRefusals(t *testing.T) {
	e := newEnv(t)
	before := len(e.tenant.Authenticators("auth0|bob"))
	read := e.mfaToken("auth0|bob", scopeReadAuthenticators)
	if status, _, body := e.associate(read, `{"authenticator_types":["otp"]}`); status != http.StatusForbidden {
		t.Errorf("without enroll scope: %d %s", status, body)
	}
	tok := e.mfaToken("auth0|bob", scopeEnroll)
	for _, body := range []string{
		`{"authenticator_types":["oob"],"oob_channels":["sms"],"phone_number":"0612345678"}`,
		`{"authenticator_types":["oob"],"oob_channels":["sms"]}`,
		`{"authenticator_types":["oob"],"oob_channels":["email"]}`,
		`{"authenticator_types":["webauthn-roaming"]}`,
		`{"authenticator_types":["otp","oob"]}`,
		`not json`,
	} {
		if status, _, b := e.associate(tok, body); status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", body, status, b)
		}
	}
	if n := len(e.tenant.Authenticators("auth0|bob")); n != before {
		t.Fatalf("refusals changed the list: %d -> %d", before, n)
	}
	for i := range maxPendingEnrolments {
		if status, _, b := e.associate(tok, `{"authenticator_types":["otp"]}`); status != http.StatusOK {
			t.Fatalf("association %d: %d %s", i+1, status, b)
		}
	}
	if status, m, _ := e.associate(tok, `{"authenticator_types":["otp"]}`); status != http.StatusTooManyRequests || m["error"] != "too_many_requests" {
		t.Fatalf("one past the limit: %d %v", status, m)
	}
	e.clock.Advance(enrolmentLifetime + time.Second)
	if status, m := e.confirm(tok, "mfa-otp", url.Values{"otp": {"123456"}}); status != http.StatusForbidden {
		t.Errorf("confirming a lapsed association: %d %v", status, m)
	}
	if n := len(e.tenant.Authenticators("auth0|bob")); n != before {
		t.Errorf("lapsed associations left %d entries behind", n-before)
	}
	// Guessing ends the association.
	_, got, _ := e.associate(tok, `{"authenticator_types":["oob"],"oob_channels":["voice"],"phone_number":"+14155550123"}`)
	oob := url.Values{"oob_code": {got["oob_code"].(string)}, "binding_code": {"000000"}}
	for range maxConfirmAttempts {
		e.confirm(tok, "mfa-oob", oob)
	}
	if n := len(e.tenant.PendingEnrolments("auth0|bob")); n != 0 {
		t.Errorf("%d wrong codes left the association open", maxConfirmAttempts)
	}
	// Another user's token cannot confirm bob's association.
	_, got, _ = e.associate(tok, `{"authenticator_types":["oob"],"oob_channels":["sms"],"phone_number":"+14155550123"}`)
	sent := e.tenant.PendingEnrolments("auth0|bob")[0].SentCode
	other := e.mfaToken("auth0|alice", scopeEnroll)
	if status, m := e.confirm(other, "mfa-oob", url.Values{"oob_code": {got["oob_code"].(string)}, "binding_code": {sent}}); status != http.StatusForbidden {
		t.Errorf("alice confirmed bob's association: %d %v", status, m)
	}
}

// The associate answers fit the Authentication API's OpenAPI document.
func TestEnrolMatchesOpenAPI(t *testing.T) {
	authAPI := loadSpec(t, "authentication-api.json")
	e := newEnv(t)
	tok := e.mfaToken("auth0|carol", scopeEnroll)
	for _, body := range []string{
		`{"authenticator_types":["otp"]}`,
		`{"authenticator_types":["oob"],"oob_channels":["voice"],"phone_number":"+14155550123"}`,
		`{"authenticator_types":["oob"],"oob_channels":["auth0"]}`,
	} {
		status, _, b := e.associate(tok, body)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", body, status, b)
		}
		mustValidate(t, "associate "+body, authAPI, responseSchema(authAPI, "/mfa/associate", "post", "200"), b)
	}
	_, _, bad := e.associate(tok, `{"authenticator_types":[]}`)
	mustValidate(t, "associate 400", authAPI, responseSchema(authAPI, "/mfa/associate", "post", "400"), bad)
	_, _, unauth := e.associate("", `{"authenticator_types":["otp"]}`)
	mustValidate(t, "associate 401", authAPI, responseSchema(authAPI, "/mfa/associate", "post", "401"), unauth)
}

// The emulator's outbox page shows the codes it would have sent and lets a
// developer answer a Guardian enrolment as the phone would.
func TestOutboxPage(t *testing.T) {
	e := newEnv(t)
	tok := e.mfaToken("auth0|alice", scopeEnroll)
	e.associate(tok, `{"authenticator_types":["oob"],"oob_channels":["email"],"email":"alice.work@example.com"}`)
	_, push, _ := e.associate(tok, `{"authenticator_types":["oob"],"oob_channels":["auth0"]}`)
	var sent string
	for _, p := range e.tenant.PendingEnrolments("auth0|alice") {
		if p.Channel == "email" {
			sent = p.SentCode
		}
	}
	status, _, page := e.call(http.MethodGet, "/_emulator/outbox?ui_locales=fr", "", nil)
	for _, want := range []string{`<code data-testid="outbox-code">` + sent + `</code>`, "alice.work@example.com", "Application Guardian", `data-testid="emulator-banner"`} {
		if status != http.StatusOK || !strings.Contains(string(page), want) {
			t.Errorf("outbox (%d) lacks %q", status, want)
		}
	}
	oobCode := push["oob_code"].(string)
	form := url.Values{"oob_code": {oobCode}, "action": {"approve"}, "device": {"Pixel <8>"}}
	status, _, _ = e.call(http.MethodPost, "/_emulator/outbox/push", "", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
	if status != http.StatusForbidden {
		t.Fatalf("cross-site answer: %d", status)
	}
	status, _, _ = e.call(http.MethodPost, "/_emulator/outbox/push", "", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin")
	if status != http.StatusOK { // the client follows the 303 back to the page
		t.Fatalf("answer: %d", status)
	}
	if status, m := e.confirm(tok, "mfa-oob", url.Values{"oob_code": {oobCode}}); status != http.StatusOK {
		t.Fatalf("after approval on the page: %d %v", status, m)
	}
	var named bool
	for _, a := range e.tenant.Authenticators("auth0|alice") {
		named = named || (a.OOBChannel == "auth0" && a.Name == "Pixel <8>" && a.Active)
	}
	if !named {
		t.Errorf("approved push not listed with its device name: %+v", e.tenant.Authenticators("auth0|alice"))
	}
}

// Only a user's first method brings a recovery code: Bob has an app and no
// recovery code, and adding a phone gives him none.
func TestEnrolRecoveryCodeOnlyFirst(t *testing.T) {
	e := newEnv(t)
	_, got, _ := e.associate(e.mfaToken("auth0|bob", scopeEnroll), `{"authenticator_types":["oob"],"oob_channels":["sms"],"phone_number":"+14155550123"}`)
	if _, ok := got["recovery_codes"]; ok {
		t.Errorf("bob's second method came with recovery codes: %v", got)
	}
	_, got, _ = e.associate(e.mfaToken("auth0|carol", scopeEnroll), `{"authenticator_types":["otp"]}`)
	if codes, _ := got["recovery_codes"].([]any); len(codes) != 1 {
		t.Errorf("carol's first method came without a recovery code: %v", got)
	}
}
