package mfaapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"mfaportal/mfaapi"
)

// fixedNow is the fake clock's time; rate-limit headers are relative to it.
var fixedNow = time.Unix(1_700_000_000, 0)

// step is one scripted answer of a fault server.
type step func(w http.ResponseWriter, r *http.Request)

func respond(status int, body string, headers ...string) step {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func rateLimited(resetIn time.Duration) step {
	return respond(http.StatusTooManyRequests, `{"error":"too_many_requests","error_description":"Global limit has been reached"}`,
		"X-Ratelimit-Limit", "10", "X-Ratelimit-Remaining", "0",
		"X-Ratelimit-Reset", strconv.FormatInt(fixedNow.Add(resetIn).Unix(), 10))
}

// drop reads the request, then closes the connection without answering: the
// request reached "Auth0" but the answer is lost.
func drop(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// faultServer answers with steps in order, repeating the last one, and
// counts hits and remembers the paths it was asked for.
type faultServer struct {
	*httptest.Server
	mu    sync.Mutex
	hits  int
	paths []string
}

func newFaultServer(t *testing.T, steps ...step) *faultServer {
	t.Helper()
	release := make(chan struct{})
	fs := &faultServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		i := min(fs.hits, len(steps)-1)
		fs.hits++
		fs.paths = append(fs.paths, r.Method+" "+r.RequestURI)
		fs.mu.Unlock()
		if steps[i] == nil { // hang until the client gives up
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		steps[i](w, r)
	}))
	t.Cleanup(fs.Close)
	t.Cleanup(func() { close(release) }) // runs first: unblock hung handlers
	return fs
}

func (fs *faultServer) hitCount() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.hits
}

// hang is a step that never answers.
var hang step = nil

// sleepRecorder replaces real waits and remembers them.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

// between is an inclusive-exclusive delay range a recorded sleep must fall in.
type between struct{ lo, hi time.Duration }

const listBody = `[{"id":"totp|dev_1","authenticator_type":"otp","active":true},` +
	`{"id":"sms|dev_2","authenticator_type":"oob","active":true,"oob_channels":["sms"],"name":"XXXXXXXXX9167"}]`

