package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mfaportal/mfaapi"
	"mfaportal/session"
	"mfaportal/tenantfactors"
)

// newEnrolRig is the router with a faked enrolment upstream.
func newEnrolRig(t *testing.T, enrol *fakeEnroller, mutate ...func(*Deps)) *methodRig {
	t.Helper()
	r := &methodRig{t: t, now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	deps, store := testDeps(t, func() time.Time { return r.now }, nil)
	deps.Enrol = enrol
	for _, m := range mutate {
		m(&deps)
	}
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	r.handler, r.cookie = h, signedIn(t, store, r.now, session.TopLevel)
	return r
}

// startApp presses Continue on /add/app and returns the scan page.
func startApp(t *testing.T, r *methodRig) *httptest.ResponseRecorder {
	t.Helper()
	start := r.send(http.MethodGet, "/add/app", nil)
	if start.Code != http.StatusOK || !strings.Contains(start.Body.String(), `data-testid="start-app"`) {
		t.Fatalf("GET /add/app: %d", start.Code)
	}
	rec := r.send(http.MethodPost, "/add/app", r.form(start))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/add/app" {
		t.Fatalf("POST /add/app: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	scan := r.send(http.MethodGet, "/add/app", nil)
	if scan.Code != http.StatusOK {
		t.Fatalf("scan page: %d", scan.Code)
	}
	return scan
}

func TestAddAuthenticatorApp(t *testing.T) {
	t.Run("scan, a malformed code, a wrong one, the right one", func(t *testing.T) {
		f := &fakeEnroller{wantCode: "123456"}
		r := newEnrolRig(t, f)
		scan := startApp(t, r)
		body := scan.Body.String()
		for _, want := range []string{`<svg xmlns="http://www.w3.org/2000/svg"`, "<span>JBSW</span><span>Y3DP</span>", `autocomplete="one-time-code"`, "Cache-Control"} {
			if want == "Cache-Control" {
				if scan.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("scan page Cache-Control %q", scan.Header().Get("Cache-Control"))
				}
				continue
			}
			if !strings.Contains(body, want) {
				t.Errorf("scan page lacks %q", want)
			}
		}
		// A reload or a second Continue makes no second association.
		if rec := r.send(http.MethodPost, "/add/app", r.form(scan)); rec.Code != http.StatusSeeOther || f.associations != 1 {
			t.Fatalf("second start: %d, %d associations", rec.Code, f.associations)
		}
		rec := r.send(http.MethodPost, "/add/app/confirm", r.form(scan, "otp", "12a456"))
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "without letters") || len(f.confirms) != 0 {
			t.Fatalf("malformed code: %d, %d confirms", rec.Code, len(f.confirms))
		}
		rec = r.send(http.MethodPost, "/add/app/confirm", r.form(scan, "otp", "654 321"))
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "That code didn") || !strings.Contains(rec.Body.String(), `aria-invalid="true"`) {
			t.Fatalf("wrong code: %d", rec.Code)
		}
		// The form it came from is spent; the new one works.
		if stale := r.send(http.MethodPost, "/add/app/confirm", r.form(scan, "otp", "123456")); stale.Code != http.StatusConflict {
			t.Fatalf("the spent form again: %d", stale.Code)
		}
		rec = r.send(http.MethodPost, "/add/app/confirm", r.form(rec, "otp", "123-456"))
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/factors" {
			t.Fatalf("right code: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		if got := strings.Join(f.confirms, ","); got != "654321,123456" {
			t.Errorf("codes sent to Auth0: %s", got)
		}
		list := r.send(http.MethodGet, "/factors", nil)
		if !strings.Contains(list.Body.String(), "Your authenticator app was added") {
			t.Errorf("no confirmation on /factors")
		}
		// Done: the step is over, and Back to the scan page starts afresh.
		if again := r.send(http.MethodGet, "/add/app", nil); !strings.Contains(again.Body.String(), `data-testid="start-app"`) {
			t.Errorf("after adding, /add/app still shows the old association")
		}
	})
	t.Run("the first method brings its recovery code, shown once", func(t *testing.T) {
		f := &fakeEnroller{wantCode: "123456", recovery: "ABCD2EFGH3JKLMN4PQRS5TUV"}
		r := newEnrolRig(t, f)
		scan := startApp(t, r)
		rec := r.send(http.MethodPost, "/add/app/confirm", r.form(scan, "otp", "123456"))
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/recovery-code/new" {
			t.Fatalf("confirm: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		page := r.send(http.MethodGet, "/recovery-code/new", nil).Body.String()
		if !strings.Contains(page, "<span>ABCD</span>") || !strings.Contains(page, `data-testid="first-method-added"`) || strings.Contains(page, "previous recovery code") {
			t.Fatalf("first code page: %s", page)
		}
		if again := r.send(http.MethodGet, "/recovery-code/new", nil).Body.String(); strings.Contains(again, "ABCD") {
			t.Error("the recovery code was shown twice")
		}
	})
	t.Run("a lost answer says the outcome is unknown", func(t *testing.T) {
		f := &fakeEnroller{confirmErr: &mfaapi.APIError{Op: "confirm", Err: mfaapi.ErrOutcomeUnknown}}
		r := newEnrolRig(t, f)
		scan := startApp(t, r)
		rec := r.send(http.MethodPost, "/add/app/confirm", r.form(scan, "otp", "123456"))
		if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "we can&#39;t tell whether it was added") {
			t.Fatalf("lost answer: %d %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("cancel forgets the association", func(t *testing.T) {
		f := &fakeEnroller{wantCode: "123456"}
		r := newEnrolRig(t, f)
		scan := startApp(t, r)
		if rec := r.send(http.MethodPost, "/add/app/cancel", r.form(scan)); rec.Code != http.StatusSeeOther {
			t.Fatalf("cancel: %d", rec.Code)
		}
		if rec := r.send(http.MethodPost, "/add/app/confirm", r.form(scan, "otp", "123456")); rec.Code != http.StatusConflict || len(f.confirms) != 0 {
			t.Fatalf("confirm after cancel: %d, %d confirms", rec.Code, len(f.confirms))
		}
	})
	t.Run("cancel removes what the association left at Auth0", func(t *testing.T) {
		f := &fakeEnroller{wantCode: "123456"}
		// Before the association: an older unconfirmed app entry, which
		// is not this enrolment's to remove.
		auths := &listedFactors{auths: []mfaapi.Authenticator{
			{ID: "totp|dev_active", AuthenticatorType: "otp", Active: true},
			{ID: "totp|dev_older", AuthenticatorType: "otp", Active: false},
		}}
		r := newEnrolRig(t, f, func(d *Deps) { d.Factors = auths })
		scan := startApp(t, r)
		// What the MFA API lists by then: the association made one more
		// inactive app entry; an inactive phone is another kind.
		auths.auths = append(auths.auths,
			mfaapi.Authenticator{ID: "totp|dev_new", AuthenticatorType: "otp", Active: false},
			mfaapi.Authenticator{ID: "sms|dev_other", AuthenticatorType: "oob", OOBChannel: "sms", Active: false})
		if rec := r.send(http.MethodPost, "/add/app/cancel", r.form(scan)); rec.Code != http.StatusSeeOther {
			t.Fatalf("cancel: %d", rec.Code)
		}
		if strings.Join(auths.deleted, ",") != "totp|dev_new" {
			t.Errorf("removed %v, want only this enrolment's association", auths.deleted)
		}
		// When the list could not be read before the association, a cancel
		// cannot tell what is its own and removes nothing; cancelling works.
		auths.deleted, auths.err = nil, &mfaapi.APIError{Err: mfaapi.ErrUnavailable}
		scan = startApp(t, r)
		auths.err = nil
		if rec := r.send(http.MethodPost, "/add/app/cancel", r.form(scan)); rec.Code != http.StatusSeeOther || len(auths.deleted) != 0 {
			t.Fatalf("cancel after an unread list: %d, removed %v", rec.Code, auths.deleted)
		}
	})
	t.Run("ten concurrent confirmations: one grant upstream", func(t *testing.T) {
		f := &fakeEnroller{wantCode: "123456"}
		r := newEnrolRig(t, f)
		scan := startApp(t, r)
		form, cookie := r.form(scan, "otp", "123456"), r.cookie
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := httptest.NewRequest(http.MethodPost, "https://mfa.example.com/add/app/confirm", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Sec-Fetch-Site", "same-origin")
				req.AddCookie(cookie)
				r.handler.ServeHTTP(httptest.NewRecorder(), req)
			}()
		}
		wg.Wait()
		if n := len(f.confirms); n != 1 {
			t.Errorf("%d confirmations upstream, want 1", n)
		}
	})
	t.Run("a GET of a step's POST path leads back to the step", func(t *testing.T) {
		r := newEnrolRig(t, &fakeEnroller{})
		for _, path := range []string{"/add/app/confirm", "/add/app/cancel"} {
			if rec := r.send(http.MethodGet, path, nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/add/app?restarted=1" {
				t.Errorf("GET %s: %d %s", path, rec.Code, rec.Header().Get("Location"))
			}
		}
		// With no enrolment under way (a sign-in made a new session), the
		// first step says why it starts again; with one, it is just shown.
		if body := r.send(http.MethodGet, "/add/app?restarted=1", nil).Body.String(); !strings.Contains(body, "nothing was added") {
			t.Error("the restarted step does not say why")
		}
		startApp(t, r)
		if body := r.send(http.MethodGet, "/add/app?restarted=1", nil).Body.String(); strings.Contains(body, "nothing was added") || !strings.Contains(body, `data-testid="qr"`) {
			t.Error("an enrolment under way is shown as restarted")
		}
	})
}

