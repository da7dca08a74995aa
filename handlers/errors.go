package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/i18n"
	"mfaportal/kvstore"
	"mfaportal/mfaapi"
	"mfaportal/ratelimit"
	"mfaportal/session"
	"mfaportal/signin"
)

// Errors the handlers return; errorTable says what each one shows.
var (
	errCSRF                 = errors.New("handlers: CSRF token missing or wrong")
	errCrossSite            = errors.New("handlers: cross-origin request")
	errBadFactorID          = errors.New("handlers: malformed factor id")
	errFactorGone           = errors.New("handlers: factor not in the user's list")
	errRecoveryNotDeletable = errors.New("handlers: the recovery code is replaced, not removed")
	errEmailNotDeletable    = errors.New("handlers: a verified email cannot be removed")
	errRegenAlreadyDone     = errors.New("handlers: regeneration form already used")
	errLoginExpired         = errors.New("handlers: no usable sign-in round trip")
	errStateMismatch        = errors.New("handlers: state mismatch")
	errIssuerMismatch       = errors.New("handlers: the callback's iss is another issuer")
	errNoCode               = errors.New("handlers: callback without a usable code")
	errSignInCancelled      = errors.New("handlers: the user cancelled sign-in")
	errSignInError          = errors.New("handlers: Auth0 reported a sign-in error")
	errDetailsUnavailable   = errors.New("handlers: the Management API's details are unavailable")
	errBadChange            = errors.New("handlers: a change this method does not take")
	errEnrolAlreadyDone     = errors.New("handlers: enrolment form already used or nothing to confirm")
	errEnrolOutcomeUnknown  = errors.New("handlers: the confirmation's answer was lost")
	errAssociationLost      = errors.New("handlers: the association's answer was lost")
	errNotOffered           = errors.New("handlers: a kind of method the tenant has not switched on")
)

// action is where an error page's one button leads.
type action int

const (
	toMethods      action = iota // the factor list
	toRecovery                   // the recovery-code page
	toRetry                      // the same page again (sign-in for sign-in trouble)
	toSignIn                     // a fresh sign-in
	toSignInBack                 // sign-in, then back to this page
	toPreviousPage               // the page the limited action came from
	toAdd                        // the kinds of method that can be added
)

// Audit outcomes of an action that did not succeed.
const (
	outcomeFailure = "failure" // it did not happen: Auth0 failed or could not be reached
	outcomeRefused = "refused" // it did not happen: the portal or Auth0 said no
	outcomeUnknown = "unknown" // it may have happened: the answer was lost
)

// errorEntry is what one kind of error means: its class (for logs, audit
// and metrics), its status, the words shown (catalogue keys), the way on,
// and the outcome an audit event records.
type errorEntry struct {
	class      string
	status     int
	heading    string
	message    string
	action     action
	actionText string
	outcome    string
}

