package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/views"
)

const (
	ctxEmbed        = "mfaportal.embed"
	ctxSessionStore = "mfaportal.session_store"

	// preSessionCookieName marks the iframe's partition before sign-in: the
	// handoff code is only accepted with it.
	preSessionCookieName = "__Host-mfaportal-embed-pre"
	// preSessionLifetime is how long sign-in in the popup may take, like a
	// login round trip.
	preSessionLifetime = loginTxLifetime
	// handoffLifetime is how long the popup's one-time code is good for.
	handoffLifetime = 60 * time.Second

	popupDonePath = "/embed/popup-done"
	// defaultEmbedReturnPath is where a framed sign-in lands when the frame
	// did not start from another page.
	defaultEmbedReturnPath = "/embed/factors"
)

// bindingPattern is the shape of a pre-session binding (a SHA-256, base64url).
var bindingPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// errHandoffRefused is a handoff code that is unknown, used, expired or
// bound to another iframe. The iframe offers to sign in again.
var errHandoffRefused = &pageError{Status: http.StatusForbidden, Heading: "error.sign_in_failed.heading",
	Message: "error.sign_in_failed.message", ActionURL: "/login", ActionText: "action.sign_in",
	Err: errors.New("handoff code refused")}

// embedding is what the /embed/ routes need beyond the portal: the origins
// allowed to frame them, the iframe's own sessions (a partitioned cookie)
// and the popup's handoff codes.
type embedding struct {
	ancestors []string
	csp       string
	sessions  *sessionStore
	handoffs  handoffKeeper
}

// handoffKeeper holds open pre-sessions and unspent handoff codes: in memory
// for one instance, in Redis when replicas must share them (the popup's
// requests and the iframe's handoff may reach different replicas). An error
// means the store is unreachable.
type handoffKeeper interface {
	startPreSession(ctx context.Context, binding string) error
	preSessionOpen(ctx context.Context, binding string) (bool, error)
	mint(ctx context.Context, binding string, sess *userSession) (string, bool, error)
	redeem(ctx context.Context, code, binding string) (*userSession, bool, error)
}

var (
	_ handoffKeeper = (*handoffStore)(nil)
	_ handoffKeeper = (*redisHandoffs)(nil)
)

func newEmbedding(d Deps) (*embedding, error) {
	sessions, err := newSessionStoreFor(embedCookie, d.SessionKeys, d.Now)
	if d.Redis != nil {
		sessions, err = newRedisSessionStoreFor(embedCookie, d.SessionKeys, d.Now, d.Redis)
	}
	if err != nil {
		return nil, err
	}
	var handoffs handoffKeeper = newHandoffStore(d.Now)
	if d.Redis != nil {
		if handoffs, err = newRedisHandoffs(d.SessionKeys, d.Redis); err != nil {
			return nil, err
		}
	}
	return &embedding{
		ancestors: d.FrameAncestors,
		csp:       contentSecurityPolicy(d.Issuer, d.FrameAncestors),
		sessions:  sessions,
		handoffs:  handoffs,
	}, nil
}

// embedEnabled answers 404 for every /embed/ route unless framing origins
// are configured: without them the feature does not exist.
func (p *portal) embedEnabled(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(p.embed.ancestors) == 0 {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// embedFramed makes a response frameable by the configured origins only and
// marks the request as an iframe page (header-less layout, /embed/ links).
// Every other page keeps frame-ancestors 'none' and X-Frame-Options DENY.
func (p *portal) embedFramed(next echo.HandlerFunc) echo.HandlerFunc {
	return p.embedEnabled(func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", p.embed.csp)
		h.Del("X-Frame-Options")
		c.Set(ctxEmbed, true)
		c.SetRequest(c.Request().WithContext(views.WithEmbed(c.Request().Context())))
		return next(c)
	})
}

// embedPopup serves the popup's pages. They are top-level, never framed,
// but must keep their opener: Cross-Origin-Opener-Policy same-origin would
// cut the popup off from the iframe that opened it.
func (p *portal) embedPopup(next echo.HandlerFunc) echo.HandlerFunc {
	return p.embedEnabled(func(c echo.Context) error {
		c.Response().Header().Set("Cross-Origin-Opener-Policy", "unsafe-none")
		return next(c)
	})
}

// requireEmbedSession lets a signed-in iframe through. Same-site embedding
// carries the portal's own Lax session; cross-site embedding carries the
// partitioned embed session. Anyone else gets the iframe's sign-in page.
func (p *portal) requireEmbedSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, store := range []*sessionStore{p.sessions, p.embed.sessions} {
			sess, err := store.load(c.Request())
			if err != nil {
				return err
			}
			if sess != nil && sess.signedIn(p.now()) {
				c.Set(ctxSession, sess)
				c.Set(ctxSessionStore, store)
				return next(c)
			}
		}
		status := http.StatusFound
		if c.Request().Method != http.MethodGet && c.Request().Method != http.MethodHead {
			status = http.StatusSeeOther
		}
		// The page the frame asked for comes back after sign-in, as a
		// helpdesk link does at top level.
		return c.Redirect(status, "/embed/login?"+url.Values{"return": {returnPathOf(c)}}.Encode())
	}
}

