package mfaapi

import (
	"context"
	"net/http"
	"slices"
)

const opFactors = "read factor settings"

// maxFactorEntries bounds what is kept of Auth0's answer: it names eight
// factors today.
const maxFactorEntries = 32

// FactorSettings is what the tenant lets its users enrol: the names of the
// enabled factors as the Management API spells them ("otp",
// "push-notification", "sms", "email", "webauthn-roaming", ...) and, when
// "sms" (the phone factor) is on, its message types ("sms", "voice").
type FactorSettings struct {
	Enabled           []string
	PhoneMessageTypes []string
}

// FactorSettings reads GET /api/v2/guardian/factors and, when the phone
// factor is on, GET /api/v2/guardian/factors/phone/message-types (both need
// read:guardian_factors; without it the error is ErrForbidden).
func (m *Management) FactorSettings(ctx context.Context) (FactorSettings, error) {
	ans, err := m.call(ctx, call{op: opFactors, method: http.MethodGet,
		route: "/api/v2/guardian/factors", path: "/api/v2/guardian/factors", idempotent: true})
	if err != nil {
		return FactorSettings{}, err
	}
	var factors []struct {
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
	}
	if err := decodeJSON(ans, &factors); err != nil {
		return FactorSettings{}, &APIError{Op: opFactors, Status: ans.status, Err: ErrUpstream, detail: err.Error()}
	}
	var s FactorSettings
	for _, f := range factors[:min(len(factors), maxFactorEntries)] {
		if f.Enabled && f.Name != "" && !slices.Contains(s.Enabled, f.Name) {
			s.Enabled = append(s.Enabled, f.Name)
		}
	}
	if !slices.Contains(s.Enabled, "sms") {
		return s, nil
	}
	ans, err = m.call(ctx, call{op: opFactors, method: http.MethodGet,
		route: "/api/v2/guardian/factors/phone/message-types", path: "/api/v2/guardian/factors/phone/message-types", idempotent: true})
	if err != nil {
		return FactorSettings{}, err
	}
	var types struct {
		MessageTypes []string `json:"message_types"`
	}
	if err := decodeJSON(ans, &types); err != nil {
		return FactorSettings{}, &APIError{Op: opFactors, Status: ans.status, Err: ErrUpstream, detail: err.Error()}
	}
	for _, t := range types.MessageTypes {
		if (t == ChannelSMS || t == ChannelVoice) && !slices.Contains(s.PhoneMessageTypes, t) {
			s.PhoneMessageTypes = append(s.PhoneMessageTypes, t)
		}
	}
	return s, nil
}
