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
	"mfaportal/views"
)

// pageError is an error with a status and words safe to show a person.
// Handlers return it (or an mfaapi error); errorHandler renders it. Heading,
// Message and ActionText are message keys (see package i18n), so the page is
// in the reader's language; Args fill the message, a time.Duration among
// them read as a wait ("30 seconds").
type pageError struct {
	Status     int
	Heading    string
	Message    string
	Args       []any
	ActionURL  string
	ActionText string
	Err        error // for the log only
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Heading, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Heading)
}

func (e *pageError) Unwrap() error { return e.Err }

var (
	errCSRF = &pageError{Status: http.StatusForbidden,
		Heading: "error.csrf.heading", Message: "error.csrf.message",
		ActionURL: "/factors", ActionText: "action.back_to_methods"}
	errCrossSite = &pageError{Status: http.StatusForbidden,
		Heading: "error.cross_site.heading", Message: "error.cross_site.message",
		ActionURL: "/factors", ActionText: "action.go_to_methods"}
	errBadFactorID = &pageError{Status: http.StatusBadRequest,
		Heading: "error.bad_factor_id.heading", Message: "error.bad_factor_id.message",
		ActionURL: "/factors", ActionText: "action.see_methods"}
	errFactorGone = &pageError{Status: http.StatusNotFound,
		Heading: "error.factor_gone.heading", Message: "error.factor_gone.message",
		ActionURL: "/factors", ActionText: "action.see_methods"}
	errRecoveryNotDeletable = &pageError{Status: http.StatusForbidden,
		Heading: "error.recovery_not_deletable.heading", Message: "error.recovery_not_deletable.message",
		ActionURL: "/recovery-code", ActionText: "action.new_recovery"}
	errEmailNotDeletable = &pageError{Status: http.StatusForbidden,
		Heading: "error.email_not_deletable.heading", Message: "error.email_not_deletable.message",
		ActionURL: "/factors", ActionText: "action.back_to_methods"}
	errRegenAlreadyDone = &pageError{Status: http.StatusConflict,
		Heading: "error.regen_done.heading", Message: "error.regen_done.message",
		ActionURL: "/recovery-code", ActionText: "action.generate_recovery"}
	errLoginExpired = &pageError{Status: http.StatusBadRequest,
		Heading: "error.login_expired.heading", Message: "error.login_expired.message",
		ActionURL: "/login", ActionText: "action.sign_in"}
	errSignInFailed = &pageError{Status: http.StatusBadRequest,
		Heading: "error.sign_in_failed.heading", Message: "error.sign_in_failed.message",
		ActionURL: "/login", ActionText: "action.sign_in"}
)

// errorHandler renders every error as a friendly page. It is the only place
// that decides what a person sees for an error, and it logs each one once.
func (p *portal) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	pe := p.toPageError(c, err)
	level := slog.LevelInfo
	if pe.Status >= 500 {
		level = slog.LevelError
	}
	p.log.LogAttrs(c.Request().Context(), level, "request failed",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request().Method),
		slog.String("route", c.Path()),
		slog.Int("status", pe.Status),
		slog.String("error", describe(err)))

	if ra := retryAfter(err); ra > 0 {
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(ra.Round(time.Second)/time.Second)))
	}
	sess := p.sessionFromContext(c)
	if errors.Is(err, mfaapi.ErrUnauthorized) && sess != nil {
		// Auth0 no longer takes the session's token: end it here too, so
		// the page does not show minutes left that no longer exist.
		sess.TokenExpiry = p.now()
		if serr := p.sessionsFor(c).save(c.Response(), c.Request(), sess); serr != nil {
			p.log.Error("ending a session Auth0 refused", slog.String("request_id", requestID(c)), slog.String("error", serr.Error()))
		}
		sess = nil
	}
	page := views.ErrorPage{
		Page:       p.page(c, pe.Heading, sess),
		Status:     pe.Status,
		Heading:    pe.Heading,
		Message:    pe.Message,
		ActionURL:  pe.ActionURL,
		ActionText: pe.ActionText,
	}
	if rerr := p.render(c, pe.Status, page.Page, views.Error(page)); rerr != nil {
		p.log.Error("rendering error page", slog.String("request_id", requestID(c)), slog.String("error", rerr.Error()))
	}
}

