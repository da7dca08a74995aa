package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"mfaportal/mfaapi"
	"mfaportal/session"
)

// methodRig is the router over the bench user, with the Management API's
// picture faked so a test can see what was asked of it.
type methodRig struct {
	t       *testing.T
	handler http.Handler
	methods *fakeMethods
	cookie  *http.Cookie
	now     time.Time
}

func newMethodRig(t *testing.T, methodsErr error) *methodRig {
	t.Helper()
	r := &methodRig{t: t, now: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	deps, store := testDeps(t, func() time.Time { return r.now }, nil)
	r.methods = &fakeMethods{methods: benchMethods, err: methodsErr}
	deps.Methods = r.methods
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	r.handler, r.cookie = h, signedIn(t, store, r.now, session.TopLevel)
	return r
}

func (r *methodRig) send(method, target string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "https://mfa.example.com"+target, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(r.cookie)
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, req)
	if c := cookieOf(rec, session.CookieTopLevel); c != nil {
		r.cookie = c
	}
	return rec
}

// form is the page's form values, with fields set.
func (r *methodRig) form(page *httptest.ResponseRecorder, fields ...string) url.Values {
	form := formOf(r.t, page)
	for i := 0; i+1 < len(fields); i += 2 {
		form.Set(fields[i], fields[i+1])
	}
	return form
}

const phonePage = "/factors/sms%7Cdev_klnv5yshzzoosSUm"

func TestFactorsPageFromBothLists(t *testing.T) {
	r := newMethodRig(t, nil)
	rec := r.send(http.MethodGet, "/factors", nil)
	body := rec.Body.String()
	for _, want := range []string{
		`data-testid="factor-security-key"`, "Security key", "“YubiKey”", // Management API only
		"“Work phone”", "Added <time datetime=\"2024-01-15T09:30:00Z\"", "Last used <time datetime=\"2025-05-30T08:00:00Z\"", "2 days ago",
		"Never used", `href="/factors/sms%7Cdev_klnv5yshzzoosSUm"`, // the phone's details page
		"Guardian app (push notifications and one-time codes)", // its twin, as Auth0 says, whatever its suffix
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/factors lacks %q", want)
		}
	}
	if strings.Contains(body, "details-unavailable") {
		t.Error("/factors says details are unavailable although they loaded")
	}
	if n := strings.Count(body, `data-testid="factor-app"`); n != 1 {
		t.Errorf("%d app rows, want 1: the push's twin is not an app of its own", n)
	}
	if !strings.Contains(body, `href="/factors/webauthn-roaming%7Cdev_KEYxxxxxxxxxxxxx/delete"`) {
		t.Error("the security key is not offered for removal")
	}
	if strings.Contains(body, `/factors/email%7Cdev_VERIFIEDxxxxxxxx/delete`) {
		t.Error("the verified email is offered for removal")
	}
	if r.methods.lists != 1 {
		t.Errorf("%d Management list calls for one view, want 1", r.methods.lists)
	}
}

func TestFactorsPageWithoutTheManagementAPI(t *testing.T) {
	for _, err := range []error{
		&mfaapi.APIError{Err: mfaapi.ErrRateLimited, Status: 429},
		&mfaapi.APIError{Err: mfaapi.ErrForbidden, Status: 403, Code: "insufficient_scope"},
		&mfaapi.APIError{Err: mfaapi.ErrUnauthorized, Status: 401},
		&mfaapi.APIError{Err: mfaapi.ErrUnavailable},
	} {
		t.Run(fmt.Sprint(err), func(t *testing.T) {
			r := newMethodRig(t, err)
			rec := r.send(http.MethodGet, "/factors", nil)
			body := rec.Body.String()
			if rec.Code != http.StatusOK || !strings.Contains(body, `data-testid="details-unavailable"`) {
				t.Fatalf("/factors: %d, want 200 with the notice", rec.Code)
			}
			if strings.Contains(body, `data-testid="remove"`) || strings.Contains(body, `data-testid="details"`) {
				t.Error("actions offered although the relations are unknown")
			}
			if strings.Contains(body, "one-time codes)") {
				t.Error("a twin relation is claimed without the Management API")
			}
			if strings.Contains(body, "Codes sent to this address") || strings.Contains(body, "Google Authenticator") {
				t.Error("the page claims what an entry is without the Management API")
			}
			// A forged removal is refused, and the session is not ended
			// (the Management API's 401 is the portal's, not the user's).
			del := r.send(http.MethodPost, "/factors/totp%7Cdev_WzMZ2sZbUw1wbC2F/delete", r.form(rec))
			if del.Code != http.StatusServiceUnavailable || len(r.methods.deleted) != 0 {
				t.Errorf("removal without details: %d, %d deletions", del.Code, len(r.methods.deleted))
			}
			if again := r.send(http.MethodGet, "/factors", nil); again.Code != http.StatusOK {
				t.Errorf("the next page: %d; the user was signed out", again.Code)
			}
		})
	}
}

