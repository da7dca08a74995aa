package auth0emu

import (
	"net/http"
	"slices"
)

// guardianFactorNames are the Management API's factor names
// (GuardianFactorNameEnum), in the order GET /api/v2/guardian/factors
// lists them here. The OpenAPI document gives the shape of each entry, not
// the order or which are on: assumed all on except duo.
var guardianFactorNames = []string{"push-notification", "sms", "email", "duo", "otp",
	"webauthn-roaming", "webauthn-platform", "recovery-code"}

// factorSettings is the tenant's MFA factor configuration.
type factorSettings struct {
	disabled     []string // Guardian factor names
	messageTypes []string // the phone factor's: sms, voice
}

func newFactorSettings(disabled, messageTypes []string) factorSettings {
	if disabled == nil {
		disabled = []string{"duo"}
	}
	if messageTypes == nil {
		messageTypes = []string{"sms", "voice"}
	}
	return factorSettings{disabled: slices.Clone(disabled), messageTypes: slices.Clone(messageTypes)}
}

// allows reports whether an association on channel (POST /mfa/associate's
// otp or oob channel) is enabled.
func (s factorSettings) allows(channel string) bool {
	switch channel {
	case "otp":
		return !slices.Contains(s.disabled, "otp")
	case "auth0":
		return !slices.Contains(s.disabled, "push-notification")
	case "email":
		return !slices.Contains(s.disabled, "email")
	case "sms", "voice":
		return !slices.Contains(s.disabled, "sms") && slices.Contains(s.messageTypes, channel)
	}
	return false
}

type guardianFactor struct {
	Enabled      bool   `json:"enabled"`
	TrialExpired bool   `json:"trial_expired"`
	Name         string `json:"name"`
}

// handleGuardianFactors serves "GET /api/v2/guardian/factors" (scope
// read:guardian_factors), shaped as the OpenAPI document's GuardianFactor.
func (t *Tenant) handleGuardianFactors(w http.ResponseWriter, r *http.Request) {
	if !t.authorizeMgmt(w, r, scopeReadGuardianFactors) {
		return
	}
	out := make([]guardianFactor, 0, len(guardianFactorNames))
	for _, name := range guardianFactorNames {
		out = append(out, guardianFactor{Name: name, Enabled: !slices.Contains(t.factors.disabled, name)})
	}
	writeJSON(w, http.StatusOK, out)
}

// handlePhoneMessageTypes serves
// "GET /api/v2/guardian/factors/phone/message-types".
func (t *Tenant) handlePhoneMessageTypes(w http.ResponseWriter, r *http.Request) {
	if !t.authorizeMgmt(w, r, scopeReadGuardianFactors) {
		return
	}
	writeJSON(w, http.StatusOK, map[string][]string{"message_types": t.factors.messageTypes})
}
