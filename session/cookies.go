package session

import (
	"net/http"
	"time"
)

// Cookie names. All are __Host- (Secure, Path=/, no Domain), HttpOnly.
const (
	// CookieTopLevel is the portal's own session: Lax, so it is never sent
	// in a cross-site frame.
	CookieTopLevel = "__Host-mfaportal"
	// CookieEmbed is the cross-site iframe's session. It must be
	// SameSite=None to travel there, so it is Partitioned (CHIPS): kept in
	// the embedding site's partition only.
	CookieEmbed = "__Host-mfaportal-embed"
	// CookieLogin holds the sign-in round trip. Lax: the callback is a
	// top-level GET from Auth0, the one cross-site request it must travel with.
	CookieLogin = "__Host-mfaportal-login"
	// CookiePreSession marks the iframe's partition before sign-in: the
	// handoff code is accepted only with it.
	CookiePreSession = "__Host-mfaportal-embed-pre"
)

// cookieSpec is a cookie's name and cross-site behaviour.
type cookieSpec struct {
	name        string
	sameSite    http.SameSite
	partitioned bool
}

var (
	topLevelCookie   = cookieSpec{name: CookieTopLevel, sameSite: http.SameSiteLaxMode}
	embedCookie      = cookieSpec{name: CookieEmbed, sameSite: http.SameSiteNoneMode, partitioned: true}
	loginCookie      = cookieSpec{name: CookieLogin, sameSite: http.SameSiteLaxMode}
	preSessionCookie = cookieSpec{name: CookiePreSession, sameSite: http.SameSiteNoneMode, partitioned: true}
)

func (p Purpose) cookie() cookieSpec {
	if p == Embed {
		return embedCookie
	}
	return topLevelCookie
}

// set writes the cookie with value for lifetime; lifetime <= 0 deletes it.
func (cs cookieSpec) set(w http.ResponseWriter, value string, lifetime time.Duration) {
	c := &http.Cookie{
		Name: cs.name, Value: value, Path: "/",
		Secure: true, HttpOnly: true, SameSite: cs.sameSite, Partitioned: cs.partitioned,
	}
	if lifetime > 0 {
		c.MaxAge = int(lifetime / time.Second)
		c.Expires = time.Now().Add(lifetime)
	} else {
		c.Value, c.MaxAge = "", -1
	}
	http.SetCookie(w, c)
}

func (cs cookieSpec) clear(w http.ResponseWriter) { cs.set(w, "", 0) }

// value is the request's cookie value, "" when absent or absurdly long.
func (cs cookieSpec) value(r *http.Request) string {
	c, err := r.Cookie(cs.name)
	if err != nil || len(c.Value) > 4096 {
		return ""
	}
	return c.Value
}
