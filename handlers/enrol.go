package handlers

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"mfaportal/mfaapi"
	"mfaportal/session"
	"mfaportal/tenantfactors"
	"mfaportal/views"
)

// The kinds of method added here, each with its page and the channels of
// its association.
var (
	appSteps      = enrolSteps{path: "/add/app", channels: []string{mfaapi.ChannelOTP}}
	guardianSteps = enrolSteps{path: "/add/guardian", channels: []string{mfaapi.ChannelGuardian}}
	phoneSteps    = enrolSteps{path: "/add/phone", channels: []string{mfaapi.ChannelSMS, mfaapi.ChannelVoice}}
	emailSteps    = enrolSteps{path: "/add/email", channels: []string{mfaapi.ChannelEmail}}
)

// enrolSteps is one kind of method being added: its page and channels.
type enrolSteps struct {
	path     string
	channels []string
}

// offered reports whether the tenant lets users add this kind, by one of
// its channels.
func (k enrolSteps) offered(o tenantfactors.Offer) bool {
	return slices.ContainsFunc(k.channels, o.Allows)
}

// offeredOnly refuses a kind's start page and start form when the tenant
// has it switched off; a method already under way carries on (its
// confirmation would tell if Auth0 had since refused it).
func (p *portal) offeredOnly(k enrolSteps, h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !k.offered(p.offer.Offer(c.Request().Context())) {
			if e, err := p.enrolmentOf(c, sessionFromContext(c), k); err != nil || e == nil {
				return cmp.Or(err, errNotOffered)
			}
		}
		return h(c)
	}
}

// toStep answers a GET of a step's POST path, which only a sign-in
// returning there makes (see returnPathOf): back to the step. The new
// session holds no enrolment (it was the old session's, made with its
// token), so the step starts again and says why (restartNotice).
func (p *portal) toStep(k enrolSteps) echo.HandlerFunc {
	return func(c echo.Context) error {
		return p.redirectSeeOther(c, views.Href(c.Request().Context(), k.path+"?restarted=1"))
	}
}

// restartNotice says, on a kind's first step (no enrolment under way),
// that the one that was ended with the session that began it and nothing
// was added.
func (p *portal) restartNotice(c echo.Context, pg *views.Page) {
	if c.Request().Method == http.MethodGet && c.QueryParam("restarted") == "1" {
		pg.Flash = &views.Flash{Kind: views.FlashInfo, Text: p.tr(c).T("add.restarted")}
	}
}

// enrolmentOf is the session's method of kind k being added, nil when
// none.
func (p *portal) enrolmentOf(c echo.Context, sess *session.Session, k enrolSteps) (*session.Enrolment, error) {
	e, err := p.sessions.Enrolment(c.Request().Context(), sess)
	if err != nil || e == nil || !slices.Contains(k.channels, e.Channel) {
		return nil, err
	}
	return e, nil
}

// handleAdd handles "GET /add": what can be added here.
func (p *portal) handleAdd(c echo.Context) error {
	sess := sessionFromContext(c)
	pg := p.page(c, p.tr(c).T("add.title"), sess)
	o := p.offer.Offer(c.Request().Context())
	return p.render(c, http.StatusOK, pg, views.AddMethod(views.AddMethodPage{Page: pg,
		App: o.App, Guardian: o.Guardian, Phone: o.Phone(), Email: o.Email, SecurityKeys: o.SecurityKeys}))
}

// handleAddApp handles "GET /add/app": the start, or, once Auth0 made the
// association, its QR code and the first-code form. A reload or Back
// shows the same association; nothing is made by a GET.
func (p *portal) handleAddApp(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.enrolmentOf(c, sess, appSteps)
	if err != nil {
		return err
	}
	return p.showAddApp(c, sess, e, http.StatusOK, "")
}

func (p *portal) showAddApp(c echo.Context, sess *session.Session, e *session.Enrolment, status int, codeError string) error {
	pr := p.tr(c)
	pg := p.page(c, pr.T("addapp.title"), sess)
	page := views.AddAppPage{Page: pg}
	if e == nil {
		p.restartNotice(c, &page.Page)
		return p.render(c, status, page.Page, views.AddAppStart(page))
	}
	svg, err := views.QRCodeSVG(e.BarcodeURI)
	if err != nil {
		return err
	}
	page.QRCodeSVG, page.Secret, page.SecretChunks, page.Nonce, page.CodeError = svg, e.Secret, chunk(e.Secret, 4), e.Nonce, codeError
	return p.render(c, status, pg, views.AddAppScan(page))
}

// associationError is what a failed association shows. A lost answer
// leaves at most an inactive entry at Auth0, which nobody sees: nothing
// was added, so the page says no answer came and to try again, not that
// the outcome is unknown.
func associationError(err error) error {
	if errors.Is(err, mfaapi.ErrOutcomeUnknown) {
		return fmt.Errorf("%w: %w", errAssociationLost, err)
	}
	return err
}