func TestRename(t *testing.T) {
	tests := []struct {
		name, input, want string
		status            int
		says              string
	}{
		{"plain", "Desk phone", "Desk phone", http.StatusSeeOther, ""},
		{"trimmed", "  Desk phone \t", "Desk phone", http.StatusSeeOther, ""},
		{"markup", `<b>Phone</b>`, `<b>Phone</b>`, http.StatusSeeOther, ""},
		{"emoji and other scripts", "📱 Téléphone 電話", "📱 Téléphone 電話", http.StatusSeeOther, ""},
		{"twenty characters", strings.Repeat("é", 20), strings.Repeat("é", 20), http.StatusSeeOther, ""},
		{"too long", strings.Repeat("é", 21), "", http.StatusBadRequest, "Use at most 20 characters. This one has 21."},
		{"empty", "   ", "", http.StatusBadRequest, "Enter a name"},
		{"a line break", "Desk\nphone", "", http.StatusBadRequest, "line breaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newMethodRig(t, nil)
			page := r.send(http.MethodGet, phonePage, nil)
			if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `data-testid="name-input"`) {
				t.Fatalf("details page: %d", page.Code)
			}
			rec := r.send(http.MethodPost, phonePage, r.form(page, "change", "name", "name", tt.input))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.says) {
				t.Fatalf("rename %q: %d, want %d saying %q", tt.input, rec.Code, tt.status, tt.says)
			}
			if tt.status != http.StatusSeeOther {
				if len(r.methods.updates) != 0 {
					t.Error("bad input reached Auth0")
				}
				if !strings.Contains(rec.Body.String(), `aria-invalid="true"`) {
					t.Error("the field is not marked invalid")
				}
				return
			}
			if len(r.methods.updates) != 1 || *r.methods.updates[0].Name != tt.want || r.methods.updates[0].PreferredAuthenticationMethod != nil {
				t.Fatalf("updates %+v, want the name %q", r.methods.updates, tt.want)
			}
			list := r.send(http.MethodGet, "/factors", nil)
			if want := "Renamed to “" + htmlEscape(tt.want) + "”."; !strings.Contains(list.Body.String(), want) {
				t.Errorf("the list does not say %q", want)
			}
		})
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(s)
}

