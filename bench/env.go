package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"mfaportal/app"
	"mfaportal/auth0emu"
	"mfaportal/emulated"
)

// benchTokenLifetime replaces Auth0's 600 s /mfa/ token lifetime in the
// emulator so a long -duration cannot expire the sessions mid-run; it changes
// nothing the benchmark measures.
const benchTokenLifetime = 2 * time.Hour

// upstreamTimeout is the portal's and the baseline's bound on one Auth0 call.
const upstreamTimeout = 5 * time.Second

// env is the emulated tenant, the portal and the baseline, each on its own
// loopback listener, as `go run . dev` wires the first two; with a Redis
// URL, also a second portal that keeps its sessions in that Redis.
type env struct {
	tenant         *auth0emu.Tenant
	nUsers         int
	tenantURL      string
	portalURL      string
	baselineURL    string
	redisPortalURL string // "" without Redis
	servers        []*http.Server
}

func startEnv(ctx context.Context, nUsers int, redisURL string) (*env, error) {
	nListeners := 3
	if redisURL != "" {
		nListeners = 4
	}
	lns, err := listenLoopback(nListeners)
	if err != nil {
		return nil, err
	}
	e := &env{
		nUsers:      nUsers,
		tenantURL:   "http://" + lns[0].Addr().String(),
		portalURL:   "http://" + lns[1].Addr().String(),
		baselineURL: "http://" + lns[2].Addr().String(),
	}
	if redisURL != "" {
		e.redisPortalURL = "http://" + lns[3].Addr().String()
	}
	handlers, err := e.build(ctx, nUsers, redisURL)
	if err != nil {
		closeAll(lns)
		return nil, err
	}
	for i, h := range handlers {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
		e.servers = append(e.servers, srv)
		go func() { _ = srv.Serve(lns[i]) }()
	}
	return e, nil
}

// build makes the tenant, the portal(s) and the baseline, in the order of
// the listeners.
func (e *env) build(ctx context.Context, nUsers int, redisURL string) ([]http.Handler, error) {
	var err error
	e.tenant, err = auth0emu.New(auth0emu.Options{BaseURL: e.tenantURL, Users: benchUsers(nUsers), MFATokenLifetime: benchTokenLifetime})
	if err != nil {
		return nil, err
	}
	portal, err := newPortal(ctx, e, e.portalURL, "")
	if err != nil {
		return nil, err
	}
	baseline, err := newBaseline(e.tenant, e.tenantURL)
	if err != nil {
		return nil, err
	}
	out := []http.Handler{e.tenant, portal, baseline}
	if redisURL != "" {
		redisPortal, err := newPortal(ctx, e, e.redisPortalURL, redisURL)
		if err != nil {
			return nil, err
		}
		out = append(out, redisPortal)
	}
	return out, nil
}

// newPortal builds the real portal at publicURL, as main does, through the
// wiring dev and the end-to-end tests share; a non-empty redisURL is its
// REDIS_URL. Its logs are formatted at info level, as in production, then
// discarded: the cost of logging is measured, the terminal is not.
func newPortal(ctx context.Context, e *env, publicURL, redisURL string) (http.Handler, error) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return emulated.Portal(ctx, e.tenant, publicURL, map[string]string{
		"UPSTREAM_TIMEOUT": upstreamTimeout.String(),
		// A load client is one user viewing thousands of pages a second.
		"VIEWS_PER_MINUTE": "1000000",
		"LOG_LEVEL":        "info",
		"REDIS_URL":        redisURL,
	}, app.Options{Logger: logger})
}

// benchUsers are n users who each have an authenticator app, a phone with
// SMS and voice, and a recovery code: four entries in /mfa/authenticators,
// three lines on the page.
// The list is handed to the tenant and not kept, so the memory figure does
// not carry a second copy of it.
func benchUsers(n int) []auth0emu.User {
	users := make([]auth0emu.User, n)
	for i := range users {
		users[i] = auth0emu.User{
			UserID:   fmt.Sprintf("auth0|bench%06d", i),
			Email:    benchEmail(i),
			Password: benchPassword,
			Name:     fmt.Sprintf("Bench User %d", i),
			Factors: []auth0emu.Factor{
				{Type: "totp", Name: "Authenticator app"},
				{Type: "phone", Number: fmt.Sprintf("+1415555%04d", i%10000), Channels: []string{"sms", "voice"}},
				{Type: "recovery-code"},
			},
		}
	}
	return users
}

// benchPassword is every bench user's password.
const benchPassword = "bench-demo-pass"

// benchEmail is bench user i's email address.
func benchEmail(i int) string { return fmt.Sprintf("bench%06d@example.com", i) }

func listenLoopback(n int) ([]net.Listener, error) {
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		_ = ln.Close()
	}
}

// close shuts the servers down, giving in-flight requests a moment.
func (e *env) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range e.servers {
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintln(os.Stderr, "bench: shutdown:", err)
		}
	}
}
