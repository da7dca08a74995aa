package handlers

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"
)

const (
	sessionCookieName = "__Host-mfaportal"
	loginCookieName   = "__Host-mfaportal-login"
	// embedCookieName carries sessions made for a cross-site iframe: it has
	// to be SameSite=None to travel there, so it is Partitioned (CHIPS) and
	// is never accepted by the portal's own, top-level pages.
	embedCookieName = "__Host-mfaportal-embed"

	// sessionCookieLifetime bounds how long an old cookie can be replayed. The
	// /mfa/ token inside lives 10 minutes; keeping the cookie longer only lets
	// the portal greet a returning user and send them straight to sign-in.
	sessionCookieLifetime = 12 * time.Hour
	// loginTxLifetime is how long a sign-in round trip through Auth0 may take.
	loginTxLifetime = 15 * time.Minute
	// redisSessionIDBytes is the randomness of a Redis session's id: 256
	// bits, which is all its cookie holds.
	redisSessionIDBytes = 32
)

// userSession is everything the portal keeps about a signed-in user. Only what
// the pages need: the cookie must stay under 4096 bytes.
type userSession struct {
	// ID is random, regenerated at sign-in, revoked at sign-out. In Redis
	// mode it is the cookie's value and only its hash names the key, so it
	// is not stored with the fields.
	ID          string `json:"-"`
	Sub         string // from the verified ID token; the only user id used upstream
	Name        string
	AccessToken string // the /mfa/ audience token; never sent to the browser in clear
	TokenExpiry time.Time
	AuthTime    time.Time
	CSRFToken   string
	// RegenNonce makes the regeneration form single use, so a browser's
	// "resubmit form?" after Back cannot silently regenerate a second time.
	RegenNonce string
	Flash      string // a message key shown once on the next page
	FlashArg   string

	// isNew marks a session made by regenerate and not yet saved, so the
	// Redis store creates its key only then and never recreates a key that
	// sign-out on another replica has deleted.
	isNew bool
}

// signedIn reports whether the session holds a usable /mfa/ token.
func (s *userSession) signedIn(now time.Time) bool {
	return s != nil && s.Sub != "" && s.AccessToken != "" && now.Before(s.TokenExpiry)
}

// loginTx is the state of one sign-in round trip, kept in its own short-lived cookie.
type loginTx struct {
	State      string
	Nonce      string
	Verifier   string
	ReturnPath string
	Created    time.Time
}

// sessionBackend keeps the signed-in user's session between requests. There
// are two: encrypted cookies (one instance, nothing to install) and Redis
// (several replicas, where sign-out must hold on all of them).
type sessionBackend interface {
	// load returns the request's session, or nil when there is none, it does
	// not verify, or it was revoked. An error means the store is unreachable.
	load(r *http.Request) (*userSession, error)
	// save stores the session and (re)writes its cookie.
	save(w http.ResponseWriter, r *http.Request, us *userSession) error
	// destroy revokes the session and tells the browser to forget the cookie.
	destroy(w http.ResponseWriter, r *http.Request, us *userSession) error
	// regenerate ends whatever session the request carried and returns a
	// new, unsaved one (no session fixation).
	regenerate(r *http.Request) (*userSession, error)
}

// cookieSpec is the name and cross-site behaviour of a session cookie.
type cookieSpec struct {
	name        string
	sameSite    http.SameSite
	partitioned bool
}

var (
	// mainCookie is the portal's own session: Lax, never sent in a cross-site frame.
	mainCookie = cookieSpec{name: sessionCookieName, sameSite: http.SameSiteLaxMode}
	// embedCookie is the cross-site iframe's session, kept in the embedding
	// site's partition only.
	embedCookie = cookieSpec{name: embedCookieName, sameSite: http.SameSiteNoneMode, partitioned: true}
)

// cookie returns the session cookie with this spec's attributes.
func (cs cookieSpec) cookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{
		Name: cs.name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: cs.sameSite, Partitioned: cs.partitioned,
	}
	if maxAge > 0 {
		c.Expires = time.Now().Add(time.Duration(maxAge) * time.Second)
	}
	return c
}

var (
	_ sessionBackend = (*cookieSessions)(nil)
	_ sessionBackend = (*redisSessions)(nil)
)

// errSessionStoreDown wraps errors from a session or limit store that cannot
// be reached; the error page says the portal is temporarily unavailable.
var errSessionStoreDown = errors.New("handlers: session store unavailable")

// sessionStore is the user session (in one of the backends) plus the login
// round trip, which is always a short-lived encrypted cookie: it is written
// before the browser leaves for Auth0 and read once when it comes back.
type sessionStore struct {
	sessionBackend
	cookies *sessions.CookieStore
	now     func() time.Time
}

// newSessionStore keeps sessions in encrypted cookies.
func newSessionStore(secrets [][]byte, now func() time.Time) (*sessionStore, error) {
	return newSessionStoreFor(mainCookie, secrets, now)
}

