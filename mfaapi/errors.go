package mfaapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Every error returned by this package is an *APIError whose
// Err is one of these, so callers branch with errors.Is and never parse text.
var (
	// ErrUnauthorized: Auth0 answered 401 (the access token is missing,
	// expired or revoked).
	ErrUnauthorized = errors.New("mfaapi: unauthorized")
	// ErrForbidden: Auth0 answered 403 (the token lacks a scope, or the
	// action is not allowed for this user).
	ErrForbidden = errors.New("mfaapi: forbidden")
	// ErrNotFound: Auth0 answered 404.
	ErrNotFound = errors.New("mfaapi: not found")
	// ErrRateLimited: Auth0 answered 429; APIError.RetryAfter and Reset say
	// when to try again.
	ErrRateLimited = errors.New("mfaapi: rate limited")
	// ErrUpstream: Auth0 answered 5xx, an unexpected status, or a body we
	// could not understand; also the portal's own M2M credentials being
	// refused by the token endpoint (a configuration problem, not the user's).
	ErrUpstream = errors.New("mfaapi: upstream error")
	// ErrTimeout: the context deadline or an HTTP timeout expired before an
	// answer arrived.
	ErrTimeout = errors.New("mfaapi: timeout")
	// ErrUnavailable: Auth0 could not be reached (connection refused or
	// reset, DNS failure, dropped connection on a retryable call).
	ErrUnavailable = errors.New("mfaapi: unavailable")
	// ErrBadRequest: Auth0 answered 400 (or another 4xx without its own
	// sentinel), or the call was refused locally because its input was
	// unusable (empty id).
	ErrBadRequest = errors.New("mfaapi: bad request")
	// ErrOutcomeUnknown: a call that is never retried (the recovery-code
	// regeneration) lost its answer after the request may have reached Auth0,
	// so the change may or may not have been applied.
	ErrOutcomeUnknown = errors.New("mfaapi: outcome unknown")
)

// APIError describes a failed call. Its text never contains tokens, secrets
// or recovery codes, so it is safe to log (not to show to a user).
type APIError struct {
	Op          string        // what was attempted, e.g. "list authenticators"
	Status      int           // HTTP status, 0 when no answer arrived
	Code        string        // Auth0's "error" (or Management API "errorCode")
	Description string        // Auth0's "error_description" (or "message"), shortened
	RetryAfter  time.Duration // from Retry-After or x-ratelimit-reset, when given
	Reset       time.Time     // x-ratelimit-reset, when given
	Err         error         // one of the sentinels above

	// detail is a short, token-free reason for errors without an HTTP answer
	// (e.g. "connection refused"), kept for logs.
	detail string
}

// Error formats the failure for logs.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("mfaapi: ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		b.WriteString(": HTTP ")
		b.WriteString(strconv.Itoa(e.Status))
	}
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Description))
	}
	if e.detail != "" {
		b.WriteString(" (")
		b.WriteString(e.detail)
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrNotFound) and friends work.
func (e *APIError) Unwrap() error { return e.Err }

// maxDescription bounds what we keep of Auth0's error text: enough to
// diagnose, not enough to flood a log line.
const maxDescription = 300

// errorBody covers both error shapes Auth0 uses: the Authentication API's
// OAuth style and the Management API's.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCode        string `json:"errorCode"` // Management API
	Message          string `json:"message"`   // Management API
}

// sentinelForStatus maps an HTTP status to the sentinel callers branch on.
func sentinelForStatus(status int) error {
	switch {
	case status == http.StatusBadRequest:
		return ErrBadRequest
	case status == http.StatusUnauthorized:
		return ErrUnauthorized
	case status == http.StatusForbidden:
		return ErrForbidden
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status >= 400 && status < 500:
		return ErrBadRequest
	default:
		return ErrUpstream
	}
}

// statusError builds the error for a non-2xx answer. The body may be JSON in
// either of Auth0's shapes, HTML from a proxy, or empty; all are tolerated.
func statusError(op string, status int, header http.Header, body []byte, now time.Time, secrets ...string) *APIError {
	e := &APIError{Op: op, Status: status, Err: sentinelForStatus(status)}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code = firstNonEmpty(eb.ErrorCode, eb.Error)
		e.Description = firstNonEmpty(eb.ErrorDescription, eb.Message)
	}
	e.Code = sanitize(e.Code, 100, secrets)
	e.Description = sanitize(e.Description, maxDescription, secrets)
	e.RetryAfter, e.Reset = rateLimitHints(header, now)
	return e
}

// transportError maps an error without an HTTP answer. sent says whether the
// request may already have reached Auth0; for calls that are never retried
// that turns the failure into ErrOutcomeUnknown, because the caller must not
// assume nothing happened.
func transportError(ctx context.Context, op string, err error, sent, idempotent bool) *APIError {
	e := &APIError{Op: op, detail: transportDetail(ctx, err)}
	switch {
	case sent && !idempotent:
		e.Err = ErrOutcomeUnknown
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err):
		e.Err = ErrTimeout
	default:
		e.Err = ErrUnavailable
	}
	return e
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// transportDetail keeps the inner reason of a transport error but drops the
// URL (url.Error) so nothing request-specific beyond the cause is logged.
// Tokens only ever travel in headers, so they cannot appear here.
func transportDetail(ctx context.Context, err error) string {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return sanitize(err.Error(), 200, nil)
}

// sanitize shortens s to valid UTF-8 of at most max bytes and redacts any of
// the given secrets, in case an upstream echoes what it was sent.
func sanitize(s string, max int, secrets []string) string {
	for _, secret := range secrets {
		if len(secret) >= 8 {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
