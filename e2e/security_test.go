package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"mfaportal/auth0emu"
)

// TestCSRF: every state change needs the session's own token and a
// same-origin request; a refused request changes nothing.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	mallory := e.newBrowser()
	bobPage := mallory.signIn("/recovery-code", auth0emu.SignIn{Email: "bob@example.com", Password: "bob-demo-pass", MFAMethod: "otp"})
	othersToken := csrf(t, bobPage)

	app := e.idOf(alice, "totp|dev_")
	deletePath := "/factors/" + url.PathEscape(app) + "/delete"
	form := b.get("/recovery-code")
	nonce := field(t, form, "regen_nonce")

	tests := []struct {
		name   string
		path   string
		form   url.Values
		header map[string]string
	}{
		{"delete without token", deletePath, url.Values{}, nil},
		{"delete with a wrong token", deletePath, url.Values{"csrf_token": {"x" + csrf(t, form)}}, nil},
		{"delete with another session's token", deletePath, url.Values{"csrf_token": {othersToken}}, nil},
		{"regenerate without token", "/recovery-code", url.Values{"regen_nonce": {nonce}}, nil},
		{"regenerate with another session's token", "/recovery-code", url.Values{"csrf_token": {othersToken}, "regen_nonce": {nonce}}, nil},
		{"cross-site delete with the right token", deletePath, url.Values{"csrf_token": {csrf(t, form)}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"cross-site regenerate with the right token", "/recovery-code", url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {nonce}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"cross-origin (Origin only) with the right token", deletePath, url.Values{"csrf_token": {csrf(t, form)}}, map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := suites.security.begin(t)
			before, code := e.ids(alice), e.tenant.RecoveryCode(alice)
			req := b.postRequest(tt.path, tt.form)
			for k, v := range tt.header {
				if v == "" {
					req.Header.Del(k)
				} else {
					req.Header.Set(k, v)
				}
			}
			p := b.doOnce(req)
			if p.status != http.StatusForbidden {
				t.Errorf("status %d, want 403", p.status)
			}
			if !strings.Contains(p.body, "Nothing was changed") {
				t.Error("the page does not say that nothing changed")
			}
			o.breached = !slices.Equal(before, e.ids(alice)) || code != e.tenant.RecoveryCode(alice)
			if o.breached {
				t.Error("the refused request changed the tenant")
			}
			o.held = p.status == http.StatusForbidden
		})
	}
}

func TestGETNeverChangesState(t *testing.T) {
	o := suites.security.begin(t)
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	before, code := e.ids(alice), e.tenant.RecoveryCode(alice)
	for _, path := range []string{"/logout", "/factors/" + url.PathEscape(e.idOf(alice, "totp|dev_")) + "/delete", "/recovery-code"} {
		b.get(path)
	}
	if p := b.getOnce("/logout"); p.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %d, want 405", p.status)
	}
	o.breached = !slices.Equal(before, e.ids(alice)) || code != e.tenant.RecoveryCode(alice)
	if o.breached {
		t.Error("a GET changed the tenant")
	}
	o.held = true
	if p := b.getOnce("/factors"); p.status != http.StatusOK {
		t.Errorf("GET /logout signed the user out: /factors is %d", p.status)
	}
}

// TestActsOnlyOnTheSessionsUser: ids and user ids smuggled into a request
// never reach another user.
func TestActsOnlyOnTheSessionsUser(t *testing.T) {
	o := suites.security.begin(t)
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	bobBefore, bobCode := e.ids(bob), e.tenant.RecoveryCode(bob)

	bobApp := e.idOf(bob, "totp|")
	list := b.get("/factors")
	p := b.postOnce("/factors/"+url.PathEscape(bobApp)+"/delete", url.Values{"csrf_token": {csrf(t, list)}})
	if p.status != http.StatusSeeOther && p.status != http.StatusNotFound {
		t.Errorf("deleting bob's id as alice: %d", p.status)
	}
	if c := b.getOnce("/factors/" + url.PathEscape(bobApp) + "/delete"); c.status != http.StatusNotFound {
		t.Errorf("confirmation for bob's id as alice: %d, want 404", c.status)
	}

	form := b.get("/recovery-code")
	aliceCode := e.tenant.RecoveryCode(alice)
	req := b.postRequest("/recovery-code?user_id="+url.QueryEscape(bob)+"&sub="+url.QueryEscape(bob), url.Values{
		"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")},
		"user_id": {bob}, "sub": {bob}, "id": {bob},
	})
	req.Header.Set("X-User-Id", bob)
	req.Header.Set("X-Auth0-Sub", bob)
	if p := b.do(req); p.status != http.StatusOK {
		t.Fatalf("regenerate: %d", p.status)
	}
	if e.tenant.RecoveryCode(alice) == aliceCode {
		t.Error("alice's code did not change")
	}
	o.breached = !slices.Equal(bobBefore, e.ids(bob)) || bobCode != e.tenant.RecoveryCode(bob)
	if o.breached {
		t.Error("bob was changed by alice's requests")
	}
	o.held = true
}

