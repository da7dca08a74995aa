package mfaapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
	"unicode"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	opM2MToken   = "m2m token"
	opRegenerate = "regenerate recovery code"
	// maxRecoveryCodeLen is far above Auth0's 24 characters; it only guards
	// against showing a user something that is clearly not a code.
	maxRecoveryCodeLen = 256
)

// Management calls the Management API with a shared oauth2.TokenSource
// (client credentials, cached by the caller: build it ONCE per process, e.g.
// with NewM2MTokenSource, which wraps it in oauth2.ReuseTokenSource).
type Management struct {
	caller
	tokens oauth2.TokenSource
	// pausedUntil (Unix nanoseconds) is when the Management API may be
	// called again after it answered 429: its limits are the tenant's, so
	// once one call is limited every other call in this process waits for
	// the reset instead of adding to the storm.
	pausedUntil atomic.Int64
}

// NewManagement returns a Management API client for tenantURL (the canonical
// tenant domain) that takes its bearer tokens from tokens.
func NewManagement(tenantURL string, tokens oauth2.TokenSource, opts ...Option) (*Management, error) {
	if tokens == nil {
		return nil, errors.New("mfaapi: NewManagement needs a token source")
	}
	cl, err := newCaller(tenantURL, opts)
	if err != nil {
		return nil, err
	}
	return &Management{caller: cl, tokens: tokens}, nil
}

