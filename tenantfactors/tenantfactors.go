// Package tenantfactors is which kinds of method the tenant lets its users
// add: the Management API's factor settings when the M2M application may
// read them (scope read:guardian_factors), else the configured list
// (MFA_FACTORS). The settings are the tenant's, not a user's, so they are
// read at most once per Lifetime per process, never on a page view of the
// list.
package tenantfactors

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"mfaportal/mfaapi"
)

const (
	// Lifetime is how long an answer is reused: a factor switched on or
	// off in Auth0 shows here after at most this long.
	Lifetime = 5 * time.Minute
	// retryAfter is how soon a failed read is tried again; meanwhile the
	// last answer (or the configuration) stands.
	retryAfter = 30 * time.Second
)

// Offer is what can be added. SecurityKeys says the tenant has security
// keys or passkeys on, which this portal cannot enrol (the MFA API has no
// association for them) and says so.
type Offer struct {
	App, Guardian, SMS, Voice, Email, SecurityKeys bool
}

// Phone reports whether a phone can be added, by text or voice.
func (o Offer) Phone() bool { return o.SMS || o.Voice }

// Allows reports whether an association on channel (mfaapi.Channel*) is
// on offer.
func (o Offer) Allows(channel string) bool {
	switch channel {
	case mfaapi.ChannelOTP:
		return o.App
	case mfaapi.ChannelGuardian:
		return o.Guardian
	case mfaapi.ChannelSMS:
		return o.SMS
	case mfaapi.ChannelVoice:
		return o.Voice
	case mfaapi.ChannelEmail:
		return o.Email
	}
	return false
}

// Default is the configuration's default: every kind the MFA API can add.
var Default = Offer{App: true, Guardian: true, SMS: true, Voice: true, Email: true}

// FromNames is the offer of MFA_FACTORS (config.FactorNames): the
// Management API's factor names, with the phone's message types ("sms",
// "voice") in place of its "sms".
func FromNames(names []string) Offer {
	var phoneTypes []string
	for _, t := range []string{mfaapi.ChannelSMS, mfaapi.ChannelVoice} {
		if slices.Contains(names, t) {
			names, phoneTypes = append(names, "sms"), append(phoneTypes, t)
		}
	}
	return FromSettings(mfaapi.FactorSettings{Enabled: names, PhoneMessageTypes: phoneTypes})
}

// FromSettings is the offer of the tenant's settings.
func FromSettings(s mfaapi.FactorSettings) Offer {
	on := func(name string) bool { return slices.Contains(s.Enabled, name) }
	phone := on("sms")
	return Offer{
		App:          on("otp"),
		Guardian:     on("push-notification"),
		SMS:          phone && slices.Contains(s.PhoneMessageTypes, mfaapi.ChannelSMS),
		Voice:        phone && slices.Contains(s.PhoneMessageTypes, mfaapi.ChannelVoice),
		Email:        on("email"),
		SecurityKeys: on("webauthn-roaming") || on("webauthn-platform"),
	}
}

// settingsAPI is the Management API call this package makes.
type settingsAPI interface {
	FactorSettings(ctx context.Context) (mfaapi.FactorSettings, error)
}

var _ settingsAPI = (*mfaapi.Management)(nil)

// Source answers what can be added, from the tenant when it may ask.
type Source struct {
	api        settingsAPI // nil: the configuration only
	configured Offer
	log        *slog.Logger
	now        func() time.Time

	mu     sync.Mutex
	offer  Offer
	known  bool      // offer came from the tenant
	until  time.Time // when to ask again
	warned bool
}

// New asks api (nil: never) and falls back to configured.
func New(api settingsAPI, configured Offer, logger *slog.Logger, now func() time.Time) *Source {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Source{api: api, configured: configured, log: logger, now: now}
}

// Offer is what can be added now. A failed read costs the answer's
// freshness, never the page: the last answer, else the configuration.
// Callers wait for one read at a time, which happens at most once per
// Lifetime (retryAfter after a failure).
func (s *Source) Offer(ctx context.Context) Offer {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.api == nil {
		return s.configured
	}
	if now.Before(s.until) {
		return s.current()
	}
	settings, err := s.api.FactorSettings(ctx)
	switch {
	case err == nil:
		s.offer, s.known, s.until = FromSettings(settings), true, now.Add(Lifetime)
	case errors.Is(err, mfaapi.ErrForbidden):
		// Not granted read:guardian_factors: the configuration decides,
		// which is a setup choice, not a fault; said once.
		if !s.warned {
			s.log.Warn("the M2M application may not read the tenant's factor settings (read:guardian_factors); offering MFA_FACTORS")
			s.warned = true
		}
		s.known, s.until = false, now.Add(Lifetime)
	default:
		s.log.Warn("reading the tenant's factor settings failed; offering the last known", slog.Any("error", err))
		s.until = now.Add(retryAfter)
	}
	return s.current()
}

func (s *Source) current() Offer {
	if s.known {
		return s.offer
	}
	return s.configured
}