// newSessionStoreFor keeps sessions in encrypted cookies named by spec.
func newSessionStoreFor(spec cookieSpec, secrets [][]byte, now func() time.Time) (*sessionStore, error) {
	cookies, err := newCookieStore(secrets, "mfaportal session")
	if err != nil {
		return nil, err
	}
	pairs, err := derivedKeyPairs(secrets, "mfaportal session")
	if err != nil {
		return nil, err
	}
	backend := newCookieSessions(spec, cookies, pairs, now)
	return &sessionStore{sessionBackend: backend, cookies: cookies, now: now}, nil
}

// newRedisSessionStore keeps sessions in Redis; the login round trip stays a cookie.
func newRedisSessionStore(secrets [][]byte, now func() time.Time, rdb redis.UniversalClient) (*sessionStore, error) {
	return newRedisSessionStoreFor(mainCookie, secrets, now, rdb)
}

// newRedisSessionStoreFor keeps sessions in Redis, their ids in cookies named by spec.
func newRedisSessionStoreFor(spec cookieSpec, secrets [][]byte, now func() time.Time, rdb redis.UniversalClient) (*sessionStore, error) {
	cookies, err := newCookieStore(secrets, "mfaportal session")
	if err != nil {
		return nil, err
	}
	backend, err := newRedisSessions(spec, secrets, rdb)
	if err != nil {
		return nil, err
	}
	return &sessionStore{sessionBackend: backend, cookies: cookies, now: now}, nil
}

// newCookieStore derives an HMAC key and an AES key from each configured
// secret (purpose names the use, so different uses never share keys). The
// first secret signs; all verify, which is how keys are rotated. Cookies are
// sealed by gorilla/sessions over securecookie: AES-256-CTR, then HMAC-SHA256
// over name, timestamp and ciphertext. We use the library rather than our
// own sealing because cookie crypto is easy to get subtly wrong.
func newCookieStore(secrets [][]byte, purpose string) (*sessions.CookieStore, error) {
	pairs, err := derivedKeyPairs(secrets, purpose)
	if err != nil {
		return nil, err
	}
	store := sessions.NewCookieStore(pairs...)
	store.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(sessionCookieLifetime / time.Second),
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	store.MaxAge(store.Options.MaxAge)
	return store, nil
}

// derivedKeyPairs returns securecookie's hash and block keys, two per secret.
func derivedKeyPairs(secrets [][]byte, purpose string) ([][]byte, error) {
	if len(secrets) == 0 {
		return nil, errors.New("handlers: no session keys")
	}
	var pairs [][]byte
	for _, secret := range secrets {
		hashKey, err := hkdf.Key(sha256.New, secret, nil, purpose+" hmac", 32)
		if err != nil {
			return nil, err
		}
		blockKey, err := hkdf.Key(sha256.New, secret, nil, purpose+" aes", 32)
		if err != nil {
			return nil, err
		}
		pairs = append(pairs, hashKey, blockKey)
	}
	return pairs, nil
}

// cookieSessions keeps the whole session in the encrypted cookie and
// remembers revoked session ids, so a cookie copied before sign-out is
// useless after it (on this instance: the list is in memory).
//
// It seals a fixed struct as JSON with securecookie (the codec under
// gorilla/sessions, same keys and construction) rather than a
// gorilla/sessions map: the map needs gob, and building a gob decoder on
// every request was half of a page view's CPU in the benchmark.
type cookieSessions struct {
	spec    cookieSpec
	cookies *sessions.CookieStore // for the cookie attributes
	codecs  []securecookie.Codec
	now     func() time.Time
	revoked *revocationList
}

// cookiePayload is the session as a backend stores it (in the cookie, or
// sealed in Redis); short names keep both small.
type cookiePayload struct {
	ID          string `json:"i,omitempty"`
	Sub         string `json:"s"`
	Name        string `json:"n,omitempty"`
	AccessToken string `json:"a"`
	TokenExpiry int64  `json:"e"`
	AuthTime    int64  `json:"t"`
	CSRFToken   string `json:"c"`
	RegenNonce  string `json:"r"`
	Flash       string `json:"f,omitempty"`
	FlashArg    string `json:"g,omitempty"`
}

// payloadOf is what a backend stores of a session.
func payloadOf(us *userSession) cookiePayload {
	return cookiePayload{
		ID:          us.ID,
		Sub:         us.Sub,
		Name:        us.Name,
		AccessToken: us.AccessToken,
		TokenExpiry: us.TokenExpiry.Unix(),
		AuthTime:    us.AuthTime.Unix(),
		CSRFToken:   us.CSRFToken,
		RegenNonce:  us.RegenNonce,
		Flash:       us.Flash,
		FlashArg:    us.FlashArg,
	}
}

