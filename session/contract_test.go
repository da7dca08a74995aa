package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mfaportal/internal/redistest"
	"mfaportal/kvstore"
)

// backend is one way of keeping sessions, as production wires it.
type backend struct {
	name string
	// state is the server-side state a portal process starts with.
	state func(t *testing.T, now func() time.Time) kvstore.Store
	// restart is the state after the process restarts: a Memory store is
	// gone with it; Redis is still there.
	restart func(old kvstore.Store, now func() time.Time) kvstore.Store
	records bool
}

func backends(t *testing.T) []backend {
	memory := func(_ *testing.T, now func() time.Time) kvstore.Store { return kvstore.NewMemory(now, 0) }
	memoryRestart := func(_ kvstore.Store, now func() time.Time) kvstore.Store { return kvstore.NewMemory(now, 0) }
	var srv *redistest.Server
	start := func() *redistest.Server {
		if srv == nil {
			srv = redistest.Start(t, "") // lives as long as the whole suite
		}
		return srv
	}
	return []backend{
		{name: "cookie", state: memory, restart: memoryRestart},
		{name: "memory", state: memory, restart: memoryRestart, records: true},
		{name: "redis", records: true,
			state: func(*testing.T, func() time.Time) kvstore.Store {
				srv := start()
				srv.Client.FlushAll(context.Background())
				return kvstore.NewRedis(srv.Client)
			},
			restart: func(old kvstore.Store, _ func() time.Time) kvstore.Store { return old },
		},
	}
}

