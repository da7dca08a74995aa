package session

import (
	"context"
	"crypto/subtle"
	"net/http"
	"regexp"
	"time"

	"mfaportal/kvstore"
)

// A framed sign-in, cross-site, goes through a popup (Universal Login
// refuses frames): the frame opens a pre-session (a secret in its
// partitioned cookie), the popup signs in at top level and mints a
// one-time code bound to the pre-session, and the frame trades the code
// for an embed session in the same family. Codes and pre-sessions live in
// the key-value store, so the popup and the frame may reach different
// replicas.

// bindingPattern is the shape of a pre-session binding (a SHA-256, base64url).
var bindingPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// ValidBinding reports whether s has the shape of a pre-session binding.
func ValidBinding(s string) bool { return bindingPattern.MatchString(s) }

// sealedHandoff is what a code's key holds.
type sealedHandoff struct {
	Binding string  `json:"b"`
	Session payload `json:"s"`
	Expires int64   `json:"x"`
}

// OpenPreSession marks the frame's partition with a random secret and
// returns its binding (the secret's hash), which is all the popup's address
// carries.
func (s *Store) OpenPreSession(ctx context.Context, w http.ResponseWriter) (string, error) {
	secret := NewToken(32)
	binding := hashed(secret)
	if _, err := s.kv.Set(ctx, preSessionKey(binding), []byte{1}, PreSessionLifetime, kvstore.IfAbsent); err != nil {
		return "", err
	}
	preSessionCookie.set(w, secret, PreSessionLifetime)
	return binding, nil
}

// PreSessionOpen reports whether binding names an open pre-session.
func (s *Store) PreSessionOpen(ctx context.Context, binding string) (bool, error) {
	if !ValidBinding(binding) {
		return false, nil
	}
	vals, err := s.kv.Get(ctx, preSessionKey(binding))
	if err != nil {
		return false, err
	}
	return vals[0] != nil, nil
}

// MintHandoff closes the pre-session (one pre-session, one code) and
// returns a one-time code, good for HandoffLifetime, that carries from's
// sign-in to the frame. ErrHandoffRefused when the pre-session is not open.
func (s *Store) MintHandoff(ctx context.Context, binding string, from *Session) (string, error) {
	if !ValidBinding(binding) {
		return "", ErrHandoffRefused
	}
	open, err := s.kv.Take(ctx, preSessionKey(binding))
	if err != nil {
		return "", err
	}
	if open == nil {
		return "", ErrHandoffRefused
	}
	code := NewToken(32)
	key := handoffKey(code)
	sealed, err := s.handoffs.sealBytes(key, sealedHandoff{
		Binding: binding, Session: payloadOf(from), Expires: s.now().Add(HandoffLifetime).Unix(),
	})
	if err != nil {
		return "", err
	}
	if _, err := s.kv.Set(ctx, key, sealed, HandoffLifetime, kvstore.Always); err != nil {
		return "", err
	}
	return code, nil
}

// Handoff spends the code, right or wrong, and when it is unexpired, bound
// to the request's own pre-session, and its session's family still signed
// in, starts and saves an embed session in that family.
func (s *Store) Handoff(w http.ResponseWriter, r *http.Request, code string) (*Session, error) {
	secret := preSessionCookie.value(r)
	if code == "" || len(code) > 64 || secret == "" || len(secret) > 64 {
		return nil, ErrHandoffRefused
	}
	ctx := r.Context()
	key := handoffKey(code)
	sealed, err := s.kv.Take(ctx, key)
	if err != nil {
		return nil, err
	}
	if sealed == nil {
		return nil, ErrHandoffRefused
	}
	var h sealedHandoff
	if err := s.handoffs.openBytes(key, sealed, &h); err != nil ||
		!s.now().Before(time.Unix(h.Expires, 0)) ||
		subtle.ConstantTimeCompare([]byte(h.Binding), []byte(hashed(secret))) != 1 {
		return nil, ErrHandoffRefused
	}
	from := h.Session.session(TopLevel)
	if ended, err := s.ended(ctx, from); err != nil {
		return nil, err
	} else if ended {
		return nil, ErrHandoffRefused
	}
	sess, err := s.Start(r, Embed)
	if err != nil {
		return nil, err
	}
	sess.Inherit(from)
	if err := s.Save(w, r, sess); err != nil {
		return nil, err
	}
	preSessionCookie.clear(w)
	return sess, nil
}