func TestPreferredChannel(t *testing.T) {
	r := newMethodRig(t, nil)
	page := r.send(http.MethodGet, phonePage, nil)
	if !strings.Contains(page.Body.String(), `value="sms" checked`) {
		t.Fatal("the phone's preferred channel (sms) is not the checked one")
	}
	if rec := r.send(http.MethodPost, phonePage, r.form(page, "change", "channel", "channel", "pigeon")); rec.Code != http.StatusBadRequest || len(r.methods.updates) != 0 {
		t.Errorf("an unknown channel: %d, %d updates", rec.Code, len(r.methods.updates))
	}
	rec := r.send(http.MethodPost, phonePage, r.form(page, "change", "channel", "channel", "voice"))
	if rec.Code != http.StatusSeeOther || len(r.methods.updates) != 1 || *r.methods.updates[0].PreferredAuthenticationMethod != "voice" {
		t.Fatalf("choosing voice: %d, updates %+v", rec.Code, r.methods.updates)
	}
	if list := r.send(http.MethodGet, "/factors", nil); !strings.Contains(list.Body.String(), "Codes for this phone will now come by voice call.") {
		t.Error("the list does not confirm the change")
	}
	// Without CSRF nothing changes.
	if rec := r.send(http.MethodPost, phonePage, url.Values{"change": {"channel"}, "channel": {"sms"}}); rec.Code != http.StatusForbidden || len(r.methods.updates) != 1 {
		t.Errorf("without CSRF: %d", rec.Code)
	}
	// The push cannot be renamed (the Management API does not take it).
	push := r.send(http.MethodGet, "/factors/push%7Cdev_BBTKYpxKHOXVBnql", nil)
	if strings.Contains(push.Body.String(), `data-testid="name-input"`) {
		t.Error("the push offers a name")
	}
	if rec := r.send(http.MethodPost, "/factors/push%7Cdev_BBTKYpxKHOXVBnql", r.form(push, "change", "name", "name", "x")); rec.Code != http.StatusBadRequest {
		t.Errorf("renaming the push: %d, want 400", rec.Code)
	}
}

