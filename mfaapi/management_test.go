package mfaapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mfaportal/mfaapi"
)

func mustManagement(t *testing.T, baseURL string, tokens oauth2.TokenSource, opts ...mfaapi.Option) *mfaapi.Management {
	t.Helper()
	m, err := mfaapi.NewManagement(baseURL, tokens, opts...)
	if err != nil {
		t.Fatalf("NewManagement: %v", err)
	}
	return m
}

func staticTokens(tok string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"})
}

func TestRegenerateRecoveryCodeIsNeverRetried(t *testing.T) {
	tests := []struct {
		name       string
		steps      []step
		timeout    time.Duration
		wantCode   string
		wantErr    error
		wantStatus int
		wantAuth0  string
		wantDesc   string
	}{
		{
			name:     "200 returns the code",
			steps:    []step{respond(200, `{"recovery_code":"32YCGV1JUE9G7MDJ71UTN12W"}`)},
			wantCode: "32YCGV1JUE9G7MDJ71UTN12W",
		},
		{
			name:       "500 is ErrUpstream and not retried",
			steps:      []step{respond(500, `{"statusCode":500,"error":"Internal Server Error","message":"oops"}`), respond(200, `{"recovery_code":"X"}`)},
			wantErr:    mfaapi.ErrUpstream,
			wantStatus: 500, wantAuth0: "Internal Server Error", wantDesc: "oops",
		},
		{
			name:       "502 from a gateway: the outcome is unknown",
			steps:      []step{respond(502, `<html>Bad Gateway</html>`), respond(200, `{"recovery_code":"X"}`)},
			wantErr:    mfaapi.ErrOutcomeUnknown,
			wantStatus: 502,
		},
		{
			name:       "504 from a gateway: the outcome is unknown",
			steps:      []step{respond(504, `<html>Gateway Timeout</html>`), respond(200, `{"recovery_code":"X"}`)},
			wantErr:    mfaapi.ErrOutcomeUnknown,
			wantStatus: 504,
		},
		{
			name:       "429 is ErrRateLimited and not retried",
			steps:      []step{rateLimited(time.Second), respond(200, `{"recovery_code":"X"}`)},
			wantErr:    mfaapi.ErrRateLimited,
			wantStatus: 429, wantAuth0: "too_many_requests", wantDesc: "Global limit has been reached",
		},
		{
			name: "404 keeps the Management API's errorCode and message",
			steps: []step{respond(404, `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`),
				respond(200, `{"recovery_code":"X"}`)},
			wantErr:    mfaapi.ErrNotFound,
			wantStatus: 404, wantAuth0: "inexistent_user", wantDesc: "The user does not exist.",
		},
		{
			name:    "dropped connection after sending is ErrOutcomeUnknown",
			steps:   []step{drop, respond(200, `{"recovery_code":"X"}`)},
			wantErr: mfaapi.ErrOutcomeUnknown,
		},
		{
			name:    "timeout after sending is ErrOutcomeUnknown",
			steps:   []step{hang},
			timeout: 100 * time.Millisecond,
			wantErr: mfaapi.ErrOutcomeUnknown,
		},
		{
			name:       "200 without a code is ErrOutcomeUnknown: the old code is gone",
			steps:      []step{respond(200, `{"recovery_code":""}`)},
			wantErr:    mfaapi.ErrOutcomeUnknown,
			wantStatus: 200,
		},
		{
			name:       "200 with garbage is ErrOutcomeUnknown",
			steps:      []step{respond(200, `<html>`)},
			wantErr:    mfaapi.ErrOutcomeUnknown,
			wantStatus: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFaultServer(t, tt.steps...)
			sleeps := &sleepRecorder{}
			m := mustManagement(t, srv.URL, staticTokens("m2m-token"),
				mfaapi.WithSleep(sleeps.sleep), mfaapi.WithClock(func() time.Time { return fixedNow }))
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			code, err := m.RegenerateRecoveryCode(ctx, "auth0|abc/def")
			assertAPIError(t, err, tt.wantErr, tt.wantStatus, tt.wantAuth0, tt.wantDesc)
			if code != tt.wantCode {
				t.Errorf("code = %q, want %q", code, tt.wantCode)
			}
			if hits := srv.hitCount(); hits != 1 {
				t.Errorf("server hits = %d, want exactly 1", hits)
			}
			if n := len(sleeps.recorded()); n != 0 {
				t.Errorf("slept %d times, want never", n)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if want := "POST /api/v2/users/auth0%7Cabc%2Fdef/recovery-code-regeneration"; srv.paths[0] != want {
				t.Errorf("request = %q, want %q", srv.paths[0], want)
			}
		})
	}
}

func TestRegenerateConnectionRefusedIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	m := mustManagement(t, url, staticTokens("m2m-token"))
	_, err := m.RegenerateRecoveryCode(t.Context(), "auth0|1")
	if !errors.Is(err, mfaapi.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable (nothing was sent)", err)
	}
}

func TestRegenerateEmptyUserIsRefusedLocally(t *testing.T) {
	srv := newFaultServer(t, respond(200, `{"recovery_code":"X"}`))
	m := mustManagement(t, srv.URL, staticTokens("m2m-token"))
	if _, err := m.RegenerateRecoveryCode(t.Context(), ""); !errors.Is(err, mfaapi.ErrBadRequest) {
		t.Fatalf("err = %v, want ErrBadRequest", err)
	}
	if srv.hitCount() != 0 {
		t.Errorf("server was called")
	}
}

func TestM2MTokenErrors(t *testing.T) {
	const secret = "super-secret-client-secret"
	tests := []struct {
		name       string
		tokenStep  step // nil: token endpoint unreachable
		wantErr    error
		wantStatus int
		wantCode   string
	}{
		{
			name:       "refused credentials keep Auth0's code",
			tokenStep:  respond(401, `{"error":"access_denied","error_description":"Unauthorized"}`),
			wantErr:    mfaapi.ErrUpstream,
			wantStatus: 401, wantCode: "access_denied",
		},
		{
			name:       "a token endpoint echoing the secret does not leak it",
			tokenStep:  respond(400, `{"error":"invalid_request","error_description":"bad secret `+secret+`"}`),
			wantErr:    mfaapi.ErrUpstream,
			wantStatus: 400, wantCode: "invalid_request",
		},
		{
			name:       "rate limited token endpoint",
			tokenStep:  rateLimited(time.Second),
			wantErr:    mfaapi.ErrRateLimited,
			wantStatus: 429, wantCode: "too_many_requests",
		},
		{
			name:    "unreachable token endpoint",
			wantErr: mfaapi.ErrUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFaultServer(t, respond(200, `{"recovery_code":"X"}`))
			tokenURL := "http://127.0.0.1:1/oauth/token"
			if tt.tokenStep != nil {
				tokenSrv := newFaultServer(t, tt.tokenStep)
				tokenURL = tokenSrv.URL + "/oauth/token"
			} else {
				closed := httptest.NewServer(http.NotFoundHandler())
				tokenURL = closed.URL + "/oauth/token"
				closed.Close()
			}
			tokens := mfaapi.NewM2MTokenSource(t.Context(), tokenURL, "client-id", secret, "https://tenant/api/v2/", nil)
			m := mustManagement(t, api.URL, tokens)
			_, err := m.RegenerateRecoveryCode(t.Context(), "auth0|1")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			var ae *mfaapi.APIError
			if !errors.As(err, &ae) || ae.Op != "m2m token" || ae.Status != tt.wantStatus || ae.Code != tt.wantCode {
				t.Errorf("APIError = %+v, want op m2m token, status %d, code %q", ae, tt.wantStatus, tt.wantCode)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(ae.Description, secret) {
				t.Errorf("error leaks the client secret: %v", err)
			}
			if api.hitCount() != 0 {
				t.Errorf("Management API called without a token")
			}
		})
	}
}

