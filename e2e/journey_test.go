package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"mfaportal/auth0emu"
)

// TestJourney walks the whole product as alice would, over HTTP, against the
// emulated tenant: sign in with MFA, list, remove push (its OTP twin goes
// too), remove the phone (SMS and voice), be refused removing the verified
// email, regenerate the recovery code, sign out.
func TestJourney(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()

	list := b.signInAlice("/factors")
	if list.status != http.StatusOK || list.url.Path != "/factors" {
		t.Fatalf("after sign-in: %d %s, want 200 /factors", list.status, list.url)
	}
	for _, want := range []string{
		"Authenticator app",
		"Guardian app (push notifications and one-time codes)",
		"Phone •••\u00a09167 (text and voice)",
		"Email alic•••@exam•••",
		"Recovery code",
		"Alice Example",
		"Secure session:",
	} {
		if !strings.Contains(list.body, want) {
			t.Errorf("/factors does not show %q", want)
		}
	}
	if n := strings.Count(list.body, `class="factor"`); n != 8 {
		t.Errorf("/factors shows %d factors, want 8 (app, guardian, phone, 2 emails, security key, passkey, recovery; inactive hidden)", n)
	}
	if strings.Contains(list.body, "Old phone") {
		t.Error("the inactive authenticator is shown")
	}

	t.Run("remove push removes its OTP twin", func(t *testing.T) {
		push := e.idOf(alice, "push|")
		twin := e.tenant.MemberIDs(alice, push)[1]
		confirm := b.get("/factors/" + url.PathEscape(push) + "/delete")
		for _, want := range []string{"Push notifications from the Guardian app", "One-time codes from the same Guardian app"} {
			if !strings.Contains(confirm.body, want) {
				t.Errorf("confirmation does not name %q", want)
			}
		}
		done := b.post("/factors/"+url.PathEscape(push)+"/delete", url.Values{"csrf_token": {csrf(t, confirm)}})
		if done.url.Path != "/factors" || !strings.Contains(done.body, "Removed: Guardian app") {
			t.Fatalf("after removing: %d %s, want /factors with a success message", done.status, done.url)
		}
		if ids := e.ids(alice); slices.Contains(ids, push) || slices.Contains(ids, twin) {
			t.Errorf("tenant still has %v", ids)
		}
		if strings.Contains(done.body, `data-testid="factor-guardian"`) {
			t.Error("the list still shows the Guardian app")
		}
	})

	t.Run("remove phone removes SMS and voice", func(t *testing.T) {
		sms := e.idOf(alice, "sms|")
		confirm := b.get("/factors/" + url.PathEscape(sms) + "/delete")
		for _, want := range []string{"Text messages to •••\u00a09167", "Voice calls to •••\u00a09167"} {
			if !strings.Contains(confirm.body, want) {
				t.Errorf("confirmation does not name %q", want)
			}
		}
		b.post("/factors/"+url.PathEscape(sms)+"/delete", url.Values{"csrf_token": {csrf(t, confirm)}})
		for _, id := range e.ids(alice) {
			if strings.HasPrefix(id, "sms|") || strings.HasPrefix(id, "voice|") {
				t.Errorf("tenant still has %s", id)
			}
		}
	})

	t.Run("verified email and recovery code cannot be removed", func(t *testing.T) {
		list := b.get("/factors")
		token := csrf(t, list)
		for _, id := range []string{e.tenant.MethodID(alice, "email-verification"), e.idOf(alice, "recovery-code|")} {
			if strings.Contains(list.body, "/factors/"+url.PathEscape(id)+"/delete") {
				t.Errorf("/factors offers to remove %s", id)
			}
			before := e.ids(alice)
			forged := b.post("/factors/"+url.PathEscape(id)+"/delete", url.Values{"csrf_token": {token}})
			if forged.status != http.StatusForbidden || !strings.Contains(forged.body, "Nothing was changed") {
				t.Errorf("forged removal of %s: %d, want 403 with a clear message", id, forged.status)
			}
			if after := e.ids(alice); !slices.Equal(before, after) {
				t.Errorf("forged removal of %s changed the tenant: %v -> %v", id, before, after)
			}
		}
	})

	t.Run("regenerate: new code shown once, old code refused at the next challenge", func(t *testing.T) {
		old := e.tenant.RecoveryCode(alice)
		form := b.get("/recovery-code")
		shown := b.post("/recovery-code", url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")}})
		code := e.tenant.RecoveryCode(alice)
		if shown.status != http.StatusOK || code == old {
			t.Fatalf("regenerate: %d, code changed %v", shown.status, code != old)
		}
		if !strings.Contains(shown.body, `aria-label="Recovery code `+code+`"`) {
			t.Error("the new code is not on the page")
		}
		if cc := shown.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		// The browser's "resubmit?" after Back must not make another code.
		again := b.post("/recovery-code", url.Values{"csrf_token": {csrf(t, form)}, "regen_nonce": {field(t, form, "regen_nonce")}})
		if again.status != http.StatusConflict || e.tenant.RecoveryCode(alice) != code {
			t.Errorf("resubmitted regeneration: %d, code changed %v; want 409 and no change", again.status, e.tenant.RecoveryCode(alice) != code)
		}
		if strings.Contains(e.logs.String(), code) || strings.Contains(e.logs.String(), old) {
			t.Error("a recovery code is in the logs")
		}

		other := e.newBrowser()
		refused, err := signInAtTenant(other, "recovery-code", old)
		if err == nil && refused.Query().Get("code") != "" {
			t.Error("the old recovery code still signs in")
		}
		accepted := other.signIn("/factors", auth0emu.SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "recovery-code", Code: code})
		if accepted.status != http.StatusOK || accepted.url.Path != "/factors" {
			t.Errorf("the new recovery code did not sign in: %d %s", accepted.status, accepted.url)
		}
	})

	t.Run("sign-out ends the session everywhere it was copied", func(t *testing.T) {
		list := b.get("/factors")
		stolen := b.jar.Cookies(list.url)
		out := b.post("/logout", url.Values{"csrf_token": {csrf(t, list)}})
		loc := out.header.Get("Location")
		if out.status != http.StatusSeeOther || !strings.HasPrefix(loc, e.tenantURL+"/v2/logout?") || !strings.Contains(loc, url.QueryEscape(e.portalURL+"/signed-out")) {
			t.Fatalf("logout: %d %s, want 303 to the tenant's /v2/logout returning to /signed-out", out.status, loc)
		}
		replay := e.newBrowser()
		replay.jar.SetCookies(list.url, stolen)
		p := replay.getOnce("/factors")
		if p.status != http.StatusFound || !strings.HasPrefix(p.header.Get("Location"), "/login") {
			t.Errorf("a copy of the signed-out cookie still works: %d %s", p.status, p.header.Get("Location"))
		}
	})
}

