package mfaapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

const (
	// maxBodyBytes bounds every response read: Auth0's answers are a few KiB.
	maxBodyBytes = 1 << 20
	// backoffBase and backoffCap shape the exponential backoff between
	// attempts when Auth0 gives no hint of its own.
	backoffBase = 200 * time.Millisecond
	backoffCap  = 2 * time.Second
	// hintJitter spreads retries that follow x-ratelimit-reset, which has
	// one-second resolution, so that waiting callers do not all fire at once.
	hintJitter = 250 * time.Millisecond
	// minAttemptTime is what an attempt needs left before the deadline to be
	// worth making after a wait; otherwise the caller gets the real error
	// (e.g. rate limited) instead of a timeout that hides it.
	minAttemptTime = 100 * time.Millisecond
)

// call is one logical request to Auth0; do may send it several times.
type call struct {
	op     string // for errors and logs, e.g. "delete authenticator"
	method string
	route  string // path template for logs, e.g. "/mfa/authenticators/{id}"
	path   string // escaped path appended to the tenant URL
	body   []byte // JSON body, nil for none
	// form, when set, is sent form-encoded instead of body (the token
	// endpoint's grants).
	form   url.Values
	bearer string // access token; never logged; "" sends no Authorization
	// secrets are kept out of error texts besides the bearer (a form's
	// codes, tokens and client secret).
	secrets []string
	// basicUser and basicPassword, when set, authenticate the client
	// (client_secret_basic, form-encoded first as RFC 6749 §2.3.1 says).
	basicUser, basicPassword string
	// idempotent calls (GET, DELETE) are retried; the others never are.
	idempotent bool
	// noRateLimitRetry: a 429 is final. The Management API's limits are the
	// tenant's, shared by every replica: one limited answer pauses all
	// Management calls until the reset (see Management) rather than
	// sitting it out per request.
	noRateLimitRetry bool
}

// answer is a 2xx response, already read.
type answer struct {
	status int
	body   []byte
	// truncated says the body hit maxBodyBytes and cannot be trusted.
	truncated bool
}

// caller holds what Client and Management share: the tenant and the options.
type caller struct {
	baseURL string // scheme://host[/prefix], no trailing slash
	options
}

// do sends c, retrying idempotent calls on 429, 5xx and transport errors
// within ctx's deadline. It returns the 2xx answer or an *APIError.
//
// A DELETE that answers 404 after an earlier attempt failed in transit is
// reported as success: the earlier attempt may have reached Auth0 and removed
// the entry, and "it is gone" is what the caller asked for.
func (cl *caller) do(ctx context.Context, c call) (*answer, error) {
	maxAttempts := 1
	if c.idempotent {
		maxAttempts += cl.maxRetries
	}
	mayHaveApplied := false
	for attempt := 1; ; attempt++ {
		ans, apiErr, sent := cl.attempt(ctx, c, attempt)
		if apiErr == nil {
			return ans, nil
		}
		if apiErr.Status == 0 && sent {
			mayHaveApplied = true
		}
		if c.method == http.MethodDelete && apiErr.Status == http.StatusNotFound && mayHaveApplied {
			cl.logger.LogAttrs(ctx, slog.LevelInfo, "mfaapi: 404 after a lost DELETE attempt; treating as deleted",
				slog.String("op", c.op), slog.String("route", c.route), slog.Int("attempt", attempt))
			return &answer{status: http.StatusNoContent}, nil
		}
		if !c.idempotent || attempt >= maxAttempts || !retryable(apiErr) || ctx.Err() != nil ||
			c.noRateLimitRetry && apiErr.Status == http.StatusTooManyRequests {
			return nil, apiErr
		}
		delay, ok := cl.retryDelay(ctx, apiErr, attempt)
		if !ok {
			return nil, apiErr
		}
		cl.logger.LogAttrs(ctx, slog.LevelInfo, "mfaapi: retrying",
			slog.String("op", c.op), slog.String("route", c.route), slog.Int("attempt", attempt),
			slog.Duration("delay", delay), slog.String("error", apiErr.Err.Error()))
		if err := cl.sleep(ctx, delay); err != nil {
			return nil, apiErr
		}
	}
}

