package session

import (
	"context"
	"fmt"
	"time"

	"mfaportal/kvstore"
)

// EnrolmentLifetime is how long a method being added is kept between its
// steps: long enough to find a phone and install an app.
const EnrolmentLifetime = 15 * time.Minute

// MaxEnrolmentBytes bounds what an Enrolment may hold: Auth0's answers are
// a few hundred bytes (a Guardian oob_code about 700).
const MaxEnrolmentBytes = 4096

// Enrolment is an association Auth0 made for the session's user (POST
// /mfa/associate), awaiting its first code. It is kept server side,
// sealed, in the key-value store, never in a cookie: the TOTP secret does
// not travel with every request, and the session cookie stays small.
type Enrolment struct {
	Channel    string `json:"c"`
	Secret     string `json:"s,omitempty"` // authenticator app: for manual entry
	BarcodeURI string `json:"u,omitempty"` // the otpauth URI the QR code carries
	OOBCode    string `json:"o,omitempty"`
	// Destination is where the code went: a phone number in E.164.
	Destination string `json:"d,omitempty"`
	// RecoveryCode comes with the user's first method; it is shown once,
	// after the confirmation.
	RecoveryCode string `json:"r,omitempty"`
	// Nonce makes the confirmation form single use (see Store.Spend).
	Nonce   string `json:"n"`
	Started int64  `json:"t"`
	// Earlier are the ids of the user's inactive entries of this kind that
	// were there before this enrolment's first association, when
	// EarlierKnown: what a cancel must leave alone.
	Earlier      []string `json:"b,omitempty"`
	EarlierKnown bool     `json:"k,omitempty"`
}

// Fits reports whether e is small enough to keep.
func (e *Enrolment) Fits() bool {
	n := len(e.Channel) + len(e.Secret) + len(e.BarcodeURI) + len(e.OOBCode) + len(e.Destination) + len(e.RecoveryCode) + len(e.Nonce)
	for _, id := range e.Earlier {
		n += len(id)
	}
	return n <= MaxEnrolmentBytes
}

// keptEnrolment is an Enrolment as stored: with its end by the store's
// clock, so that it lapses on time whatever the key-value store's clock.
type keptEnrolment struct {
	E     *Enrolment `json:"e"`
	Until int64      `json:"u"`
}

func enrolmentKey(sess *Session) string {
	return "enrol:" + sess.Purpose.String() + ":" + hashed(sess.ID)
}

// PutEnrolment keeps e for sess (replacing any), for EnrolmentLifetime.
func (s *Store) PutEnrolment(ctx context.Context, sess *Session, e *Enrolment) error {
	if sess.ID == "" || !e.Fits() {
		return fmt.Errorf("session: enrolment not kept (session id %t, fits %t)", sess.ID != "", e.Fits())
	}
	key := enrolmentKey(sess)
	sealed, err := s.enrolSeal.sealBytes(key, keptEnrolment{E: e, Until: s.now().Add(EnrolmentLifetime).Unix()})
	if err != nil {
		return fmt.Errorf("session: sealing: %w", err)
	}
	_, err = s.kv.Set(ctx, key, sealed, EnrolmentLifetime, kvstore.Always)
	return err
}

// Enrolment is sess's method being added, nil when none (or lapsed).
func (s *Store) Enrolment(ctx context.Context, sess *Session) (*Enrolment, error) {
	if sess.ID == "" {
		return nil, nil
	}
	key := enrolmentKey(sess)
	vals, err := s.kv.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 || vals[0] == nil {
		return nil, nil
	}
	var kept keptEnrolment
	if err := s.enrolSeal.openBytes(key, vals[0], &kept); err != nil || kept.E == nil {
		return nil, nil // sealed with retired keys or another epoch: as if lapsed
	}
	if s.now().Unix() >= kept.Until {
		return nil, nil
	}
	return kept.E, nil
}

// DropEnrolment forgets sess's method being added.
func (s *Store) DropEnrolment(ctx context.Context, sess *Session) error {
	if sess.ID == "" {
		return nil
	}
	return s.kv.Delete(ctx, enrolmentKey(sess))
}
