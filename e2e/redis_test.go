package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"mfaportal/app"
	"mfaportal/auth0emu"
	"mfaportal/emulated"
	"mfaportal/internal/redistest"
)

// redisPassword guards the test's redis-server, so the test can also check
// that REDIS_URL's password never reaches a log.
const redisPassword = "e2e-redis-pass-7f3a"

// startRedisServer runs a throw-away redis-server that requires
// redisPassword; it skips locally without one, and fails under CI=true.
func startRedisServer(t *testing.T) *redistest.Server { return redistest.Start(t, redisPassword) }

// sessionKeys counts the portal's session records in Redis.
func sessionKeys(s *redistest.Server) int { return len(s.Keys("mfaportal:session:*")) }

// newReplicaEnvs is newEnv with two portals, like two replicas behind a load
// balancer: one tenant, one Redis, the same session keys. Both envs share
// the tenant, the clock and the log buffer; they differ in portalURL.
func newReplicaEnvs(t *testing.T, redisURL string) (*env, *env) {
	t.Helper()
	clock := &testClock{t: time.Now()}
	tenantLn := listen(t)
	tenantURL := "http://" + tenantLn.Addr().String()
	tenant, err := auth0emu.New(auth0emu.Options{BaseURL: tenantURL, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tenantSrv := &httptest.Server{Listener: tenantLn, Config: &http.Server{Handler: tenant}}
	tenantSrv.Start()
	t.Cleanup(tenantSrv.Close)

	key := emulated.NewSessionKey()
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	replica := func() *env {
		ln := listen(t)
		portalURL := "http://" + ln.Addr().String()
		portal, err := emulated.Portal(context.Background(), tenant, portalURL, map[string]string{
			"SESSION_KEYS":     key,
			"UPSTREAM_TIMEOUT": "3s",
			"LOG_LEVEL":        "debug",
			"REDIS_URL":        redisURL,
			"VIEWS_PER_MINUTE": "1000000",
		}, app.Options{Logger: logger, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: portal}}
		srv.Start()
		t.Cleanup(srv.Close)
		return &env{t: t, tenant: tenant, tenantURL: tenantURL, portalURL: portalURL, clock: clock, logs: logs}
	}
	return replica(), replica()
}

// sameJar makes b send and keep the cookies of other, as one browser does
// whichever replica the load balancer picks (cookies ignore the port).
func sameJar(b, other *browser) *browser {
	b.jar = other.jar
	b.c.Jar = other.jar
	return b
}

func TestReplicasShareSessionsAndLimitsThroughRedis(t *testing.T) {
	rs := startRedisServer(t)
	envA, envB := newReplicaEnvs(t, rs.URL())
	a := envA.newBrowser()
	b := sameJar(envB.newBrowser(), a)

	t.Run("signed in on one replica, continue on the other", func(t *testing.T) {
		p := a.signInAlice("/factors")
		if p.status != http.StatusOK || p.url.Path != "/factors" {
			t.Fatalf("sign-in on A: %d %s", p.status, p.url)
		}
		cookieLen := -1
		for _, c := range a.jar.Cookies(p.url) {
			if c.Name == "__Host-mfaportal" {
				cookieLen = len(c.Value)
			}
		}
		if cookieLen < 0 || cookieLen >= 200 {
			t.Errorf("session cookie value is %d bytes (-1: none); with Redis it should hold only an id, under 200", cookieLen)
		}
		if n := sessionKeys(rs); n != 1 {
			t.Errorf("%d session keys in Redis, want 1", n)
		}
		q := b.get("/factors")
		if q.status != http.StatusOK || q.url.Path != "/factors" || !strings.Contains(q.body, `data-testid="factor-`) {
			t.Fatalf("GET /factors on B with A's cookie: %d %s", q.status, q.url)
		}
	})

	t.Run("a regeneration limit reached through one replica holds on the other", func(t *testing.T) {
		regenerate := func(br *browser) page {
			form := br.get("/recovery-code")
			return br.post("/recovery-code", url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")}})
		}
		for i := 1; i <= 3; i++ {
			if p := regenerate(a); p.status != http.StatusOK {
				t.Fatalf("regeneration %d on A: %d", i, p.status)
			}
		}
		code := envA.tenant.RecoveryCode(alice)
		p := regenerate(b)
		if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Please wait before trying again") || p.header.Get("Retry-After") == "" {
			t.Fatalf("4th regeneration on B: %d, want 429 \"Please wait before trying again\" with Retry-After", p.status)
		}
		if envA.tenant.RecoveryCode(alice) != code {
			t.Error("the refused regeneration changed the recovery code")
		}
	})

	t.Run("signed out on one replica, refused on the other", func(t *testing.T) {
		list := b.get("/factors")
		copied := b.jar.Cookies(list.url)
		before := sessionKeys(rs)
		out := b.postOnce("/logout", url.Values{"csrf_token": {csrf(t, list)}})
		if out.status != http.StatusSeeOther {
			t.Fatalf("logout on B: %d", out.status)
		}
		if after := sessionKeys(rs); after != before-1 {
			t.Errorf("session keys %d → %d after sign-out, want one fewer", before, after)
		}
		replay := envA.newBrowser()
		replay.jar.SetCookies(list.url, copied)
		p := replay.getOnce("/factors")
		if p.status != http.StatusFound || !strings.HasPrefix(p.header.Get("Location"), "/login") {
			t.Errorf("A still accepts the cookie signed out on B: %d %s", p.status, p.header.Get("Location"))
		}
	})

	t.Run("Redis down: a clear 503 page; back up: works again", func(t *testing.T) {
		if p := a.signInAlice("/factors"); p.status != http.StatusOK {
			t.Fatalf("sign-in on A: %d", p.status)
		}
		rs.Stop()
		for _, br := range []*browser{a, b} {
			p := br.getOnce("/factors")
			if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "temporarily unavailable") {
				t.Errorf("GET /factors on %s with Redis down: %d, want 503 \"temporarily unavailable\"", br.e.portalURL, p.status)
			}
		}
		form := a.get("/recovery-code")
		if form.status != http.StatusServiceUnavailable {
			t.Errorf("GET /recovery-code with Redis down: %d, want 503", form.status)
		}

		rs.Begin()
		// Without persistence the sessions went with the restart: sign in
		// again. The portal's client redials by itself, within a second or two.
		deadline := time.Now().Add(10 * time.Second)
		for a.getOnce("/factors").status == http.StatusServiceUnavailable {
			if time.Now().After(deadline) {
				t.Fatal("the portal still answers 503 10s after Redis came back")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if p := a.signInAlice("/factors"); p.status != http.StatusOK || p.url.Path != "/factors" {
			t.Fatalf("sign-in after Redis came back: %d %s", p.status, p.url)
		}
		if p := b.get("/factors"); p.status != http.StatusOK || p.url.Path != "/factors" {
			t.Errorf("B after Redis came back: %d %s", p.status, p.url)
		}
	})

	// go-redis's redials while Redis was down went to the portal's JSON log
	// (one process-wide logger: the last portal wired gets them), not to
	// bare stderr.
	if !strings.Contains(envA.logs.String()+envB.logs.String(), `"msg":"redis client"`) {
		t.Error("no redis client line in the portals' logs while Redis was down")
	}
	logs := envA.logs.String() + envB.logs.String()
	if strings.Contains(logs, redisPassword) {
		t.Error("the Redis password is in the logs")
	}
	if strings.Contains(logs, "panic") {
		t.Error("a handler panicked")
	}
}
