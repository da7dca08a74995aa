package handlers

import (
	"log/slog"

	"github.com/labstack/echo/v4"
)

// Audit events: what a user did to their own account. They are ordinary
// log records marked audit=true, so a log pipeline can route them apart.
const (
	auditSignedIn        = "signed_in"
	auditSignedOut       = "signed_out"
	auditFactorRemoved   = "factor_removed"
	auditRecoveryCodeNew = "recovery_code_regenerated"
	auditMethodRenamed   = "method_renamed"
	auditChannelChanged  = "preferred_channel_changed"
	auditEnrolStarted    = "method_enrolment_started"
	auditEnrolConfirmed  = "method_added"
	auditEnrolCancelled  = "method_enrolment_removed"
)

// audit records one audit event for sub with the request id and the
// outcome: err nil is a success; otherwise the outcome (failure, refused,
// unknown) and the error's class come from the error table, never its text
// (Auth0's descriptions can echo what was sent). Callers pass only non-secret attributes (the factor
// type), never a token, code or email.
func (p *portal) audit(c echo.Context, event, sub string, err error, attrs ...slog.Attr) {
	level, outcome := slog.LevelInfo, "success"
	base := []slog.Attr{
		slog.Bool("audit", true),
		slog.String("event", event),
		slog.String("request_id", requestID(c)),
	}
	if err != nil {
		e := classify(err)
		level, outcome = slog.LevelWarn, e.outcome
		base = append(base, slog.String("error_class", e.class))
	}
	base = append(base, slog.String("outcome", outcome))
	if sub != "" {
		base = append(base, slog.String("sub", sub))
	}
	p.log.LogAttrs(c.Request().Context(), level, event, append(base, attrs...)...)
}
