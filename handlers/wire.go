package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"mfaportal/config"
	"mfaportal/i18n"
	"mfaportal/mfaapi"
	"mfaportal/static"
)

// NewFromConfig wires the portal's dependencies from the configuration. The M2M
// token source is built here, once per process, so every regeneration shares
// one cached token.
func NewFromConfig(ctx context.Context, cfg *config.Config, logger *slog.Logger, now func() time.Time, opts ...WireOption) (http.Handler, error) {
	var wo wireOptions
	for _, o := range opts {
		o(&wo)
	}
	upstream := &http.Client{
		Timeout: cfg.UpstreamTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: cfg.UpstreamTimeout,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		},
	}
	// The M2M token source gets its own copy of the client so its token
	// requests are counted as such, apart from sign-in's code exchange.
	m2mClient := *upstream
	m2mClient.Transport = wo.metrics.instrument(upstream.Transport, func(*http.Request) string { return endpointM2MToken })
	upstream.Transport = wo.metrics.instrument(upstream.Transport, upstreamEndpoint)
	mfa, err := mfaapi.New(cfg.TenantURL(), mfaapi.WithHTTPClient(upstream), mfaapi.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	tokens := mfaapi.NewM2MTokenSource(context.WithoutCancel(ctx), cfg.TokenURL(), cfg.M2MClientID, cfg.M2MClientSecret, cfg.ManagementAudience(), &m2mClient)
	mgmt, err := mfaapi.NewManagement(cfg.TenantURL(), tokens, mfaapi.WithHTTPClient(upstream), mfaapi.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	signIn := NewOIDC(OIDCConfig{
		Issuer:       cfg.Issuer(),
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RedirectURL:  cfg.RedirectURL(),
		MFAAudience:  cfg.MFAAudience(),
		MaxAuthAge:   cfg.MaxAuthAge,
		HTTPClient:   upstream,
		Now:          now,
	})
	rdb, err := newRedisClient(cfg.RedisURL, logger)
	if err != nil {
		return nil, err
	}
	return New(Deps{
		SignIn:          signIn,
		Factors:         mfa,
		Recovery:        mgmt,
		SessionKeys:     cfg.SessionKeys,
		PublicURL:       cfg.PublicOrigin(),
		Issuer:          cfg.Issuer(),
		FrameAncestors:  cfg.FrameAncestors,
		UpstreamTimeout: cfg.UpstreamTimeout,
		Logger:          logger,
		Now:             now,
		AssetVersion:    static.Version(),
		Redis:           rdb,
		Ops:             operations(cfg, wo.metrics, signIn, rdb),
		Catalog:         i18n.New(),
	})
}

// newRedisClient connects to REDIS_URL, or returns nil when it is empty. It
// does not wait for Redis: the client dials on first use and redials after
// an outage by itself, and pages say "temporarily unavailable" meanwhile.
// Timeouts are short because every page waits on Redis.
func newRedisClient(redisURL string, logger *slog.Logger) (redis.UniversalClient, error) {
	if redisURL == "" {
		return nil, nil
	}
	// go-redis logs its redials through one process-wide logger; send them
	// to ours, as JSON lines like every other, instead of bare stderr.
	redis.SetLogger(redisLogger{log: logger})
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		// go-redis's message could quote the URL, which may hold a password.
		return nil, errors.New("handlers: REDIS_URL is not usable by the Redis client")
	}
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	opts.MaxRetries = 1
	opts.DialerRetries = 2 // while Redis is down, fail the page fast
	// Plain Redis (Debian's, a managed instance) needs neither client
	// identification nor Redis Enterprise's maintenance notifications; both
	// only add handshake noise in the logs of older servers.
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opts), nil
}

// redisLogger passes go-redis's own messages (redials while Redis is down)
// to the portal's log. They name the server's address, never a password.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", slog.String("detail", fmt.Sprintf(format, v...)))
}