func TestOTPCode(t *testing.T) {
	for in, want := range map[string]string{"123456": "123456", " 123 456 ": "123456", "123-456": "123456", "12345": "", "1234567": "", "12345a": "", "１２３４５６": ""} {
		got, ok := otpCode(in)
		if ok != (want != "") || got != want && ok {
			t.Errorf("otpCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestAddPhone(t *testing.T) {
	f := &fakeEnroller{wantCode: "246810"}
	r := newEnrolRig(t, f)
	req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/add/phone", nil)
	req.Header.Set("Accept-Language", "fr-CA,fr;q=0.8")
	req.AddCookie(r.cookie)
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `<option value="CA" selected>`) || !strings.Contains(rec.Body.String(), "Allemagne (+49)") {
		t.Fatalf("the French list with Canada chosen: %d", rec.Code)
	}
	start := r.send(http.MethodGet, "/add/phone", nil)
	for _, tc := range []struct{ region, number, want string }{
		{"FR", "", "Enter a phone number."},
		{"", "06 12 34 56 78", "Choose the country"},
		{"FR", "12", "doesn&#39;t look like a phone number"},
		{"FR", "0899 12 34 56", "can&#39;t receive codes"},
	} {
		rec := r.send(http.MethodPost, "/add/phone", r.form(start, "region", tc.region, "number", tc.number, "channel", "voice"))
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), tc.want) || f.associations != 0 {
			t.Fatalf("%q in %q: %d, %d associations; want %q", tc.number, tc.region, rec.Code, f.associations, tc.want)
		}
		if tc.number != "" && !strings.Contains(rec.Body.String(), `value="`+tc.number+`"`) {
			t.Errorf("the number typed is not kept in the form")
		}
	}
	rec = r.send(http.MethodPost, "/add/phone", r.form(start, "region", "FR", "number", "06 12 34 56 78", "channel", "voice"))
	if rec.Code != http.StatusSeeOther || strings.Join(f.phones, ",") != "voice:+33612345678" {
		t.Fatalf("a good number: %d, associated %v", rec.Code, f.phones)
	}
	code := r.send(http.MethodGet, "/add/phone", nil)
	if !strings.Contains(code.Body.String(), "We&#39;re calling ••• 5678") {
		t.Fatalf("code step: %s", code.Body.String())
	}
	// Too soon for another code; then, a new association for the same number.
	if rec := r.send(http.MethodPost, "/add/phone/resend", r.form(code)); rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "30 seconds") || f.associations != 1 {
		t.Fatalf("early resend: %d, %d associations", rec.Code, f.associations)
	}
	r.now = r.now.Add(31 * time.Second)
	if rec := r.send(http.MethodPost, "/add/phone/resend", r.form(code)); rec.Code != http.StatusSeeOther || strings.Join(f.phones, ",") != "voice:+33612345678,voice:+33612345678" {
		t.Fatalf("resend: %d, associated %v", rec.Code, f.phones)
	}
	// The page before the resend carries a form that is no longer current.
	if rec := r.send(http.MethodPost, "/add/phone/confirm", r.form(code, "code", "246810")); rec.Code != http.StatusConflict {
		t.Fatalf("the form from before the resend: %d", rec.Code)
	}
	code = r.send(http.MethodGet, "/add/phone", nil)
	rec = r.send(http.MethodPost, "/add/phone/confirm", r.form(code, "code", "111111"))
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "That code didn") {
		t.Fatalf("wrong code: %d", rec.Code)
	}
	rec = r.send(http.MethodPost, "/add/phone/confirm", r.form(rec, "code", "246 810"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/factors" {
		t.Fatalf("right code: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if got := strings.Join(f.confirms, ","); got != "oob-2/111111,oob-2/246810" {
		t.Errorf("confirmations sent: %s", got)
	}
	if !strings.Contains(r.send(http.MethodGet, "/factors", nil).Body.String(), "Your phone was added") {
		t.Error("no confirmation on the list")
	}
}

func TestAddEmail(t *testing.T) {
	f := &fakeEnroller{wantCode: "135790"}
	r := newEnrolRig(t, f)
	start := r.send(http.MethodGet, "/add/email", nil)
	for _, tc := range []struct{ typed, want string }{
		{"", "Enter an email address."},
		{"not an address", "look like an email address"},
		{"Alice <alice@example.org>", "look like an email address"},
		{"alice@localhost", "look like an email address"},
	} {
		rec := r.send(http.MethodPost, "/add/email", r.form(start, "email", tc.typed))
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), tc.want) || f.associations != 0 {
			t.Fatalf("%q: %d, %d associations", tc.typed, rec.Code, f.associations)
		}
	}
	rec := r.send(http.MethodPost, "/add/email", r.form(start, "email", " alice.backup@example.org "))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/add/email" || strings.Join(f.phones, ",") != "email:alice.backup@example.org" {
		t.Fatalf("a good address: %d %s, associated %v", rec.Code, rec.Header().Get("Location"), f.phones)
	}
	code := r.send(http.MethodGet, "/add/email", nil)
	if body := code.Body.String(); !strings.Contains(body, "We sent an email with a code to al•••@example.org") || !strings.Contains(body, `action="/add/email/confirm"`) {
		t.Fatalf("code step: %s", body)
	}
	// The phone's page does not confirm an email's code.
	if rec := r.send(http.MethodPost, "/add/phone/confirm", r.form(code, "code", "135790")); rec.Code != http.StatusConflict {
		t.Fatalf("an email code through the phone's path: %d", rec.Code)
	}
	rec = r.send(http.MethodPost, "/add/email/confirm", r.form(code, "code", "135790"))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/factors" {
		t.Fatalf("right code: %d", rec.Code)
	}
	if !strings.Contains(r.send(http.MethodGet, "/factors", nil).Body.String(), "Your email address was added") {
		t.Error("no confirmation on the list")
	}
}

