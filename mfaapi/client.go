// Package mfaapi talks to Auth0 for the portal: the MFA API of the
// Authentication API (list and delete a user's authenticators, with the
// user's own /mfa/ access token) and one Management API call (regenerate the
// recovery code, with the portal's M2M token).
//
// Reads and deletes are retried with jittered backoff inside the caller's
// deadline; the regeneration is never retried, because a second attempt would
// silently invalidate the code the first one may already have made.
package mfaapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Authenticator is one entry of GET /mfa/authenticators.
type Authenticator struct {
	ID                string   `json:"id"`
	AuthenticatorType string   `json:"authenticator_type"` // otp | oob | recovery-code
	Active            bool     `json:"active"`
	OOBChannel        string   `json:"oob_channel,omitempty"`  // Auth0 sends oob_channel on list...
	OOBChannels       []string `json:"oob_channels,omitempty"` // ...and oob_channels elsewhere; parse both
	Name              string   `json:"name,omitempty"`
}

// Channel is the out-of-band channel (sms, voice, auth0, email), whichever of
// Auth0's two spellings carried it; "" for otp and recovery codes.
func (a Authenticator) Channel() string {
	if a.OOBChannel != "" {
		return a.OOBChannel
	}
	if len(a.OOBChannels) > 0 {
		return a.OOBChannels[0]
	}
	return ""
}

const (
	defaultTimeout    = 10 * time.Second
	defaultMaxRetries = 2
	// defaultMaxRetryWait is the longest rate-limit wait we sit out inside a
	// user's request; beyond it the user is told how long to wait instead.
	defaultMaxRetryWait = 5 * time.Second
	defaultUserAgent    = "mfaportal"
)

type options struct {
	httpClient   *http.Client
	userAgent    string
	maxRetries   int
	maxRetryWait time.Duration
	now          func() time.Time
	sleep        func(ctx context.Context, d time.Duration) error
	logger       *slog.Logger
}

// Option configures a Client or Management.
type Option func(*options)

// WithHTTPClient sets the HTTP client. It should have a timeout; the default
// one has 10s overall and shorter dial, TLS and header timeouts.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc != nil {
			o.httpClient = hc
		}
	}
}

// WithUserAgent sets the User-Agent header sent to Auth0.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithMaxRetries sets how many times a GET or DELETE is retried after the
// first attempt (default 2). The regeneration POST is never retried.
func WithMaxRetries(n int) Option {
	return func(o *options) { o.maxRetries = max(n, 0) }
}

// WithClock sets the clock used to turn rate-limit reset times into waits.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithSleep replaces the wait between retries (tests record it instead of
// sleeping). It must return ctx's error when ctx ends first.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) {
		if sleep != nil {
			o.sleep = sleep
		}
	}
}

// WithLogger logs each attempt: op, method, route template, status, latency,
// attempt number and the error class. Tokens and codes are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

func newCaller(tenantURL string, opts []Option) (caller, error) {
	base, err := parseTenantURL(tenantURL)
	if err != nil {
		return caller{}, err
	}
	o := options{
		userAgent:    defaultUserAgent,
		maxRetries:   defaultMaxRetries,
		maxRetryWait: defaultMaxRetryWait,
		now:          time.Now,
		sleep:        sleepContext,
		logger:       slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.httpClient == nil {
		o.httpClient = NewHTTPClient(defaultTimeout)
	}
	return caller{baseURL: base, options: o}, nil
}

// parseTenantURL accepts "https://tenant.eu.auth0.com" (or a loopback
// http:// emulator) and returns it without a trailing slash. Whether plain
// http is acceptable is the config package's decision.
func parseTenantURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("mfaapi: tenant URL %q: %w", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", fmt.Errorf("mfaapi: tenant URL %q: scheme must be https (or http for a local emulator)", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("mfaapi: tenant URL %q: want scheme://host with no credentials, query or fragment", raw)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// NewHTTPClient is the HTTP client for every call the portal makes to
// Auth0 (the MFA and Management APIs, the M2M token, sign-in's discovery,
// JWKS and code exchange). It bounds every phase of a request by timeout,
// and refuses redirects: Auth0's APIs never redirect, and following one
// would carry a bearer token or client secret to wherever it points.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	transport.TLSHandshakeTimeout = 5 * time.Second
	transport.ResponseHeaderTimeout = timeout
	transport.ExpectContinueTimeout = time.Second
	transport.IdleConnTimeout = 90 * time.Second
	// Every page view calls the tenant: keep enough idle connections for a
	// busy replica, so connections are reused rather than redialled.
	transport.MaxIdleConns = 256
	transport.MaxIdleConnsPerHost = 256
	return &http.Client{
		Timeout:   timeout,
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Client talks to the MFA API of one tenant with the user's /mfa/ access token.
type Client struct {
	caller
}

// New returns a Client for tenantURL, e.g. "https://tenant.eu.auth0.com" or
// "http://127.0.0.1:9010". The /mfa/ API always lives on the canonical
// tenant domain, even when sign-in uses a custom domain.
func New(tenantURL string, opts ...Option) (*Client, error) {
	cl, err := newCaller(tenantURL, opts)
	if err != nil {
		return nil, err
	}
	return &Client{caller: cl}, nil
}

// ListAuthenticators returns every authenticator of the token's user,
// including inactive (unconfirmed) ones, which the caller should hide.
func (c *Client) ListAuthenticators(ctx context.Context, accessToken string) ([]Authenticator, error) {
	const op = "list authenticators"
	if accessToken == "" {
		return nil, &APIError{Op: op, Err: ErrUnauthorized, detail: "no access token"}
	}
	ans, err := c.do(ctx, call{
		op: op, method: http.MethodGet,
		route: "/mfa/authenticators", path: "/mfa/authenticators",
		bearer: accessToken, idempotent: true,
	})
	if err != nil {
		return nil, err
	}
	var list []Authenticator
	if err := decodeJSON(ans, &list); err != nil {
		return nil, &APIError{Op: op, Status: ans.status, Err: ErrUpstream, detail: err.Error()}
	}
	return list, nil
}

// DeleteAuthenticator removes one authenticator (Auth0 removes its twin, e.g.
// the push entry's otp, itself). A 404 is ErrNotFound, except when an earlier
// attempt of this same call was lost in transit: then Auth0 most likely
// applied it, and nil is returned.
func (c *Client) DeleteAuthenticator(ctx context.Context, accessToken, id string) error {
	const op = "delete authenticator"
	if accessToken == "" {
		return &APIError{Op: op, Err: ErrUnauthorized, detail: "no access token"}
	}
	if err := checkPathSegment(id); err != nil {
		return &APIError{Op: op, Err: ErrBadRequest, detail: err.Error()}
	}
	_, err := c.do(ctx, call{
		op: op, method: http.MethodDelete,
		route: "/mfa/authenticators/{id}", path: "/mfa/authenticators/" + url.PathEscape(id),
		bearer: accessToken, idempotent: true,
	})
	return err
}

// checkPathSegment refuses ids that would change the path's meaning once
// escaped: empty, "." and ".." survive url.PathEscape unchanged.
func checkPathSegment(id string) error {
	switch id {
	case "":
		return errors.New("empty id")
	case ".", "..":
		return errors.New("id is a dot segment")
	}
	return nil
}

// decodeJSON decodes a 2xx body strictly enough to notice a truncated or
// non-JSON answer.
func decodeJSON(ans *answer, v any) error {
	if ans.truncated {
		return errors.New("response body too large")
	}
	dec := json.NewDecoder(strings.NewReader(string(ans.body)))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding response: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("decoding response: trailing data")
	}
	return nil
}