// embedReturnPath keeps a framed sign-in's destination only when it is one
// of the framed pages for signed-in users (checked like any return path);
// anything else gives the factor list.
func embedReturnPath(raw string) string {
	p := safeReturnPath(raw)
	path, _, _ := strings.Cut(p, "?")
	if path == "/embed/factors" || path == "/embed/recovery-code" ||
		(strings.HasPrefix(path, "/embed/factors/") && strings.HasSuffix(path, "/delete")) {
		return p
	}
	return defaultEmbedReturnPath
}

// sessionsFor is the store the request's session came from, so a page
// framed cross-site writes back to its partitioned cookie.
func (p *portal) sessionsFor(c echo.Context) *sessionStore {
	if s, ok := c.Get(ctxSessionStore).(*sessionStore); ok {
		return s
	}
	return p.sessions
}

func isEmbed(c echo.Context) bool {
	v, _ := c.Get(ctxEmbed).(bool)
	return v
}

// handleEmbedLogin handles "GET /embed/login?return=…": the iframe's
// sign-in page. After the handoff the frame goes to the page it started
// from; "Open in a new tab" opens that page's top-level twin, whose own
// sign-in brings the user back to it.
func (p *portal) handleEmbedLogin(c echo.Context) error {
	returnPath := embedReturnPath(c.QueryParam("return"))
	pg := p.page(c, p.tr(c).T("embed.signin.title"), nil)
	return p.render(c, http.StatusOK, pg, views.EmbedSignIn(views.EmbedSignInPage{
		Page: pg, ReturnPath: returnPath, NewTabURL: strings.TrimPrefix(returnPath, "/embed"),
	}))
}

// handlePreSession handles "POST /embed/pre-session": the iframe marks its
// partition with a random secret and gets the popup's address, which names
// only the secret's hash.
func (p *portal) handlePreSession(c echo.Context) error {
	if err := p.checkLimit(c.Request().Context(), actionStartPreSession, c.RealIP()); err != nil {
		// The frame's script reads this answer, not a person: no page.
		var le *limitExceeded
		if errors.As(err, &le) {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(le.wait.Round(time.Second)/time.Second)))
			return c.JSON(http.StatusTooManyRequests, map[string]string{"error": "too_many_requests"})
		}
		return err
	}
	secret := randomToken(32)
	binding := bindingOf(secret)
	if err := p.embed.handoffs.startPreSession(c.Request().Context(), binding); err != nil {
		return err
	}
	http.SetCookie(c.Response(), embedCookieSpec(preSessionCookieName).cookie(secret, int(preSessionLifetime/time.Second)))
	return c.JSON(http.StatusOK, map[string]string{"popup": "/embed/popup-login?pre=" + binding, "pre": binding})
}

// handlePopupLogin handles "GET /embed/popup-login?pre=…": the popup signs
// in at top level (Universal Login refuses frames) and comes back to
// /embed/popup-done for the same pre-session.
func (p *portal) handlePopupLogin(c echo.Context) error {
	binding := c.QueryParam("pre")
	if !bindingPattern.MatchString(binding) {
		return errHandoffRefused
	}
	if open, err := p.embed.handoffs.preSessionOpen(c.Request().Context(), binding); err != nil {
		return err
	} else if !open {
		return errHandoffRefused
	}
	done := popupDonePath + "?pre=" + binding
	if sess, err := p.sessions.load(c.Request()); err == nil && sess.signedIn(p.now()) {
		return c.Redirect(http.StatusFound, done)
	}
	return c.Redirect(http.StatusFound, "/login?"+url.Values{"return": {done}}.Encode())
}

// handlePopupDone handles "GET /embed/popup-done?pre=…" (signed in): it
// mints the one-time code for the iframe's pre-session; the page's script
// posts it to the opener on the portal's own origin and closes. When the
// opener is gone (a sign-in page's Cross-Origin-Opener-Policy cuts it), the
// script leaves the code in the portal's first-party localStorage under the
// pre-session's name, which the iframe reads once the browser grants it
// storage access.
func (p *portal) handlePopupDone(c echo.Context) error {
	sess := p.sessionFromContext(c)
	binding := c.QueryParam("pre")
	if !bindingPattern.MatchString(binding) {
		return errHandoffRefused
	}
	code, ok, err := p.embed.handoffs.mint(c.Request().Context(), binding, sess)
	if err != nil {
		return err
	}
	if !ok {
		return errHandoffRefused
	}
	pg := p.page(c, p.tr(c).T("embed.popup.title"), sess)
	return p.render(c, http.StatusOK, pg, views.PopupDone(views.PopupDonePage{Page: pg, Code: code, Binding: binding}))
}