func TestAddGuardian(t *testing.T) {
	f := &fakeEnroller{}
	var logs bytes.Buffer
	r := newEnrolRig(t, f, func(d *Deps) { d.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	audited := func() int { return strings.Count(logs.String(), `"event":"method_added"`) }
	start := r.send(http.MethodGet, "/add/guardian", nil)
	if rec := r.send(http.MethodPost, "/add/guardian", r.form(start)); rec.Code != http.StatusSeeOther || strings.Join(f.phones, ",") != "auth0:" {
		t.Fatalf("start: %d, %v", rec.Code, f.phones)
	}
	scan := r.send(http.MethodGet, "/add/guardian", nil)
	if !strings.Contains(scan.Body.String(), "<svg") || !strings.Contains(scan.Body.String(), `data-testid="check-guardian"`) {
		t.Fatalf("scan page: %d", scan.Code)
	}
	// Not yet approved: the page says so, with a fresh form.
	rec := r.send(http.MethodPost, "/add/guardian/check", r.form(scan))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Not approved yet") {
		t.Fatalf("pending: %d", rec.Code)
	}
	// "Not yet" changed nothing, and the page asks every few seconds: no
	// audit event for it.
	if n := audited(); n != 0 {
		t.Errorf("%d audit events for a check still pending, want 0", n)
	}
	f.guardian = "approved"
	if stale := r.send(http.MethodPost, "/add/guardian/check", r.form(scan)); stale.Code != http.StatusConflict {
		t.Fatalf("the spent form: %d", stale.Code)
	}
	rec = r.send(http.MethodPost, "/add/guardian/check", r.form(rec))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/factors" {
		t.Fatalf("approved: %d", rec.Code)
	}
	if n := audited(); n != 1 {
		t.Errorf("%d audit events once approved, want 1", n)
	}
	// The page's script follows that redirect with fetch before navigating:
	// the followed GET answers nothing and spends nothing (no Auth0 call,
	// not the message), which the navigation then shows.
	req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/factors", nil)
	req.Header.Set(pollHeader, "1")
	req.AddCookie(r.cookie)
	followed := httptest.NewRecorder()
	r.handler.ServeHTTP(followed, req)
	if followed.Code != http.StatusNoContent || followed.Body.Len() != 0 {
		t.Errorf("the script's followed GET: %d %q", followed.Code, followed.Body.String())
	}
	if list := r.send(http.MethodGet, "/factors", nil); !strings.Contains(list.Body.String(), "Your Guardian app was added") {
		t.Error("the navigation after the script's check lacks the message")
	}
	// Denied on the phone: nothing is added, and the page says why.
	f.guardian = ""
	start = r.send(http.MethodGet, "/add/guardian", nil)
	r.send(http.MethodPost, "/add/guardian", r.form(start))
	scan = r.send(http.MethodGet, "/add/guardian", nil)
	f.guardian = "denied"
	rec = r.send(http.MethodPost, "/add/guardian/check", r.form(scan))
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "denied on the phone") || !strings.Contains(rec.Body.String(), `data-testid="start-guardian"`) {
		t.Fatalf("denied: %d %s", rec.Code, rec.Body.String())
	}
	// The association lapsed at Auth0 before the phone answered.
	f.guardian = ""
	start = r.send(http.MethodGet, "/add/guardian", nil)
	r.send(http.MethodPost, "/add/guardian", r.form(start))
	scan = r.send(http.MethodGet, "/add/guardian", nil)
	f.confirmErr = &mfaapi.APIError{Op: "confirm", Status: 403, Code: "invalid_grant", Err: mfaapi.ErrInvalidCode}
	rec = r.send(http.MethodPost, "/add/guardian/check", r.form(scan))
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "ran out of time") || !strings.Contains(rec.Body.String(), `data-testid="start-guardian"`) {
		t.Fatalf("lapsed: %d %s", rec.Code, rec.Body.String())
	}
}