// maxEarlier bounds the earlier inactive entries an enrolment remembers;
// with more (Auth0 keeps a few unconfirmed at most), a cancel removes none.
const maxEarlier = 16

// associate asks Auth0 for an association on channel (destination: the
// phone number or address of sms, voice and email) and keeps it as the
// session's enrolment. replaced is the enrolment a resend replaces: its
// first method's recovery code and its earlier entries carry over.
// Before the first association, the user's inactive entries of this kind
// are noted, so that a cancel removes only what this enrolment made.
func (p *portal) associate(c echo.Context, sess *session.Session, channel, destination string, replaced *session.Enrolment) error {
	if err := p.checkLimit(c.Request().Context(), enrolRule, sess.Sub); err != nil {
		return err
	}
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	e := &session.Enrolment{Channel: channel, Destination: destination, Nonce: session.NewToken(16), Started: p.now().Unix()}
	if replaced != nil {
		e.RecoveryCode, e.Earlier, e.EarlierKnown = replaced.RecoveryCode, replaced.Earlier, replaced.EarlierKnown
	} else if auths, err := p.factors.ListAuthenticators(ctx, sess.AccessToken); err == nil {
		e.Earlier = inactiveEntries(auths, channel)
		e.EarlierKnown = len(e.Earlier) <= maxEarlier
		if !e.EarlierKnown {
			e.Earlier = nil
		}
	}
	number, email := destination, ""
	if channel == mfaapi.ChannelEmail {
		number, email = "", destination
	}
	a, err := p.enrol.Associate(ctx, sess.AccessToken, channel, number, email)
	p.audit(c, auditEnrolStarted, sess.Sub, err, slog.String("factor_type", channel))
	if err != nil {
		return associationError(err)
	}
	e.Secret, e.BarcodeURI, e.OOBCode = a.Secret, a.BarcodeURI, a.OOBCode
	if len(a.RecoveryCodes) > 0 {
		e.RecoveryCode = a.RecoveryCodes[0]
	}
	if (channel == mfaapi.ChannelGuardian && a.BarcodeURI == "") || !e.Fits() {
		return &mfaapi.APIError{Op: "associate authenticator", Err: mfaapi.ErrUpstream}
	}
	return p.sessions.PutEnrolment(c.Request().Context(), sess, e)
}

