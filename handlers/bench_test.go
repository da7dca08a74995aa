package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mfaportal/mfaapi"
	"mfaportal/session"
)

// benchFactorList is a factorAPI that answers at once with a fixed list, so
// the benchmark measures the portal's own work per page view.
type benchFactorList struct{ auths []mfaapi.Authenticator }

func (f benchFactorList) ListAuthenticators(context.Context, string) ([]mfaapi.Authenticator, error) {
	return f.auths, nil
}

func (f benchFactorList) DeleteAuthenticator(context.Context, string, string) error { return nil }

// benchNoRecovery makes the same code every time; the list page never asks.
type benchNoRecovery struct{}

func (benchNoRecovery) RegenerateRecoveryCode(context.Context, string) (string, error) {
	return "B4DC0DE0B4DC0DE0B4DC0DE0", nil
}

var (
	_ factorAPI     = benchFactorList{}
	_ recoveryCodes = benchNoRecovery{}
	_ http.Flusher  = (*benchResponse)(nil)
)

// benchAuthenticators is a well-equipped user's list in Auth0's shapes: an
// app, Guardian push with its OTP twin (a suffix of its own, as recorded), a
// phone with SMS and voice, the verified email, an enrolled email and a
// recovery code, plus an unconfirmed enrolment that the page hides.
var benchAuthenticators = []mfaapi.Authenticator{
	{ID: "totp|dev_WzMZ2sZbUw1wbC2F", AuthenticatorType: "otp", Active: true},
	{ID: "push|dev_BBTKYpxKHOXVBnql", AuthenticatorType: "oob", OOBChannel: "auth0", Name: "Alice's iPhone", Active: true},
	{ID: "totp|dev_wLdxko6pjg6ziKL9", AuthenticatorType: "otp", Active: true},
	{ID: "sms|dev_klnv5yshzzoosSUm", AuthenticatorType: "oob", OOBChannel: "sms", Name: "XXXXXXXXX9167", Active: true},
	{ID: "voice|dev_klnv5yshzzoosSUm", AuthenticatorType: "oob", OOBChannel: "voice", Name: "XXXXXXXXX9167", Active: true},
	{ID: "email|dev_VERIFIEDxxxxxxxx", AuthenticatorType: "oob", OOBChannel: "email", Name: "alic****@exam*******", Active: true},
	{ID: "email|dev_hdkmORJuqOmjRRQU", AuthenticatorType: "oob", OOBChannel: "email", Name: "alic****@exam*******", Active: true},
	{ID: "recovery-code|dev_i1kgKoFSZLbPt6G1", AuthenticatorType: "recovery-code", Active: true},
	{ID: "totp|dev_unconfirmed00001", AuthenticatorType: "otp", Active: false},
}

// benchMethods is the same user as the Management API states it, with a
// security key the MFA API does not list.
var benchMethods = []mfaapi.AuthMethod{
	{ID: "totp|dev_WzMZ2sZbUw1wbC2F", Type: "totp", Name: "Authenticator", CreatedAt: time.Date(2024, 1, 15, 9, 30, 0, 0, time.UTC), LastAuthAt: time.Date(2025, 5, 30, 8, 0, 0, 0, time.UTC)},
	{ID: "push|dev_BBTKYpxKHOXVBnql", Type: "push", Name: "Alice's iPhone", AuthenticationMethods: []mfaapi.AuthMethodMember{
		{ID: "push|dev_BBTKYpxKHOXVBnql", Type: "push"}, {ID: "totp|dev_wLdxko6pjg6ziKL9", Type: "totp"}}},
	{ID: "phone|dev_klnv5yshzzoosSUm", Type: "phone", Name: "Work phone", PhoneNumber: "XXXXXXXXX9167", PreferredAuthenticationMethod: "sms",
		AuthenticationMethods: []mfaapi.AuthMethodMember{{ID: "sms|dev_klnv5yshzzoosSUm", Type: "sms"}, {ID: "voice|dev_klnv5yshzzoosSUm", Type: "voice"}}},
	{ID: "email|dev_VERIFIEDxxxxxxxx", Type: "email-verification", Email: "alic****@exam*******"},
	{ID: "email|dev_hdkmORJuqOmjRRQU", Type: "email", Name: "Backup", Email: "alic****@exam*******"},
	{ID: "recovery-code|dev_i1kgKoFSZLbPt6G1", Type: "recovery-code"},
	{ID: "webauthn-roaming|dev_KEYxxxxxxxxxxxxx", Type: "webauthn-roaming", Name: "YubiKey", Confirmed: yes()},
}

// fakeMethods is the Management API's picture, from a fixed list (or an
// error), recording what it was asked to change. Its cache holds the list
// only when cached is set (the benchmark's warm cache).
type fakeMethods struct {
	methods []mfaapi.AuthMethod
	err     error
	cached  bool
	updates []mfaapi.MethodUpdate
	deleted []string
	lists   int
}

func (f *fakeMethods) Cached(context.Context, string) ([]mfaapi.AuthMethod, bool) {
	return f.methods, f.cached && f.err == nil
}

func (f *fakeMethods) Fetch(context.Context, string) ([]mfaapi.AuthMethod, error) {
	f.lists++
	return f.methods, f.err
}
func (f *fakeMethods) Forget(context.Context, string) error { return nil }
func (f *fakeMethods) Update(_ context.Context, _, _ string, u mfaapi.MethodUpdate) error {
	f.updates = append(f.updates, u)
	return f.err
}
func (f *fakeMethods) Delete(_ context.Context, _, id string) error {
	f.deleted = append(f.deleted, id)
	return f.err
}

// benchResponse is a ResponseWriter that keeps only the status and the size,
// so the allocations reported are the portal's, not a recorder's.
type benchResponse struct {
	header http.Header
	status int
	bytes  int
}

func (w *benchResponse) Header() http.Header { return w.header }

func (w *benchResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchResponse) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.bytes += len(p)
	return len(p), nil
}

// Flush is a no-op; templ flushes when it releases its buffer, and echo
// panics if the writer cannot.
func (w *benchResponse) Flush() {}

func (w *benchResponse) reset() {
	clear(w.header)
	w.status, w.bytes = 0, 0
}

// BenchmarkFactorsPage measures GET /factors through the whole Echo stack
// (middleware, session cookie decryption, grouping, templ rendering, access
// log) with the upstream call answered in memory and the details cached.
func BenchmarkFactorsPage(b *testing.B) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	deps, store := testDeps(b, func() time.Time { return now }, nil)
	deps.AssetVersion = "0123456789ab"
	deps.Methods = &fakeMethods{methods: benchMethods, cached: true} // warm, as in go run ./bench
	e, err := New(deps)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/factors", nil)
	req.AddCookie(signedIn(b, store, now, session.TopLevel))
	req.Header.Set("Sec-Fetch-Site", "none")

	// The same request must render the list, or the figures mean nothing.
	check := httptest.NewRecorder()
	e.ServeHTTP(check, req)
	if check.Code != http.StatusOK || !strings.Contains(check.Body.String(), `data-testid="factor-guardian"`) {
		b.Fatalf("GET /factors: status %d, want 200 with the factor list", check.Code)
	}

	w := &benchResponse{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		e.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("GET /factors: status %d", w.status)
		}
	}
	b.ReportMetric(float64(w.bytes), "B/page")
}