func TestCookies(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	var setCookies []string
	record := func(p page) { setCookies = append(setCookies, p.header.Values("Set-Cookie")...) }

	login := b.getOnce("/login")
	record(login)
	back, err := auth0emu.CompleteSignIn(t.Context(), b.c, login.header.Get("Location"), auth0emu.SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "otp"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, back.String(), nil)
	cb := b.doOnce(req)
	record(cb)
	list := b.get("/factors")
	record(b.postOnce("/logout", url.Values{"csrf_token": {csrf(t, list)}}))

	if len(setCookies) < 3 {
		t.Fatalf("saw %d Set-Cookie headers, want at least 3", len(setCookies))
	}
	for _, c := range setCookies {
		for _, want := range []string{"__Host-", "Path=/", "Secure", "HttpOnly", "SameSite="} {
			if !strings.Contains(c, want) {
				t.Errorf("Set-Cookie %q lacks %s", c[:min(len(c), 40)], want)
			}
		}
		if strings.Contains(strings.ToLower(c), "domain=") {
			t.Errorf("Set-Cookie %q sets a Domain", c[:min(len(c), 40)])
		}
		if len(c) > 4096 {
			t.Errorf("a cookie is %d bytes", len(c))
		}
	}
}

// TestSessionFixation: a cookie planted before sign-in (here: another
// user's real session) is neither kept nor left usable.
func TestSessionFixation(t *testing.T) {
	o := suites.security.begin(t)
	e := newEnv(t)
	attacker := e.newBrowser()
	attacker.signIn("/factors", auth0emu.SignIn{Email: "bob@example.com", Password: "bob-demo-pass", MFAMethod: "otp"})
	u, _ := url.Parse(e.portalURL)
	var planted []*http.Cookie
	for _, c := range attacker.jar.Cookies(u) {
		if c.Name == "__Host-mfaportal" {
			planted = append(planted, c)
		}
	}
	if len(planted) != 1 {
		t.Fatalf("attacker has %d portal session cookies", len(planted))
	}

	victim := e.newBrowser()
	victim.jar.SetCookies(u, planted)
	p := victim.signInAlice("/login?return=/factors")
	if !strings.Contains(p.body, "Alice Example") {
		t.Fatal("victim is not signed in as alice")
	}
	for _, c := range victim.jar.Cookies(u) {
		if c.Name == planted[0].Name && c.Value == planted[0].Value {
			t.Error("the planted cookie was kept")
		}
	}
	// The session the planted cookie held is gone too.
	replay := e.newBrowser()
	replay.jar.SetCookies(u, planted)
	if r := replay.getOnce("/factors"); r.status != http.StatusFound {
		o.breached = true
		t.Errorf("the planted session still works after the victim's sign-in: %d", r.status)
	}
	o.held = true
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	for _, path := range []string{"/factors", "/recovery-code", "/signed-out", "/no-such-page", "/factors/bad%20id/delete"} {
		p := b.get(path)
		h := p.header
		csp := h.Get("Content-Security-Policy")
		if csp == "" || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		for name, want := range map[string]string{
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", path, name, got, want)
			}
		}
	}
	// Pages are only ever our own markup: no inline script or style to allow.
	p := b.get("/factors")
	if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") || strings.Contains(p.body, "<style") {
		t.Error("/factors has inline script or style")
	}
}