var (
	keyA = []byte(strings.Repeat("k", 32))
	keyB = []byte(strings.Repeat("n", 32))
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// browser keeps cookies like one browser profile (one partition).
type browser struct{ cookies map[string]*http.Cookie }

func newBrowser() *browser { return &browser{cookies: map[string]*http.Cookie{}} }

func (b *browser) request() *http.Request {
	req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/", nil)
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	return req
}

func (b *browser) keep(rec *httptest.ResponseRecorder) {
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
}

func (b *browser) copy() *browser {
	c := newBrowser()
	for k, v := range b.cookies {
		c.cookies[k] = v
	}
	return c
}

func open(t *testing.T, kv kvstore.Store, b backend, now func() time.Time, keys ...[]byte) *Store {
	t.Helper()
	if len(keys) == 0 {
		keys = [][]byte{keyA}
	}
	s, err := New(Options{Keys: keys, KV: kv, Records: b.records, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signIn starts and saves a signed-in session of purpose p in br.
func signIn(t *testing.T, s *Store, br *browser, p Purpose, now time.Time) *Session {
	t.Helper()
	sess, err := s.Start(br.request(), p)
	if err != nil {
		t.Fatal(err)
	}
	sess.Sub = "auth0|" + strings.Repeat("9", 24)
	sess.Name = "Alice"
	sess.AccessToken = strings.Repeat("a", 1400)
	sess.TokenExpiry = now.Add(10 * time.Minute)
	sess.AuthTime = now
	rec := httptest.NewRecorder()
	if err := s.Save(rec, br.request(), sess); err != nil {
		t.Fatal(err)
	}
	br.keep(rec)
	return sess
}

func load(t *testing.T, s *Store, br *browser, p Purpose) *Session {
	t.Helper()
	sess, err := s.Load(br.request(), p)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestStoreContract(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { testStore(t, b) })
	}
}

func testStore(t *testing.T, b backend) {
	ctx := context.Background()
	clk := &clock{t: time.Now()}

	t.Run("round trip, cookie attributes, sealed", func(t *testing.T) {
		kv := b.state(t, clk.now)
		s := open(t, kv, b, clk.now)
		br := newBrowser()
		sess := signIn(t, s, br, TopLevel, clk.now())
		c := br.cookies[CookieTopLevel]
		if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" ||
			c.MaxAge != int(Lifetime/time.Second) || c.Partitioned {
			t.Fatalf("cookie = %+v", c)
		}
		if len(c.String()) >= 4096 {
			t.Errorf("cookie is %d bytes", len(c.String()))
		}
		got := load(t, s, br, TopLevel)
		if got == nil || got.Sub != sess.Sub || got.AccessToken != sess.AccessToken || got.CSRFToken != sess.CSRFToken ||
			got.ID != sess.ID || got.Family != sess.Family || !got.TokenExpiry.Equal(sess.TokenExpiry.Truncate(time.Second)) {
			t.Fatalf("loaded %+v", got)
		}
		if strings.Contains(c.Value, "aaaa") || strings.Contains(c.Value, "auth0") {
			t.Error("the cookie holds the session in clear")
		}
		if b.records && len(c.Value) > 100 {
			t.Errorf("a record's cookie is %d bytes; it should hold only an id", len(c.Value))
		}
	})

	t.Run("replicas, rotation, other keys, forgeries", func(t *testing.T) {
		kv := b.state(t, clk.now)
		s := open(t, kv, b, clk.now)
		br := newBrowser()
		signIn(t, s, br, TopLevel, clk.now())
		if load(t, open(t, kv, b, clk.now), br, TopLevel) == nil {
			t.Error("another store on the same state and keys does not load it")
		}
		if load(t, open(t, kv, b, clk.now, keyB, keyA), br, TopLevel) == nil {
			t.Error("rotated keys (new first, old kept) do not load it")
		}
		if load(t, open(t, kv, b, clk.now, keyB), br, TopLevel) != nil {
			t.Error("a store without the key loaded it")
		}
		forged := newBrowser()
		forged.cookies[CookieTopLevel] = &http.Cookie{Name: CookieTopLevel, Value: strings.Repeat("A", 43) + "." + strings.Repeat("B", 22)}
		if load(t, s, forged, TopLevel) != nil {
			t.Error("a made-up cookie loaded")
		}
	})

	t.Run("sign-out holds on every replica, after a restart, and against late saves", func(t *testing.T) {
		kv := b.state(t, clk.now)
		s, replica := open(t, kv, b, clk.now), open(t, kv, b, clk.now)
		br := newBrowser()
		sess := signIn(t, s, br, TopLevel, clk.now())
		copied := br.copy()
		rec := httptest.NewRecorder()
		if err := replica.End(rec, br.request(), load(t, replica, br, TopLevel)); err != nil {
			t.Fatal(err)
		}
		br.keep(rec)
		if _, ok := br.cookies[CookieTopLevel]; ok {
			t.Error("sign-out did not delete the cookie")
		}
		if load(t, s, copied, TopLevel) != nil || load(t, replica, copied, TopLevel) != nil {
			t.Error("a copy of the signed-out cookie still loads")
		}
		sess.Flash = "removed"
		if err := s.Save(httptest.NewRecorder(), copied.request(), sess); !errors.Is(err, ErrEnded) {
			t.Errorf("saving a signed-out session: %v, want ErrEnded", err)
		}
		if load(t, s, copied, TopLevel) != nil {
			t.Error("a late save brought the signed-out session back")
		}
		restarted := open(t, b.restart(kv, clk.now), b, clk.now)
		if load(t, restarted, copied, TopLevel) != nil {
			t.Error("the signed-out cookie works again after a restart with the same keys")
		}
	})

	t.Run("sign-in replaces the previous session", func(t *testing.T) {
		s := open(t, b.state(t, clk.now), b, clk.now)
		br := newBrowser()
		first := signIn(t, s, br, TopLevel, clk.now())
		old := br.copy()
		second := signIn(t, s, br, TopLevel, clk.now())
		if second.ID == first.ID || second.CSRFToken == first.CSRFToken || second.Family == first.Family {
			t.Error("sign-in kept the old id, CSRF token or family")
		}
		if load(t, s, old, TopLevel) != nil {
			t.Error("the session from before sign-in still loads")
		}
		if load(t, s, br, TopLevel) == nil {
			t.Error("the new session does not load")
		}
	})

	t.Run("top-level and embed sessions are never interchangeable", func(t *testing.T) {
		s := open(t, b.state(t, clk.now), b, clk.now)
		top, embed := newBrowser(), newBrowser()
		signIn(t, s, top, TopLevel, clk.now())
		signIn(t, s, embed, Embed, clk.now())
		if c := embed.cookies[CookieEmbed]; c == nil || c.SameSite != http.SameSiteNoneMode || !c.Partitioned || !c.Secure || !c.HttpOnly {
			t.Fatalf("embed cookie = %+v", c)
		}
		swapped := newBrowser()
		swapped.cookies[CookieTopLevel] = &http.Cookie{Name: CookieTopLevel, Value: embed.cookies[CookieEmbed].Value}
		swapped.cookies[CookieEmbed] = &http.Cookie{Name: CookieEmbed, Value: top.cookies[CookieTopLevel].Value}
		if load(t, s, swapped, TopLevel) != nil {
			t.Error("an embed session's value works as the top-level session")
		}
		if load(t, s, swapped, Embed) != nil {
			t.Error("a top-level session's value works as an embed session")
		}
	})

	t.Run("sign-out ends the whole family", func(t *testing.T) {
		kv := b.state(t, clk.now)
		s := open(t, kv, b, clk.now)
		for _, endTop := range []bool{true, false} {
			top := newBrowser()
			topSess := signIn(t, s, top, TopLevel, clk.now())
			frame := handoff(t, s, top, topSess)
			if load(t, s, frame, Embed) == nil {
				t.Fatal("the handed-off embed session does not load")
			}
			ender, other, p, q := top, frame, TopLevel, Embed
			if !endTop {
				ender, other, p, q = frame, top, Embed, TopLevel
			}
			if err := s.End(httptest.NewRecorder(), ender.request(), load(t, s, ender, p)); err != nil {
				t.Fatal(err)
			}
			if load(t, open(t, kv, b, clk.now), other, q) != nil {
				t.Errorf("signing out the %v session left the %v session of its family working", p, q)
			}
		}
	})

	t.Run("handoff codes", func(t *testing.T) {
		s := open(t, b.state(t, clk.now), b, clk.now)
		top := newBrowser()
		topSess := signIn(t, s, top, TopLevel, clk.now())

		frame := newBrowser()
		binding := openPre(t, s, frame)
		code, err := s.MintHandoff(ctx, binding, topSess)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.MintHandoff(ctx, binding, topSess); !errors.Is(err, ErrHandoffRefused) {
			t.Errorf("a second code for one pre-session: %v", err)
		}
		// Another partition (another pre-session cookie) cannot use it, and
		// trying spends it.
		thief := newBrowser()
		openPre(t, s, thief)
		if _, err := s.Handoff(httptest.NewRecorder(), thief.request(), code); !errors.Is(err, ErrHandoffRefused) {
			t.Errorf("code from another partition: %v", err)
		}
		if _, err := s.Handoff(httptest.NewRecorder(), frame.request(), code); !errors.Is(err, ErrHandoffRefused) {
			t.Errorf("a code spent by a wrong try still works: %v", err)
		}

		// Right partition: once; replayed with the same cookie: refused.
		binding = openPre(t, s, frame)
		code, _ = s.MintHandoff(ctx, binding, topSess)
		replay := frame.copy()
		if sess := redeem(t, s, frame, code); sess.Family != topSess.Family || sess.Sub != topSess.Sub || sess.ID == topSess.ID {
			t.Errorf("embed session %+v is not in the family of %+v", sess, topSess)
		}
		if _, err := s.Handoff(httptest.NewRecorder(), replay.request(), code); !errors.Is(err, ErrHandoffRefused) {
			t.Errorf("a replayed code: %v", err)
		}

		// Expired.
		binding = openPre(t, s, frame)
		code, _ = s.MintHandoff(ctx, binding, topSess)
		clk.advance(HandoffLifetime + time.Second)
		if _, err := s.Handoff(httptest.NewRecorder(), frame.request(), code); !errors.Is(err, ErrHandoffRefused) {
			t.Errorf("an expired code: %v", err)
		}

		// Minted, then the top-level session signs out: refused.
		top = newBrowser()
		topSess = signIn(t, s, top, TopLevel, clk.now())
		binding = openPre(t, s, frame)
		code, _ = s.MintHandoff(ctx, binding, topSess)
		s.End(httptest.NewRecorder(), top.request(), topSess)
		if _, err := s.Handoff(httptest.NewRecorder(), frame.request(), code); !errors.Is(err, ErrHandoffRefused) {
			t.Errorf("a code from a signed-out session: %v", err)
		}
	})

	t.Run("the login round trip is spent once, even when its cookie comes back", func(t *testing.T) {
		s := open(t, b.state(t, clk.now), b, clk.now)
		br := newBrowser()
		rec := httptest.NewRecorder()
		if err := s.SaveLogin(rec, &Login{State: "st", Nonce: "no", Verifier: "ve", ReturnPath: "/recovery-code"}); err != nil {
			t.Fatal(err)
		}
		br.keep(rec)
		if c := br.cookies[CookieLogin]; c == nil || c.SameSite != http.SameSiteLaxMode || !c.HttpOnly || !c.Secure || c.MaxAge != int(LoginLifetime/time.Second) {
			t.Fatalf("login cookie = %+v", c)
		}
		var got atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l, err := s.TakeLogin(httptest.NewRecorder(), br.request())
				if err == nil && l != nil && l.State == "st" && l.ReturnPath == "/recovery-code" {
					got.Add(1)
				}
			}()
		}
		wg.Wait()
		if got.Load() != 1 {
			t.Errorf("10 callbacks with one login cookie: %d accepted, want 1", got.Load())
		}
		rec = httptest.NewRecorder()
		s.SaveLogin(rec, &Login{State: "st2"})
		br.keep(rec)
		clk.advance(LoginLifetime + time.Minute)
		if l, _ := s.TakeLogin(httptest.NewRecorder(), br.request()); l != nil {
			t.Error("an expired round trip was accepted")
		}
	})

	t.Run("ten concurrent regenerations with one form: exactly one goes through", func(t *testing.T) {
		kv := b.state(t, clk.now)
		s := open(t, kv, b, clk.now)
		br := newBrowser()
		signIn(t, s, br, TopLevel, clk.now())
		form := br.copy() // the cookie as the form page left it
		nonce := load(t, s, br, TopLevel).RegenNonce
		var upstream atomic.Int32
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if regenerate(s, form.request(), nonce) {
					upstream.Add(1)
				}
			}()
		}
		wg.Wait()
		if upstream.Load() != 1 {
			t.Errorf("%d regenerations upstream, want exactly 1", upstream.Load())
		}
		// The old cookie with the old nonce, replayed later, and after a
		// restart with the same keys: refused.
		if regenerate(s, form.request(), nonce) {
			t.Error("the old cookie and nonce regenerated again")
		}
		if regenerate(open(t, b.restart(kv, clk.now), b, clk.now), form.request(), nonce) {
			t.Error("the old cookie and nonce regenerated again after a restart")
		}
	})

	t.Run("a display name and a message of markup never overflow the cookie", func(t *testing.T) {
		s := open(t, b.state(t, clk.now), b, clk.now)
		br := newBrowser()
		sess, _ := s.Start(br.request(), TopLevel)
		sess.Sub = "auth0|" + strings.Repeat("9", 24)
		sess.AccessToken = strings.Repeat("a", 1400)
		sess.TokenExpiry = clk.now().Add(10 * time.Minute)
		sess.Name = strings.Repeat("<", 222)
		sess.Flash, sess.FlashArg = "removed", strings.Repeat("<\u2028", 220)
		rec := httptest.NewRecorder()
		if err := s.Save(rec, br.request(), sess); err != nil {
			t.Fatalf("saving: %v", err)
		}
		br.keep(rec)
		if n := len(br.cookies[CookieTopLevel].String()); n >= 4096 {
			t.Errorf("cookie %d bytes", n)
		}
		got := load(t, s, br, TopLevel)
		if got == nil || !strings.HasPrefix(got.Name, "<<<") || len([]rune(got.Name)) != MaxNameRunes {
			t.Errorf("name loaded as %q, want %d runes of it", got.Name, MaxNameRunes)
		}
	})
	t.Run("an enrolment under way belongs to its session alone and lapses", func(t *testing.T) {
		kv := b.state(t, clk.now)
		s := open(t, kv, b, clk.now)
		top := signIn(t, s, newBrowser(), TopLevel, clk.now())
		other := signIn(t, s, newBrowser(), TopLevel, clk.now())
		frame := &Session{ID: top.ID, Purpose: Embed} // the same id, the other purpose
		e := &Enrolment{Channel: "otp", Secret: strings.Repeat("S", 32), BarcodeURI: "otpauth://totp/T:c%40x?secret=S",
			RecoveryCode: strings.Repeat("R", 24), Nonce: NewToken(16), Started: 1,
			Earlier: []string{"totp|dev_before"}, EarlierKnown: true}
		ctx := t.Context()
		if err := s.PutEnrolment(ctx, top, e); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Enrolment(ctx, top); err != nil || got == nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("read back %+v, %v", got, err)
		}
		// Another replica with the same keys and store reads it too.
		if got, _ := open(t, kv, b, clk.now).Enrolment(ctx, top); b.records && (got == nil || !reflect.DeepEqual(got, e)) {
			t.Errorf("another replica reads %+v", got)
		}
		for name, sess := range map[string]*Session{"another session": other, "an embed session": frame} {
			if got, _ := s.Enrolment(ctx, sess); got != nil {
				t.Errorf("%s sees the enrolment", name)
			}
		}
		if err := s.PutEnrolment(ctx, top, &Enrolment{Channel: "auth0", OOBCode: strings.Repeat("o", MaxEnrolmentBytes+1)}); err == nil {
			t.Error("an oversized enrolment was kept")
		}
		if err := s.DropEnrolment(ctx, top); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Enrolment(ctx, top); got != nil {
			t.Error("dropped enrolment still there")
		}
		_ = s.PutEnrolment(ctx, top, e)
		clk.advance(EnrolmentLifetime + time.Second)
		if got, _ := s.Enrolment(ctx, top); got != nil {
			t.Error("the enrolment outlived its lifetime")
		}
	})
}

