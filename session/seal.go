package session

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/gorilla/securecookie"
)

// sealer encrypts and authenticates one kind of value with every configured
// key (the first seals, all open: that is how keys rotate). It uses
// gorilla/securecookie (AES-256-CTR, then HMAC-SHA256 over the name, a
// timestamp and the ciphertext) rather than crypto of our own. The name a
// value is sealed under is authenticated: a value moved to another cookie
// or record does not open there.
type sealer struct {
	codecs []securecookie.Codec
}

// newSealer derives an HMAC and an AES key from each secret for purpose
// (different purposes never share keys). epoch is the key-value store's
// (see kvstore.Store.Epoch): seals that only that state can revoke die
// with it. maxLen 0 means no cookie size limit (records).
func newSealer(secrets [][]byte, epoch, purpose string, maxAge time.Duration, maxLen int) (sealer, error) {
	if len(secrets) == 0 {
		return sealer{}, errors.New("session: no session keys")
	}
	var codecs []securecookie.Codec
	for _, secret := range secrets {
		hashKey, err := hkdf.Key(sha256.New, secret, []byte(epoch), purpose+" hmac", 32)
		if err != nil {
			return sealer{}, err
		}
		blockKey, err := hkdf.Key(sha256.New, secret, []byte(epoch), purpose+" aes", 32)
		if err != nil {
			return sealer{}, err
		}
		sc := securecookie.New(hashKey, blockKey)
		sc.MaxAge(int(maxAge / time.Second))
		sc.MaxLength(maxLen)
		sc.SetSerializer(compactJSON{})
		codecs = append(codecs, sc)
	}
	return sealer{codecs: codecs}, nil
}

// seal returns v sealed under name, as cookie-safe text.
func (s sealer) seal(name string, v any) (string, error) {
	return securecookie.EncodeMulti(name, v, s.codecs...)
}

// open reads what seal made; any failure (other keys, too old, tampered,
// another name) is an error.
func (s sealer) open(name, sealed string, v any) error {
	return securecookie.DecodeMulti(name, sealed, v, s.codecs...)
}

// sealBytes is seal without securecookie's outer base64, which is for
// cookies: a record stores bytes, and a quarter less memory per session
// matters with many sessions.
func (s sealer) sealBytes(name string, v any) ([]byte, error) {
	text, err := s.seal(name, v)
	if err != nil {
		return nil, err
	}
	return base64.URLEncoding.DecodeString(text)
}

func (s sealer) openBytes(name string, sealed []byte, v any) error {
	return s.open(name, base64.URLEncoding.EncodeToString(sealed), v)
}

// compactJSON is securecookie's JSON serializer without HTML escaping:
// json.Marshal writes "<" as six bytes, so a display name of markup grew
// a cookie past 4096 bytes.
type compactJSON struct{}

func (compactJSON) Serialize(src any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(src); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (compactJSON) Deserialize(src []byte, dst any) error { return json.Unmarshal(src, dst) }

// hashed names a key after a secret's SHA-256, so a copy of the store's
// keys holds no usable cookie, code or id.
func hashed(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