// signInAtTenant goes as far as the tenant's answer and returns it, for
// sign-ins that are expected to fail at the challenge.
func signInAtTenant(b *browser, method, code string) (*url.URL, error) {
	p := b.get("/login")
	return auth0emu.CompleteSignIn(b.e.t.Context(), b.c, p.header.Get("Location"),
		auth0emu.SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: method, Code: code})
}

// TestExpiredSessionReturnsToTheSamePage checks the 10-minute /mfa/ token:
// after it expires, a GET goes through sign-in back to the same page, and a
// destructive POST is not replayed: the user lands on its confirmation page.
func TestExpiredSessionReturnsToTheSamePage(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	app := e.idOf(alice, "totp|dev_")
	confirmPath := "/factors/" + url.PathEscape(app) + "/delete"
	confirm := b.get(confirmPath)
	token := csrf(t, confirm)

	e.clock.Advance(10*time.Minute + time.Second)

	p := b.postOnce(confirmPath, url.Values{"csrf_token": {token}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/login?return="+url.QueryEscape(confirmPath+"?reconfirm=1") {
		t.Fatalf("POST with an expired token: %d %s, want 303 to sign-in returning to the confirmation", p.status, p.header.Get("Location"))
	}
	if !slices.Contains(e.ids(alice), app) {
		t.Fatal("the factor was deleted with an expired session")
	}
	back := b.signInAlice(p.header.Get("Location"))
	if back.url.EscapedPath() != confirmPath || !strings.Contains(back.body, "Remove “Authenticator app”?") || !strings.Contains(back.body, "Please confirm again") {
		t.Fatalf("after signing in again: %s, want the confirmation page %s", back.url.Path, confirmPath)
	}
	if !slices.Contains(e.ids(alice), app) {
		t.Fatal("the POST was replayed after sign-in")
	}

	e.clock.Advance(11 * time.Minute)
	deep := "/recovery-code?lang=fr"
	p = b.getOnce(deep)
	if p.status != http.StatusFound || p.header.Get("Location") != "/login?lang=fr&return="+url.QueryEscape(deep) {
		t.Fatalf("GET with an expired token: %d %s", p.status, p.header.Get("Location"))
	}
	if back := b.signInAlice(p.header.Get("Location")); back.url.RequestURI() != deep {
		t.Errorf("came back to %s, want %s", back.url.RequestURI(), deep)
	}
}

func TestSessionTimeLeftIsShown(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	e.clock.Advance(7*time.Minute + 30*time.Second)
	p := b.get("/factors")
	if !regexp.MustCompile(`Secure session: <span class="session-min">3 minutes</span> left`).MatchString(p.body) {
		t.Errorf("want 3 minutes left after 7.5 of 10; page header: %s", headerOf(p.body))
	}
}

func TestEmptyState(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	p := b.signIn("/factors", auth0emu.SignIn{Email: "carol@example.com", Password: "carol-demo-pass"})
	if p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="empty-state"`) {
		t.Fatalf("carol's /factors: %d, want the empty state", p.status)
	}
}

func TestLastFactorWarning(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signIn("/factors", auth0emu.SignIn{Email: "bob@example.com", Password: "bob-demo-pass", MFAMethod: "otp"})
	p := b.get("/factors/" + url.PathEscape(e.idOf(bob, "totp|")) + "/delete")
	if !strings.Contains(p.body, `data-testid="last-factor-warning"`) {
		t.Error("removing bob's only factor does not warn")
	}
	b2 := e.newBrowser()
	b2.signInAlice("/factors")
	p = b2.get("/factors/" + url.PathEscape(e.idOf(alice, "totp|dev_")) + "/delete")
	if strings.Contains(p.body, `data-testid="last-factor-warning"`) {
		t.Error("warns about the last factor although alice has several")
	}
}

func TestMarkupInNamesIsEscaped(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	p := b.signIn("/factors", auth0emu.SignIn{Email: "dave@example.com", Password: "dave-demo-pass", MFAMethod: "otp"})
	if strings.Contains(p.body, "<b>Ünïcødé</b>") || strings.Contains(p.body, "<i>TOTP</i>") {
		t.Error("markup from a name reached the page unescaped")
	}
	if !strings.Contains(p.body, "Dave &lt;b&gt;Ünïcødé&lt;/b&gt; 🛡") {
		t.Errorf("dave's name is not shown escaped: %s", headerOf(p.body))
	}
}

func TestAlreadyRemovedIsShownAsSuch(t *testing.T) {
	e := newEnv(t)
	b := e.newBrowser()
	b.signInAlice("/factors")
	app := e.idOf(alice, "totp|dev_")
	confirm := b.get("/factors/" + url.PathEscape(app) + "/delete")
	// Removed meanwhile, e.g. from another tab.
	other := e.newBrowser()
	o := other.signInAlice("/factors/" + url.PathEscape(app) + "/delete")
	other.post("/factors/"+url.PathEscape(app)+"/delete", url.Values{"csrf_token": {csrf(t, o)}})

	p := b.post("/factors/"+url.PathEscape(app)+"/delete", url.Values{"csrf_token": {csrf(t, confirm)}})
	if p.url.Path != "/factors" || !strings.Contains(p.body, "was already removed") {
		t.Errorf("second removal: %d %s, want the list saying it was already removed", p.status, p.url)
	}
}

func headerOf(body string) string {
	if i := strings.Index(body, "</header>"); i > 0 {
		return body[:i]
	}
	return body
}

// A helpdesk link to a kind of method to add ("add a phone", "add an
// authenticator app", in French) survives the sign-in round trip: the
// person lands on that step's first page, in that language.
func TestHelpdeskLinksToAddAMethod(t *testing.T) {
	for _, tc := range []struct{ link, want string }{
		{"/add/phone?lang=fr", `data-testid="send-code"`},
		{"/add/app", `data-testid="start-app"`},
		{"/add/email", `data-testid="email"`},
	} {
		t.Run(tc.link, func(t *testing.T) {
			e := newEnv(t)
			b := e.newBrowser()
			p := b.signIn(tc.link, auth0emu.SignIn{Email: "bob@example.com", Password: "bob-demo-pass", MFAMethod: "otp"})
			if p.status != http.StatusOK || p.url.RequestURI() != tc.link || !strings.Contains(p.body, tc.want) {
				t.Fatalf("after sign-in: %d at %s, want the step's first page at %s", p.status, p.url.RequestURI(), tc.link)
			}
			if strings.Contains(tc.link, "lang=fr") && !strings.Contains(p.body, `<html lang="fr"`) {
				t.Error("the link's language was lost on the way")
			}
		})
	}
}