// RegenerateRecoveryCode makes a new recovery code for userID (the verified
// sub), which invalidates the old one, and returns it. It is never retried:
// if the answer is lost after the request may have reached Auth0 (transport
// error, timeout, or a 2xx whose body is unusable), the error is
// ErrOutcomeUnknown and the user must be told the old code may be gone.
func (m *Management) RegenerateRecoveryCode(ctx context.Context, userID string) (string, error) {
	if userID == "" {
		return "", &APIError{Op: opRegenerate, Err: ErrBadRequest, detail: "empty user id"}
	}
	ans, err := m.call(ctx, call{
		op: opRegenerate, method: http.MethodPost,
		route: "/api/v2/users/{id}/recovery-code-regeneration",
		path:  "/api/v2/users/" + url.PathEscape(userID) + "/recovery-code-regeneration",
		body:  []byte("{}"),
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && (apiErr.Status == http.StatusBadGateway || apiErr.Status == http.StatusGatewayTimeout) {
		// A gateway in front of Auth0 gave up waiting: Auth0 may well have
		// made the new code, which the user then never sees.
		apiErr.Err = ErrOutcomeUnknown
	}
	if err != nil {
		return "", err
	}
	var out struct {
		RecoveryCode string `json:"recovery_code"`
	}
	if err := decodeJSON(ans, &out); err != nil {
		// Auth0 said yes, so the old code is gone, but we cannot show the new one.
		return "", &APIError{Op: opRegenerate, Status: ans.status, Err: ErrOutcomeUnknown, detail: "unreadable answer"}
	}
	if !plausibleRecoveryCode(out.RecoveryCode) {
		return "", &APIError{Op: opRegenerate, Status: ans.status, Err: ErrOutcomeUnknown, detail: "answer has no usable recovery_code"}
	}
	return out.RecoveryCode, nil
}

// call sends c with the M2M token, unless the Management API is paused
// after a 429, and starts the pause when it answers 429.
func (m *Management) call(ctx context.Context, c call) (*answer, error) {
	now := m.now()
	if until := m.pausedUntil.Load(); now.UnixNano() < until {
		reset := time.Unix(0, until)
		return nil, &APIError{Op: c.op, Status: http.StatusTooManyRequests, Err: ErrRateLimited,
			RetryAfter: reset.Sub(now), Reset: reset, detail: "paused after a rate-limited answer"}
	}
	tok, err := m.token(ctx)
	if err != nil {
		return nil, err
	}
	c.bearer, c.noRateLimitRetry = tok, true
	ans, err := m.do(ctx, c)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
		until := now.Add(time.Second) // Auth0 always sends a reset; this is a floor
		if !apiErr.Reset.IsZero() && apiErr.Reset.After(until) {
			until = apiErr.Reset
		} else if apiErr.RetryAfter > time.Second {
			until = now.Add(apiErr.RetryAfter)
		}
		if limit := now.Add(maxPause); until.After(limit) {
			until = limit
		}
		for {
			old := m.pausedUntil.Load()
			if old >= until.UnixNano() || m.pausedUntil.CompareAndSwap(old, until.UnixNano()) {
				break
			}
		}
	}
	return ans, err
}

// maxPause bounds a pause, whatever reset Auth0 names.
const maxPause = 2 * time.Minute

func plausibleRecoveryCode(code string) bool {
	if code == "" || len(code) > maxRecoveryCodeLen {
		return false
	}
	for _, r := range code {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// token gets the M2M access token without outliving ctx: TokenSource has no
// context of its own, so the fetch runs aside and is abandoned (not leaked
// for long: the token client has a timeout) when ctx ends first.
func (m *Management) token(ctx context.Context) (string, error) {
	type result struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := m.tokens.Token()
		done <- result{tok, err}
	}()
	select {
	case <-ctx.Done():
		return "", transportError(ctx, opM2MToken, ctx.Err(), false, true)
	case r := <-done:
		if r.err != nil {
			var apiErr *APIError
			if errors.As(r.err, &apiErr) {
				return "", apiErr
			}
			return "", tokenError(r.err, "")
		}
		if r.tok == nil || r.tok.AccessToken == "" {
			return "", &APIError{Op: opM2MToken, Err: ErrUpstream, detail: "token endpoint returned no access token"}
		}
		return r.tok.AccessToken, nil
	}
}

// NewM2MTokenSource builds the one process-wide cached client-credentials
// token source with the audience parameter (the Management API's
// "https://{tenant}/api/v2/"). ctx lives as long as the source (the process),
// not a request. Errors it returns are *APIError with Op "m2m token"; they
// keep Auth0's error code but never the client secret.
func NewM2MTokenSource(ctx context.Context, tokenURL, clientID, clientSecret, audience string, httpClient *http.Client) oauth2.TokenSource {
	if httpClient == nil {
		httpClient = NewHTTPClient(defaultTimeout)
	}
	cfg := &clientcredentials.Config{
		ClientID:       clientID,
		ClientSecret:   clientSecret,
		TokenURL:       tokenURL,
		EndpointParams: url.Values{"audience": {audience}},
		// Auth0 accepts client_secret_post; saying so avoids auto-detection
		// sending a doomed first attempt.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, httpClient)
	return oauth2.ReuseTokenSource(nil, m2mTokenSource{ctx: ctx, cfg: cfg})
}

// m2mTokenSource fetches a fresh token on every call; ReuseTokenSource above
// it does the caching and serialises concurrent callers.
type m2mTokenSource struct {
	ctx context.Context
	cfg *clientcredentials.Config
}

func (s m2mTokenSource) Token() (*oauth2.Token, error) {
	tok, err := s.cfg.Token(s.ctx)
	if err != nil {
		return nil, tokenError(err, s.cfg.ClientSecret)
	}
	return tok, nil
}

// tokenError maps a token-endpoint failure. Refused credentials are the
// portal's misconfiguration, not the user's, so they are ErrUpstream rather
// than ErrUnauthorized (which would send the user to sign in again).
func tokenError(err error, secret string) *APIError {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		e := transportError(context.Background(), opM2MToken, err, false, true)
		e.detail = sanitize(e.detail, 200, []string{secret})
		return e
	}
	e := &APIError{
		Op:          opM2MToken,
		Err:         ErrUpstream,
		Code:        sanitize(re.ErrorCode, 100, []string{secret}),
		Description: sanitize(re.ErrorDescription, maxDescription, []string{secret}),
	}
	if re.Response != nil {
		e.Status = re.Response.StatusCode
		if e.Status == http.StatusTooManyRequests {
			e.Err = ErrRateLimited
			e.RetryAfter, e.Reset = rateLimitHints(re.Response.Header, time.Now())
		}
	}
	return e
}
