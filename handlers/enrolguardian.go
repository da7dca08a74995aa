package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"mfaportal/mfaapi"
	"mfaportal/session"
	"mfaportal/views"
)

// handleAddGuardian handles "GET /add/guardian": the start, or the QR
// code the Guardian app scans and a button to go on once it is approved.
func (p *portal) handleAddGuardian(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.enrolmentOf(c, sess, guardianSteps)
	if err != nil {
		return err
	}
	return p.showGuardian(c, sess, e, http.StatusOK, "")
}

func (p *portal) showGuardian(c echo.Context, sess *session.Session, e *session.Enrolment, status int, notice string) error {
	pg := p.page(c, p.tr(c).T("addguardian.title"), sess)
	page := views.AddAppPage{Page: pg, CodeError: notice}
	if e == nil {
		p.restartNotice(c, &page.Page)
		return p.render(c, status, page.Page, views.AddGuardianStart(page))
	}
	svg, err := views.QRCodeSVG(e.BarcodeURI)
	if err != nil {
		return err
	}
	page.QRCodeSVG, page.Nonce = svg, e.Nonce
	return p.render(c, status, pg, views.AddGuardianScan(page))
}

// handleStartGuardian handles "POST /add/guardian": Auth0 makes the
// association; its QR code carries the enrolment for the app.
func (p *portal) handleStartGuardian(c echo.Context) error {
	sess := sessionFromContext(c)
	if e, err := p.enrolmentOf(c, sess, guardianSteps); err != nil {
		return err
	} else if e != nil {
		return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/add/guardian"))
	}
	if err := p.associate(c, sess, mfaapi.ChannelGuardian, "", nil); err != nil {
		return err
	}
	return p.redirectSeeOther(c, views.Href(c.Request().Context(), "/add/guardian"))
}

// handleCheckGuardian handles "POST /add/guardian/check": has the person
// approved on the phone? Not yet: the same page says so, with a fresh
// form. Denied: the association is given up and the page says why.
func (p *portal) handleCheckGuardian(c echo.Context) error {
	sess := sessionFromContext(c)
	e, err := p.enrolmentOf(c, sess, guardianSteps)
	if err != nil {
		return err
	}
	if !currentForm(c, e) {
		return errEnrolAlreadyDone
	}
	return p.confirmEnrolment(c, sess, e, flashGuardianAdded, func(ctx context.Context) error {
		return p.enrol.ConfirmOOB(ctx, sess.AccessToken, e.OOBCode, "")
	}, func(why error) error {
		if errors.Is(why, mfaapi.ErrAuthorizationPending) {
			return p.showGuardian(c, sess, e, http.StatusOK, p.tr(c).T("addguardian.pending"))
		}
		// Denied on the phone, or the association lapsed at Auth0: it
		// cannot be confirmed any more; start again knowing why.
		if err := p.sessions.DropEnrolment(c.Request().Context(), sess); err != nil {
			return err
		}
		key := "addguardian.expired"
		if errors.Is(why, mfaapi.ErrAuthorizationDenied) {
			key = "addguardian.denied"
		}
		return p.showGuardian(c, sess, nil, http.StatusConflict, p.tr(c).T(key))
	})
}