// errorTable maps every error the portal knows to its page, in order: the
// first entry whose error matches (errors.Is) wins. Storage, sign-in and
// Auth0 clients return sentinels; only this table turns them into pages.
var errorTable = []struct {
	err   error
	entry errorEntry
}{
	{errDetailsUnavailable, errorEntry{"details_unavailable", 503, "error.details_unavailable.heading", "error.details_unavailable.message", toMethods, "action.back_to_methods", outcomeFailure}},
	{errBadChange, errorEntry{"bad_request", 400, "error.didnt_work.heading", "error.bad_request.message", toMethods, "action.back_to_methods", outcomeRefused}},
	{errCSRF, errorEntry{"csrf", 403, "error.csrf.heading", "error.csrf.message", toMethods, "action.back_to_methods", outcomeRefused}},
	{errCrossSite, errorEntry{"cross_site", 403, "error.cross_site.heading", "error.cross_site.message", toMethods, "action.go_to_methods", outcomeRefused}},
	{errBadFactorID, errorEntry{"bad_factor_id", 400, "error.bad_factor_id.heading", "error.bad_factor_id.message", toMethods, "action.see_methods", outcomeRefused}},
	{errFactorGone, errorEntry{"factor_gone", 404, "error.factor_gone.heading", "error.factor_gone.message", toMethods, "action.see_methods", outcomeRefused}},
	{errRecoveryNotDeletable, errorEntry{"not_deletable", 403, "error.recovery_not_deletable.heading", "error.recovery_not_deletable.message", toRecovery, "action.new_recovery", outcomeRefused}},
	{errEmailNotDeletable, errorEntry{"not_deletable", 403, "error.email_not_deletable.heading", "error.email_not_deletable.message", toMethods, "action.back_to_methods", outcomeRefused}},
	{errEnrolAlreadyDone, errorEntry{"form_used", 409, "error.enrol_done.heading", "error.enrol_done.message", toMethods, "action.see_methods", outcomeRefused}},
	{errNotOffered, errorEntry{"not_offered", 404, "error.not_offered.heading", "error.not_offered.message", toAdd, "action.see_add", outcomeRefused}},
	{mfaapi.ErrFactorNotEnabled, errorEntry{"not_offered", 409, "error.not_offered.heading", "error.not_offered.message", toAdd, "action.see_add", outcomeRefused}},
	{errAssociationLost, errorEntry{"outcome_unknown", 502, "error.timeout.heading", "error.timeout.message", toRetry, "action.try_again", outcomeUnknown}},
	{errEnrolOutcomeUnknown, errorEntry{"outcome_unknown", 502, "error.enrol_unknown.heading", "error.enrol_unknown.message", toMethods, "action.see_methods", outcomeUnknown}},
	{errRegenAlreadyDone, errorEntry{"form_used", 409, "error.regen_done.heading", "error.regen_done.message", toRecovery, "action.generate_recovery", outcomeRefused}},
	{errLoginExpired, errorEntry{"login_expired", 400, "error.login_expired.heading", "error.login_expired.message", toSignIn, "action.sign_in", outcomeRefused}},
	{errStateMismatch, errorEntry{"sign_in_rejected", 400, "error.sign_in_failed.heading", "error.sign_in_failed.message", toSignIn, "action.sign_in", outcomeRefused}},
	{errIssuerMismatch, errorEntry{"sign_in_rejected", 400, "error.sign_in_failed.heading", "error.sign_in_failed.message", toSignIn, "action.sign_in", outcomeRefused}},
	{errNoCode, errorEntry{"sign_in_rejected", 400, "error.sign_in_failed.heading", "error.sign_in_failed.message", toSignIn, "action.sign_in", outcomeRefused}},
	{signin.ErrRejected, errorEntry{"sign_in_rejected", 400, "error.sign_in_failed.heading", "error.sign_in_failed.message", toSignIn, "action.sign_in", outcomeRefused}},
	{session.ErrHandoffRefused, errorEntry{"handoff_refused", 403, "error.sign_in_failed.heading", "error.sign_in_failed.message", toSignIn, "action.sign_in", outcomeRefused}},
	{errSignInCancelled, errorEntry{"sign_in_cancelled", 403, "error.sign_in_cancelled.heading", "error.sign_in_cancelled.message", toSignInBack, "action.sign_in", outcomeRefused}},
	{errSignInError, errorEntry{"sign_in_refused", 400, "error.sign_in_error.heading", "error.sign_in_error.message", toSignInBack, "action.sign_in", outcomeRefused}},
	{session.ErrEnded, errorEntry{"session_ended", 401, "error.session_ended.heading", "error.session_ended.message", toSignIn, "action.sign_in", outcomeRefused}},
	{kvstore.ErrUnavailable, errorEntry{"store_down", 503, "error.store_down.heading", "error.store_down.message", toRetry, "action.try_again", outcomeFailure}},
	{kvstore.ErrFull, errorEntry{"store_down", 503, "error.store_down.heading", "error.store_down.message", toRetry, "action.try_again", outcomeFailure}},
	{mfaapi.ErrUnauthorized, errorEntry{"unauthorized", 401, "error.unauthorized.heading", "error.unauthorized.message", toSignInBack, "action.sign_in_again", outcomeRefused}},
	{mfaapi.ErrForbidden, errorEntry{"forbidden", 403, "error.forbidden.heading", "error.forbidden.message", toSignInBack, "action.sign_in_again", outcomeRefused}},
	{mfaapi.ErrNotFound, errorEntry{"not_found", 404, "error.gone.heading", "error.gone.message", toMethods, "action.see_methods", outcomeRefused}},
	{mfaapi.ErrRateLimited, errorEntry{"rate_limited", 429, "error.rate_limited.heading", "error.rate_limited.message", toRetry, "action.try_again", outcomeRefused}},
	{mfaapi.ErrOutcomeUnknown, errorEntry{"outcome_unknown", 502, "error.outcome_unknown.heading", "error.outcome_unknown.message", toRecovery, "action.generate_recovery", outcomeUnknown}},
	{mfaapi.ErrTimeout, errorEntry{"timeout", 504, "error.timeout.heading", "error.timeout.message", toRetry, "action.try_again", outcomeUnknown}},
	{context.DeadlineExceeded, errorEntry{"timeout", 504, "error.timeout.heading", "error.timeout.message", toRetry, "action.try_again", outcomeUnknown}},
	{mfaapi.ErrUnavailable, errorEntry{"unavailable", 502, "error.unreachable.heading", "error.unreachable.message", toRetry, "action.try_again", outcomeFailure}},
	{signin.ErrUnavailable, errorEntry{"unavailable", 502, "error.upstream.heading", "error.upstream.message", toRetry, "action.try_again", outcomeFailure}},
	{mfaapi.ErrUpstream, errorEntry{"upstream", 502, "error.upstream.heading", "error.upstream.message", toRetry, "action.try_again", outcomeFailure}},
	{mfaapi.ErrBadRequest, errorEntry{"bad_request", 400, "error.didnt_work.heading", "error.refused.message", toMethods, "action.see_methods", outcomeRefused}},
	{context.Canceled, errorEntry{"canceled", 500, "error.internal.heading", "error.internal.message", toMethods, "action.go_to_methods", outcomeFailure}},
}