// Auth0 refusing a new association (its limit on unconfirmed ones, or
// failing) shows the matching page and keeps nothing.
func TestAddMethodAssociationRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"too many unconfirmed", &mfaapi.APIError{Op: "associate", Status: 429, Code: "too_many_requests", Err: mfaapi.ErrRateLimited}, http.StatusTooManyRequests, "error-heading"},
		{"Auth0 failing", &mfaapi.APIError{Op: "associate", Status: 503, Err: mfaapi.ErrUpstream}, http.StatusBadGateway, "error-heading"},
		{"answer lost", &mfaapi.APIError{Op: "associate", Err: mfaapi.ErrOutcomeUnknown}, http.StatusBadGateway, "No answer came in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeEnroller{associateErr: tc.err}
			r := newEnrolRig(t, f)
			start := r.send(http.MethodGet, "/add/phone", nil)
			rec := r.send(http.MethodPost, "/add/phone", r.form(start, "region", "FR", "number", "0612345678"))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("%d, want %d", rec.Code, tc.status)
			}
			if page := r.send(http.MethodGet, "/add/phone", nil).Body.String(); !strings.Contains(page, `data-testid="send-code"`) {
				t.Error("after a refused association the page shows a code step")
			}
		})
	}
}

// Without a recovery code the list offers one; without any method it
// offers adding the first, which brings the code.
func TestFactorsOfferWhatComesNext(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name            string
		auths           []mfaapi.Authenticator
		recovery, empty bool
	}{
		{"an app and no recovery code", []mfaapi.Authenticator{{ID: "totp|dev_app", AuthenticatorType: "otp", Active: true}}, true, false},
		{"nothing yet", nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deps, store := testDeps(t, func() time.Time { return now }, nil)
			deps.Factors = benchFactorList{auths: tc.auths}
			deps.Methods = &fakeMethods{}
			h, err := New(deps)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/factors", nil)
			req.AddCookie(signedIn(t, store, now, session.TopLevel))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if got := strings.Contains(body, `data-testid="no-recovery-code"`); got != tc.recovery {
				t.Errorf("offers a recovery code: %v, want %v", got, tc.recovery)
			}
			if got := strings.Contains(body, `data-testid="empty-state"`); got != tc.empty {
				t.Errorf("empty state: %v, want %v", got, tc.empty)
			}
			if !strings.Contains(body, `href="/add" data-testid="add-method"`) {
				t.Error("no way to add a method")
			}
		})
	}
}

