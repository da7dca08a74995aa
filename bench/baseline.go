package main

import (
	"io"
	"net"
	"net/http"
	"time"
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

// newBaseline calls upstream (the tenant's /mfa/authenticators) with token
// through a transport tuned like the portal's.
func newBaseline(upstream, token string) *baselineProxy {
	return &baselineProxy{
		client:   &http.Client{Timeout: upstreamTimeout, Transport: upstreamTransport()},
		upstream: upstream,
		bearer:   "Bearer " + token,
	}
}

// upstreamTransport matches the settings of the portal's upstream client
// (mfaapi.NewHTTPClient), so the comparison is of the work, not the pool.
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
	copyUpstream(w, r, b.client, b.upstream, b.bearer)
}

// copyUpstream makes the one upstream call and copies its JSON back.
func copyUpstream(w http.ResponseWriter, r *http.Request, client *http.Client, upstream, bearer string) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, upstream, nil)
	if err != nil {
		http.Error(w, "bad upstream request", http.StatusInternalServerError)
		return
	}
	req.Header.Set("Authorization", bearer)
	resp, err := client.Do(req)
	if err != nil {
		http.Error(w, "upstream unavailable", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// peerApp is the small app behind oauth2-proxy: the same one call, with
// the user's token that oauth2-proxy passes (X-Forwarded-Access-Token).
type peerApp struct {
	client   *http.Client
	upstream string
}

func newPeerApp(upstream string) *peerApp {
	return &peerApp{client: &http.Client{Timeout: upstreamTimeout, Transport: upstreamTransport()}, upstream: upstream}
}

func (a *peerApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get("X-Forwarded-Access-Token")
	if token == "" {
		http.Error(w, "no token from the proxy", http.StatusUnauthorized)
		return
	}
	copyUpstream(w, r, a.client, a.upstream, "Bearer "+token)
}