var (
	// tooOften is a per-user limit of the portal's own (ratelimit).
	tooOften = errorEntry{"too_often", 429, "error.too_often.heading", "", toPreviousPage, "action.back", outcomeRefused}
	// internalError is everything the table does not name.
	internalError = errorEntry{"internal", 500, "error.internal.heading", "error.internal.message", toMethods, "action.go_to_methods", outcomeFailure}
	// Echo's own errors: routing and body size.
	notFound         = errorEntry{"not_found", 404, "error.not_found.heading", "error.not_found.message", toMethods, "action.go_to_methods", outcomeRefused}
	methodNotAllowed = errorEntry{"bad_request", 405, "error.didnt_work.heading", "error.method_not_allowed.message", toMethods, "action.go_to_methods", outcomeRefused}
	tooLarge         = errorEntry{"bad_request", 413, "error.too_large.heading", "error.too_large.message", toMethods, "action.go_to_methods", outcomeRefused}
	badRequest       = errorEntry{"bad_request", 400, "error.didnt_work.heading", "error.bad_request.message", toMethods, "action.go_to_methods", outcomeRefused}
)

// classify finds err's entry.
func classify(err error) errorEntry {
	var ex *ratelimit.ExceededError
	if errors.As(err, &ex) {
		return tooOften
	}
	for _, row := range errorTable {
		if errors.Is(err, row.err) {
			return row.entry
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch {
		case he.Code == http.StatusNotFound:
			return notFound
		case he.Code == http.StatusMethodNotAllowed:
			return methodNotAllowed
		case he.Code == http.StatusRequestEntityTooLarge:
			return tooLarge
		case he.Code >= 400 && he.Code < 500:
			e := badRequest
			e.status = he.Code
			return e
		}
	}
	return internalError
}

// message is the entry's message in the reader's language; waits and
// limits fill it where the entry has them.
func message(pr *i18n.Printer, e errorEntry, err error, wait time.Duration) string {
	var ex *ratelimit.ExceededError
	if errors.As(err, &ex) {
		key := "error.too_often.remove"
		switch ex.Rule {
		case regenerateRule:
			key = "error.too_often.regenerate"
		case changeMethodRule:
			key = "error.too_often.change"
		case enrolRule, guardianCheckRule:
			key = "error.too_often.enrol"
		}
		if ex.Rule.Name == "view" {
			return pr.T("error.too_often.views", humanWait(pr, ex.Wait))
		}
		return pr.T(key, ex.Rule.Max, humanWait(pr, ex.Rule.Window), humanWait(pr, ex.Wait))
	}
	if e.class == "rate_limited" && wait > 0 {
		return pr.T("error.rate_limited.message_wait", humanWait(pr, wait))
	}
	return pr.T(e.message)
}

// actionURL is where the error page's button leads for this request.
func actionURL(c echo.Context, e errorEntry, err error) string {
	switch e.action {
	case toRecovery:
		return "/recovery-code"
	case toSignIn:
		return "/login"
	case toSignInBack:
		return "/login?return=" + url.QueryEscape(returnPathOf(c))
	case toRetry:
		// Trouble during sign-in itself: "try again" means signing in again.
		if errors.Is(err, signin.ErrUnavailable) {
			return "/login"
		}
		return returnPathOf(c)
	case toAdd:
		return "/add"
	case toPreviousPage:
		var ex *ratelimit.ExceededError
		if errors.As(err, &ex) && ex.Rule == regenerateRule {
			return "/recovery-code"
		}
		if errors.As(err, &ex) && ex.Rule.Name == "view" {
			return returnPathOf(c)
		}
	}
	return "/factors"
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

// retryAfter is how long the user should wait, when the error says.
// Auth0's reset is a wall-clock time, so it is read against the wall clock.
func retryAfter(err error) time.Duration {
	var ex *ratelimit.ExceededError
	if errors.As(err, &ex) {
		return ex.Wait
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

// describe is the error's text for the log. Errors from mfaapi, signin and
// the stores never carry tokens or request data; the cut bounds the line.
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
