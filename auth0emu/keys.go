package auth0emu

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// signingKey is one RS256 key of the tenant.
type signingKey struct {
	kid      string
	private  *rsa.PrivateKey
	signer   jose.Signer
	retireAt time.Time // zero while it is the current key
}

// keyring holds the current signing key and, for a grace period, the keys
// rotated out, so tokens they signed still verify and stay in the JWKS.
type keyring struct {
	now   func() time.Time
	grace time.Duration

	mu      sync.RWMutex
	current *signingKey
	retired []*signingKey
}

func newKeyring(now func() time.Time, grace time.Duration) (*keyring, error) {
	k := &keyring{now: now, grace: grace}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	k.current = key
	return k, nil
}

func newSigningKey() (*signingKey, error) {
	private, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("auth0emu: generate RSA key: %w", err)
	}
	kid := randomString(alnum, 22)
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: private, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("auth0emu: signer: %w", err)
	}
	return &signingKey{kid: kid, private: private, signer: signer}, nil
}

// rotate makes a new key current; the old one is retired after the grace period.
func (k *keyring) rotate() error {
	next, err := newSigningKey()
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	old := k.current
	old.retireAt = k.now().Add(k.grace)
	k.retired = append(k.retired, old)
	k.current = next
	return nil
}

// published returns the keys in the JWKS now: the current one first.
func (k *keyring) published() []*signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	now := k.now()
	out := []*signingKey{k.current}
	for _, key := range slices.Backward(k.retired) {
		if now.Before(key.retireAt) {
			out = append(out, key)
		}
	}
	return out
}

// publicKey returns the verification key for kid if it is still published.
func (k *keyring) publicKey(kid string) (*rsa.PublicKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.current.kid == kid {
		return &k.current.private.PublicKey, true
	}
	for _, key := range k.retired {
		if key.kid == kid && k.now().Before(key.retireAt) {
			return &key.private.PublicKey, true
		}
	}
	return nil, false
}

// sign serialises claims as a JWT signed by the current key.
func (k *keyring) sign(claims any) (string, error) {
	k.mu.RLock()
	signer := k.current.signer
	k.mu.RUnlock()
	return jwt.Signed(signer).Claims(claims).Serialize()
}

func (k *keyring) jwks() jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, key := range k.published() {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &key.private.PublicKey, KeyID: key.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	return set
}

// RotateKeys makes a new RS256 key (new kid) sign from now on. The old key
// stays in the JWKS, and its tokens stay valid, for the grace period.
func (t *Tenant) RotateKeys() {
	if err := t.keys.rotate(); err != nil {
		t.log.Error("rotate keys", "err", err)
		return
	}
	t.log.Info("signing key rotated")
}

// accessClaims are the claims of every access token the tenant issues.
type accessClaims struct {
	jwt.Claims
	Scope string `json:"scope,omitempty"`
	AZP   string `json:"azp,omitempty"`
	GTY   string `json:"gty,omitempty"`
}

func (c accessClaims) scopes() []string { return strings.Fields(c.Scope) }

// idClaims are the claims of an ID token.
type idClaims struct {
	jwt.Claims
	Nonce         string   `json:"nonce,omitempty"`
	AuthTime      int64    `json:"auth_time"`
	AMR           []string `json:"amr,omitempty"`
	AZP           string   `json:"azp,omitempty"`
	SID           string   `json:"sid,omitempty"`
	Name          string   `json:"name,omitempty"`
	Nickname      string   `json:"nickname,omitempty"`
	Email         string   `json:"email,omitempty"`
	EmailVerified *bool    `json:"email_verified,omitempty"`
}

// Token verification failures.
var (
	errTokenMissing   = errors.New("missing authentication")
	errTokenMalformed = errors.New("invalid token")
	errTokenSignature = errors.New("invalid signature")
	errTokenExpired   = errors.New("expired token")
	errTokenAudience  = errors.New("bad audience")
	errTokenIssuer    = errors.New("bad issuer")
)

// tokenErrorDescriptions are the messages Auth0 answers for each failure.
var tokenErrorDescriptions = map[error]string{
	errTokenMissing:   "Missing authentication",
	errTokenMalformed: "Invalid token",
	errTokenSignature: "Invalid signature received for JSON Web Token validation",
	errTokenExpired:   "Expired token received for JSON Web Token validation",
	errTokenAudience:  "Invalid token",
	errTokenIssuer:    "Invalid token",
}

func describeTokenError(err error) string {
	if d, ok := tokenErrorDescriptions[err]; ok {
		return d
	}
	return "Invalid token"
}

// tokenCache remembers tokens whose signature already verified, keyed by the
// raw token: RSA verification dominates the hot path, and the same access
// token is presented on every request. Claims are still checked each time.
type tokenCache struct {
	mu sync.RWMutex
	m  map[string]cachedToken
}

type cachedToken struct {
	kid    string
	claims accessClaims
}

const tokenCacheSize = 50_000

func newTokenCache() *tokenCache { return &tokenCache{m: map[string]cachedToken{}} }

func (c *tokenCache) get(raw string) (cachedToken, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[raw]
	return v, ok
}

func (c *tokenCache) put(raw string, v cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= tokenCacheSize {
		clear(c.m) // crude but bounded; a miss only costs one verification
	}
	c.m[raw] = v
}

// verifyAccessToken checks signature (by a published kid), issuer, audience
// and expiry, and returns the claims.
func (t *Tenant) verifyAccessToken(raw, audience string) (accessClaims, error) {
	if raw == "" {
		return accessClaims{}, errTokenMissing
	}
	cached, ok := t.tokens.get(raw)
	if ok {
		if _, published := t.keys.publicKey(cached.kid); !published {
			return accessClaims{}, errTokenSignature
		}
	} else {
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil || len(tok.Headers) != 1 {
			return accessClaims{}, errTokenMalformed
		}
		kid := tok.Headers[0].KeyID
		pub, published := t.keys.publicKey(kid)
		if !published {
			return accessClaims{}, errTokenSignature
		}
		var claims accessClaims
		if err := tok.Claims(pub, &claims); err != nil {
			return accessClaims{}, errTokenSignature
		}
		cached = cachedToken{kid: kid, claims: claims}
		t.tokens.put(raw, cached)
	}
	c := cached.claims
	switch {
	case c.Issuer != t.Issuer():
		return accessClaims{}, errTokenIssuer
	case !c.Audience.Contains(audience):
		return accessClaims{}, errTokenAudience
	case c.Expiry == nil || !t.now().Before(c.Expiry.Time()):
		return accessClaims{}, errTokenExpired
	}
	return c, nil
}

// MintAccessToken signs an access token as the tenant would issue it, for
// tests that need a token without a browser sign-in. An audience equal to
// MFAAudience also carries the userinfo audience, like Auth0's.
func (t *Tenant) MintAccessToken(subject, audience string, scopes []string, ttl time.Duration) (string, error) {
	now := t.now()
	aud := jwt.Audience{audience}
	if audience == t.MFAAudience() {
		aud = append(aud, t.userinfoAudience())
	}
	return t.keys.sign(accessClaims{
		Claims: jwt.Claims{
			Issuer: t.Issuer(), Subject: subject, Audience: aud,
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(ttl)),
		},
		Scope: strings.Join(scopes, " "),
		AZP:   t.WebClient().ID,
	})
}
