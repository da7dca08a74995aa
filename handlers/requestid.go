package handlers

import (
	"net"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"mfaportal/session"
)

const ctxRequestID = "mfaportal.request_id"

// incomingRequestID accepts an X-Request-ID from a proxy only when it is
// short and plain, so it is safe to log and show.
var incomingRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// withRequestID tags every request with an id that the error pages show and
// the logs carry, so a helpdesk can find what happened. A proxy's
// X-Request-ID is kept only when the request comes from one of the trusted
// proxies: anyone else could plant ids in the logs.
func withRequestID(trusted []*net.IPNet) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := c.Request().Header.Get(echo.HeaderXRequestID)
			if !incomingRequestID.MatchString(id) || !fromTrustedProxy(c.Request(), trusted) {
				id = session.NewToken(12)
			}
			c.Set(ctxRequestID, id)
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			return next(c)
		}
	}
}

// fromTrustedProxy reports whether the connecting peer is in trusted.
func fromTrustedProxy(r *http.Request, trusted []*net.IPNet) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range trusted {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

func requestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}
