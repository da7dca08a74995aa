package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"mfaportal/auth0emu"
)

// claimSet is an ID token's payload, numbers kept as written.
type claimSet map[string]any

// forgeFunc turns the ID token the tenant issued (its claims and header kid)
// into the one the portal receives instead.
type forgeFunc func(claims claimSet, tenantKid string) (string, error)

// tokenForger sits in front of the tenant, on the tenant's own origin, so
// discovery, JWKS and the token endpoint all reach the portal through it.
// It publishes one extra RS256 key of its own in the JWKS, so a token it
// signs with that key passes the signature check and only the claim a case
// changes is wrong. While a forge is set, it replaces the id_token of every
// authorization-code answer.
type tokenForger struct {
	key *rsa.PrivateKey
	kid string

	mu    sync.Mutex
	forge forgeFunc
	// forged counts the ID tokens replaced, so a case knows its forgery
	// reached the portal rather than failing earlier for another reason.
	forged int
}

func newTokenForger(t *testing.T) *tokenForger {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &tokenForger{key: key, kid: "forger-published-key"}
}

func (f *tokenForger) set(forge forgeFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forge = forge
}

func (f *tokenForger) current() forgeFunc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forge
}

func (f *tokenForger) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forged
}

func (f *tokenForger) wrap(tenant http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/.well-known/jwks.json":
			f.serveJWKS(w, r, tenant)
		case r.Method == http.MethodPost && r.URL.Path == "/oauth/token" && f.current() != nil:
			f.serveToken(w, r, tenant)
		default:
			tenant.ServeHTTP(w, r)
		}
	})
}

// serveJWKS answers with the tenant's keys plus the forger's.
func (f *tokenForger) serveJWKS(w http.ResponseWriter, r *http.Request, tenant http.Handler) {
	rec := httptest.NewRecorder()
	tenant.ServeHTTP(rec, r)
	var set jose.JSONWebKeySet
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &set) != nil {
		copyResponse(w, rec, rec.Body.Bytes())
		return
	}
	set.Keys = append(set.Keys, jose.JSONWebKey{Key: &f.key.PublicKey, KeyID: f.kid, Algorithm: string(jose.RS256), Use: "sig"})
	body, err := json.Marshal(set)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	copyResponse(w, rec, body)
}

