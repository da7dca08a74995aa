package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/i18n"
	"mfaportal/mfaapi"
	"mfaportal/session"
	"mfaportal/views"
)

// Flash message keys kept in the session for the next page.
const (
	flashRemoved        = "removed"
	flashAlreadyRemoved = "already_removed"
	flashRenamed        = "renamed"
	flashChannelSMS     = "channel_sms"
	flashChannelVoice   = "channel_voice"
	// flashNewCode carries a new recovery code to its one display.
	flashNewCode = "new_recovery_code"
	// Methods added (enrol*.go).
	flashAppAdded      = "app_added"
	flashPhoneAdded    = "phone_added"
	flashEmailAdded    = "email_added"
	flashGuardianAdded = "guardian_added"
	flashAddCancelled  = "add_cancelled"
	// flashFirstCode carries the recovery code that came with the user's
	// first method to its one display.
	flashFirstCode = "first_recovery_code"
)

// userFactors is what the portal knows of a user's methods now: the groups,
// and whether the Management API's details are in them.
type userFactors struct {
	groups   []factorGroup
	detailed bool
}

// freshGroups asks Auth0 now (never trusting what a page once showed): the
// MFA API with the user's token for what is active, the Management API
// (cached per user for a short while) for what each entry is and how they
// group. Without the Management API the page still lists, from the MFA API
// alone.
func (p *portal) freshGroups(c echo.Context, sess *session.Session) (userFactors, error) {
	if err := p.checkLimit(c.Request().Context(), p.views, sess.Sub); err != nil {
		return userFactors{}, err
	}
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	if methods, ok := p.methods.Cached(ctx, sess.Sub); ok {
		auths, err := p.factors.ListAuthenticators(ctx, sess.AccessToken)
		if err != nil {
			return userFactors{}, err
		}
		return userFactors{groups: groupFactors(auths, methods, true), detailed: true}, nil
	}
	// The details lapse after a minute, so a person's first view usually
	// misses them: the two Auth0 calls are then made at once, and the page
	// waits for the slower, not for their sum.
	type detailsAnswer struct {
		methods []mfaapi.AuthMethod
		err     error
	}
	details := make(chan detailsAnswer, 1)
	go func() {
		methods, err := p.methods.Fetch(ctx, sess.Sub)
		details <- detailsAnswer{methods, err}
	}()
	auths, err := p.factors.ListAuthenticators(ctx, sess.AccessToken)
	if err != nil {
		cancel() // the details are of no use now
		<-details
		return userFactors{}, err
	}
	d := <-details
	if d.err != nil {
		p.log.LogAttrs(ctx, slog.LevelWarn, "authentication methods unavailable; listing from the MFA API alone",
			slog.String("request_id", requestID(c)), slog.String("error_class", classify(d.err).class), slog.String("error", describe(d.err)))
		return userFactors{groups: groupFactors(auths, nil, false)}, nil
	}
	return userFactors{groups: groupFactors(auths, d.methods, true), detailed: true}, nil
}

// handleFactors handles "GET /factors".
func (p *portal) handleFactors(c echo.Context) error {
	sess := sessionFromContext(c)
	uf, err := p.freshGroups(c, sess)
	if err != nil {
		return err
	}
	pr := p.tr(c)
	pg := p.page(c, pr.T("factors.title"), sess)
	if sess.Flash == flashRemoved {
		pg.EmbedEvent = "factor-removed"
	}
	pg.Flash = p.takeFlash(c, sess)
	if c.QueryParam("saved") == "1" {
		// Leaving a recovery code's page ("I've saved it"). Chromium may
		// keep that page in its back/forward cache despite no-store, and
		// without script nothing wipes it there: Back would show the code
		// again. It does not restore a no-store page once the site's
		// cookies changed, so the sealed session cookie is written afresh
		// (same content, new seal). Sessions kept in Redis keep their
		// cookie, so there the script's wipe is all there is.
		_ = p.sessions.Save(c.Response(), c.Request(), sess)
		if pg.Flash == nil {
			pg.Flash = &views.Flash{Kind: views.FlashSuccess, Text: pr.T("factors.flash.saved")}
		}
	}
	page := views.FactorsPage{Page: pg, Partial: !uf.detailed, NoRecoveryCode: true}
	for _, g := range uf.groups {
		page.Factors = append(page.Factors, p.factorView(pr, g, uf.detailed))
		page.NoRecoveryCode = page.NoRecoveryCode && g.Kind != kindRecovery
	}
	return p.render(c, http.StatusOK, pg, views.Factors(page))
}