// handleHandoff handles "POST /embed/handoff": the iframe trades the code
// for its own partitioned session. The code is spent on the first try,
// right or wrong.
func (p *portal) handleHandoff(c echo.Context) error {
	pre, err := c.Cookie(preSessionCookieName)
	if err != nil || len(pre.Value) > 64 {
		return errHandoffRefused
	}
	from, ok, err := p.embed.handoffs.redeem(c.Request().Context(), c.Request().PostFormValue("code"), bindingOf(pre.Value))
	if err != nil {
		return err
	}
	if !ok {
		return errHandoffRefused
	}
	sess, err := p.embed.sessions.regenerate(c.Request())
	if err != nil {
		return err
	}
	sess.Sub, sess.Name, sess.AccessToken = from.Sub, from.Name, from.AccessToken
	sess.TokenExpiry, sess.AuthTime = from.TokenExpiry, from.AuthTime
	if err := p.embed.sessions.save(c.Response(), c.Request(), sess); err != nil {
		return err
	}
	http.SetCookie(c.Response(), embedCookieSpec(preSessionCookieName).cookie("", -1))
	p.audit(c, auditSignedIn, nil)
	return c.NoContent(http.StatusNoContent)
}

// handleEmbedLogout handles "POST /embed/logout": the portal session the
// iframe used ends here. Auth0's own sign-out page refuses frames, so the
// Auth0 session is left to the account site's sign-out.
func (p *portal) handleEmbedLogout(c echo.Context) error {
	for _, store := range []*sessionStore{p.sessions, p.embed.sessions} {
		sess, err := store.load(c.Request())
		if err != nil {
			return err
		}
		if sess == nil {
			continue
		}
		if !validCSRF(c, sess) {
			return errCSRF
		}
		if err := store.destroy(c.Response(), c.Request(), sess); err != nil {
			return err
		}
		p.audit(c, auditSignedOut, nil)
	}
	return p.redirectSeeOther(c, "/embed/signed-out")
}

// handleEmbedSignedOut handles "GET /embed/signed-out" and tells the parent.
func (p *portal) handleEmbedSignedOut(c echo.Context) error {
	pg := p.page(c, p.tr(c).T("signedout.title"), nil)
	pg.EmbedEvent = "signed-out"
	return p.render(c, http.StatusOK, pg, views.SignedOut(views.SignedOutPage{Page: pg}))
}

// embedCookieSpec is a partitioned, cross-site cookie named name.
func embedCookieSpec(name string) cookieSpec {
	return cookieSpec{name: name, sameSite: http.SameSiteNoneMode, partitioned: true}
}

// bindingOf names a pre-session by its secret's hash, so the popup's URL
// never carries the cookie's value.
func bindingOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// handoffStore keeps open pre-sessions and unspent handoff codes in memory.
// Codes live 60 seconds; only their hashes are keys.
type handoffStore struct {
	mu    sync.Mutex
	now   func() time.Time
	pre   map[string]time.Time // binding → expiry
	codes map[string]handoff   // hash of code → handoff
}

type handoff struct {
	binding string
	session cookiePayload // the signed-in user's fields, copied
	expires time.Time
}

func newHandoffStore(now func() time.Time) *handoffStore {
	return &handoffStore{now: now, pre: map[string]time.Time{}, codes: map[string]handoff{}}
}

func (h *handoffStore) startPreSession(_ context.Context, binding string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prune()
	h.pre[binding] = h.now().Add(preSessionLifetime)
	return nil
}

func (h *handoffStore) preSessionOpen(_ context.Context, binding string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	exp, ok := h.pre[binding]
	return ok && h.now().Before(exp), nil
}

// mint returns a one-time code for the pre-session, which it closes: one
// pre-session, one code.
func (h *handoffStore) mint(_ context.Context, binding string, sess *userSession) (string, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.prune()
	exp, ok := h.pre[binding]
	if !ok || !h.now().Before(exp) {
		return "", false, nil
	}
	delete(h.pre, binding)
	code := randomToken(32)
	h.codes[bindingOf(code)] = handoff{binding: binding, session: payloadOf(sess), expires: h.now().Add(handoffLifetime)}
	return code, true, nil
}

// redeem spends the code, whatever the outcome, and returns the session it
// carries when it is unexpired and bound to this pre-session.
func (h *handoffStore) redeem(_ context.Context, code, binding string) (*userSession, bool, error) {
	if code == "" || len(code) > 64 {
		return nil, false, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	key := bindingOf(code)
	ho, ok := h.codes[key]
	delete(h.codes, key)
	if !ok || !h.now().Before(ho.expires) || subtle.ConstantTimeCompare([]byte(ho.binding), []byte(binding)) != 1 {
		return nil, false, nil
	}
	return ho.session.session(), true, nil
}

// prune drops what has expired; called with the lock held.
func (h *handoffStore) prune() {
	now := h.now()
	for k, exp := range h.pre {
		if !now.Before(exp) {
			delete(h.pre, k)
		}
	}
	for k, ho := range h.codes {
		if !now.Before(ho.expires) {
			delete(h.codes, k)
		}
	}
}

// isPopupReturn reports whether a sign-in round trip belongs to the popup,
// whose pages must keep their opener.
func isPopupReturn(returnPath string) bool {
	return strings.HasPrefix(returnPath, popupDonePath+"?")
}
