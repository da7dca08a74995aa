package handlers

import (
	"context"
	"errors"
	"log/slog"

	"github.com/labstack/echo/v4"

	"mfaportal/mfaapi"
)

// Audit events: what a user did to their own account. They are ordinary
// log records marked audit=true, so a log pipeline can route them apart.
const (
	auditSignedIn        = "signed_in"
	auditSignedOut       = "signed_out"
	auditFactorRemoved   = "factor_removed"
	auditRecoveryCodeNew = "recovery_code_regenerated"
)

// audit records one audit event with the request id and the outcome: err
// nil is a success; otherwise only the error's class is logged, never its
// text (Auth0's descriptions can echo what was sent). Callers pass only
// non-secret attributes: sub and factor type, never a token, code or email.
func (p *portal) audit(c echo.Context, event string, err error, attrs ...slog.Attr) {
	level, outcome := slog.LevelInfo, "success"
	base := []slog.Attr{
		slog.Bool("audit", true),
		slog.String("event", event),
		slog.String("request_id", requestID(c)),
	}
	if err != nil {
		level, outcome = slog.LevelWarn, "failure"
		base = append(base, slog.String("error_class", errorClass(err)))
	}
	base = append(base, slog.String("outcome", outcome))
	p.log.LogAttrs(c.Request().Context(), level, event, append(base, attrs...)...)
}

// errorClass names an error's kind for logs and dashboards.
func errorClass(err error) string {
	classes := []struct {
		target error
		class  string
	}{
		{mfaapi.ErrUnauthorized, "unauthorized"},
		{mfaapi.ErrForbidden, "forbidden"},
		{mfaapi.ErrNotFound, "not_found"},
		{mfaapi.ErrRateLimited, "rate_limited"},
		{mfaapi.ErrTimeout, "timeout"},
		{mfaapi.ErrUnavailable, "unavailable"},
		{mfaapi.ErrBadRequest, "bad_request"},
		{mfaapi.ErrOutcomeUnknown, "outcome_unknown"},
		{mfaapi.ErrUpstream, "upstream"},
		{context.DeadlineExceeded, "timeout"},
		{context.Canceled, "canceled"},
	}
	for _, k := range classes {
		if errors.Is(err, k.target) {
			return k.class
		}
	}
	var pe *pageError
	if errors.As(err, &pe) {
		return "refused"
	}
	return "other"
}