// takeFlash returns the session's one-time message and clears it.
func (p *portal) takeFlash(c echo.Context, sess *session.Session) *views.Flash {
	if sess.Flash == "" {
		return nil
	}
	pr := p.tr(c)
	f := &views.Flash{Kind: views.FlashSuccess}
	switch sess.Flash {
	case flashRemoved:
		f.Text = pr.T("flash.removed", sess.FlashArg)
	case flashAlreadyRemoved:
		f.Kind, f.Text = views.FlashInfo, pr.T("flash.already_removed", sess.FlashArg)
		if sess.FlashArg == "" {
			f.Text = pr.T("flash.already_removed_unnamed")
		}
	case flashRenamed:
		f.Text = pr.T("method.flash.renamed", sess.FlashArg)
	case flashChannelSMS:
		f.Text = pr.T("method.flash.channel.sms")
	case flashChannelVoice:
		f.Text = pr.T("method.flash.channel.voice")
	case flashAppAdded:
		f.Text = pr.T("addapp.flash.added")
	case flashPhoneAdded:
		f.Text = pr.T("addphone.flash.added")
	case flashEmailAdded:
		f.Text = pr.T("addemail.flash.added")
	case flashGuardianAdded:
		f.Text = pr.T("addguardian.flash.added")
	case flashAddCancelled:
		f.Kind, f.Text = views.FlashInfo, pr.T("addapp.flash.cancelled")
	default:
		f = nil
	}
	sess.Flash, sess.FlashArg = "", ""
	if err := p.sessions.Save(c.Response(), c.Request(), sess); err != nil {
		return nil
	}
	return f
}

// factorFromRequest reads and checks the :id path parameter, then finds its
// group in fresh lists from Auth0: an id is acted on only once it is found
// in the user's own list.
func (p *portal) factorFromRequest(c echo.Context, sess *session.Session) (factorGroup, userFactors, error) {
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil || !validAuthenticatorID(id) {
		return factorGroup{}, userFactors{}, errBadFactorID
	}
	uf, err := p.freshGroups(c, sess)
	if err != nil {
		return factorGroup{}, userFactors{}, err
	}
	g, ok := findGroup(uf.groups, id)
	if !ok {
		return factorGroup{}, uf, errFactorGone
	}
	return g, uf, nil
}

// notDeletableError says why g is not offered for removal.
func notDeletableError(g factorGroup, detailed bool) error {
	switch {
	case g.Kind == kindRecovery:
		return errRecoveryNotDeletable
	case g.VerifiedOnly:
		return errEmailNotDeletable
	case !detailed:
		// Which entries go with it is unknown: nothing is removed blind.
		return errDetailsUnavailable
	}
	return errEmailNotDeletable
}

// handleDeleteConfirm handles "GET /factors/:id/delete": it says exactly what
// will go, twin included, and warns about removing the last method.
func (p *portal) handleDeleteConfirm(c echo.Context) error {
	sess := sessionFromContext(c)
	g, uf, err := p.factorFromRequest(c, sess)
	if err != nil {
		return err
	}
	if !g.deletable() {
		return notDeletableError(g, uf.detailed)
	}
	pr := p.tr(c)
	pg := p.page(c, pr.T("remove.title"), sess)
	if c.QueryParam("reconfirm") == "1" {
		pg.Flash = &views.Flash{Kind: views.FlashInfo, Text: pr.T("remove.flash.reconfirm")}
	}
	page := views.DeletePage{
		Page:      pg,
		Factor:    p.factorView(pr, g, uf.detailed),
		Removes:   removesOf(pr, g),
		Together:  togetherReason(pr, g),
		ActionURL: factorPath(g) + "/delete",
		IsLast:    countDeletable(uf.groups) == 1,
	}
	return p.render(c, http.StatusOK, pg, views.DeleteConfirm(page))
}