func TestFrameAncestorsFromConfiguration(t *testing.T) {
	e := newEnv(t, envOptions{extraEnv: map[string]string{"FRAME_ANCESTORS": "https://account.example.com"}})
	// Only the embed pages may be framed, and only by the configured origin.
	p := e.newBrowser().getOnce("/embed/signed-out")
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors https://account.example.com") {
		t.Errorf("/embed/signed-out: CSP %q does not list the configured ancestor", csp)
	}
	if xfo := p.header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("/embed/signed-out: X-Frame-Options %q would forbid the configured framing", xfo)
	}
	// The portal's own pages stay unframeable.
	p = e.newBrowser().getOnce("/signed-out")
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || p.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("/signed-out: CSP %q, X-Frame-Options %q: want unframeable", csp, p.header.Get("X-Frame-Options"))
	}
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	token := csrf(t, b.get("/factors"))
	before := e.ids(alice)
	tests := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"an id of the wrong shape", mustGet(e, "/factors/..%2F..%2Fetc/delete"), http.StatusBadRequest},
		{"an id with markup", mustGet(e, "/factors/%3Cscript%3E/delete"), http.StatusBadRequest},
		{"bad UTF-8 in the id", mustGet(e, "/factors/totp%7C%ff%fe/delete"), http.StatusBadRequest},
		{"an over-long id", mustGet(e, "/factors/totp%7C"+strings.Repeat("a", 500)+"/delete"), http.StatusBadRequest},
		{"a huge form", b.postRequest("/factors/"+url.PathEscape(e.idOf(alice, "totp|dev_"))+"/delete", url.Values{"csrf_token": {token}, "pad": {strings.Repeat("x", 200<<10)}}), http.StatusRequestEntityTooLarge},
		{"a malformed form", func() *http.Request {
			r := b.postRequest("/factors/"+url.PathEscape(e.idOf(alice, "totp|dev_"))+"/delete", nil)
			r.Body = http.NoBody
			r.Header.Set("Content-Type", "multipart/form-data; boundary=")
			return r
		}(), http.StatusForbidden},
		{"an unknown page", mustGet(e, "/admin"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := suites.security.begin(t)
			p := b.doOnce(tt.req)
			o.held = p.status == tt.status
			if p.status != tt.status {
				t.Errorf("status %d, want %d", p.status, tt.status)
			}
			if !strings.Contains(p.body, `data-testid="error-heading"`) || !strings.Contains(p.body, `data-testid="request-id"`) {
				t.Error("no friendly error page with a request id")
			}
			if strings.Contains(p.body, "goroutine") || strings.Contains(p.body, "mfaportal/") {
				t.Error("the error page leaks internals")
			}
		})
	}
	if !slices.Equal(before, e.ids(alice)) {
		t.Error("bad input changed the tenant")
	}
}

func mustGet(e *env, path string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, e.portalURL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

func TestCallbackRefusesForgedRoundTrips(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	login := b.getOnce("/login")
	back, err := auth0emu.CompleteSignIn(t.Context(), b.c, login.header.Get("Location"), auth0emu.SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "otp"})
	if err != nil {
		t.Fatal(err)
	}
	q := back.Query()
	wrongState := *back
	wrongState.RawQuery = url.Values{"code": {q.Get("code")}, "state": {"forged"}}.Encode()

	tests := []struct {
		name string
		url  string
	}{
		{"wrong state", wrongState.String()},
		{"replayed callback after the round trip was used", back.String()},
		{"missing code", e.portalURL + "/callback?state=" + url.QueryEscape(q.Get("state"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := suites.security.begin(t)
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			p := b.doOnce(req)
			if p.status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", p.status)
			}
			if f := b.getOnce("/factors"); f.status != http.StatusFound {
				o.breached = true
				t.Errorf("a session exists after a refused callback: /factors is %d", f.status)
			}
			o.held = p.status == http.StatusBadRequest
		})
	}
}

func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	list := b.signInAlice("/factors?login_hint=alice@example.com")
	form := b.get("/recovery-code")
	b.post("/recovery-code", url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")}})
	b.post("/factors/"+url.PathEscape(e.idOf(alice, "push|"))+"/delete", url.Values{"csrf_token": {csrf(t, list)}})
	b.post("/logout", url.Values{"csrf_token": {csrf(t, list)}})

	logs := e.logs.String()
	if !strings.Contains(logs, `"event":"recovery_code_regenerated"`) || !strings.Contains(logs, `"event":"factor_removed"`) {
		t.Fatal("the actions were not logged at all")
	}
	for _, secret := range []string{
		e.tenant.RecoveryCode(alice), auth0emu.DemoAliceRecoveryCode,
		e.tenant.WebClient().Secret, e.tenant.M2MClient().Secret,
		"alice-demo-pass", "alice@example.com", "alice.backup@example.com", "+14155559167", "4155559167",
		"eyJ", // any JWT: access, ID or M2M token
		csrf(t, list),
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}