// The details page has its embed twin, framed by the configured origin,
// with its forms posting to the twin.
func TestMethodPageInAFrame(t *testing.T) {
	r := newMethodRig(t, nil)
	deps, store := testDeps(t, func() time.Time { return r.now }, nil)
	deps.Methods, deps.FrameAncestors = r.methods, []string{"https://account.example.com"}
	h, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	r.handler, r.cookie = h, signedIn(t, store, r.now, session.TopLevel)
	rec := r.send(http.MethodGet, "/embed"+phonePage, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors https://account.example.com") ||
		!strings.Contains(rec.Body.String(), `action="/embed`+phonePage+`"`) {
		t.Fatalf("/embed%s: %d, CSP %q", phonePage, rec.Code, rec.Header().Get("Content-Security-Policy"))
	}
	post := r.send(http.MethodPost, "/embed"+phonePage, r.form(rec, "change", "name", "name", "Desk"))
	if post.Code != http.StatusSeeOther || post.Header().Get("Location") != "/embed/factors" || len(r.methods.updates) != 1 {
		t.Errorf("renaming in the frame: %d to %q", post.Code, post.Header().Get("Location"))
	}
	// Signed out, the helpdesk link to a method's page comes back to it.
	r.cookie = &http.Cookie{Name: session.CookieTopLevel, Value: "gone"}
	if rec := r.send(http.MethodGet, phonePage, nil); rec.Code != http.StatusFound ||
		rec.Header().Get("Location") != "/login?return="+url.QueryEscape(phonePage) {
		t.Errorf("signed out: %d to %q, want sign-in and back", rec.Code, rec.Header().Get("Location"))
	}
}

func TestRemoveSecurityKeyThroughTheManagementAPI(t *testing.T) {
	r := newMethodRig(t, nil)
	confirm := r.send(http.MethodGet, "/factors/webauthn-roaming%7Cdev_KEYxxxxxxxxxxxxx/delete", nil)
	if confirm.Code != http.StatusOK || !strings.Contains(confirm.Body.String(), "Remove “Security key”?") || !strings.Contains(confirm.Body.String(), "“YubiKey”") {
		t.Fatalf("confirmation: %d", confirm.Code)
	}
	rec := r.send(http.MethodPost, "/factors/webauthn-roaming%7Cdev_KEYxxxxxxxxxxxxx/delete", r.form(confirm))
	if rec.Code != http.StatusSeeOther || len(r.methods.deleted) != 1 || r.methods.deleted[0] != "webauthn-roaming|dev_KEYxxxxxxxxxxxxx" {
		t.Fatalf("removal: %d, deleted %v", rec.Code, r.methods.deleted)
	}
	// An id not in the user's own list is never sent.
	rec = r.send(http.MethodPost, "/factors/webauthn-roaming%7Cdev_SOMEONEELSE/delete", r.form(confirm))
	if len(r.methods.deleted) != 1 {
		t.Errorf("a foreign id reached Auth0 (%d)", rec.Code)
	}
}

// meetingFactors and meetingMethods each wait in their list call until the
// other one has been entered too: a view that asked Auth0's two APIs one
// after the other would wait out the deadline.
type meetingFactors struct {
	benchFactorList
	entered, other chan struct{}
	err            error
}

func (f meetingFactors) ListAuthenticators(ctx context.Context, token string) ([]mfaapi.Authenticator, error) {
	close(f.entered)
	select {
	case <-f.other:
	case <-time.After(2 * time.Second):
		return nil, errors.New("the Management API was not asked while the MFA API was")
	}
	if f.err != nil {
		return nil, f.err
	}
	return f.benchFactorList.ListAuthenticators(ctx, token)
}

type meetingMethods struct {
	*fakeMethods
	entered, other chan struct{}
	// When the MFA API fails, List waits for its context's end and says
	// whether it came (cancelled).
	mfaFails  bool
	cancelled chan bool
}

func (m meetingMethods) Fetch(ctx context.Context, sub string) ([]mfaapi.AuthMethod, error) {
	close(m.entered)
	select {
	case <-m.other:
	case <-time.After(2 * time.Second):
		return nil, errors.New("the MFA API was not asked while the Management API was")
	}
	if m.mfaFails {
		select {
		case <-ctx.Done():
			m.cancelled <- true
		case <-time.After(2 * time.Second):
			m.cancelled <- false
		}
		return nil, ctx.Err()
	}
	m.cancelled <- false
	return m.fakeMethods.Fetch(ctx, sub)
}

// TestFactorsPageFromCachedDetails: with the details cached, a view asks
// the Management API nothing and still shows them.
func TestFactorsPageFromCachedDetails(t *testing.T) {
	r := newMethodRig(t, nil)
	r.methods.cached = true
	rec := r.send(http.MethodGet, "/factors", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "“YubiKey”") {
		t.Fatalf("/factors: %d, want 200 with the cached details", rec.Code)
	}
	if r.methods.lists != 0 {
		t.Errorf("%d Management list calls with the details cached, want 0", r.methods.lists)
	}
}

// TestFactorsPageAsksBothAPIsAtOnce: without cached details, a view waits for the slower of the
// two Auth0 calls, not their sum; when the MFA API fails, the details call
// is cancelled and waited for, and the page is the MFA API's error.
func TestFactorsPageAsksBothAPIsAtOnce(t *testing.T) {
	for _, tt := range []struct {
		name       string
		mfaErr     error
		wantStatus int
	}{
		{"both answer", nil, http.StatusOK},
		{"the MFA API fails", &mfaapi.APIError{Err: mfaapi.ErrUnavailable}, http.StatusBadGateway},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
			deps, store := testDeps(t, func() time.Time { return now }, nil)
			mfaIn, mgmtIn := make(chan struct{}), make(chan struct{})
			methods := meetingMethods{fakeMethods: &fakeMethods{methods: benchMethods}, entered: mgmtIn, other: mfaIn, mfaFails: tt.mfaErr != nil, cancelled: make(chan bool, 1)}
			deps.Factors = meetingFactors{benchFactorList: benchFactorList{auths: benchAuthenticators}, entered: mfaIn, other: mgmtIn, err: tt.mfaErr}
			deps.Methods = methods
			h, err := New(deps)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, "https://mfa.example.com/factors", nil)
			req.Header.Set("Sec-Fetch-Site", "none")
			req.AddCookie(signedIn(t, store, now, session.TopLevel))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("/factors: %d, want %d", rec.Code, tt.wantStatus)
			}
			select {
			case cancelled := <-methods.cancelled:
				if cancelled != (tt.mfaErr != nil) {
					t.Errorf("details call cancelled: %v, want %v", cancelled, tt.mfaErr != nil)
				}
			default:
				t.Error("the view returned before its details call ended")
			}
			if tt.mfaErr == nil && !strings.Contains(rec.Body.String(), "“YubiKey”") {
				t.Error("the page lacks the Management API's details")
			}
		})
	}
}