// handleDelete handles "POST /factors/:id/delete". It deletes the group:
// through the MFA API with the user's own token when the MFA API lists it
// (Auth0 removes its other members), else through the Management API
// (security keys, passkeys). It shows success only once Auth0 has said so.
func (p *portal) handleDelete(c echo.Context) error {
	sess := sessionFromContext(c)
	// The limit comes first: over it, nothing is asked of Auth0.
	if err := p.checkLimit(c.Request().Context(), removeFactorRule, sess.Sub); err != nil {
		return err
	}
	g, uf, err := p.factorFromRequest(c, sess)
	if errors.Is(err, errFactorGone) {
		// Gone before we could read its name: the message names none.
		return p.flashAndList(c, sess, flashAlreadyRemoved, "")
	}
	if err != nil {
		return err
	}
	if !g.deletable() {
		return notDeletableError(g, uf.detailed)
	}
	label := p.factorView(p.tr(c), g, uf.detailed).Label
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	if g.Removal == removeManagement {
		err = managementFailure(p.methods.Delete(ctx, sess.Sub, g.MethodID))
	} else {
		err = p.factors.DeleteAuthenticator(ctx, sess.AccessToken, g.DeleteID)
		p.forgetMethods(ctx, c, sess.Sub)
	}
	p.audit(c, auditFactorRemoved, sess.Sub, err, slog.String("factor_type", kindName(g.Kind)))
	switch {
	case err == nil:
		return p.flashAndList(c, sess, flashRemoved, label)
	case errors.Is(err, mfaapi.ErrNotFound):
		return p.flashAndList(c, sess, flashAlreadyRemoved, label)
	case g.Kind == kindEmail && (errors.Is(err, mfaapi.ErrBadRequest) || errors.Is(err, mfaapi.ErrForbidden)):
		// Auth0 refuses to delete an email it lists only because it is verified.
		return errEmailNotDeletable
	}
	return err
}

// forgetMethods drops the user's cached Management list after a change made
// through the MFA API; a failure only means the list is stale for a minute.
func (p *portal) forgetMethods(ctx context.Context, c echo.Context, sub string) {
	if err := p.methods.Forget(ctx, sub); err != nil {
		p.log.LogAttrs(ctx, slog.LevelWarn, "could not forget the cached methods",
			slog.String("request_id", requestID(c)), slog.String("error", describe(err)))
	}
}

// managementFailure keeps the Management API's own refusals from reading
// as the user's: its 401 and 403 are the portal's M2M application (a
// missing scope), never a reason to sign the user in again.
func managementFailure(err error) error {
	if errors.Is(err, mfaapi.ErrUnauthorized) || errors.Is(err, mfaapi.ErrForbidden) {
		return fmt.Errorf("%w: %w", errDetailsUnavailable, err)
	}
	return err
}

func (p *portal) flashAndList(c echo.Context, sess *session.Session, key, arg string) error {
	sess.Flash, sess.FlashArg = key, arg
	if err := p.sessions.Save(c.Response(), c.Request(), sess); err != nil {
		return err
	}
	return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/factors"))
}

// factorPath is the group's page: /factors/{id}.
func factorPath(g factorGroup) string { return "/factors/" + url.PathEscape(g.ID) }

// factorLabel is what a group is called, in the reader's language.
func factorLabel(pr *i18n.Printer, g factorGroup) string {
	switch g.Kind {
	case kindApp:
		return pr.T("factors.app.label")
	case kindGuardian:
		if g.HasOTPTwin {
			return pr.T("factors.guardian.both")
		}
		return pr.T("factors.guardian.push")
	case kindPhone:
		return pr.T("factors.phone.label", maskedForDisplay(g.Masked), channelsText(pr, g.Channels))
	case kindEmail:
		return pr.T("factors.email.label", maskedForDisplay(g.Masked))
	case kindSecurityKey:
		return pr.T("factors.securitykey.label")
	case kindPasskey:
		return pr.T("factors.passkey.label")
	case kindRecovery:
		return pr.T("factors.recovery.label")
	}
	return pr.T("factors.other.label")
}

