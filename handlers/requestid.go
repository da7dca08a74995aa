package handlers

import (
	"regexp"

	"github.com/labstack/echo/v4"

	"mfaportal/session"
)

const ctxRequestID = "mfaportal.request_id"

// incomingRequestID accepts an X-Request-ID from a proxy only when it is
// short and plain, so it is safe to log and show.
var incomingRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// withRequestID tags every request with an id that the error pages show and
// the logs carry, so a helpdesk can find what happened.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !incomingRequestID.MatchString(id) {
			id = session.NewToken(12)
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func requestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}
