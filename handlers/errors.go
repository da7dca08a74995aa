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

	"mfaportal/mfaapi"
	"mfaportal/views"
)

// pageError is an error with a status and words safe to show a person.
// Handlers return it (or an mfaapi error); errorHandler renders it.
type pageError struct {
	Status     int
	Heading    string
	Message    string
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
		Heading:   "This form has expired",
		Message:   "For your safety we couldn't accept this form. Nothing was changed. Go back, reload the page and try again.",
		ActionURL: "/factors", ActionText: "Back to your sign-in methods"}
	errCrossSite = &pageError{Status: http.StatusForbidden,
		Heading:   "Request refused",
		Message:   "This request came from another website, so we refused it. Nothing was changed.",
		ActionURL: "/factors", ActionText: "Go to your sign-in methods"}
	errBadFactorID = &pageError{Status: http.StatusBadRequest,
		Heading:   "That link isn't valid",
		Message:   "The address doesn't point to one of your sign-in methods. Nothing was changed.",
		ActionURL: "/factors", ActionText: "See your sign-in methods"}
	errFactorGone = &pageError{Status: http.StatusNotFound,
		Heading:   "This sign-in method isn't on your account",
		Message:   "It may have been removed already. Nothing was changed.",
		ActionURL: "/factors", ActionText: "See your sign-in methods"}
	errRecoveryNotDeletable = &pageError{Status: http.StatusForbidden,
		Heading:   "The recovery code can't be removed",
		Message:   "Your recovery code is your way back in if you lose your other methods. You can replace it with a new one instead. Nothing was changed.",
		ActionURL: "/recovery-code", ActionText: "Get a new recovery code"}
	errEmailNotDeletable = &pageError{Status: http.StatusForbidden,
		Heading:   "This email can't be removed here",
		Message:   "It is your account's verified email address, which Auth0 offers for sign-in confirmation automatically. Nothing was changed.",
		ActionURL: "/factors", ActionText: "Back to your sign-in methods"}
	errRegenAlreadyDone = &pageError{Status: http.StatusConflict,
		Heading:   "This form was already sent",
		Message:   "A new recovery code was already requested from this page, so we didn't make another one. If you didn't see or save it, generate a new code now.",
		ActionURL: "/recovery-code", ActionText: "Generate a new recovery code"}
	errLoginExpired = &pageError{Status: http.StatusBadRequest,
		Heading:   "Your sign-in didn't complete",
		Message:   "It took too long, or it was started in another tab or browser. Please sign in again.",
		ActionURL: "/login", ActionText: "Sign in"}
	errSignInFailed = &pageError{Status: http.StatusBadRequest,
		Heading:   "We couldn't sign you in",
		Message:   "Something about this sign-in didn't check out, so we stopped it. Please sign in again.",
		ActionURL: "/login", ActionText: "Sign in"}
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
	page := views.ErrorPage{
		Page:       p.page(c, pe.Heading, p.sessionFromContext(c)),
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

// toPageError maps any error to what the user sees. Upstream details stay in
// the log; the page says what happened and what to do next.
func (p *portal) toPageError(c echo.Context, err error) *pageError {
	var pe *pageError
	if errors.As(err, &pe) {
		return pe
	}
	var le *limitExceeded
	if errors.As(err, &le) {
		return tooOftenPage(le)
	}
	if errors.Is(err, errSessionStoreDown) {
		return &pageError{Status: http.StatusServiceUnavailable, Heading: "The portal is temporarily unavailable",
			Message:   "We couldn't reach the portal's session storage. Nothing was changed. Please try again in a moment.",
			ActionURL: returnPathOf(c), ActionText: "Try again", Err: err}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return &pageError{Status: http.StatusNotFound, Heading: "Page not found",
				Message: "There is nothing at this address.", ActionURL: "/factors", ActionText: "Go to your sign-in methods"}
		case http.StatusMethodNotAllowed:
			return &pageError{Status: http.StatusMethodNotAllowed, Heading: "That didn't work",
				Message: "This address can't be used that way. Nothing was changed.", ActionURL: "/factors", ActionText: "Go to your sign-in methods"}
		case http.StatusRequestEntityTooLarge:
			return &pageError{Status: http.StatusRequestEntityTooLarge, Heading: "Too much data",
				Message: "The form sent more data than we accept. Nothing was changed.", ActionURL: "/factors", ActionText: "Go to your sign-in methods"}
		}
		if he.Code >= 400 && he.Code < 500 {
			return &pageError{Status: he.Code, Heading: "That didn't work",
				Message: "We couldn't understand this request. Nothing was changed.", ActionURL: "/factors", ActionText: "Go to your sign-in methods"}
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
		return &pageError{Status: http.StatusUnauthorized, Heading: "Please sign in again",
			Message:   "Your secure session has ended. Nothing was changed. Sign in again to continue where you were.",
			ActionURL: back, ActionText: "Sign in again", Err: err}
	case errors.Is(err, mfaapi.ErrForbidden):
		return &pageError{Status: http.StatusForbidden, Heading: "This action isn't allowed",
			Message:   "Your sign-in doesn't allow this change. Nothing was changed. Signing in again may help; if it keeps happening, contact your helpdesk.",
			ActionURL: back, ActionText: "Sign in again", Err: err}
	case errors.Is(err, mfaapi.ErrNotFound):
		return &pageError{Status: http.StatusNotFound, Heading: "Not found",
			Message:   "What you asked for isn't there any more. Nothing was changed.",
			ActionURL: "/factors", ActionText: "See your sign-in methods", Err: err}
	case errors.Is(err, mfaapi.ErrRateLimited):
		wait := retryAfter(err)
		msg := "Too many requests were made in a short time. Nothing was changed. Please wait a moment and try again."
		if wait > 0 {
			msg = fmt.Sprintf("Too many requests were made in a short time. Nothing was changed. Please wait %s and try again.", humanWait(wait))
		}
		return &pageError{Status: http.StatusTooManyRequests, Heading: "Please wait a moment", Message: msg,
			ActionURL: retry, ActionText: "Try again", Err: err}
	case errors.Is(err, mfaapi.ErrOutcomeUnknown):
		return &pageError{Status: http.StatusBadGateway, Heading: "We couldn't confirm the result",
			Message:   "Auth0 stopped answering while making your new recovery code, so we can't tell whether it was made. Your old code may no longer work. To be sure you have a working code, generate a new one now.",
			ActionURL: "/recovery-code", ActionText: "Generate a new recovery code", Err: err}
	case errors.Is(err, mfaapi.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return &pageError{Status: http.StatusGatewayTimeout, Heading: "Auth0 is taking too long",
			Message:   "We didn't get an answer in time. Please try again in a moment.",
			ActionURL: retry, ActionText: "Try again", Err: err}
	case errors.Is(err, mfaapi.ErrUpstream), errors.Is(err, mfaapi.ErrUnavailable), errors.Is(err, errSignInUnavailable):
		return &pageError{Status: http.StatusBadGateway, Heading: "Auth0 isn't answering right now",
			Message:   "We couldn't reach the sign-in service. Please try again in a moment.",
			ActionURL: retry, ActionText: "Try again", Err: err}
	case errors.Is(err, mfaapi.ErrBadRequest):
		return &pageError{Status: http.StatusBadRequest, Heading: "That didn't work",
			Message:   "Auth0 refused this change. Nothing was changed.",
			ActionURL: "/factors", ActionText: "See your sign-in methods", Err: err}
	case errors.Is(err, errSignInRejected):
		pe := *errSignInFailed
		pe.Err = err
		return &pe
	}
	return &pageError{Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Message:   "An unexpected error happened on our side. Nothing was changed. Please try again.",
		ActionURL: "/factors", ActionText: "Go to your sign-in methods", Err: err}
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
	what, back := "remove sign-in methods", "/factors"
	if le.action == actionRegenerate {
		what, back = "generate new recovery codes", "/recovery-code"
	}
	return &pageError{Status: http.StatusTooManyRequests, Heading: "You've done this too often",
		Message: fmt.Sprintf("For your account's safety you can %s at most %d times in %s. Nothing was changed. Please wait %s and try again.",
			what, le.action.max(), humanWait(limitWindow), humanWait(le.wait)),
		ActionURL: back, ActionText: "Back", Err: le}
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

func humanWait(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s <= 1:
		return "a second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	case s < 120:
		return "a minute"
	default:
		return fmt.Sprintf("%d minutes", (s+59)/60)
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