// factorView is how a group reads to a person, in their language.
func (p *portal) factorView(pr *i18n.Printer, g factorGroup, detailed bool) views.Factor {
	f := views.Factor{TestID: "factor-" + kindName(g.Kind), Label: factorLabel(pr, g)}
	if g.deletable() {
		f.DeleteURL = factorPath(g) + "/delete"
	}
	// The user's own name, unless it only repeats what the row says.
	if g.Name != "" && !strings.EqualFold(g.Name, f.Label) {
		f.Name = pr.T("factors.named", g.Name)
	}
	switch g.Kind {
	case kindApp:
		f.Icon, f.Detail = views.IconApp, pr.T("factors.app.detail")
	case kindGuardian:
		f.Icon = views.IconGuardian
	case kindPhone:
		f.Icon = views.IconPhone
	case kindEmail:
		f.Icon, f.Detail = views.IconEmail, pr.T("factors.email.detail")
		if g.VerifiedOnly {
			f.Detail, f.Note = pr.T("factors.email.verified"), pr.T("factors.email.note")
		}
	case kindSecurityKey:
		f.Icon, f.Detail = views.IconSecurityKey, pr.T("factors.securitykey.detail")
	case kindPasskey:
		f.Icon, f.Detail = views.IconPasskey, pr.T("factors.passkey.detail")
	case kindRecovery:
		f.Icon, f.Note = views.IconRecovery, pr.T("factors.recovery.note")
		f.ActionURL, f.ActionText = "/recovery-code", pr.T("factors.recovery.action")
	default:
		f.Icon = views.IconOther
	}
	if !detailed && (g.Kind == kindApp || g.Kind == kindEmail) {
		// Without the Management API an otp may be a Guardian app's codes
		// and an email the verified address: say only what is known.
		f.Detail = ""
	}
	if !g.Added.IsZero() {
		f.Added = moment(pr, g.Added, pr.Date(g.Added))
	}
	switch {
	case !g.LastUsed.IsZero():
		f.LastUsed = moment(pr, g.LastUsed, ago(pr, g.LastUsed, p.now()))
	case detailed && g.Kind != kindRecovery && !g.VerifiedOnly:
		f.NeverUsed = true
	}
	if detailed && (g.Renamable || len(g.Channels) > 1) {
		f.DetailsURL = factorPath(g)
	}
	return f
}

// moment is t shown as text, with its exact time for <time> and a tooltip.
func moment(pr *i18n.Printer, t time.Time, text string) *views.Moment {
	t = t.UTC()
	return &views.Moment{Text: text, Datetime: t.Format(time.RFC3339), Exact: pr.Date(t) + ", " + pr.Time(t)}
}

// ago is how long ago t was, in words a person uses: today, yesterday,
// days, months, years.
func ago(pr *i18n.Printer, t, now time.Time) string {
	y1, m1, d1 := t.UTC().Date()
	y2, m2, d2 := now.UTC().Date()
	days := int(time.Date(y2, m2, d2, 0, 0, 0, 0, time.UTC).Sub(time.Date(y1, m1, d1, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	switch {
	case days <= 0:
		return pr.T("ago.today")
	case days == 1:
		return pr.T("ago.yesterday")
	case days < 31:
		return pr.T("ago.days", days)
	case days < 365:
		return pr.T("ago.months", days/30)
	}
	return pr.T("ago.years", days/365)
}

// removesOf lists everything that goes when g is removed.
func removesOf(pr *i18n.Printer, g factorGroup) []string {
	switch g.Kind {
	case kindGuardian:
		out := []string{pr.T("remove.guardian.push")}
		if g.HasOTPTwin {
			out = append(out, pr.T("remove.guardian.otp"))
		}
		return out
	case kindPhone:
		phone := maskedForDisplay(g.Masked)
		var out []string
		for _, ch := range g.Channels {
			if ch == "sms" {
				out = append(out, pr.T("remove.phone.sms", phone))
			} else {
				out = append(out, pr.T("remove.phone.voice", phone))
			}
		}
		return out
	}
	return []string{factorLabel(pr, g)}
}

func togetherReason(pr *i18n.Printer, g factorGroup) string {
	if g.Kind == kindPhone {
		return pr.T("remove.together.phone")
	}
	return pr.T("remove.together.guardian")
}

func channelsText(pr *i18n.Printer, chs []string) string {
	switch strings.Join(chs, ",") {
	case "sms":
		return pr.T("factors.channels.sms")
	case "voice":
		return pr.T("factors.channels.voice")
	}
	return pr.T("factors.channels.both")
}

func kindName(k factorKind) string {
	switch k {
	case kindApp:
		return "app"
	case kindGuardian:
		return "guardian"
	case kindPhone:
		return "phone"
	case kindEmail:
		return "email"
	case kindSecurityKey:
		return "security-key"
	case kindPasskey:
		return "passkey"
	case kindRecovery:
		return "recovery-code"
	}
	return "other"
}