// regenerate is what the regeneration handler does with the session store:
// load, check the form's nonce against the session's, spend it, save the
// next one. It reports whether it would call Auth0.
func regenerate(s *Store, req *http.Request, formNonce string) bool {
	sess, err := s.Load(req, TopLevel)
	if err != nil || sess == nil || sess.RegenNonce != formNonce {
		return false
	}
	if err := s.Spend(req.Context(), formNonce); err != nil {
		return false
	}
	sess.RegenNonce = NewToken(16)
	return s.Save(httptest.NewRecorder(), req, sess) == nil
}

func openPre(t *testing.T, s *Store, frame *browser) string {
	t.Helper()
	rec := httptest.NewRecorder()
	binding, err := s.OpenPreSession(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	frame.keep(rec)
	if c := frame.cookies[CookiePreSession]; c == nil || !c.Partitioned || c.SameSite != http.SameSiteNoneMode {
		t.Fatalf("pre-session cookie = %+v", c)
	}
	if open, _ := s.PreSessionOpen(context.Background(), binding); !open {
		t.Fatal("the pre-session is not open")
	}
	return binding
}

func redeem(t *testing.T, s *Store, frame *browser, code string) *Session {
	t.Helper()
	rec := httptest.NewRecorder()
	sess, err := s.Handoff(rec, frame.request(), code)
	if err != nil {
		t.Fatalf("handoff: %v", err)
	}
	frame.keep(rec)
	return sess
}

// handoff gives a new frame an embed session from top's session.
func handoff(t *testing.T, s *Store, top *browser, from *Session) *browser {
	t.Helper()
	frame := newBrowser()
	code, err := s.MintHandoff(context.Background(), openPre(t, s, frame), from)
	if err != nil {
		t.Fatal(err)
	}
	redeem(t, s, frame, code)
	return frame
}

func TestStoreDownIsAnError(t *testing.T) {
	s, _ := New(Options{Keys: [][]byte{keyA}, KV: downKV{}, Records: true})
	br := newBrowser()
	br.cookies[CookieTopLevel] = &http.Cookie{Name: CookieTopLevel, Value: NewToken(32) + "." + NewToken(16)}
	if _, err := s.Load(br.request(), TopLevel); !errors.Is(err, kvstore.ErrUnavailable) {
		t.Errorf("load: %v, want kvstore.ErrUnavailable", err)
	}
	if err := s.Spend(context.Background(), "x"); !errors.Is(err, kvstore.ErrUnavailable) {
		t.Errorf("spend: %v", err)
	}
}

// downKV is a key-value store that never answers.
type downKV struct{}

func (downKV) Get(context.Context, ...string) ([][]byte, error) { return nil, kvstore.ErrUnavailable }
func (downKV) Set(context.Context, string, []byte, time.Duration, kvstore.SetMode) (bool, error) {
	return false, kvstore.ErrUnavailable
}
func (downKV) Take(context.Context, string) ([]byte, error) { return nil, kvstore.ErrUnavailable }
func (downKV) Delete(context.Context, ...string) error      { return kvstore.ErrUnavailable }
func (downKV) Count(context.Context, string, time.Duration) (int64, time.Duration, error) {
	return 0, 0, kvstore.ErrUnavailable
}
func (downKV) Epoch() string              { return "" }
func (downKV) Ping(context.Context) error { return kvstore.ErrUnavailable }