// retryable says whether another attempt may succeed: rate limits, server
// errors and transport failures; never other 4xx answers.
func retryable(e *APIError) bool {
	if e.Status == 0 {
		return errors.Is(e.Err, ErrUnavailable) || errors.Is(e.Err, ErrTimeout)
	}
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// retryDelay picks the wait before the next attempt: Auth0's own hint when it
// gives one, else jittered exponential backoff. ok is false when the wait
// would not leave room for another attempt before the deadline, or when the
// hint is longer than we are willing to hold a user's request.
func (cl *caller) retryDelay(ctx context.Context, e *APIError, attempt int) (time.Duration, bool) {
	var delay time.Duration
	if e.RetryAfter > 0 {
		if e.RetryAfter > cl.maxRetryWait {
			return 0, false
		}
		delay = e.RetryAfter + rand.N(hintJitter)
	} else {
		delay = backoff(attempt)
	}
	if deadline, has := ctx.Deadline(); has && time.Until(deadline) < delay+minAttemptTime {
		return 0, false
	}
	return delay, true
}

// backoff is "equal jitter" exponential backoff: half the step is fixed so
// retries keep spacing out, half is random so callers spread.
func backoff(attempt int) time.Duration {
	step := backoffBase << (attempt - 1)
	if step > backoffCap || step <= 0 {
		step = backoffCap
	}
	return step/2 + rand.N(step/2+1)
}

// attempt sends the request once. sent reports whether it may have reached
// Auth0 (some of it was written), which matters when no answer came back.
func (cl *caller) attempt(ctx context.Context, c call, attempt int) (ans *answer, apiErr *APIError, sent bool) {
	start := time.Now()
	status := 0
	defer func() {
		cl.logAttempt(ctx, c, attempt, status, time.Since(start), apiErr)
	}()

	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }}
	req, err := cl.newRequest(httptrace.WithClientTrace(ctx, trace), c)
	if err != nil {
		return nil, &APIError{Op: c.op, Err: ErrBadRequest, detail: "building request"}, false
	}
	resp, err := cl.httpClient.Do(req)
	if err != nil {
		return nil, transportError(ctx, c.op, err, wrote.Load(), c.idempotent), wrote.Load()
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	body, truncated, err := readLimited(resp.Body)
	if err != nil {
		// The answer was cut off: Auth0 received the request.
		e := transportError(ctx, c.op, err, true, c.idempotent)
		status = 0
		return nil, e, true
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, statusError(c.op, resp.StatusCode, resp.Header, body, cl.now(), append([]string{c.bearer}, c.secrets...)...), true
	}
	return &answer{status: resp.StatusCode, body: body, truncated: truncated}, nil, true
}

func (cl *caller) newRequest(ctx context.Context, c call) (*http.Request, error) {
	var body io.Reader
	switch {
	case c.form != nil:
		body = strings.NewReader(c.form.Encode())
	case c.body != nil:
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, cl.baseURL+c.path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	switch {
	case c.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case c.body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.userAgent != "" {
		req.Header.Set("User-Agent", cl.userAgent)
	}
	switch {
	case c.bearer != "":
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	case c.basicUser != "":
		req.SetBasicAuth(url.QueryEscape(c.basicUser), url.QueryEscape(c.basicPassword))
	}
	return req, nil
}

// readLimited reads at most maxBodyBytes and drains a little more so the
// connection can be reused; truncated says the body was longer.
func readLimited(r io.Reader) (body []byte, truncated bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, maxBodyBytes+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > maxBodyBytes {
		_, _ = io.CopyN(io.Discard, r, 64<<10)
		return body[:maxBodyBytes], true, nil
	}
	return body, false, nil
}

// logAttempt records one attempt: what and how long, never the token. A
// call that went well is debug: the access log already has the request,
// and the metrics have every call's latency; one that did not is a
// warning.
func (cl *caller) logAttempt(ctx context.Context, c call, attempt, status int, latency time.Duration, apiErr *APIError) {
	level := slog.LevelDebug
	if !cl.logger.Enabled(ctx, level) && apiErr == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", c.op),
		slog.String("method", c.method),
		slog.String("route", c.route),
		slog.Int("status", status),
		slog.Duration("latency", latency),
		slog.Int("attempt", attempt),
	}
	if apiErr != nil {
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", apiErr.Err.Error()))
		if apiErr.Code != "" {
			attrs = append(attrs, slog.String("auth0_error", apiErr.Code))
		}
		if apiErr.detail != "" {
			attrs = append(attrs, slog.String("detail", apiErr.detail))
		}
	}
	cl.logger.LogAttrs(ctx, level, "mfaapi call", attrs...)
}

// rateLimitHints reads Retry-After (seconds or HTTP date) and Auth0's
// x-ratelimit-reset (Unix seconds). retryAfter prefers Retry-After and falls
// back to the reset time; both are zero when absent or already past.
func rateLimitHints(h http.Header, now time.Time) (retryAfter time.Duration, reset time.Time) {
	if v := strings.TrimSpace(h.Get("X-Ratelimit-Reset")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
			reset = time.Unix(secs, 0)
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
			retryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			retryAfter = t.Sub(now)
		}
	}
	if retryAfter <= 0 && !reset.IsZero() {
		retryAfter = reset.Sub(now)
	}
	if retryAfter < 0 {
		retryAfter = 0
	}
	return retryAfter, reset
}

// sleepContext waits d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
