package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"mfaportal/auth0emu"
	"mfaportal/emulated"
)

// benchTokenLifetime replaces Auth0's 600 s /mfa/ token lifetime in the
// emulator so a long -duration cannot expire the sessions mid-run; it changes
// nothing the benchmark measures.
const benchTokenLifetime = 2 * time.Hour

// upstreamTimeout is the portal's and the baseline's bound on one Auth0 call.
const upstreamTimeout = 5 * time.Second

// env is the emulated tenant, served from the bench's own process (with the
// load client), and each side of the comparison as its own process: the
// portal, the portal keeping its sessions in Redis, the oauth2-proxy peer
// and its app, the baseline.
type env struct {
	tenant      *auth0emu.Tenant
	tenantURL   string
	tenantSrv   *http.Server
	portal      *process
	redisPortal *process // nil without Redis
	baseline    *process
	peerProxy   *process // nil when the peer is off
	peerApp     *process
	floor       *process          // the portal's floor (floor.go), nil when off
	portalVars  map[string]string // the cookie portal's configuration
	portalURL   string
	dir         string
}

// envPlan says what to start.
type envPlan struct {
	users    int
	redisURL string
	peer     string // the oauth2-proxy binary, "" for none
}

func startEnv(ctx context.Context, plan envPlan) (_ *env, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &env{tenantURL: "http://" + ln.Addr().String()}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if e.dir, err = os.MkdirTemp("", "mfaportal-bench-"); err != nil {
		return nil, err
	}
	e.tenant, err = auth0emu.New(auth0emu.Options{BaseURL: e.tenantURL, Users: benchUsers(plan.users), MFATokenLifetime: benchTokenLifetime})
	if err != nil {
		ln.Close()
		return nil, err
	}
	e.tenantSrv = &http.Server{Handler: e.tenant, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = e.tenantSrv.Serve(ln) }()

	if e.portal, err = e.startPortal(ctx, "portal", ""); err != nil {
		return nil, err
	}
	e.portalURL = e.portal.url
	if plan.redisURL != "" {
		if e.redisPortal, err = e.startPortal(ctx, "portal (Redis)", plan.redisURL); err != nil {
			return nil, err
		}
	}
	token, err := e.tenant.MintAccessToken("auth0|bench000000", e.tenant.MFAAudience(), []string{"read:authenticators"}, benchTokenLifetime)
	if err != nil {
		return nil, err
	}
	if e.baseline, err = startChild(ctx, "baseline", childBaseline, "", map[string]string{
		"BENCH_UPSTREAM": e.tenantURL + "/mfa/authenticators", "BENCH_TOKEN": token}); err != nil {
		return nil, err
	}
	if plan.peer != "" {
		if e.peerProxy, e.peerApp, err = startPeer(ctx, e.tenant, e.tenantURL, plan.peer, e.dir); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// startPortal starts the real portal as its own process, configured as
// emulated.Config configures every portal on an emulated tenant; a
// non-empty redisURL is its REDIS_URL.
func (e *env) startPortal(ctx context.Context, name, redisURL string) (*process, error) {
	addr, err := reserveAddr()
	if err != nil {
		return nil, err
	}
	vars := emulated.Env(e.tenant, "http://"+addr, map[string]string{
		"UPSTREAM_TIMEOUT": upstreamTimeout.String(),
		// A load client is one user viewing thousands of pages a second.
		"VIEWS_PER_MINUTE": "1000000",
		"LOG_LEVEL":        "info",
		"REDIS_URL":        redisURL,
	})
	if redisURL == "" {
		e.portalVars = vars
	}
	return startChild(ctx, name, childPortal, addr, vars)
}

// processes are every side's processes, for the per-process figures.
func (e *env) processes() []*process {
	var out []*process
	for _, p := range []*process{e.portal, e.redisPortal, e.peerProxy, e.peerApp, e.floor, e.baseline} {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// benchUsers are n users who each have an authenticator app, a phone with
// SMS and voice, and a recovery code: four entries in /mfa/authenticators,
// three lines on the page.
// The list is handed to the tenant and not kept.
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

// close stops every process and the tenant.
func (e *env) close() {
	for _, p := range e.processes() {
		p.stop()
	}
	if e.tenantSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.tenantSrv.Shutdown(ctx)
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}
