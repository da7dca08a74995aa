package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/redis/go-redis/v9"
)

// redisSessionKeyPrefix namespaces the portal's session keys in a shared Redis.
const redisSessionKeyPrefix = "mfaportal:session:"

// errSessionEnded is a save of a session whose key is gone: it was signed
// out (maybe on another replica) or expired while the request ran.
var errSessionEnded = &pageError{Status: http.StatusUnauthorized,
	Heading:   "Please sign in again",
	Message:   "You were signed out, perhaps in another tab or window. Sign in again to continue.",
	ActionURL: "/login", ActionText: "Sign in"}

// redisSessions keeps sessions server-side in Redis, so that every replica
// sees the same session and a sign-out deletes it for all of them. The
// cookie holds only a random id; the key is the id's SHA-256, so a copy of
// the Redis data holds no usable cookie. The fields are sealed with the
// session keys (securecookie, bound to the key name), so it holds no usable
// access token either. Keys expire with the cookie.
type redisSessions struct {
	spec   cookieSpec
	rdb    redis.UniversalClient
	codecs []securecookie.Codec
}

func newRedisSessions(spec cookieSpec, secrets [][]byte, rdb redis.UniversalClient) (*redisSessions, error) {
	if rdb == nil {
		return nil, errors.New("handlers: no Redis client")
	}
	pairs, err := derivedKeyPairs(secrets, "mfaportal redis session")
	if err != nil {
		return nil, err
	}
	var codecs []securecookie.Codec
	for i := 0; i+1 < len(pairs); i += 2 {
		sc := securecookie.New(pairs[i], pairs[i+1])
		sc.MaxAge(int(sessionCookieLifetime / time.Second))
		sc.MaxLength(0) // the value is not a cookie: no 4096-byte limit
		sc.SetSerializer(securecookie.JSONEncoder{})
		codecs = append(codecs, sc)
	}
	return &redisSessions{spec: spec, rdb: rdb, codecs: codecs}, nil
}

// sessionKey names a session's Redis key after the hash of its id.
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return redisSessionKeyPrefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// cookieID returns the request's session id when it looks like one of ours.
func cookieID(r *http.Request, spec cookieSpec) (string, bool) {
	c, err := r.Cookie(spec.name)
	if err != nil {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != redisSessionIDBytes {
		return "", false
	}
	return c.Value, true
}

func (s *redisSessions) load(r *http.Request) (*userSession, error) {
	id, ok := cookieID(r, s.spec)
	if !ok {
		return nil, nil
	}
	key := sessionKey(id)
	sealed, err := s.rdb.Get(r.Context(), key).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, storeDown("loading the session", err)
	}
	var v cookiePayload
	if err := securecookie.DecodeMulti(key, base64.URLEncoding.EncodeToString([]byte(sealed)), &v, s.codecs...); err != nil {
		// Sealed with a key no longer configured, or too old: no session.
		return nil, nil
	}
	us := v.session()
	if us.CSRFToken == "" {
		return nil, nil
	}
	us.ID = id
	return us, nil
}

// save writes the fields under the session's key and renews the key's and
// the cookie's lifetime. A new session's key must not exist yet; an old
// one's must still exist, so a request that was running while the user
// signed out elsewhere cannot bring the session back.
func (s *redisSessions) save(w http.ResponseWriter, r *http.Request, us *userSession) error {
	key := sessionKey(us.ID)
	// The id is the key's name already (hashed): not stored again.
	v := payloadOf(us)
	v.ID = ""
	encoded, err := securecookie.EncodeMulti(key, v, s.codecs...)
	if err != nil {
		return fmt.Errorf("handlers: sealing the session: %w", err)
	}
	// securecookie's outer base64 is for cookies; Redis stores bytes, and a
	// quarter less memory per session matters with many sessions.
	sealed, err := base64.URLEncoding.DecodeString(encoded)
	if err != nil {
		return fmt.Errorf("handlers: sealing the session: %w", err)
	}
	mode := "XX"
	if us.isNew {
		mode = "NX"
	}
	err = s.rdb.SetArgs(r.Context(), key, sealed, redis.SetArgs{Mode: mode, TTL: sessionCookieLifetime}).Err()
	if errors.Is(err, redis.Nil) {
		http.SetCookie(w, s.spec.cookie("", -1))
		return errSessionEnded
	}
	if err != nil {
		return storeDown("saving the session", err)
	}
	us.isNew = false
	http.SetCookie(w, s.spec.cookie(us.ID, int(sessionCookieLifetime/time.Second)))
	return nil
}

// destroy deletes the key, which ends the session on every replica. The
// cookie is expired first, so the browser forgets it even when Redis is down.
func (s *redisSessions) destroy(w http.ResponseWriter, r *http.Request, us *userSession) error {
	http.SetCookie(w, s.spec.cookie("", -1))
	if us == nil {
		return nil
	}
	if err := s.rdb.Del(r.Context(), sessionKey(us.ID)).Err(); err != nil {
		return storeDown("deleting the session", err)
	}
	return nil
}

// regenerate deletes the key of whatever session the request carried (no
// need to read it) and returns a new session with a new id.
func (s *redisSessions) regenerate(r *http.Request) (*userSession, error) {
	if id, ok := cookieID(r, s.spec); ok {
		if err := s.rdb.Del(r.Context(), sessionKey(id)).Err(); err != nil {
			return nil, storeDown("deleting the previous session", err)
		}
	}
	us := newSession()
	us.ID = randomToken(redisSessionIDBytes)
	return us, nil
}

// storeDown marks a Redis failure so the error page says "temporarily
// unavailable". go-redis errors name the address, never the password.
func storeDown(doing string, err error) error {
	return fmt.Errorf("%w: %s: %w", errSessionStoreDown, doing, err)
}
