// Package session keeps who is signed in: the user session (in a sealed
// cookie, or as a sealed record in the key-value store), the sign-in round
// trip, and the one-time tokens that must be spent exactly once (form
// nonces, the round trip itself, the embed popup's handoff codes). Every
// one-time step is atomic in every store, and a signed-out session stays
// dead on every replica and after a restart.
package session

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"
	"unicode/utf8"
)

const (
	// Lifetime bounds how long a session cookie can be replayed. The /mfa/
	// token inside lives 10 minutes; keeping the session longer only lets
	// the portal greet a returning user and send them straight to sign-in.
	Lifetime = 12 * time.Hour
	// LoginLifetime is how long a sign-in round trip through Auth0 may take.
	LoginLifetime = 15 * time.Minute
	// PreSessionLifetime is how long a framed sign-in in the popup may take.
	PreSessionLifetime = LoginLifetime
	// HandoffLifetime is how long the popup's one-time code is good for.
	HandoffLifetime = 60 * time.Second

	// MaxNameRunes and MaxFlashArgRunes bound the only free text a session
	// holds (the display name from the ID token, the label a message
	// names), so a cookie always stays under the browser's 4096 bytes.
	MaxNameRunes     = 64
	MaxFlashArgRunes = 96
)

// Errors the store returns; handlers map them to pages.
var (
	// ErrEnded: the session was signed out (maybe on another replica or in
	// another frame) or expired while the request ran; nothing was saved.
	ErrEnded = errors.New("session: ended")
	// ErrSpent: a one-time token was already used.
	ErrSpent = errors.New("session: already used")
	// ErrHandoffRefused: a handoff code unknown, spent, expired, from a
	// signed-out session, or bound to another frame.
	ErrHandoffRefused = errors.New("session: handoff refused")
	// ErrTooLarge: the session does not fit in a cookie. Fields are bounded
	// so this does not happen; it is an internal error if it does.
	ErrTooLarge = errors.New("session: too large for a cookie")
)

// Purpose says where a session is used. Each purpose has its own cookie,
// keys and record namespace, so no store takes one for the other.
type Purpose uint8

const (
	// TopLevel is the portal's own session (SameSite=Lax).
	TopLevel Purpose = iota + 1
	// Embed is a cross-site iframe's session, made by the popup handoff
	// (SameSite=None, partitioned). Top-level pages never accept it.
	Embed
)

func (p Purpose) String() string {
	if p == Embed {
		return "embed"
	}
	return "top"
}

// Session is everything the portal keeps about a signed-in user: only what
// the pages need.
type Session struct {
	// ID is random, new at every sign-in, ended at sign-out. With
	// server-side records it is the bearer secret the cookie holds.
	ID string
	// Family is shared by a top-level session and the embed sessions handed
	// off from it: signing out ends the whole family.
	Family  string
	Purpose Purpose

	Sub         string // from the verified ID token; the only user id used upstream
	Name        string
	AccessToken string // the /mfa/ audience token; never sent to the browser in clear
	TokenExpiry time.Time
	AuthTime    time.Time
	CSRFToken   string
	// RegenNonce makes the regeneration form single use (see Store.Spend).
	RegenNonce string
	Flash      string // a message key shown once on the next page
	FlashArg   string

	// isNew marks a session made by Start and not yet saved, so a record
	// is created only then and never recreated after a sign-out elsewhere.
	isNew bool
}

// SignedIn reports whether the session holds a usable /mfa/ token.
func (s *Session) SignedIn(now time.Time) bool {
	return s != nil && s.Sub != "" && s.AccessToken != "" && now.Before(s.TokenExpiry)
}

// Inherit makes s, a new embed session, act for the same signed-in user as
// from and join its family.
func (s *Session) Inherit(from *Session) {
	s.Family = from.Family
	s.Sub, s.Name, s.AccessToken = from.Sub, from.Name, from.AccessToken
	s.TokenExpiry, s.AuthTime = from.TokenExpiry, from.AuthTime
}

// payload is a session as stored, in the cookie or in a record; short
// names keep both small.
type payload struct {
	ID          string `json:"i,omitempty"`
	Family      string `json:"m"`
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

func payloadOf(s *Session) payload {
	return payload{
		ID:          s.ID,
		Family:      s.Family,
		Sub:         s.Sub,
		Name:        truncateRunes(s.Name, MaxNameRunes),
		AccessToken: s.AccessToken,
		TokenExpiry: s.TokenExpiry.Unix(),
		AuthTime:    s.AuthTime.Unix(),
		CSRFToken:   s.CSRFToken,
		RegenNonce:  s.RegenNonce,
		Flash:       s.Flash,
		FlashArg:    truncateRunes(s.FlashArg, MaxFlashArgRunes),
	}
}

func (v payload) session(p Purpose) *Session {
	return &Session{
		ID:          v.ID,
		Family:      v.Family,
		Purpose:     p,
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

// truncateRunes keeps at most n runes of s, ending in "…" when cut, and
// makes it valid UTF-8.
func truncateRunes(s string, n int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s))
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func unix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// NewToken returns n random bytes, base64url: session ids, CSRF tokens,
// nonces and codes.
func NewToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("session: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
