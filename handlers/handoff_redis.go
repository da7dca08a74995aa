package handlers

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/redis/go-redis/v9"
)

const (
	redisPreSessionPrefix = "mfaportal:embed-pre:"
	redisHandoffPrefix    = "mfaportal:handoff:"
)

// redisHandoffs keeps pre-sessions and handoff codes in Redis, so the popup
// and the iframe may reach different replicas. Keys are hashes (the
// binding is already one; codes are hashed), values are sealed with the
// session keys because a code carries the user's access token, and Redis
// expiry enforces the lifetimes. GETDEL spends a code exactly once.
type redisHandoffs struct {
	rdb    redis.UniversalClient
	codecs []securecookie.Codec
}

// sealedHandoff is what a code's key holds.
type sealedHandoff struct {
	Binding string        `json:"b"`
	Session cookiePayload `json:"s"`
}

func newRedisHandoffs(secrets [][]byte, rdb redis.UniversalClient) (*redisHandoffs, error) {
	pairs, err := derivedKeyPairs(secrets, "mfaportal handoff")
	if err != nil {
		return nil, err
	}
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range codecs {
		sc := c.(*securecookie.SecureCookie)
		sc.MaxAge(int(handoffLifetime/time.Second) + 60)
		sc.MaxLength(0)
		sc.SetSerializer(securecookie.JSONEncoder{})
	}
	return &redisHandoffs{rdb: rdb, codecs: codecs}, nil
}

func (h *redisHandoffs) startPreSession(ctx context.Context, binding string) error {
	if err := h.rdb.Set(ctx, redisPreSessionPrefix+binding, "1", preSessionLifetime).Err(); err != nil {
		return storeDown("opening the pre-session", err)
	}
	return nil
}

func (h *redisHandoffs) preSessionOpen(ctx context.Context, binding string) (bool, error) {
	n, err := h.rdb.Exists(ctx, redisPreSessionPrefix+binding).Result()
	if err != nil {
		return false, storeDown("reading the pre-session", err)
	}
	return n == 1, nil
}

// mint closes the pre-session (one pre-session, one code: the DEL that
// removes it wins) and stores the sealed code for 60 seconds.
func (h *redisHandoffs) mint(ctx context.Context, binding string, sess *userSession) (string, bool, error) {
	n, err := h.rdb.Del(ctx, redisPreSessionPrefix+binding).Result()
	if err != nil {
		return "", false, storeDown("closing the pre-session", err)
	}
	if n != 1 {
		return "", false, nil
	}
	code := randomToken(32)
	key := redisHandoffPrefix + bindingOf(code)
	sealed, err := securecookie.EncodeMulti(key, sealedHandoff{Binding: binding, Session: payloadOf(sess)}, h.codecs...)
	if err != nil {
		return "", false, err
	}
	if err := h.rdb.Set(ctx, key, sealed, handoffLifetime).Err(); err != nil {
		return "", false, storeDown("storing the handoff code", err)
	}
	return code, true, nil
}

// redeem spends the code whatever the outcome, and returns the session it
// carries when it is bound to this pre-session.
func (h *redisHandoffs) redeem(ctx context.Context, code, binding string) (*userSession, bool, error) {
	if code == "" || len(code) > 64 {
		return nil, false, nil
	}
	key := redisHandoffPrefix + bindingOf(code)
	sealed, err := h.rdb.GetDel(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeDown("spending the handoff code", err)
	}
	var v sealedHandoff
	if err := securecookie.DecodeMulti(key, sealed, &v, h.codecs...); err != nil {
		return nil, false, nil
	}
	if subtle.ConstantTimeCompare([]byte(v.Binding), []byte(binding)) != 1 {
		return nil, false, nil
	}
	return v.Session.session(), true, nil
}
