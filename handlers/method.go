package handlers

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"mfaportal/mfaapi"
	"mfaportal/session"
	"mfaportal/views"
)

// maxMethodName is the Management API's limit on a method's name.
const maxMethodName = 20

// handleMethod handles "GET /factors/:id": one method's details, with its
// name and, for a phone with text and voice, the preferred channel.
func (p *portal) handleMethod(c echo.Context) error {
	sess := sessionFromContext(c)
	g, uf, err := p.factorFromRequest(c, sess)
	if err != nil {
		return err
	}
	if !uf.detailed {
		return errDetailsUnavailable
	}
	return p.renderMethod(c, sess, g, methodForm{name: g.Name}, http.StatusOK)
}

// methodForm is what the details page's forms hold, and why the last try
// was refused.
type methodForm struct {
	name, nameError, channelError string
}

func (p *portal) renderMethod(c echo.Context, sess *session.Session, g factorGroup, form methodForm, status int) error {
	pr := p.tr(c)
	pg := p.page(c, pr.T("method.title"), sess)
	page := views.MethodPage{
		Page: pg, Factor: p.factorView(pr, g, true), ActionURL: factorPath(g),
		Renamable: g.Renamable, NameValue: form.name, NameError: form.nameError, ChannelError: form.channelError,
	}
	if g.deletable() {
		page.DeleteURL = factorPath(g) + "/delete"
	}
	if len(g.Channels) > 1 {
		for _, ch := range g.Channels {
			label := pr.T("method.channel.sms")
			if ch == "voice" {
				label = pr.T("method.channel.voice")
			}
			page.Channels = append(page.Channels, views.ChannelOption{Value: ch, Label: label, Checked: ch == g.Preferred})
		}
	}
	return p.render(c, status, pg, views.Method(page))
}

// handleMethodChange handles "POST /factors/:id": change=name renames the
// method, change=channel sets a phone's preferred channel. The method is
// found in the user's fresh lists first; bad input changes nothing and comes
// back to the form with a message.
func (p *portal) handleMethodChange(c echo.Context) error {
	sess := sessionFromContext(c)
	g, uf, err := p.factorFromRequest(c, sess)
	if err != nil {
		return err
	}
	if !uf.detailed || g.MethodID == "" {
		return errDetailsUnavailable
	}
	var update mfaapi.MethodUpdate
	var flash, arg, event string
	switch c.Request().PostFormValue("change") {
	case "name":
		if !g.Renamable {
			return errBadChange
		}
		name, problem := cleanMethodName(c.Request().PostFormValue("name"))
		if problem != "" {
			pr := p.tr(c)
			msg := pr.T(problem)
			if problem == "method.name.error.long" {
				msg = pr.T(problem, utf8.RuneCountInString(name))
			}
			return p.renderMethod(c, sess, g, methodForm{name: name, nameError: msg}, http.StatusBadRequest)
		}
		update.Name, flash, arg, event = &name, flashRenamed, name, auditMethodRenamed
	case "channel":
		ch := c.Request().PostFormValue("channel")
		if len(g.Channels) < 2 {
			return errBadChange
		}
		if !slices.Contains(g.Channels, ch) {
			return p.renderMethod(c, sess, g, methodForm{name: g.Name, channelError: p.tr(c).T("method.channel.error")}, http.StatusBadRequest)
		}
		update.PreferredAuthenticationMethod, flash, event = &ch, flashChannelSMS, auditChannelChanged
		if ch == "voice" {
			flash = flashChannelVoice
		}
	default:
		return errBadChange
	}
	if err := p.checkLimit(c.Request().Context(), changeMethodRule, sess.Sub); err != nil {
		return err
	}
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	err = managementFailure(p.methods.Update(ctx, sess.Sub, g.MethodID, update))
	p.audit(c, event, sess.Sub, err, slog.String("factor_type", kindName(g.Kind)))
	if err != nil {
		return err
	}
	return p.flashAndList(c, sess, flash, arg)
}

// cleanMethodName trims a new name and checks it: 1 to 20 characters of
// any script, emoji included; no line breaks or control characters. The
// problem is a message key ("" when the name is fine).
func cleanMethodName(raw string) (string, string) {
	if !utf8.ValidString(raw) {
		return "", "method.name.error.invalid"
	}
	name := strings.TrimSpace(raw)
	if strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
		return name, "method.name.error.invalid"
	}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", "method.name.error.empty"
	case n > maxMethodName:
		return name, "method.name.error.long"
	}
	return name, ""
}
