package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/mfaapi"
	"mfaportal/views"
)

// errorHandler renders every error as a friendly page. It is the only place
// that decides what a person sees for an error, and it logs each one once.
// Attacker-influenced text never reaches ERROR: 5xx lines carry the class
// and the error chain, which holds no request data.
func (p *portal) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := classify(err)
	level := slog.LevelInfo
	if e.status >= 500 {
		level = slog.LevelError
	}
	p.metrics.Error(e.class)
	p.log.LogAttrs(c.Request().Context(), level, "request failed",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Request().Method),
		slog.String("route", c.Path()),
		slog.Int("status", e.status),
		slog.String("error_class", e.class),
		slog.String("error", describe(err)))

	wait := retryAfter(err)
	if wait > 0 {
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(wait.Round(time.Second)/time.Second)))
	}
	sess := sessionFromContext(c)
	if errors.Is(err, mfaapi.ErrUnauthorized) && sess != nil {
		// Auth0 no longer takes the session's token: end it here too, so
		// the page does not show minutes left that no longer exist.
		sess.TokenExpiry = p.now()
		if serr := p.sessions.Save(c.Response(), c.Request(), sess); serr != nil {
			p.log.Warn("ending a session Auth0 refused", slog.String("request_id", requestID(c)), slog.String("error", describe(serr)))
		}
		sess = nil
	}
	pr := p.tr(c)
	heading := pr.T(e.heading)
	page := views.ErrorPage{
		Page:       p.page(c, heading, sess),
		Status:     e.status,
		Heading:    heading,
		Message:    message(pr, e, err, wait),
		ActionURL:  actionURL(c, e, err),
		ActionText: pr.T(e.actionText),
	}
	if rerr := p.render(c, e.status, page.Page, views.Error(page)); rerr != nil {
		p.log.Error("rendering error page", slog.String("request_id", requestID(c)), slog.String("error", describe(rerr)))
	}
}