func TestListAuthenticatorsFaults(t *testing.T) {
	tests := []struct {
		name       string
		steps      []step
		timeout    time.Duration // ctx deadline, 0 for none
		wantErr    error
		wantStatus int
		wantCode   string
		wantDesc   string
		wantHits   int
		wantSleeps []between
		check      func(t *testing.T, got []mfaapi.Authenticator, err error)
	}{
		{
			name:       "429 with x-ratelimit-reset then success waits for the reset",
			steps:      []step{rateLimited(time.Second), respond(200, listBody)},
			wantHits:   2,
			wantSleeps: []between{{time.Second, time.Second + 250*time.Millisecond}},
		},
		{
			name:       "429 with Retry-After then success waits Retry-After",
			steps:      []step{respond(429, `{}`, "Retry-After", "2"), respond(200, listBody)},
			wantHits:   2,
			wantSleeps: []between{{2 * time.Second, 2*time.Second + 250*time.Millisecond}},
		},
		{
			name:       "500 twice then success backs off exponentially",
			steps:      []step{respond(500, `{"error":"server_error"}`), respond(500, ``), respond(200, listBody)},
			wantHits:   3,
			wantSleeps: []between{{100 * time.Millisecond, 201 * time.Millisecond}, {200 * time.Millisecond, 401 * time.Millisecond}},
		},
		{
			name:       "500 always gives ErrUpstream after the retries",
			steps:      []step{respond(500, `{"error":"server_error","error_description":"Internal"}`)},
			wantErr:    mfaapi.ErrUpstream,
			wantStatus: 500, wantCode: "server_error", wantDesc: "Internal",
			wantHits:   3,
			wantSleeps: []between{{100 * time.Millisecond, 201 * time.Millisecond}, {200 * time.Millisecond, 401 * time.Millisecond}},
		},
		{
			name:       "502 with an HTML body is tolerated",
			steps:      []step{respond(502, `<html>bad gateway</html>`)},
			wantErr:    mfaapi.ErrUpstream,
			wantStatus: 502,
			wantHits:   3,
			wantSleeps: []between{{100 * time.Millisecond, 201 * time.Millisecond}, {200 * time.Millisecond, 401 * time.Millisecond}},
		},
		{
			name:       "429 whose reset is too far away is returned at once with the wait",
			steps:      []step{rateLimited(time.Minute), respond(200, listBody)},
			wantErr:    mfaapi.ErrRateLimited,
			wantStatus: 429, wantCode: "too_many_requests", wantDesc: "Global limit has been reached",
			wantHits: 1,
			check: func(t *testing.T, _ []mfaapi.Authenticator, err error) {
				var ae *mfaapi.APIError
				if !errors.As(err, &ae) || ae.RetryAfter != time.Minute || !ae.Reset.Equal(fixedNow.Add(time.Minute)) {
					t.Errorf("RetryAfter/Reset not kept: %+v", ae)
				}
			},
		},
		{
			name:       "429 is not waited out past the ctx deadline",
			steps:      []step{rateLimited(time.Second), respond(200, listBody)},
			timeout:    500 * time.Millisecond,
			wantErr:    mfaapi.ErrRateLimited,
			wantStatus: 429, wantCode: "too_many_requests", wantDesc: "Global limit has been reached",
			wantHits: 1,
		},
		{
			name:       "500 is not retried when the backoff would pass the deadline",
			steps:      []step{respond(500, ``), respond(200, listBody)},
			timeout:    150 * time.Millisecond,
			wantErr:    mfaapi.ErrUpstream,
			wantStatus: 500,
			wantHits:   1,
		},
		{
			name:       "400 is not retried and keeps Auth0's error",
			steps:      []step{respond(400, `{"error":"invalid_request","error_description":"Bad things"}`), respond(200, listBody)},
			wantErr:    mfaapi.ErrBadRequest,
			wantStatus: 400, wantCode: "invalid_request", wantDesc: "Bad things",
			wantHits: 1,
		},
		{
			name:       "401 is not retried",
			steps:      []step{respond(401, `{"error":"invalid_token","error_description":"expired"}`), respond(200, listBody)},
			wantErr:    mfaapi.ErrUnauthorized,
			wantStatus: 401, wantCode: "invalid_token", wantDesc: "expired",
			wantHits: 1,
		},
		{
			name:       "403 is not retried",
			steps:      []step{respond(403, `{"error":"access_denied","error_description":"Insufficient scope"}`), respond(200, listBody)},
			wantErr:    mfaapi.ErrForbidden,
			wantStatus: 403, wantCode: "access_denied", wantDesc: "Insufficient scope",
			wantHits: 1,
		},
		{
			name:       "non-JSON 200 is ErrUpstream",
			steps:      []step{respond(200, `<html></html>`)},
			wantErr:    mfaapi.ErrUpstream,
			wantStatus: 200,
			wantHits:   1,
		},
		{
			name:       "dropped connection is retried",
			steps:      []step{drop, respond(200, listBody)},
			wantHits:   2,
			wantSleeps: []between{{100 * time.Millisecond, 201 * time.Millisecond}},
		},
		{
			name:     "timeout at the ctx deadline gives ErrTimeout",
			steps:    []step{hang},
			timeout:  100 * time.Millisecond,
			wantErr:  mfaapi.ErrTimeout,
			wantHits: 1,
		},
		{
			name:     "oob_channels array is parsed",
			steps:    []step{respond(200, listBody)},
			wantHits: 1,
			check: func(t *testing.T, got []mfaapi.Authenticator, _ error) {
				if len(got) != 2 || got[1].Channel() != "sms" || got[1].OOBChannels[0] != "sms" || got[1].Name != "XXXXXXXXX9167" {
					t.Errorf("got %+v", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFaultServer(t, tt.steps...)
			sleeps := &sleepRecorder{}
			c := mustClient(t, srv.URL, mfaapi.WithSleep(sleeps.sleep), mfaapi.WithClock(func() time.Time { return fixedNow }))
			ctx := t.Context()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			got, err := c.ListAuthenticators(ctx, "user-token")
			assertAPIError(t, err, tt.wantErr, tt.wantStatus, tt.wantCode, tt.wantDesc)
			if tt.wantErr == nil && len(got) == 0 {
				t.Errorf("no authenticators returned")
			}
			if hits := srv.hitCount(); hits != tt.wantHits {
				t.Errorf("server hits = %d, want %d", hits, tt.wantHits)
			}
			assertSleeps(t, sleeps.recorded(), tt.wantSleeps)
			if tt.check != nil {
				tt.check(t, got, err)
			}
		})
	}
}

func TestHTTPClientTimeoutIsErrTimeout(t *testing.T) {
	srv := newFaultServer(t, hang)
	c := mustClient(t, srv.URL, mfaapi.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}), mfaapi.WithMaxRetries(0))
	_, err := c.ListAuthenticators(t.Context(), "user-token")
	if !errors.Is(err, mfaapi.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if srv.hitCount() != 1 {
		t.Errorf("hits = %d, want 1", srv.hitCount())
	}
}

func TestDeleteAuthenticator(t *testing.T) {
	tests := []struct {
		name      string
		id        string
		steps     []step
		wantErr   error
		wantPaths []string
	}{
		{
			name:      "204 is success",
			id:        "push|dev_x",
			steps:     []step{respond(204, ``)},
			wantPaths: []string{"DELETE /mfa/authenticators/push%7Cdev_x"},
		},
		{
			name:      "id with a slash stays one path segment",
			id:        "totp|a/b",
			steps:     []step{respond(204, ``)},
			wantPaths: []string{"DELETE /mfa/authenticators/totp%7Ca%2Fb"},
		},
		{
			name:      "404 is ErrNotFound",
			id:        "push|dev_x",
			steps:     []step{respond(404, `{"error":"not_found","error_description":"Authenticator not found"}`)},
			wantErr:   mfaapi.ErrNotFound,
			wantPaths: []string{"DELETE /mfa/authenticators/push%7Cdev_x"},
		},
		{
			name:      "404 after a dropped attempt is success: Auth0 already applied it",
			id:        "push|dev_x",
			steps:     []step{drop, respond(404, `{"error":"not_found"}`)},
			wantPaths: []string{"DELETE /mfa/authenticators/push%7Cdev_x", "DELETE /mfa/authenticators/push%7Cdev_x"},
		},
		{
			name:      "404 after a 500 is still ErrNotFound",
			id:        "push|dev_x",
			steps:     []step{respond(500, ``), respond(404, `{"error":"not_found"}`)},
			wantErr:   mfaapi.ErrNotFound,
			wantPaths: []string{"DELETE /mfa/authenticators/push%7Cdev_x", "DELETE /mfa/authenticators/push%7Cdev_x"},
		},
		{
			name:      "429 then 204 is success",
			id:        "sms|dev_y",
			steps:     []step{rateLimited(time.Second), respond(204, ``)},
			wantPaths: []string{"DELETE /mfa/authenticators/sms%7Cdev_y", "DELETE /mfa/authenticators/sms%7Cdev_y"},
		},
		{
			name:    "empty id is refused locally",
			id:      "",
			steps:   []step{respond(204, ``)},
			wantErr: mfaapi.ErrBadRequest,
		},
		{
			name:    "dot-dot id is refused locally",
			id:      "..",
			steps:   []step{respond(204, ``)},
			wantErr: mfaapi.ErrBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFaultServer(t, tt.steps...)
			sleeps := &sleepRecorder{}
			c := mustClient(t, srv.URL, mfaapi.WithSleep(sleeps.sleep), mfaapi.WithClock(func() time.Time { return fixedNow }))
			err := c.DeleteAuthenticator(t.Context(), "user-token", tt.id)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.paths) != len(tt.wantPaths) {
				t.Fatalf("requests = %q, want %q", srv.paths, tt.wantPaths)
			}
			for i := range srv.paths {
				if srv.paths[i] != tt.wantPaths[i] {
					t.Errorf("request %d = %q, want %q", i, srv.paths[i], tt.wantPaths[i])
				}
			}
		})
	}
}

func TestDeleteConnectionRefusedIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	sleeps := &sleepRecorder{}
	c := mustClient(t, url, mfaapi.WithSleep(sleeps.sleep))
	err := c.DeleteAuthenticator(t.Context(), "user-token", "push|dev_x")
	if !errors.Is(err, mfaapi.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if n := len(sleeps.recorded()); n != 2 {
		t.Errorf("retries = %d, want 2", n)
	}
}

func TestAuthenticatorChannel(t *testing.T) {
	tests := []struct {
		in   mfaapi.Authenticator
		want string
	}{
		{mfaapi.Authenticator{OOBChannel: "sms"}, "sms"},
		{mfaapi.Authenticator{OOBChannels: []string{"auth0", "sms"}}, "auth0"},
		{mfaapi.Authenticator{OOBChannel: "voice", OOBChannels: []string{"sms"}}, "voice"},
		{mfaapi.Authenticator{AuthenticatorType: "otp"}, ""},
	}
	for _, tt := range tests {
		if got := tt.in.Channel(); got != tt.want {
			t.Errorf("%+v.Channel() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewValidatesTenantURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"https://tenant.eu.auth0.com", false},
		{"https://tenant.eu.auth0.com/", false},
		{"http://127.0.0.1:9010", false},
		{"", true},
		{"tenant.eu.auth0.com", true},
		{"ftp://tenant.eu.auth0.com", true},
		{"https://", true},
		{"https://user:pass@tenant.eu.auth0.com", true},
		{"https://tenant.eu.auth0.com/?x=1", true},
		{"https://tenant.eu.auth0.com/#frag", true},
	}
	for _, tt := range tests {
		_, err := mfaapi.New(tt.url)
		if (err != nil) != tt.wantErr {
			t.Errorf("New(%q) err = %v, wantErr %v", tt.url, err, tt.wantErr)
		}
	}
}

func TestTrailingSlashAndUserAgent(t *testing.T) {
	var gotPath, gotUA string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotUA = r.RequestURI, r.UserAgent()
		_, _ = io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	c := mustClient(t, srv.URL+"/", mfaapi.WithUserAgent("mfaportal-test/1"))
	if _, err := c.ListAuthenticators(t.Context(), "user-token"); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/mfa/authenticators" || gotUA != "mfaportal-test/1" {
		t.Errorf("path %q, user agent %q", gotPath, gotUA)
	}
}

// assertAPIError checks the sentinel and what the APIError kept from Auth0.
func assertAPIError(t *testing.T, err, wantErr error, wantStatus int, wantCode, wantDesc string) {
	t.Helper()
	if wantErr == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, wantErr) {
		t.Fatalf("err = %v, want %v", err, wantErr)
	}
	var ae *mfaapi.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err %T is not *APIError", err)
	}
	if ae.Status != wantStatus || ae.Code != wantCode || ae.Description != wantDesc {
		t.Errorf("APIError status/code/desc = %d/%q/%q, want %d/%q/%q", ae.Status, ae.Code, ae.Description, wantStatus, wantCode, wantDesc)
	}
}

func assertSleeps(t *testing.T, got []time.Duration, want []between) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("sleeps = %v, want %d of them", got, len(want))
	}
	for i, d := range got {
		if d < want[i].lo || d >= want[i].hi {
			t.Errorf("sleep %d = %v, want in [%v, %v)", i, d, want[i].lo, want[i].hi)
		}
	}
}
