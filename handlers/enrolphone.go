package handlers

import (
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"mfaportal/mfaapi"
	"mfaportal/phone"
	"mfaportal/session"
	"mfaportal/views"
)

// resendCooldown is how long a new code waits after the last one: a person
// whose text is slow should not trigger a second, and Auth0 limits sends.
const resendCooldown = 30 * time.Second

// phoneChannel is the channel a form asked for: voice, or text messages.
func phoneChannel(v string) string {
	if v == mfaapi.ChannelVoice {
		return mfaapi.ChannelVoice
	}
	return mfaapi.ChannelSMS
}

// toAddPhone sends a GET of a step's POST path back to the step.
func (p *portal) toAddPhone(c echo.Context) error {
	return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/add/phone"))
}

// phoneEnrolment is the session's phone being added, nil when none.
func (p *portal) phoneEnrolment(c echo.Context, sess *session.Session) (*session.Enrolment, error) {
	e, err := p.sessions.Enrolment(c.Request().Context(), sess)
	if err != nil || e == nil || (e.Channel != mfaapi.ChannelSMS && e.Channel != mfaapi.ChannelVoice) {
		return nil, err
	}
	return e, nil
}

// handleAddPhone handles "GET /add/phone": the number form, or the code
// step once a code was sent.
func (p *portal) handleAddPhone(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.phoneEnrolment(c, sess)
	if err != nil {
		return err
	}
	if e == nil {
		return p.showPhoneStart(c, sess, http.StatusOK, views.AddPhonePage{Region: requestRegion(c.Request())})
	}
	return p.showPhoneCode(c, sess, e, http.StatusOK, "", "")
}

func (p *portal) showPhoneStart(c echo.Context, sess *session.Session, status int, page views.AddPhonePage) error {
	pr := p.tr(c)
	page.Page = p.page(c, pr.T("addphone.title"), sess)
	for _, r := range phone.Regions(language.Make(pr.Lang())) {
		page.Regions = append(page.Regions, views.Region{Code: r.Code, Name: r.Name, Dial: r.Dial})
	}
	return p.render(c, status, page.Page, views.AddPhoneStart(page))
}

func (p *portal) showPhoneCode(c echo.Context, sess *session.Session, e *session.Enrolment, status int, codeError, notice string) error {
	pg := p.page(c, p.tr(c).T("addphone.title"), sess)
	page := views.AddPhonePage{Page: pg, Channel: e.Channel, SentTo: phone.Mask(e.Destination), Nonce: e.Nonce, Error: codeError, Notice: notice}
	return p.render(c, status, pg, views.AddPhoneCode(page))
}

// requestRegion is the country the browser's first language names
// ("fr-CA" → CA), to preselect in the list; "" when it names none.
func requestRegion(r *http.Request) string {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return ""
	}
	return phone.DefaultRegion(tags[0])
}

// handleStartPhone handles "POST /add/phone": the number is checked and
// normalised here; Auth0 makes the association and sends the code. A
// second submit finds the association and sends nothing more.
func (p *portal) handleStartPhone(c echo.Context) error {
	sess := sessionFromContext(c)
	if e, err := p.phoneEnrolment(c, sess); err != nil {
		return err
	} else if e != nil {
		return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/add/phone"))
	}
	form := c.Request()
	region, number, channel := form.PostFormValue("region"), form.PostFormValue("number"), phoneChannel(form.PostFormValue("channel"))
	if !phone.Supported(region) {
		region = ""
	}
	e164, err := phone.Parse(number, region)
	if err != nil {
		key := "addphone.err.invalid"
		switch {
		case errors.Is(err, phone.ErrEmpty):
			key = "addphone.err.empty"
		case errors.Is(err, phone.ErrNoRegion):
			key = "addphone.err.no_region"
		case errors.Is(err, phone.ErrNotPhone):
			key = "addphone.err.not_phone"
		}
		if len([]rune(number)) > 40 {
			number = string([]rune(number)[:40])
		}
		return p.showPhoneStart(c, sess, http.StatusUnprocessableEntity, views.AddPhonePage{Region: region, Number: number, Channel: channel, Error: p.tr(c).T(key)})
	}
	return p.associatePhone(c, sess, channel, e164, "")
}

// associatePhone asks Auth0 for an association (and so a code sent to
// e164) and keeps it; recovery is the first method's recovery code from an
// earlier association of the same enrolment, kept across a resend.
func (p *portal) associatePhone(c echo.Context, sess *session.Session, channel, e164, recovery string) error {
	if err := p.checkLimit(c.Request().Context(), enrolRule, sess.Sub); err != nil {
		return err
	}
	ctx, cancel := p.upstreamContext(c)
	defer cancel()
	a, err := p.enrol.Associate(ctx, sess.AccessToken, channel, e164, "")
	p.audit(c, auditEnrolStarted, sess.Sub, err, slog.String("factor_type", channel))
	if err != nil {
		return err
	}
	e := &session.Enrolment{Channel: channel, OOBCode: a.OOBCode, Destination: e164, RecoveryCode: recovery,
		Nonce: session.NewToken(16), Started: p.now().Unix()}
	if len(a.RecoveryCodes) > 0 {
		e.RecoveryCode = a.RecoveryCodes[0]
	}
	if !e.Fits() {
		return &mfaapi.APIError{Op: "associate authenticator", Err: mfaapi.ErrUpstream}
	}
	if err := p.sessions.PutEnrolment(c.Request().Context(), sess, e); err != nil {
		return err
	}
	return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/add/phone"))
}

// handleResendPhone handles "POST /add/phone/resend": after the cooldown,
// a new association for the same number, so a new code; the previous one
// lapses at Auth0.
func (p *portal) handleResendPhone(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.phoneEnrolment(c, sess)
	if err != nil {
		return err
	}
	if e == nil {
		return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/add/phone"))
	}
	if wait := time.Unix(e.Started, 0).Add(resendCooldown).Sub(p.now()); wait > 0 {
		pr := p.tr(c)
		return p.showPhoneCode(c, sess, e, http.StatusTooManyRequests, "", pr.T("addphone.resend.wait", humanWait(pr, wait)))
	}
	return p.associatePhone(c, sess, e.Channel, e.Destination, e.RecoveryCode)
}

// handleConfirmPhone handles "POST /add/phone/confirm", as the app's
// confirmation: single use per form, a wrong code says so.
func (p *portal) handleConfirmPhone(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.phoneEnrolment(c, sess)
	if err != nil {
		return err
	}
	got := c.Request().PostFormValue("enrol_nonce")
	if e == nil || subtle.ConstantTimeCompare([]byte(got), []byte(e.Nonce)) != 1 {
		return errEnrolAlreadyDone
	}
	code, ok := otpCode(c.Request().PostFormValue("code"))
	if !ok {
		return p.showPhoneCode(c, sess, e, http.StatusUnprocessableEntity, p.tr(c).T("addphone.code.malformed"), "")
	}
	return p.confirmEnrolment(c, sess, e, flashPhoneAdded, func(ctx echo.Context) error {
		cctx, cancel := p.upstreamContext(ctx)
		defer cancel()
		return p.enrol.ConfirmOOB(cctx, sess.AccessToken, e.OOBCode, code)
	}, func() error {
		return p.showPhoneCode(c, sess, e, http.StatusUnprocessableEntity, p.tr(c).T("addphone.code.wrong"), "")
	})
}