// serveToken forwards to the tenant and swaps the ID token of a successful
// authorization-code answer for a forged one.
func (f *tokenForger) serveToken(w http.ResponseWriter, r *http.Request, tenant http.Handler) {
	rec := httptest.NewRecorder()
	tenant.ServeHTTP(rec, r)
	var answer map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &answer) != nil {
		copyResponse(w, rec, rec.Body.Bytes())
		return
	}
	raw, _ := answer["id_token"].(string)
	claims, kid, err := unsafeClaims(raw)
	if err == nil {
		answer["id_token"], err = f.current()(claims, kid)
	}
	if err != nil {
		http.Error(w, "forger: "+err.Error(), http.StatusInternalServerError)
		return
	}
	body, _ := json.Marshal(answer)
	f.mu.Lock()
	f.forged++
	f.mu.Unlock()
	copyResponse(w, rec, body)
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// unsafeClaims reads a JWS's payload and header kid without checking the
// signature: the forger only needs the tenant's claims to start from.
func unsafeClaims(raw string) (claimSet, string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, "", errors.New("not a compact JWS")
	}
	var header struct {
		Kid string `json:"kid"`
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(h, &header) != nil {
		return nil, "", errors.New("bad JWS header")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, "", err
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var claims claimSet
	if err := dec.Decode(&claims); err != nil {
		return nil, "", err
	}
	return claims, header.Kid, nil
}

// signRS256 signs claims with key under kid, as Auth0 signs ID tokens.
func signRS256(key *rsa.PrivateKey, kid string, claims claimSet) (string, error) {
	return sign(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, claims, nil)
}

func sign(key jose.SigningKey, claims claimSet, extra map[jose.HeaderKey]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range extra {
		opts = opts.WithHeader(k, v)
	}
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// withClaims is a forge that changes some claims (nil deletes one) and signs
// with the forger's published key, so nothing but those claims is wrong.
func (f *tokenForger) withClaims(change claimSet) forgeFunc {
	return func(claims claimSet, _ string) (string, error) {
		out := maps.Clone(claims)
		for k, v := range change {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return signRS256(f.key, f.kid, out)
	}
}

// oidcEnv is an env whose tenant is reached through a tokenForger.
type oidcEnv struct {
	*env
	forger *tokenForger
}

func newOIDCEnv(t *testing.T) oidcEnv {
	t.Helper()
	forger := newTokenForger(t)
	return oidcEnv{env: newEnvWith(t, envSpec{front: forger.wrap}), forger: forger}
}

// roundTrip is one sign-in taken as far as the tenant's redirect back: the
// browser holds the login round trip, back is where the tenant sent it.
type roundTrip struct {
	b    *browser
	back *url.URL
}

func (e oidcEnv) startSignIn(t *testing.T) roundTrip {
	t.Helper()
	b := e.newBrowser()
	login := b.getOnce("/login?return=%2Ffactors")
	if login.status != http.StatusFound {
		t.Fatalf("/login: %d", login.status)
	}
	back, err := auth0emu.CompleteSignIn(t.Context(), b.c, login.header.Get("Location"), aliceSignIn)
	if err != nil {
		t.Fatal(err)
	}
	if back.Query().Get("code") == "" {
		t.Fatalf("the tenant sent no code: %s", back.Query().Get("error"))
	}
	return roundTrip{b: b, back: back}
}

// callback sends the browser to the portal's callback with query.
func (rt roundTrip) callback(query url.Values) page {
	u := *rt.back
	u.RawQuery = query.Encode()
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	return rt.b.doOnce(req)
}

// hasSession says whether b is signed in: /factors shows the list rather
// than sending it to sign in.
func hasSession(t *testing.T, b *browser) bool {
	t.Helper()
	p := b.getOnce("/factors")
	switch {
	case p.status == http.StatusOK:
		return true
	case p.status == http.StatusFound && strings.HasPrefix(p.header.Get("Location"), "/login"):
		return false
	}
	t.Errorf("/factors: %d %s, want 200 or a redirect to /login", p.status, p.header.Get("Location"))
	return true
}

// TestOIDCAttacksCreateNoSession: each forged or replayed step of the
// sign-in ends on a 4xx page with no session. The ID tokens are forged by a
// proxy on the tenant's origin; except where the signature is the attack,
// they are signed with a key the JWKS publishes, so only the named claim or
// header is wrong.
func TestOIDCAttacksCreateNoSession(t *testing.T) {
	e := newOIDCEnv(t)
	clientID := e.tenant.WebClient().ID
	unknownKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		// attack runs the round trip's callback the attacker's way and
		// returns the page and the browser that must have no session; forge,
		// when set instead, replaces the ID token the tenant answers with.
		attack func(t *testing.T, rt roundTrip) (page, *browser)
		forge  forgeFunc
		// why is what the portal's log must give as the reason: the case
		// is refused for the check it attacks, not for something else.
		why string
	}{
		{name: "wrong state", why: "state mismatch", attack: func(t *testing.T, rt roundTrip) (page, *browser) {
			q := rt.back.Query()
			q.Set("state", "forged-state")
			return rt.callback(q), rt.b
		}},
		{name: "missing state", why: "state mismatch", attack: func(t *testing.T, rt roundTrip) (page, *browser) {
			q := rt.back.Query()
			q.Del("state")
			return rt.callback(q), rt.b
		}},
		{name: "replayed code (already redeemed) in a fresh round trip", why: "token endpoint said", attack: func(t *testing.T, rt roundTrip) (page, *browser) {
			if p := rt.callback(rt.back.Query()); p.status != http.StatusSeeOther || !hasSession(t, rt.b) {
				t.Fatalf("the genuine callback: %d, want 303 and a session", p.status)
			}
			return e.injectCode(t, rt.back.Query().Get("code"))
		}},
		{name: "stolen code in another browser's round trip (PKCE)", why: "token endpoint said", attack: func(t *testing.T, rt roundTrip) (page, *browser) {
			return e.injectCode(t, rt.back.Query().Get("code"))
		}},
		{name: "wrong nonce", why: "nonce mismatch", forge: e.forger.withClaims(claimSet{"nonce": "attacker-chosen-nonce"})},
		{name: "no nonce", why: "nonce mismatch", forge: e.forger.withClaims(claimSet{"nonce": nil})},
		{name: "foreign iss", why: "issued by a different provider", forge: e.forger.withClaims(claimSet{"iss": "https://evil.example/"})},
		{name: "aud mismatch", why: "expected audience", forge: e.forger.withClaims(claimSet{"aud": "another-client", "azp": "another-client"})},
		{name: "two audiences and no azp", why: "several audiences and no azp", forge: e.forger.withClaims(claimSet{"aud": []string{clientID, "another-client"}, "azp": nil})},
		{name: "azp is another client", why: "azp is another client", forge: e.forger.withClaims(claimSet{"aud": []string{clientID, "another-client"}, "azp": "another-client"})},
		{name: "expired by a second", why: "token is expired", forge: func(claims claimSet, _ string) (string, error) {
			now := e.clock.Now()
			return e.forger.withClaims(claimSet{"iat": now.Add(-10 * time.Minute).Unix(), "exp": now.Add(-time.Second).Unix()})(claims, "")
		}},
		{name: "alg none", why: "unexpected signature algorithm", forge: func(claims claimSet, _ string) (string, error) {
			header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
			payload, err := json.Marshal(claims)
			return header + "." + base64.RawURLEncoding.EncodeToString(payload) + ".", err
		}},
		{name: "HS256 signed with the client secret", why: "unexpected signature algorithm", forge: func(claims claimSet, tenantKid string) (string, error) {
			key := jose.SigningKey{Algorithm: jose.HS256, Key: []byte(e.tenant.WebClient().Secret)}
			return sign(key, claims, map[jose.HeaderKey]any{"kid": tenantKid})
		}},
		{name: "unknown kid", why: "failed to verify signature", forge: func(claims claimSet, _ string) (string, error) {
			return signRS256(unknownKey, "kid-nobody-published", claims)
		}},
		{name: "tenant's kid on a key that is not the tenant's", why: "failed to verify signature", forge: func(claims claimSet, tenantKid string) (string, error) {
			return signRS256(unknownKey, tenantKid, claims)
		}},
		{name: "subject swapped after signing", why: "failed to verify signature", forge: func(claims claimSet, _ string) (string, error) {
			genuine, err := signRS256(e.forger.key, e.forger.kid, claims)
			if err != nil {
				return "", err
			}
			swapped := maps.Clone(claims)
			swapped["sub"] = bob
			payload, err := json.Marshal(swapped)
			parts := strings.Split(genuine, ".")
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2], err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outcome := suites.oidc.begin(t)
			rt := e.startSignIn(t)
			logStart := len(e.logs.String())
			p, victim := page{}, rt.b
			if tt.forge != nil {
				forged := e.forger.count()
				e.forger.set(tt.forge)
				p = rt.callback(rt.back.Query())
				e.forger.set(nil)
				if e.forger.count() != forged+1 {
					t.Fatal("the forged ID token never reached the portal")
				}
			} else {
				p, victim = tt.attack(t, rt)
			}
			refused := p.status >= 400 && p.status < 500
			if !refused {
				t.Errorf("callback: %d %s, want a 4xx page", p.status, p.header.Get("Location"))
			}
			expectFriendly(t, p)
			if logged := e.logs.String()[logStart:]; !strings.Contains(logged, tt.why) {
				t.Errorf("the portal did not log %q as the reason; it logged:\n%s", tt.why, logged)
			}
			if strings.Contains(p.body, "Alice Example") {
				t.Error("the refused callback shows a signed-in page")
			}
			leaked := hasSession(t, victim)
			if leaked {
				t.Error("a session exists after the refused callback")
			}
			outcome.held = refused && !leaked
			outcome.breached = leaked
		})
	}
}

// injectCode starts a sign-in in a new browser (the attacker's) and brings
// code back to the portal with that round trip's own state, as an attacker
// holding someone's code would.
func (e oidcEnv) injectCode(t *testing.T, code string) (page, *browser) {
	t.Helper()
	b := e.newBrowser()
	login := b.getOnce("/login?return=%2Ffactors")
	to, err := url.Parse(login.header.Get("Location"))
	if err != nil || to.Query().Get("state") == "" {
		t.Fatalf("/login: %d %s", login.status, login.header.Get("Location"))
	}
	q := url.Values{"code": {code}, "state": {to.Query().Get("state")}}
	req, _ := http.NewRequest(http.MethodGet, e.portalURL+"/callback?"+q.Encode(), nil)
	return b.doOnce(req), b
}

// TestOIDCForgerIsFaithful shows the forging proxy changes only what a case
// asks: a token re-signed with the published key, or valid for one more
// second, still signs in. Without this, the refusals above could come from
// a broken proxy rather than from the portal's checks.
func TestOIDCForgerIsFaithful(t *testing.T) {
	e := newOIDCEnv(t)
	tests := []struct {
		name  string
		forge forgeFunc
	}{
		{"re-signed with the published key", e.forger.withClaims(nil)},
		{"expires in a second", func(claims claimSet, _ string) (string, error) {
			return e.forger.withClaims(claimSet{"exp": e.clock.Now().Add(time.Second).Unix()})(claims, "")
		}},
		{"two audiences with azp us", e.forger.withClaims(claimSet{"aud": []string{e.tenant.WebClient().ID, "another-api"}, "azp": e.tenant.WebClient().ID})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := e.startSignIn(t)
			e.forger.set(tt.forge)
			p := rt.callback(rt.back.Query())
			e.forger.set(nil)
			if p.status != http.StatusSeeOther || !hasSession(t, rt.b) {
				t.Errorf("callback %d: the control token did not sign in", p.status)
			}
		})
	}
}