// inactiveEntries are the ids of the inactive entries in auths (the MFA
// API's list, which shows unconfirmed associations as inactive) that an
// association on channel makes.
func inactiveEntries(auths []mfaapi.Authenticator, channel string) []string {
	var ids []string
	for _, a := range auths {
		if !a.Active && madeBy(a, channel) {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// madeBy reports whether an association on channel makes entries like a:
// an authenticator app's are otp, the others oob on that channel.
func madeBy(a mfaapi.Authenticator, channel string) bool {
	if channel == mfaapi.ChannelOTP {
		return a.AuthenticatorType == "otp"
	}
	return a.AuthenticatorType == "oob" && a.Channel() == channel
}

// handleStartApp handles "POST /add/app": Auth0 makes the association
// (inactive until confirmed) and the session keeps it for the next steps.
// A second submit finds it there and makes no other.
func (p *portal) handleStartApp(c echo.Context) error {
	sess := sessionFromContext(c)
	if e, err := p.enrolmentOf(c, sess, appSteps); err != nil {
		return err
	} else if e == nil {
		if err := p.associate(c, sess, mfaapi.ChannelOTP, "", nil); err != nil {
			return err
		}
	}
	return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/add/app"))
}

// handleConfirmApp handles "POST /add/app/confirm" with the app's first
// code (see confirmEnrolment).
func (p *portal) handleConfirmApp(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.enrolmentOf(c, sess, appSteps)
	if err != nil {
		return err
	}
	if !currentForm(c, e) {
		return errEnrolAlreadyDone
	}
	code, ok := otpCode(c.Request().PostFormValue("otp"))
	if !ok {
		return p.showAddApp(c, sess, e, http.StatusUnprocessableEntity, p.tr(c).T("addapp.code.malformed"))
	}
	return p.confirmEnrolment(c, sess, e, flashAppAdded, func(ctx context.Context) error {
		return p.enrol.ConfirmOTP(ctx, sess.AccessToken, code)
	}, func(error) error {
		return p.showAddApp(c, sess, e, http.StatusUnprocessableEntity, p.tr(c).T("addapp.code.wrong"))
	})
}

// currentForm reports whether the request carries the confirmation form
// of e as it stands (each try gets a new one).
func currentForm(c echo.Context, e *session.Enrolment) bool {
	got := c.Request().PostFormValue("enrol_nonce")
	return e != nil && subtle.ConstantTimeCompare([]byte(got), []byte(e.Nonce)) == 1
}

// confirmEnrolment is every confirmation's core. The form is single use:
// its nonce is spent (atomically, on every replica) before Auth0 is asked,
// and mfaapi never repeats the grant (confirm, within the upstream
// timeout). Not confirmed (a wrong or expired code, a Guardian app that has
// not answered or said no) goes to notConfirmed with the reason, which
// shows the step again; a lost answer says the outcome is unknown; success
// forgets the enrolment and shows a first method's recovery code once,
// else returns to the list with added as its message.
func (p *portal) confirmEnrolment(c echo.Context, sess *session.Session, e *session.Enrolment, added string,
	confirm func(context.Context) error, notConfirmed func(error) error) error {
	ctx := c.Request().Context()
	rule := enrolRule
	if e.Channel == mfaapi.ChannelGuardian {
		rule = guardianCheckRule
	}
	if err := p.checkLimit(ctx, rule, sess.Sub); err != nil {
		return err
	}
	if err := p.sessions.Spend(ctx, e.Nonce); errors.Is(err, session.ErrSpent) {
		return errEnrolAlreadyDone
	} else if err != nil {
		return err
	}
	e.Nonce = session.NewToken(16)
	if err := p.sessions.PutEnrolment(ctx, sess, e); err != nil {
		return err
	}
	upstream, cancel := p.upstreamContext(c)
	err := confirm(upstream)
	cancel()
	if !errors.Is(err, mfaapi.ErrAuthorizationPending) {
		// "Not yet" changed nothing: the Guardian page asks every few
		// seconds, and the audit trail records what happened, not waiting.
		p.audit(c, auditEnrolConfirmed, sess.Sub, err, slog.String("factor_type", e.Channel))
	}
	switch {
	case errors.Is(err, mfaapi.ErrInvalidCode), errors.Is(err, mfaapi.ErrAuthorizationPending), errors.Is(err, mfaapi.ErrAuthorizationDenied):
		return notConfirmed(err)
	case errors.Is(err, mfaapi.ErrOutcomeUnknown):
		p.forgetMethods(ctx, c, sess.Sub)
		return errEnrolOutcomeUnknown
	case err != nil:
		return err
	}
	p.forgetMethods(ctx, c, sess.Sub)
	if err := p.sessions.DropEnrolment(ctx, sess); err != nil {
		// Its nonce is spent: what is left cannot be confirmed again.
		p.log.Warn("could not forget a finished enrolment", slog.String("request_id", requestID(c)), slog.String("error", describe(err)))
	}
	if e.RecoveryCode != "" {
		// The user's first method: its recovery code, once, as after a
		// regeneration (POST-redirect-GET).
		sess.Flash, sess.FlashArg = flashFirstCode, e.RecoveryCode
		if err := p.sessions.Save(c.Response(), c.Request(), sess); err != nil {
			return p.showNewCode(c, sess, e.RecoveryCode, true)
		}
		return p.redirectSeeOther(c, views.Href(ctx, "/recovery-code/new"))
	}
	return p.flashAndList(c, sess, added, "")
}

// handleCancelAdd handles "POST /add/{app,guardian,phone,email}/cancel":
// the portal forgets the association. Auth0 keeps it inactive, out of
// challenges and of the list, until it lapses.
func (p *portal) handleCancelAdd(c echo.Context) error {
	sess := sessionFromContext(c)
	ctx := c.Request().Context()
	e, err := p.sessions.Enrolment(ctx, sess)
	if err != nil {
		return err
	}
	if err := p.sessions.DropEnrolment(ctx, sess); err != nil {
		return err
	}
	if e != nil {
		p.removeAbandoned(c, sess, e)
	}
	return p.flashAndList(c, sess, flashAddCancelled, "")
}

// removeAbandoned removes what a cancelled enrolment left at Auth0: an
// inactive entry per association (a resend makes another). Auth0's
// association answer names no id, so they are found in the user's fresh
// MFA API list, which shows unconfirmed associations as inactive: those of
// this kind that were not there before the enrolment began. Removal is
// best effort: an entry left behind is hidden from the list and lapses at
// Auth0.
func (p *portal) removeAbandoned(c echo.Context, sess *session.Session, e *session.Enrolment) {
	if !e.EarlierKnown {
		return
	}
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	auths, err := p.factors.ListAuthenticators(ctx, sess.AccessToken)
	if err != nil {
		p.log.Warn("could not list authenticators to remove a cancelled enrolment", slog.String("request_id", requestID(c)), slog.String("error", describe(err)))
		return
	}
	for _, id := range inactiveEntries(auths, e.Channel) {
		if slices.Contains(e.Earlier, id) {
			continue
		}
		err := p.factors.DeleteAuthenticator(ctx, sess.AccessToken, id)
		p.audit(c, auditEnrolCancelled, sess.Sub, err, slog.String("factor_type", e.Channel))
	}
}

// otpCode is the six digits of what a person typed, forgiving the spaces
// and dashes apps show inside codes.
func otpCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '-':
		default:
			return "", false
		}
		if b.Len() > 6 {
			return "", false
		}
	}
	return b.String(), b.Len() == 6
}
