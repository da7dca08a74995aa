package handlers

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/metrics"
)

// readinessTimeout bounds each readiness check: a load balancer's probe
// should get an answer before its own timeout, even when a check hangs.
const readinessTimeout = 2 * time.Second

// ipExtractorWarning is trustedExtractor that, with no trusted proxies, calls
// warn (once) when a request arrives through a proxy anyway: the portal then
// sees only the proxy's address, and every client behind it shares one
// per-address limit.
func ipExtractorWarning(trusted []*net.IPNet, warn func()) echo.IPExtractor {
	extract := trustedExtractor(trusted)
	if len(trusted) > 0 || warn == nil {
		return extract
	}
	var once sync.Once
	return func(r *http.Request) string {
		if r.Header.Get(echo.HeaderXForwardedFor) != "" {
			once.Do(warn)
		}
		return extract(r)
	}
}

// trustedExtractor finds the client address for c.RealIP(). Echo's default
// believes X-Forwarded-For from anyone, and its XFF extractor trusts every
// private network by default; both would let a client choose the address
// logged. Only the configured proxies are trusted here.
func trustedExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ReadinessCheck is one thing /readyz waits for, e.g. the issuer's discovery
// or Redis. Check returns nil when ready; its error is logged, never shown.
type ReadinessCheck struct {
	Name  string // shown in the 503 body, e.g. "issuer discovery"
	Check func(ctx context.Context) error
}

// handleHealthz handles "GET /healthz": the process is alive and serving.
// It checks nothing upstream, so a slow Auth0 never gets replicas restarted.
func handleHealthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// handleReadyz handles "GET /readyz": 200 when every readiness check passes,
// else 503 naming the failed checks. The reason is plain and holds no
// error text (which could name internal hosts); the log has the details.
func handleReadyz(checks []ReadinessCheck, log *slog.Logger, m *metrics.Metrics) echo.HandlerFunc {
	return func(c echo.Context) error {
		var failed []string
		for _, rc := range checks {
			ctx, cancel := context.WithTimeout(c.Request().Context(), readinessTimeout)
			err := rc.Check(ctx)
			cancel()
			if err != nil {
				failed = append(failed, rc.Name)
				m.ReadinessFailed(rc.Name)
				log.LogAttrs(c.Request().Context(), slog.LevelWarn, "not ready",
					slog.String("request_id", requestID(c)), slog.String("check", rc.Name), slog.String("error", err.Error()))
			}
		}
		if len(failed) > 0 {
			return c.String(http.StatusServiceUnavailable, "not ready: "+strings.Join(failed, ", ")+" unavailable\n")
		}
		return c.String(http.StatusOK, "ready\n")
	}
}
