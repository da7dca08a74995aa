package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"mfaportal/kvstore"
)

// Store keeps sessions in one of two ways:
//
//   - Cookie: the whole session is sealed in the cookie; the key-value
//     store holds only revocations and spent tokens. With a Memory store
//     that state goes with the process, so the seals are bound to it too
//     (see kvstore.Store.Epoch): a restart signs everyone out, and a
//     signed-out cookie never comes back.
//   - Records: the cookie holds a random id; the sealed session is a
//     record in the key-value store (Redis: shared by replicas).
//
// Both are driven through the same methods and pass the same contract
// suite (contract_test.go).
type Store struct {
	kv      kvstore.Store
	records bool
	now     func() time.Time

	cookieSeal map[Purpose]sealer // the session in its cookie (cookie mode)
	recordSeal map[Purpose]sealer // the session in its record (records mode)
	loginSeal  sealer
	handoffs   sealer
	enrolSeal  sealer
	opened     openedCache // recently opened cookies and records
}

// Options configures a Store.
type Options struct {
	// Keys are the session keys (SESSION_KEYS): the first seals, all open.
	Keys [][]byte
	// KV holds the server-side state.
	KV kvstore.Store
	// Records keeps whole sessions in KV instead of in the cookie.
	Records bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns a Store.
func New(o Options) (*Store, error) {
	if o.KV == nil {
		return nil, errors.New("session: no key-value store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{kv: o.KV, records: o.Records, now: o.Now,
		cookieSeal: map[Purpose]sealer{}, recordSeal: map[Purpose]sealer{}}
	epoch := o.KV.Epoch()
	var err error
	for _, p := range []Purpose{TopLevel, Embed} {
		if s.cookieSeal[p], err = newSealer(o.Keys, epoch, "mfaportal session "+p.String(), Lifetime, 4096); err != nil {
			return nil, err
		}
		if s.recordSeal[p], err = newSealer(o.Keys, epoch, "mfaportal record "+p.String(), Lifetime, 0); err != nil {
			return nil, err
		}
	}
	if s.loginSeal, err = newSealer(o.Keys, epoch, "mfaportal login", LoginLifetime, 4096); err != nil {
		return nil, err
	}
	if s.handoffs, err = newSealer(o.Keys, epoch, "mfaportal handoff", HandoffLifetime+time.Minute, 0); err != nil {
		return nil, err
	}
	if s.enrolSeal, err = newSealer(o.Keys, epoch, "mfaportal enrolment", EnrolmentLifetime+time.Minute, 0); err != nil {
		return nil, err
	}
	return s, nil
}

// Key names in the key-value store. Secrets are hashed into them.
func recordKey(p Purpose, id string) string { return "session:" + p.String() + ":" + hashed(id) }
func revokedKey(idOrFamily string) string   { return "revoked:" + hashed(idOrFamily) }
func spentKey(token string) string          { return "spent:" + hashed(token) }
func preSessionKey(binding string) string   { return "embed-pre:" + binding }
func handoffKey(code string) string         { return "handoff:" + hashed(code) }

// Ping checks the key-value store (for readiness).
func (s *Store) Ping(ctx context.Context) error { return s.kv.Ping(ctx) }

// Load returns the request's session of purpose p, or nil when there is
// none, it does not open, or it was ended. An error means the key-value
// store is unreachable.
func (s *Store) Load(r *http.Request, p Purpose) (*Session, error) {
	value := p.cookie().value(r)
	if value == "" {
		return nil, nil
	}
	if s.records {
		return s.loadRecord(r.Context(), p, value)
	}
	name := p.cookie().name
	key := openedKey(name, value)
	v, ok := s.opened.get(key, s.now())
	if !ok {
		if err := s.cookieSeal[p].open(name, value, &v); err != nil {
			return nil, nil
		}
		s.opened.put(key, v, s.now())
	}
	sess := v.session(p)
	if sess.ID == "" || sess.Family == "" || sess.CSRFToken == "" {
		return nil, nil
	}
	ended, err := s.ended(r.Context(), sess)
	if err != nil || ended {
		return nil, err
	}
	return sess, nil
}

// recordCookie is a record's cookie value: the bearer id and the family,
// so one read fetches the record and the family's revocation together.
func recordCookie(sess *Session) string { return sess.ID + "." + sess.Family }

func (s *Store) loadRecord(ctx context.Context, p Purpose, value string) (*Session, error) {
	id, family, ok := strings.Cut(value, ".")
	if !ok || len(id) != 43 || len(family) != 22 {
		return nil, nil
	}
	key := recordKey(p, id)
	vals, err := s.kv.Get(ctx, key, revokedKey(family))
	if err != nil {
		return nil, err
	}
	if vals[0] == nil || vals[1] != nil {
		return nil, nil
	}
	// The record was just read, so it exists and is not revoked; opening
	// its seal is what the cache saves, as for cookies.
	opened := openedKey(key, vals[0])
	v, ok := s.opened.get(opened, s.now())
	if !ok {
		if err := s.recordSeal[p].openBytes(key, vals[0], &v); err != nil {
			// Sealed with a key no longer configured, or too old: no session.
			return nil, nil
		}
		s.opened.put(opened, v, s.now())
	}
	sess := v.session(p)
	if sess.CSRFToken == "" || sess.Family != family {
		return nil, nil
	}
	sess.ID = id
	return sess, nil
}

// ended reports whether the session or its family was signed out.
func (s *Store) ended(ctx context.Context, sess *Session) (bool, error) {
	vals, err := s.kv.Get(ctx, revokedKey(sess.ID), revokedKey(sess.Family))
	if err != nil {
		return false, err
	}
	return vals[0] != nil || vals[1] != nil, nil
}

// Save stores the session and (re)writes its cookie. A session that was
// ended meanwhile (signed out on another replica, in another frame) is not
// brought back: ErrEnded, and the cookie is deleted.
func (s *Store) Save(w http.ResponseWriter, r *http.Request, sess *Session) error {
	spec := sess.Purpose.cookie()
	if s.records {
		return s.saveRecord(w, r.Context(), sess)
	}
	if !sess.isNew {
		ended, err := s.ended(r.Context(), sess)
		if err != nil {
			return err
		}
		if ended {
			spec.clear(w)
			return ErrEnded
		}
	}
	value, err := s.cookieSeal[sess.Purpose].seal(spec.name, payloadOf(sess))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	spec.set(w, value, Lifetime)
	sess.isNew = false
	return nil
}

// saveRecord writes the record and renews its lifetime. A new session's
// record must not exist yet; an old one's must still exist.
func (s *Store) saveRecord(w http.ResponseWriter, ctx context.Context, sess *Session) error {
	key := recordKey(sess.Purpose, sess.ID)
	v := payloadOf(sess)
	v.ID = "" // the record's name holds it (hashed)
	sealed, err := s.recordSeal[sess.Purpose].sealBytes(key, v)
	if err != nil {
		return fmt.Errorf("session: sealing: %w", err)
	}
	mode := kvstore.IfPresent
	if sess.isNew {
		mode = kvstore.IfAbsent
	}
	wrote, err := s.kv.Set(ctx, key, sealed, Lifetime, mode)
	if err != nil {
		return err
	}
	if !wrote {
		sess.Purpose.cookie().clear(w)
		return ErrEnded
	}
	sess.isNew = false
	sess.Purpose.cookie().set(w, recordCookie(sess), Lifetime)
	return nil
}

// Start ends whatever session of purpose p the request carried and returns
// a new, unsaved one in a new family: new id, new CSRF token, nothing
// adopted from the browser's cookie (no session fixation).
func (s *Store) Start(r *http.Request, p Purpose) (*Session, error) {
	if err := s.endPrevious(r, p); err != nil {
		return nil, err
	}
	return &Session{
		ID: NewToken(32), Family: NewToken(16), Purpose: p,
		CSRFToken: NewToken(32), RegenNonce: NewToken(16), isNew: true,
	}, nil
}

func (s *Store) endPrevious(r *http.Request, p Purpose) error {
	if s.records {
		id, _, ok := strings.Cut(p.cookie().value(r), ".")
		if !ok || id == "" {
			return nil
		}
		return s.kv.Delete(r.Context(), recordKey(p, id))
	}
	old, err := s.Load(r, p)
	if err != nil || old == nil {
		return err
	}
	_, err = s.kv.Set(r.Context(), revokedKey(old.ID), []byte{1}, Lifetime, kvstore.Always)
	return err
}

// End signs the session out: it and every session of its family (the
// top-level one and the frames handed off from it) stop loading, on every
// replica sharing the key-value store. The cookie is deleted first, so the
// browser forgets it even when the store is down.
func (s *Store) End(w http.ResponseWriter, r *http.Request, sess *Session) error {
	sess.Purpose.cookie().clear(w)
	ctx := r.Context()
	if _, err := s.kv.Set(ctx, revokedKey(sess.Family), []byte{1}, Lifetime, kvstore.Always); err != nil {
		return err
	}
	if s.records {
		return s.kv.Delete(ctx, recordKey(sess.Purpose, sess.ID))
	}
	return nil
}

// Spend uses a one-time token (a form's nonce): nil the first time,
// ErrSpent every other time, however many try at once and on whichever
// replica. It is remembered for Lifetime, as long as any session cookie
// that could carry it.
func (s *Store) Spend(ctx context.Context, token string) error {
	return s.spend(ctx, token, Lifetime)
}

// spend remembers token as used for ttl: as long as whatever carries it
// can still be presented.
func (s *Store) spend(ctx context.Context, token string, ttl time.Duration) error {
	if token == "" {
		return ErrSpent
	}
	wrote, err := s.kv.Set(ctx, spentKey(token), []byte{1}, ttl, kvstore.IfAbsent)
	if err != nil {
		return err
	}
	if !wrote {
		return ErrSpent
	}
	return nil
}
