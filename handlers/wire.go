package handlers

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"mfaportal/config"
	"mfaportal/mfaapi"
	"mfaportal/static"
)

// NewFromConfig wires the portal's dependencies from the configuration. The M2M
// token source is built here, once per process, so every regeneration shares
// one cached token.
func NewFromConfig(ctx context.Context, cfg *config.Config, logger *slog.Logger, now func() time.Time) (http.Handler, error) {
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
	mfa, err := mfaapi.New(cfg.TenantURL(), mfaapi.WithHTTPClient(upstream), mfaapi.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	tokens := mfaapi.NewM2MTokenSource(context.WithoutCancel(ctx), cfg.TokenURL(), cfg.M2MClientID, cfg.M2MClientSecret, cfg.ManagementAudience(), upstream)
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
	})
}