// toPageError maps any error to what the user sees, in their language.
// Upstream details stay in the log; the page says what happened and what to
// do next.
func (p *portal) toPageError(c echo.Context, err error) *pageError {
	pe := pageErrorOf(c, err)
	pr := p.tr(c)
	args := make([]any, len(pe.Args))
	for i, a := range pe.Args {
		if d, ok := a.(time.Duration); ok {
			a = humanWait(pr, d)
		}
		args[i] = a
	}
	shown := *pe
	shown.Heading, shown.Message, shown.Args = pr.T(pe.Heading), pr.T(pe.Message, args...), nil
	if pe.ActionText != "" {
		shown.ActionText = pr.T(pe.ActionText)
	}
	return &shown
}

// pageErrorOf maps any error to the page's message keys.
func pageErrorOf(c echo.Context, err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	var le *limitExceeded
	if errors.As(err, &le) {
		return tooOftenPage(le)
	}
	if errors.Is(err, errSessionStoreDown) {
		return &pageError{Status: http.StatusServiceUnavailable, Heading: "error.store_down.heading",
			Message:   "error.store_down.message",
			ActionURL: returnPathOf(c), ActionText: "action.try_again", Err: err}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return &pageError{Status: http.StatusNotFound, Heading: "error.not_found.heading",
				Message: "error.not_found.message", ActionURL: "/factors", ActionText: "action.go_to_methods"}
		case http.StatusMethodNotAllowed:
			return &pageError{Status: http.StatusMethodNotAllowed, Heading: "error.didnt_work.heading",
				Message: "error.method_not_allowed.message", ActionURL: "/factors", ActionText: "action.go_to_methods"}
		case http.StatusRequestEntityTooLarge:
			return &pageError{Status: http.StatusRequestEntityTooLarge, Heading: "error.too_large.heading",
				Message: "error.too_large.message", ActionURL: "/factors", ActionText: "action.go_to_methods"}
		}
		if he.Code >= 400 && he.Code < 500 {
			return &pageError{Status: he.Code, Heading: "error.didnt_work.heading",
				Message: "error.bad_request.message", ActionURL: "/factors", ActionText: "action.go_to_methods"}
		}
	}
	back := "/login?return=" + url.QueryEscape(returnPathOf(c))
	// Trouble during sign-in itself: "try again" means signing in again.
	retry := returnPathOf(c)
	if errors.Is(err, errSignInUnavailable) {
		retry = "/login"
	}
	switch {
	case errors.Is(err, mfaapi.ErrUnauthorized):
		return &pageError{Status: http.StatusUnauthorized, Heading: "error.unauthorized.heading",
			Message:   "error.unauthorized.message",
			ActionURL: back, ActionText: "action.sign_in_again", Err: err}
	case errors.Is(err, mfaapi.ErrForbidden):
		return &pageError{Status: http.StatusForbidden, Heading: "error.forbidden.heading",
			Message:   "error.forbidden.message",
			ActionURL: back, ActionText: "action.sign_in_again", Err: err}
	case errors.Is(err, mfaapi.ErrNotFound):
		return &pageError{Status: http.StatusNotFound, Heading: "error.gone.heading",
			Message:   "error.gone.message",
			ActionURL: "/factors", ActionText: "action.see_methods", Err: err}
	case errors.Is(err, mfaapi.ErrRateLimited):
		pe := &pageError{Status: http.StatusTooManyRequests, Heading: "error.rate_limited.heading",
			Message:   "error.rate_limited.message",
			ActionURL: retry, ActionText: "action.try_again", Err: err}
		if wait := retryAfter(err); wait > 0 {
			pe.Message, pe.Args = "error.rate_limited.message_wait", []any{wait}
		}
		return pe
	case errors.Is(err, mfaapi.ErrOutcomeUnknown):
		return &pageError{Status: http.StatusBadGateway, Heading: "error.outcome_unknown.heading",
			Message:   "error.outcome_unknown.message",
			ActionURL: "/recovery-code", ActionText: "action.generate_recovery", Err: err}
	case errors.Is(err, mfaapi.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return &pageError{Status: http.StatusGatewayTimeout, Heading: "error.timeout.heading",
			Message:   "error.timeout.message",
			ActionURL: retry, ActionText: "action.try_again", Err: err}
	case errors.Is(err, mfaapi.ErrUpstream), errors.Is(err, mfaapi.ErrUnavailable), errors.Is(err, errSignInUnavailable):
		return &pageError{Status: http.StatusBadGateway, Heading: "error.upstream.heading",
			Message:   "error.upstream.message",
			ActionURL: retry, ActionText: "action.try_again", Err: err}
	case errors.Is(err, mfaapi.ErrBadRequest):
		return &pageError{Status: http.StatusBadRequest, Heading: "error.didnt_work.heading",
			Message:   "error.refused.message",
			ActionURL: "/factors", ActionText: "action.see_methods", Err: err}
	case errors.Is(err, errSignInRejected):
		pe := *errSignInFailed
		pe.Err = err
		return &pe
	}
	return &pageError{Status: http.StatusInternalServerError, Heading: "error.internal.heading",
		Message:   "error.internal.message",
		ActionURL: "/factors", ActionText: "action.go_to_methods", Err: err}
}