// Only what the tenant switched on is offered, and a kind it switched off
// is refused at its start (a link from before, a helpdesk's old link)
// without asking Auth0.
func TestAddOffersOnlyWhatTheTenantEnabled(t *testing.T) {
	f := &fakeEnroller{}
	r := newEnrolRig(t, f, func(d *Deps) { d.Offer = configuredOffer(tenantfactors.Offer{App: true, SMS: true}) })

	add := r.send(http.MethodGet, "/add", nil).Body.String()
	for testid, want := range map[string]bool{"add-app": true, "add-phone": true, "add-guardian": false, "add-email": false, "add-keys-note": false} {
		if got := strings.Contains(add, `data-testid="`+testid+`"`); got != want {
			t.Errorf("/add shows %s: %v, want %v", testid, got, want)
		}
	}
	phone := r.send(http.MethodGet, "/add/phone", nil)
	if body := phone.Body.String(); strings.Contains(body, `data-testid="channel-voice"`) || !strings.Contains(body, `name="channel" value="sms"`) || !strings.Contains(body, "by text message") {
		t.Errorf("phone form offers voice or hides the channel: %s", body)
	}
	for _, tc := range []struct{ method, path string }{{http.MethodGet, "/add/guardian"}, {http.MethodPost, "/add/guardian"}, {http.MethodGet, "/add/email"}, {http.MethodPost, "/add/email"}} {
		var form = r.form(phone)
		if tc.method == http.MethodGet {
			form = nil
		}
		rec := r.send(tc.method, tc.path, form)
		if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "hasn&#39;t switched this kind of method on") || !strings.Contains(rec.Body.String(), `href="/add"`) {
			t.Errorf("%s %s: %d", tc.method, tc.path, rec.Code)
		}
	}
	// A voice call asked for by hand is refused the same way.
	if rec := r.send(http.MethodPost, "/add/phone", r.form(phone, "region", "US", "number", "4155550123", "channel", "voice")); rec.Code != http.StatusNotFound {
		t.Errorf("voice when only text is on: %d", rec.Code)
	}
	if f.associations != 0 {
		t.Errorf("%d associations asked of Auth0, want 0", f.associations)
	}

	t.Run("switched off at Auth0 since the page was shown", func(t *testing.T) {
		f.associateErr = &mfaapi.APIError{Op: "associate authenticator", Status: 400, Code: "unsupported_challenge_type", Err: mfaapi.ErrFactorNotEnabled}
		start := r.send(http.MethodGet, "/add/app", nil)
		rec := r.send(http.MethodPost, "/add/app", r.form(start))
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "Nothing was changed") {
			t.Errorf("factor refused by Auth0: %d %s", rec.Code, rec.Body.String())
		}
	})
}

// listedFactors is the MFA API with a list the test sets, recording
// removals.
type listedFactors struct {
	auths   []mfaapi.Authenticator
	err     error
	deleted []string
}

func (f *listedFactors) ListAuthenticators(context.Context, string) ([]mfaapi.Authenticator, error) {
	return f.auths, f.err
}

func (f *listedFactors) DeleteAuthenticator(_ context.Context, _, id string) error {
	f.deleted = append(f.deleted, id)
	return nil
}