func (v cookiePayload) session() *userSession {
	return &userSession{
		ID:          v.ID,
		Sub:         v.Sub,
		Name:        v.Name,
		AccessToken: v.AccessToken,
		TokenExpiry: unix(v.TokenExpiry),
		AuthTime:    unix(v.AuthTime),
		CSRFToken:   v.CSRFToken,
		RegenNonce:  v.RegenNonce,
		Flash:       v.Flash,
		FlashArg:    v.FlashArg,
	}
}

func newCookieSessions(spec cookieSpec, cookies *sessions.CookieStore, pairs [][]byte, now func() time.Time) *cookieSessions {
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, c := range codecs {
		sc := c.(*securecookie.SecureCookie)
		sc.MaxAge(int(sessionCookieLifetime / time.Second))
		sc.SetSerializer(securecookie.JSONEncoder{})
	}
	return &cookieSessions{spec: spec, cookies: cookies, codecs: codecs, now: now, revoked: newRevocationList()}
}

func (s *cookieSessions) load(r *http.Request) (*userSession, error) {
	c, err := r.Cookie(s.spec.name)
	if err != nil {
		return nil, nil
	}
	var v cookiePayload
	if err := securecookie.DecodeMulti(s.spec.name, c.Value, &v, s.codecs...); err != nil {
		return nil, nil
	}
	us := v.session()
	if us.ID == "" || us.CSRFToken == "" || s.revoked.has(us.ID, s.now()) {
		return nil, nil
	}
	return us, nil
}

// save writes the session cookie. It fails rather than writing a cookie the
// browser would drop for being too large (securecookie refuses over 4096).
func (s *cookieSessions) save(w http.ResponseWriter, _ *http.Request, us *userSession) error {
	value, err := securecookie.EncodeMulti(s.spec.name, payloadOf(us), s.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.spec.cookie(value, s.cookies.Options.MaxAge))
	us.isNew = false
	return nil
}

func (s *cookieSessions) destroy(w http.ResponseWriter, _ *http.Request, us *userSession) error {
	if us != nil {
		s.revoked.add(us.ID, s.now().Add(sessionCookieLifetime))
	}
	http.SetCookie(w, s.spec.cookie("", -1))
	return nil
}

func (s *cookieSessions) regenerate(r *http.Request) (*userSession, error) {
	if old, _ := s.load(r); old != nil {
		s.revoked.add(old.ID, s.now().Add(sessionCookieLifetime))
	}
	return newSession(), nil
}

// newSession starts a fresh session: new id and new CSRF token, nothing carried
// over from whatever cookie the browser had (no session fixation).
func newSession() *userSession {
	return &userSession{ID: randomToken(16), CSRFToken: randomToken(32), RegenNonce: randomToken(16), isNew: true}
}

func (s *sessionStore) loadLogin(r *http.Request) *loginTx {
	sess, err := s.cookies.New(r, loginCookieName)
	if err != nil || sess.IsNew {
		return nil
	}
	v := sess.Values
	tx := &loginTx{
		State:      str(v["state"]),
		Nonce:      str(v["nonce"]),
		Verifier:   str(v["verifier"]),
		ReturnPath: str(v["return"]),
		Created:    unix(v["created"]),
	}
	if tx.State == "" || s.now().Sub(tx.Created) > loginTxLifetime {
		return nil
	}
	return tx
}

func (s *sessionStore) saveLogin(w http.ResponseWriter, r *http.Request, tx *loginTx) error {
	sess := sessions.NewSession(s.cookies, loginCookieName)
	sess.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   int(loginTxLifetime / time.Second),
		Secure:   true,
		HttpOnly: true,
		// Lax: the callback is a top-level GET navigation from Auth0, the one
		// cross-site request this cookie must travel with.
		SameSite: http.SameSiteLaxMode,
	}
	sess.Values = map[any]any{
		"state":    tx.State,
		"nonce":    tx.Nonce,
		"verifier": tx.Verifier,
		"return":   tx.ReturnPath,
		"created":  tx.Created.Unix(),
	}
	return s.cookies.Save(r, w, sess)
}

func (s *sessionStore) clearLogin(w http.ResponseWriter) {
	expireCookie(w, loginCookieName, http.SameSiteLaxMode)
}

func expireCookie(w http.ResponseWriter, name string, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: sameSite,
	})
}

// revocationList remembers revoked session ids until their cookies would have
// expired anyway, so the list stays as small as the number of recent sign-outs.
type revocationList struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

func newRevocationList() *revocationList { return &revocationList{ids: map[string]time.Time{}} }

func (l *revocationList) add(id string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids[id] = until
	if len(l.ids)%256 == 0 {
		for k, exp := range l.ids {
			if exp.Before(until.Add(-sessionCookieLifetime)) {
				delete(l.ids, k)
			}
		}
	}
}

func (l *revocationList) has(id string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.ids[id]
	return ok && now.Before(until)
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("handlers: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func unix(v any) time.Time {
	n, ok := v.(int64)
	if !ok || n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}
