package main

import (
	"io"
	"net"
	"net/http"
	"time"

	"mfaportal/auth0emu"
)

// baselineProxy is the least any backend-for-frontend can do per page view:
// one call to GET /mfa/authenticators with a token it already holds, the
// JSON copied back. No session, no template, no logging. Its throughput on
// this machine is the limit the portal is compared with.
type baselineProxy struct {
	client   *http.Client
	upstream string
	bearer   string
}

var _ http.Handler = (*baselineProxy)(nil)

// newBaseline mints one long-lived /mfa/ token for the first bench user and
// gives the proxy an upstream transport tuned like the portal's.
func newBaseline(tenant *auth0emu.Tenant, tenantURL string) (*baselineProxy, error) {
	token, err := tenant.MintAccessToken("auth0|bench000000", tenant.MFAAudience(), []string{"read:authenticators"}, benchTokenLifetime)
	if err != nil {
		return nil, err
	}
	return &baselineProxy{
		client:   &http.Client{Timeout: upstreamTimeout, Transport: upstreamTransport()},
		upstream: tenantURL + "/mfa/authenticators",
		bearer:   "Bearer " + token,
	}, nil
}

// upstreamTransport matches the settings of the portal's upstream client
// (handlers.NewFromConfig), so the comparison is of the work, not the pool.
func upstreamTransport() *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: upstreamTimeout,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

func (b *baselineProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, b.upstream, nil)
	if err != nil {
		http.Error(w, "bad upstream request", http.StatusInternalServerError)
		return
	}
	req.Header.Set("Authorization", b.bearer)
	resp, err := b.client.Do(req)
	if err != nil {
		http.Error(w, "upstream unavailable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