func TestTokensNeverInErrorsOrLogs(t *testing.T) {
	const userToken = "user-token-0123456789-SECRET"
	const m2mToken = "m2m-token-0123456789-SECRET"
	const code = "RECOVERYCODE0123456789AB"
	// echo is an upstream repeating back the token it was sent.
	echo := func(tok string) string {
		return `{"error":"invalid_token","error_description":"token ` + tok + ` expired"}`
	}
	tests := []struct {
		name string
		run  func(ctx context.Context, baseURL string, opts ...mfaapi.Option) error
		step []step
	}{
		{
			name: "list with an upstream echoing the token",
			step: []step{respond(401, echo(userToken))},
			run: func(ctx context.Context, baseURL string, opts ...mfaapi.Option) error {
				c, _ := mfaapi.New(baseURL, opts...)
				_, err := c.ListAuthenticators(ctx, userToken)
				return err
			},
		},
		{
			name: "delete dropped then refused",
			step: []step{drop, respond(403, echo(userToken))},
			run: func(ctx context.Context, baseURL string, opts ...mfaapi.Option) error {
				c, _ := mfaapi.New(baseURL, opts...)
				return c.DeleteAuthenticator(ctx, userToken, "totp|dev_1")
			},
		},
		{
			name: "regenerate refused with an echo",
			step: []step{respond(401, echo(m2mToken))},
			run: func(ctx context.Context, baseURL string, opts ...mfaapi.Option) error {
				m, _ := mfaapi.NewManagement(baseURL, staticTokens(m2mToken), opts...)
				_, err := m.RegenerateRecoveryCode(ctx, "auth0|1")
				return err
			},
		},
		{
			name: "regenerate succeeding logs no code",
			step: []step{respond(200, `{"recovery_code":"`+code+`"}`)},
			run: func(ctx context.Context, baseURL string, opts ...mfaapi.Option) error {
				m, _ := mfaapi.NewManagement(baseURL, staticTokens(m2mToken), opts...)
				got, err := m.RegenerateRecoveryCode(ctx, "auth0|1")
				if got != code {
					return errors.New("wrong code returned")
				}
				return err
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFaultServer(t, tt.step...)
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			sleeps := &sleepRecorder{}
			err := tt.run(t.Context(), srv.URL, mfaapi.WithLogger(logger), mfaapi.WithSleep(sleeps.sleep))
			if err != nil && err.Error() == "wrong code returned" {
				t.Fatal(err)
			}
			for _, secret := range []string{userToken, m2mToken, code} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("error text contains a secret: %v", err)
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs contain a secret:\n%s", logs.String())
				}
			}
			// The logs must exist and say what happened, or this test proves nothing.
			for _, want := range []string{`"route":`, `"status":`, `"attempt":1`, `"latency":`} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs lack %s:\n%s", want, logs.String())
				}
			}
		})
	}
}

func TestSharedTokenSourceFetchesOnceForConcurrentCalls(t *testing.T) {
	tests := []struct {
		name string
		wrap func(oauth2.TokenSource) oauth2.TokenSource
	}{
		{"as returned by NewM2MTokenSource", func(ts oauth2.TokenSource) oauth2.TokenSource { return ts }},
		{"wrapped again in oauth2.ReuseTokenSource", func(ts oauth2.TokenSource) oauth2.TokenSource { return oauth2.ReuseTokenSource(nil, ts) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tokenHits, apiHits atomic.Int32
			tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tokenHits.Add(1)
				time.Sleep(20 * time.Millisecond) // let the callers pile up behind the fetch
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"access_token":"m2m-shared","expires_in":86400,"token_type":"Bearer"}`)
			}))
			defer tokenSrv.Close()
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				apiHits.Add(1)
				if r.Header.Get("Authorization") != "Bearer m2m-shared" {
					http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
					return
				}
				_, _ = io.WriteString(w, `{"recovery_code":"ABCDEFGHIJKLMNOPQRSTUVWX"}`)
			}))
			defer api.Close()

			tokens := tt.wrap(mfaapi.NewM2MTokenSource(t.Context(), tokenSrv.URL, "id", "secret", "aud", nil))
			m := mustManagement(t, api.URL, tokens)
			const callers = 25
			var wg sync.WaitGroup
			errs := make(chan error, callers)
			for range callers {
				wg.Go(func() {
					_, err := m.RegenerateRecoveryCode(t.Context(), "auth0|1")
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("call failed: %v", err)
				}
			}
			if got := tokenHits.Load(); got != 1 {
				t.Errorf("token endpoint hits = %d, want 1", got)
			}
			if got := apiHits.Load(); got != callers {
				t.Errorf("api hits = %d, want %d", got, callers)
			}
		})
	}
}

func TestRegenerateTokenFetchHonoursCtx(t *testing.T) {
	tokenSrv := newFaultServer(t, hang)
	api := newFaultServer(t, respond(200, `{"recovery_code":"X"}`))
	tokens := mfaapi.NewM2MTokenSource(context.Background(), tokenSrv.URL, "id", "secret", "aud", nil)
	m := mustManagement(t, api.URL, tokens)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := m.RegenerateRecoveryCode(ctx, "auth0|1")
	if !errors.Is(err, mfaapi.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("waited %v past the ctx deadline", time.Since(start))
	}
	if api.hitCount() != 0 {
		t.Errorf("Management API called without a token")
	}
}
