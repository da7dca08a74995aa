package handlers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

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
)

// freshGroups asks Auth0 for the user's list now (never trusting what a
// page once showed) and groups it as a person thinks of it.
func (p *portal) freshGroups(c echo.Context, sess *session.Session) ([]factorGroup, error) {
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	auths, err := p.factors.ListAuthenticators(ctx, sess.AccessToken)
	if err != nil {
		return nil, err
	}
	return groupFactors(auths), nil
}

// handleFactors handles "GET /factors".
func (p *portal) handleFactors(c echo.Context) error {
	sess := sessionFromContext(c)
	groups, err := p.freshGroups(c, sess)
	if err != nil {
		return err
	}
	pr := p.tr(c)
	pg := p.page(c, pr.T("factors.title"), sess)
	if sess.Flash == flashRemoved {
		pg.EmbedEvent = "factor-removed"
	}
	pg.Flash = p.takeFlash(c, sess)
	if pg.Flash == nil && c.QueryParam("saved") == "1" {
		pg.Flash = &views.Flash{Kind: views.FlashSuccess, Text: pr.T("factors.flash.saved")}
	}
	page := views.FactorsPage{Page: pg}
	for _, g := range groups {
		page.Factors = append(page.Factors, factorView(pr, g))
	}
	return p.render(c, http.StatusOK, pg, views.Factors(page))
}

// takeFlash returns the session's one-time message and clears it.
func (p *portal) takeFlash(c echo.Context, sess *session.Session) *views.Flash {
	if sess.Flash == "" {
		return nil
	}
	var f *views.Flash
	pr := p.tr(c)
	switch sess.Flash {
	case flashRemoved:
		f = &views.Flash{Kind: views.FlashSuccess, Text: pr.T("flash.removed", sess.FlashArg)}
	case flashAlreadyRemoved:
		f = &views.Flash{Kind: views.FlashInfo, Text: pr.T("flash.already_removed", sess.FlashArg)}
		if sess.FlashArg == "" {
			f.Text = pr.T("flash.already_removed_unnamed")
		}
	}
	sess.Flash, sess.FlashArg = "", ""
	if err := p.sessions.Save(c.Response(), c.Request(), sess); err != nil {
		return nil
	}
	return f
}

// factorFromRequest reads and checks the :id path parameter, then finds its
// group in a fresh list from Auth0: an id is acted on only once it is found
// in the user's own list.
func (p *portal) factorFromRequest(c echo.Context, sess *session.Session) (factorGroup, []factorGroup, error) {
	id, err := url.PathUnescape(c.Param("id"))
	if err != nil || !validAuthenticatorID(id) {
		return factorGroup{}, nil, errBadFactorID
	}
	groups, err := p.freshGroups(c, sess)
	if err != nil {
		return factorGroup{}, nil, err
	}
	g, ok := findGroup(groups, id)
	if !ok {
		return factorGroup{}, groups, errFactorGone
	}
	return g, groups, nil
}

func notDeletableError(g factorGroup) error {
	if g.Kind == kindRecovery {
		return errRecoveryNotDeletable
	}
	return errEmailNotDeletable
}

// handleDeleteConfirm handles "GET /factors/:id/delete": it says exactly what
// will go, twin included, and warns about removing the last method.
func (p *portal) handleDeleteConfirm(c echo.Context) error {
	sess := sessionFromContext(c)
	g, groups, err := p.factorFromRequest(c, sess)
	if err != nil {
		return err
	}
	if !g.deletable() {
		return notDeletableError(g)
	}
	pr := p.tr(c)
	pg := p.page(c, pr.T("remove.title"), sess)
	if c.QueryParam("reconfirm") == "1" {
		pg.Flash = &views.Flash{Kind: views.FlashInfo, Text: pr.T("remove.flash.reconfirm")}
	}
	view := factorView(pr, g)
	page := views.DeletePage{
		Page:      pg,
		Factor:    view,
		Removes:   removesOf(pr, g),
		Together:  togetherReason(pr, g),
		ActionURL: "/factors/" + url.PathEscape(g.DeleteID) + "/delete",
		IsLast:    countDeletable(groups) == 1,
	}
	return p.render(c, http.StatusOK, pg, views.DeleteConfirm(page))
}

