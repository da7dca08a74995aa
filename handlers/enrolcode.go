package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"
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

// handleAddPhone handles "GET /add/phone": the number form, or the code
// step once a code was sent.
func (p *portal) handleAddPhone(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.enrolmentOf(c, sess, phoneSteps)
	if err != nil {
		return err
	}
	if e == nil {
		return p.showPhoneStart(c, sess, http.StatusOK, views.AddPhonePage{Region: requestRegion(c.Request())})
	}
	return p.showCode(c, sess, e, http.StatusOK, "", "")
}

func (p *portal) showPhoneStart(c echo.Context, sess *session.Session, status int, page views.AddPhonePage) error {
	pr := p.tr(c)
	page.Page = p.page(c, pr.T("addphone.title"), sess)
	for _, r := range phone.Regions(language.Make(pr.Lang())) {
		page.Regions = append(page.Regions, views.Region{Code: r.Code, Name: r.Name, Dial: r.Dial})
	}
	o := p.offer.Offer(c.Request().Context())
	page.SMS, page.Voice = o.SMS, o.Voice
	p.restartNotice(c, &page.Page)
	return p.render(c, status, page.Page, views.AddPhoneStart(page))
}

// showCode is the code step of a phone or an email address.
func (p *portal) showCode(c echo.Context, sess *session.Session, e *session.Enrolment, status int, codeError, notice string) error {
	title, step, sentTo := "addphone.title", phoneSteps.path, phone.Mask(e.Destination)
	if e.Channel == mfaapi.ChannelEmail {
		title, step, sentTo = "addemail.title", emailSteps.path, maskEmail(e.Destination)
	}
	pg := p.page(c, p.tr(c).T(title), sess)
	page := views.AddPhonePage{Page: pg, Step: step, Channel: e.Channel, SentTo: sentTo, Nonce: e.Nonce, Error: codeError, Notice: notice}
	return p.render(c, status, pg, views.AddPhoneCode(page))
}

// maskEmail keeps an address's first two characters and its domain.
func maskEmail(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return "•••"
	}
	local := []rune(a[:at])
	if len(local) > 2 {
		local = local[:2]
	}
	return string(local) + "•••" + a[at:]
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
	if e, err := p.enrolmentOf(c, sess, phoneSteps); err != nil {
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
	if !p.offer.Offer(c.Request().Context()).Allows(channel) {
		return errNotOffered
	}
	return p.associateCode(c, sess, channel, e164, nil)
}

// associateCode makes an association that sends a code to destination
// (a number in E.164 or an address) and goes to the code step; replaced is
// the enrolment a resend replaces.
func (p *portal) associateCode(c echo.Context, sess *session.Session, channel, destination string, replaced *session.Enrolment) error {
	if err := p.associate(c, sess, channel, destination, replaced); err != nil {
		return err
	}
	step := phoneSteps.path
	if channel == mfaapi.ChannelEmail {
		step = emailSteps.path
	}
	return p.redirectSeeOther(c, views.Href(c.Request().Context(), step))
}

// handleResend handles "POST /add/phone/resend" and "/add/email/resend":
// after the cooldown, a new association for the same destination, so a
// new code; the previous one lapses at Auth0.
func (p *portal) handleResend(k enrolSteps) echo.HandlerFunc {
	return func(c echo.Context) error { return p.resend(c, k) }
}

func (p *portal) resend(c echo.Context, k enrolSteps) error {
	sess := sessionFromContext(c)
	e, err := p.enrolmentOf(c, sess, k)
	if err != nil {
		return err
	}
	if e == nil {
		return p.redirectSeeOther(c, views.Href(c.Request().Context(), k.path))
	}
	if wait := time.Unix(e.Started, 0).Add(resendCooldown).Sub(p.now()); wait > 0 {
		pr := p.tr(c)
		return p.showCode(c, sess, e, http.StatusTooManyRequests, "", pr.T("addphone.resend.wait", humanWait(pr, wait)))
	}
	return p.associateCode(c, sess, e.Channel, e.Destination, e)
}

// handleConfirmCode handles "POST /add/phone/confirm" and
// "/add/email/confirm", as the app's confirmation: single use per form, a
// wrong code says so.
func (p *portal) handleConfirmCode(k enrolSteps) echo.HandlerFunc {
	return func(c echo.Context) error { return p.confirmCode(c, k) }
}

func (p *portal) confirmCode(c echo.Context, k enrolSteps) error {
	sess := sessionFromContext(c)
	e, err := p.enrolmentOf(c, sess, k)
	if err != nil {
		return err
	}
	if !currentForm(c, e) {
		return errEnrolAlreadyDone
	}
	code, ok := otpCode(c.Request().PostFormValue("code"))
	if !ok {
		return p.showCode(c, sess, e, http.StatusUnprocessableEntity, p.tr(c).T("addphone.code.malformed"), "")
	}
	added := flashPhoneAdded
	if e.Channel == mfaapi.ChannelEmail {
		added = flashEmailAdded
	}
	return p.confirmEnrolment(c, sess, e, added, func(ctx context.Context) error {
		return p.enrol.ConfirmOOB(ctx, sess.AccessToken, e.OOBCode, code)
	}, func(error) error {
		return p.showCode(c, sess, e, http.StatusUnprocessableEntity, p.tr(c).T("addphone.code.wrong"), "")
	})
}

// maxEmail bounds an address (RFC 5321's limit on a path).
const maxEmail = 254

// handleAddEmail handles "GET /add/email": the address form, or the code
// step once a code was sent.
func (p *portal) handleAddEmail(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.enrolmentOf(c, sess, emailSteps)
	if err != nil {
		return err
	}
	if e == nil {
		return p.showEmailStart(c, sess, http.StatusOK, "", "")
	}
	return p.showCode(c, sess, e, http.StatusOK, "", "")
}

func (p *portal) showEmailStart(c echo.Context, sess *session.Session, status int, address, errText string) error {
	pg := p.page(c, p.tr(c).T("addemail.title"), sess)
	p.restartNotice(c, &pg)
	return p.render(c, status, pg, views.AddEmailStart(views.AddPhonePage{Page: pg, Number: address, Error: errText}))
}

// handleStartEmail handles "POST /add/email": the address is checked here
// (one plain address, no display name); Auth0 makes the association and
// sends the code.
func (p *portal) handleStartEmail(c echo.Context) error {
	sess := sessionFromContext(c)
	if e, err := p.enrolmentOf(c, sess, emailSteps); err != nil {
		return err
	} else if e != nil {
		return p.redirectSeeOther(c, views.Href(c.Request().Context(), emailSteps.path))
	}
	typed := strings.TrimSpace(c.Request().PostFormValue("email"))
	if typed == "" {
		return p.showEmailStart(c, sess, http.StatusUnprocessableEntity, "", p.tr(c).T("addemail.err.empty"))
	}
	addr, err := mail.ParseAddress(typed)
	if err != nil || len(typed) > maxEmail || addr.Name != "" || addr.Address != typed || !strings.Contains(addr.Address[strings.LastIndexByte(addr.Address, '@'):], ".") {
		if r := []rune(typed); len(r) > maxEmail {
			typed = string(r[:maxEmail])
		}
		return p.showEmailStart(c, sess, http.StatusUnprocessableEntity, typed, p.tr(c).T("addemail.err.invalid"))
	}
	return p.associateCode(c, sess, mfaapi.ChannelEmail, addr.Address, nil)
}
