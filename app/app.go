// Package app wires the portal from its configuration: one HTTP client for
// every call to Auth0, the sign-in client, the MFA and Management API
// clients, the state store (memory or Redis) with the sessions and limits
// on it, and the handlers. "serve", "dev", the end-to-end tests and the
// benchmark all start the portal through New.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"mfaportal/authmethods"
	"mfaportal/config"
	"mfaportal/handlers"
	"mfaportal/i18n"
	"mfaportal/kvstore"
	"mfaportal/metrics"
	"mfaportal/mfaapi"
	"mfaportal/ratelimit"
	"mfaportal/session"
	"mfaportal/signin"
	"mfaportal/static"
	"mfaportal/tenantfactors"
)

// Options are what New takes besides the configuration.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests share theirs with the
	// emulated tenant to expire tokens without waiting.
	Now func() time.Time
	// Metrics records the portal's metrics; nil records nothing.
	Metrics *metrics.Metrics
}

// New returns the portal's HTTP handler for cfg. The M2M token source is
// built here, once per process, so every Management API call shares one
// cached token. ctx bounds background work (the token source's refreshes):
// the life of the process.
func New(ctx context.Context, cfg *config.Config, o Options) (http.Handler, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.TrustedProxies) == 0 && cfg.PublicURL.Scheme == "https" {
		// The portal serves plain HTTP: an https PUBLIC_URL means a proxy
		// terminates TLS in front of it, and without TRUSTED_PROXIES the
		// portal sees only that proxy's address.
		o.Logger.Warn("PUBLIC_URL is https but TRUSTED_PROXIES is empty: if a proxy terminates TLS in front of the portal, " +
			"the portal sees only its address, so all clients share the per-address limits and the logs show no client address; " +
			"set TRUSTED_PROXIES to the proxy's network")
	}
	upstream := mfaapi.NewHTTPClient(cfg.UpstreamTimeout)
	// The M2M token source gets its own copy of the client so its token
	// requests are counted as such, apart from sign-in's code exchange.
	m2mClient := *upstream
	m2mClient.Transport = o.Metrics.Instrument(upstream.Transport, func(*http.Request) string { return metrics.EndpointM2MToken })
	upstream.Transport = o.Metrics.Instrument(upstream.Transport, metrics.UpstreamEndpoint)

	mfa, err := mfaapi.New(cfg.TenantURL(), mfaapi.WithHTTPClient(upstream), mfaapi.WithLogger(o.Logger))
	if err != nil {
		return nil, err
	}
	tokens := mfaapi.NewM2MTokenSource(context.WithoutCancel(ctx), cfg.TokenURL(), cfg.M2MClientID, cfg.M2MClientSecret, cfg.ManagementAudience(), &m2mClient)
	mgmt, err := mfaapi.NewManagement(cfg.TenantURL(), tokens, mfaapi.WithHTTPClient(upstream), mfaapi.WithLogger(o.Logger))
	if err != nil {
		return nil, err
	}
	enrol, err := mfaapi.NewEnroller(cfg.TenantURL(), cfg.ClientID, cfg.ClientSecret, nil, mfaapi.WithHTTPClient(upstream), mfaapi.WithLogger(o.Logger))
	if err != nil {
		return nil, err
	}
	signIn := signin.New(signin.Config{
		Issuer:       cfg.Issuer(),
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		RedirectURL:  cfg.RedirectURL(),
		MFAAudience:  cfg.MFAAudience(),
		MaxAuthAge:   cfg.MaxAuthAge,
		HTTPClient:   upstream,
		Now:          o.Now,
	})

	// Without Redis, one process: sessions in sealed cookies, the rest in
	// memory. With Redis, replicas: sessions as records there, so signing
	// out ends a session on every replica.
	local := kvstore.NewMemory(o.Now, 0)
	var kv kvstore.Store = local
	checks := []handlers.ReadinessCheck{{Name: "issuer discovery", Check: signIn.Ready}}
	if cfg.RedisURL != "" {
		rdb, err := kvstore.Dial(cfg.RedisURL, o.Logger)
		if err != nil {
			return nil, err
		}
		kv = kvstore.NewRedis(rdb)
		checks = append(checks, handlers.ReadinessCheck{Name: "redis", Check: kv.Ping})
	}
	sessions, err := session.New(session.Options{Keys: cfg.SessionKeys, KV: kv, Records: cfg.RedisURL != "", Now: o.Now})
	if err != nil {
		return nil, err
	}
	return handlers.New(handlers.Deps{
		SignIn:          signIn,
		Factors:         mfa,
		Recovery:        mgmt,
		Methods:         authmethods.New(mgmt, kv),
		Offer:           tenantfactors.New(mgmt, tenantfactors.FromNames(cfg.MFAFactors), o.Logger, o.Now),
		Sessions:        sessions,
		Limits:          ratelimit.New(kv),
		ViewLimits:      ratelimit.New(local),
		Enrol:           enrol,
		PublicURL:       cfg.PublicOrigin(),
		Issuer:          cfg.Issuer(),
		FrameAncestors:  cfg.FrameAncestors,
		UpstreamTimeout: cfg.UpstreamTimeout,
		ViewsPerMinute:  cfg.ViewsPerMinute,
		Logger:          o.Logger,
		Now:             o.Now,
		AssetVersion:    static.Version(),
		Catalog:         i18n.New(),
		Metrics:         o.Metrics,
		ReadinessChecks: checks,
		TrustedProxies:  cfg.TrustedProxies,
	})
}