// handleDelete handles "POST /factors/:id/delete". It deletes one id; Auth0
// removes the twin. It shows success only once Auth0 has said so.
func (p *portal) handleDelete(c echo.Context) error {
	sess := sessionFromContext(c)
	// The limit comes first: over it, nothing is asked of Auth0.
	if err := p.checkLimit(c.Request().Context(), removeFactorRule, sess.Sub); err != nil {
		return err
	}
	g, _, err := p.factorFromRequest(c, sess)
	if errors.Is(err, errFactorGone) {
		// Gone before we could read its name: the message names none.
		return p.flashAndList(c, sess, flashAlreadyRemoved, "")
	}
	if err != nil {
		return err
	}
	if !g.deletable() {
		return notDeletableError(g)
	}
	label := factorView(p.tr(c), g).Label
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	err = p.factors.DeleteAuthenticator(ctx, sess.AccessToken, g.DeleteID)
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

func (p *portal) flashAndList(c echo.Context, sess *session.Session, key, arg string) error {
	sess.Flash, sess.FlashArg = key, arg
	if err := p.sessions.Save(c.Response(), c.Request(), sess); err != nil {
		return err
	}
	return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/factors"))
}

// factorView is how a group reads to a person, in their language.
func factorView(pr *i18n.Printer, g factorGroup) views.Factor {
	f := views.Factor{TestID: "factor-" + kindName(g.Kind)}
	if g.deletable() {
		f.DeleteURL = "/factors/" + url.PathEscape(g.DeleteID) + "/delete"
	}
	switch g.Kind {
	case kindApp:
		f.Icon, f.Label = views.IconApp, pr.T("factors.app.label")
		f.Detail = pr.T("factors.app.detail")
		if g.Name != "" && g.Name != f.Label {
			f.Detail = g.Name
		}
	case kindGuardian:
		f.Icon = views.IconGuardian
		f.Label = pr.T("factors.guardian.both")
		if len(g.MemberIDs) == 1 {
			f.Label = pr.T("factors.guardian.push")
		}
		if g.Name != "" {
			f.Detail = g.Name
		}
	case kindPhone:
		f.Icon = views.IconPhone
		f.Label = pr.T("factors.phone.label", maskedForDisplay(g.Name), channelsText(pr, g.Channels))
	case kindEmail:
		f.Icon = views.IconEmail
		f.Label = pr.T("factors.email.label", maskedForDisplay(g.Name))
		f.Detail = pr.T("factors.email.detail")
		if g.VerifiedOnly {
			f.Detail = pr.T("factors.email.verified")
			f.Note = pr.T("factors.email.note")
		}
	case kindRecovery:
		f.Icon, f.Label = views.IconRecovery, pr.T("factors.recovery.label")
		f.Note = pr.T("factors.recovery.note")
		f.ActionURL, f.ActionText = "/recovery-code", pr.T("factors.recovery.action")
	default:
		f.Icon, f.Label = views.IconOther, pr.T("factors.other.label")
	}
	return f
}

// removesOf lists everything that goes when g is removed.
func removesOf(pr *i18n.Printer, g factorGroup) []string {
	switch g.Kind {
	case kindGuardian:
		out := []string{pr.T("remove.guardian.push")}
		if len(g.MemberIDs) > 1 {
			out = append(out, pr.T("remove.guardian.otp"))
		}
		return out
	case kindPhone:
		phone := maskedForDisplay(g.Name)
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
	return []string{factorView(pr, g).Label}
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
	case kindRecovery:
		return "recovery-code"
	}
	return "other"
}
