package handlers

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"mfaportal/session"
	"mfaportal/views"
)

// handleRecoveryPage handles "GET /recovery-code": what a recovery code is,
// and a button to get a new one.
func (p *portal) handleRecoveryPage(c echo.Context) error {
	sess := sessionFromContext(c)
	// Listing first also checks the session's token still works, so the user
	// is sent to sign in now rather than after pressing the button.
	uf, err := p.freshGroups(c, sess)
	if err != nil {
		return err
	}
	has := false
	for _, g := range uf.groups {
		has = has || g.Kind == kindRecovery
	}
	pg := p.page(c, p.tr(c).T("recovery.title"), sess)
	return p.render(c, http.StatusOK, pg, views.Recovery(views.RecoveryPage{Page: pg, HasRecoveryCode: has, RegenNonce: sess.RegenNonce}))
}

// handleRegenerate handles "POST /recovery-code". The user id is the verified
// sub from the session, never anything the request carries. The call is made
// at most once per form: the form's one-time nonce is spent (atomically, in
// the session store, on every replica) before calling Auth0, and mfaapi
// never retries this POST. A double click, a replayed cookie or the
// browser's "resubmit" finds it spent.
func (p *portal) handleRegenerate(c echo.Context) error {
	sess := sessionFromContext(c)
	got := c.Request().PostFormValue("regen_nonce")
	if sess.RegenNonce == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.RegenNonce)) != 1 {
		return errRegenAlreadyDone
	}
	// Over the limit, the form stays usable for after the wait: the nonce is
	// not spent and Auth0 is not called.
	if err := p.checkLimit(c.Request().Context(), regenerateRule, sess.Sub); err != nil {
		return err
	}
	if err := p.sessions.Spend(c.Request().Context(), sess.RegenNonce); errors.Is(err, session.ErrSpent) {
		return errRegenAlreadyDone
	} else if err != nil {
		return err
	}
	sess.RegenNonce = session.NewToken(16)
	if err := p.sessions.Save(c.Response(), c.Request(), sess); err != nil {
		return err
	}
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	code, err := p.recovery.RegenerateRecoveryCode(ctx, sess.Sub)
	p.forgetMethods(ctx, c, sess.Sub)
	if err != nil {
		p.audit(c, auditRecoveryCodeNew, sess.Sub, err, slog.String("factor_type", "recovery-code"))
		return err
	}
	p.audit(c, auditRecoveryCodeNew, sess.Sub, nil, slog.String("factor_type", "recovery-code"))
	// POST-redirect-GET: the code waits in the session (sealed) for exactly
	// one display, so Back or a reload neither resubmits the form nor shows
	// the code again. A code too long to carry is shown here rather than lost.
	if utf8.RuneCountInString(code) <= session.MaxFlashArgRunes {
		sess.Flash, sess.FlashArg = flashNewCode, code
		if err := p.sessions.Save(c.Response(), c.Request(), sess); err == nil {
			return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/recovery-code/new"))
		}
	}
	return p.showNewCode(c, sess, code, false)
}

// handleNewRecoveryCode handles "GET /recovery-code/new": the code just
// made, once; afterwards it says the code was shown and offers another.
func (p *portal) handleNewRecoveryCode(c echo.Context) error {
	sess := sessionFromContext(c)
	first := sess.Flash == flashFirstCode
	if (sess.Flash != flashNewCode && !first) || sess.FlashArg == "" {
		pg := p.page(c, p.tr(c).T("newcode.shown.heading"), sess)
		return p.render(c, http.StatusOK, pg, views.RecoveryCodeShown(pg))
	}
	code := sess.FlashArg
	sess.Flash, sess.FlashArg = "", ""
	if err := p.sessions.Save(c.Response(), c.Request(), sess); err != nil {
		// The code is made and not kept anywhere else: show it even though
		// it could not be cleared.
		p.log.Warn("could not clear the shown recovery code from the session", slog.String("request_id", requestID(c)), slog.String("error", describe(err)))
	}
	return p.showNewCode(c, sess, code, first)
}

// showNewCode shows a recovery code once: a regenerated one, or (first)
// the one that came with the user's first method.
func (p *portal) showNewCode(c echo.Context, sess *session.Session, code string, first bool) error {
	pg := p.page(c, p.tr(c).T("newcode.title"), sess)
	pg.EmbedEvent = "recovery-code-regenerated"
	if first {
		pg.EmbedEvent = "method-added"
	}
	return p.render(c, http.StatusOK, pg, views.RecoveryCode(views.RecoveryCodePage{Page: pg, Code: code, CodeChunks: chunk(code, 4), First: first}))
}

// chunk splits s into groups of n characters for reading aloud or typing.
func chunk(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}