// returnPathOf is where sign-in should bring the user back to: the page they
// were on. A POST returns to its confirmation page (same path, by design of
// the routes) marked so the page says why, and is never replayed silently.
func returnPathOf(c echo.Context) string {
	r := c.Request()
	if r.Method != http.MethodGet {
		if strings.HasSuffix(r.URL.Path, "/delete") {
			return safeReturnPath(r.URL.Path + "?reconfirm=1")
		}
		return safeReturnPath(r.URL.Path)
	}
	return safeReturnPath(r.URL.RequestURI())
}

// tooOftenPage explains a per-user limit on a destructive action: what the
// limit is, that nothing was changed, and how long to wait.
func tooOftenPage(le *limitExceeded) *pageError {
	msg, back := "error.too_often.remove", "/factors"
	if le.action == actionRegenerate {
		msg, back = "error.too_often.regenerate", "/recovery-code"
	}
	return &pageError{Status: http.StatusTooManyRequests, Heading: "error.too_often.heading",
		Message: msg, Args: []any{le.action.max(), limitWindow, le.wait},
		ActionURL: back, ActionText: "action.back", Err: le}
}

func retryAfter(err error) time.Duration {
	var le *limitExceeded
	if errors.As(err, &le) {
		return le.wait
	}
	var ae *mfaapi.APIError
	if errors.As(err, &ae) {
		if ae.RetryAfter > 0 {
			return ae.RetryAfter
		}
		if !ae.Reset.IsZero() {
			if d := time.Until(ae.Reset); d > 0 {
				return d
			}
		}
	}
	return 0
}

// humanWait is how long to wait, in words of the reader's language.
func humanWait(pr *i18n.Printer, d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s <= 1:
		return pr.T("wait.second")
	case s < 60:
		return pr.T("wait.seconds", s)
	case s < 120:
		return pr.T("wait.minute")
	default:
		return pr.T("wait.minutes", (s+59)/60)
	}
}

// describe is the error's text for the log. Errors from mfaapi and go-oidc
// never carry tokens; the replacer is a last line of defence for the codes
// Auth0 might echo.
func describe(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
	}
	return strings.ToValidUTF8(s, "?")
}
