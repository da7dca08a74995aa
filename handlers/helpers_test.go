package handlers

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mfaportal/kvstore"
	"mfaportal/mfaapi"
	"mfaportal/ratelimit"
	"mfaportal/session"
	"mfaportal/signin"
)

const testIssuer = "https://tenant.example.com/"

// testDeps is what the handler tests wire: fakes upstream, the real
// session store and limits on a memory store, on the clock now.
func testDeps(t testing.TB, now func() time.Time, logs *bytes.Buffer) (Deps, *session.Store) {
	t.Helper()
	return testDepsOn(t, now, logs, kvstore.NewMemory(now, 0), false)
}

// testDepsOn is testDeps with the state in kv, sessions as records there
// when records is set (as with Redis).
func testDepsOn(t testing.TB, now func() time.Time, logs *bytes.Buffer, kv kvstore.Store, records bool) (Deps, *session.Store) {
	t.Helper()
	store, err := session.New(session.Options{Keys: [][]byte{bytes.Repeat([]byte{0x5a}, 32)}, KV: kv, Records: records, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	return Deps{
		SignIn:    signin.New(signin.Config{Issuer: testIssuer, ClientID: "portal-web", RedirectURL: "https://mfa.example.com/callback", Now: now}),
		Factors:   benchFactorList{auths: benchAuthenticators},
		Recovery:  benchNoRecovery{},
		Methods:   &fakeMethods{methods: benchMethods},
		Sessions:  store,
		Limits:    ratelimit.New(kv),
		Enrol:     &fakeEnroller{},
		PublicURL: "https://mfa.example.com",
		Issuer:    testIssuer,
		Logger:    logger,
		Now:       now,
		// Tests view pages far faster than a person (TestViewLimit sets one).
		ViewsPerMinute: 1_000_000,
	}, store
}

// signedIn is a signed-in session cookie of purpose p, as /callback (or the
// handoff, for Embed) writes it, with an access token the size of Auth0's.
func signedIn(t testing.TB, store *session.Store, now time.Time, p session.Purpose) *http.Cookie {
	t.Helper()
	sess, err := store.Start(httptest.NewRequest(http.MethodGet, "/callback", nil), p)
	if err != nil {
		t.Fatal(err)
	}
	sess.Sub, sess.Name, sess.AccessToken = "auth0|64a1f0c2e4b0a1b2c3d4e5f6", "Alice Example", strings.Repeat("x", 1000)
	sess.TokenExpiry, sess.AuthTime = now.Add(10*time.Minute), now
	rec := httptest.NewRecorder()
	if err := store.Save(rec, httptest.NewRequest(http.MethodGet, "/callback", nil), sess); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge > 0 {
			return c
		}
	}
	t.Fatal("no session cookie was written")
	return nil
}

// fakeEnroller answers as Auth0 does for an authenticator app: an
// association with a secret, then the code it expects (or err).
type fakeEnroller struct {
	mu           sync.Mutex
	associations int
	confirms     []string
	wantCode     string
	recovery     string
	confirmErr   error
	phones       []string // numbers associated, with their channel
	lastOOB      string
	guardian     string // "", "approved" or "denied": the phone's answer
	associateErr error
}

func (f *fakeEnroller) Associate(ctx context.Context, accessToken, channel, phone, email string) (mfaapi.Association, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.associations++
	if f.associateErr != nil {
		return mfaapi.Association{}, f.associateErr
	}
	if channel != mfaapi.ChannelOTP {
		f.phones = append(f.phones, channel+":"+phone+email)
		f.lastOOB = fmt.Sprintf("oob-%d", f.associations)
		a := mfaapi.Association{AuthenticatorType: "oob", OOBChannel: channel, BindingMethod: "prompt", OOBCode: f.lastOOB}
		if channel == mfaapi.ChannelGuardian {
			a.BindingMethod, a.BarcodeURI = "", "otpauth://totp/Tenant:bob%40example.com?enrollment_tx_id=tx&base_url=https%3A%2F%2Ftenant.example.com"
		}
		if f.recovery != "" {
			a.RecoveryCodes = []string{f.recovery}
		}
		return a, nil
	}
	a := mfaapi.Association{AuthenticatorType: "otp", Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
		BarcodeURI: "otpauth://totp/Tenant:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Tenant"}
	if f.recovery != "" {
		a.RecoveryCodes = []string{f.recovery}
	}
	return a, nil
}

func (f *fakeEnroller) ConfirmOTP(ctx context.Context, accessToken, otp string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirms = append(f.confirms, otp)
	if f.confirmErr != nil {
		return f.confirmErr
	}
	if otp != f.wantCode {
		return &mfaapi.APIError{Op: "confirm", Status: 403, Code: "invalid_grant", Err: mfaapi.ErrInvalidCode}
	}
	return nil
}

// ConfirmOOB accepts wantCode as the code sent for the association whose
// oob_code Associate gave.
func (f *fakeEnroller) ConfirmOOB(ctx context.Context, accessToken, oobCode, bindingCode string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.confirms = append(f.confirms, oobCode+"/"+bindingCode)
	if f.confirmErr != nil {
		return f.confirmErr
	}
	if bindingCode == "" && oobCode == f.lastOOB {
		switch f.guardian {
		case "approved":
			return nil
		case "denied":
			return &mfaapi.APIError{Op: "confirm", Status: 400, Code: "access_denied", Err: mfaapi.ErrAuthorizationDenied}
		}
		return &mfaapi.APIError{Op: "confirm", Status: 400, Code: "authorization_pending", Err: mfaapi.ErrAuthorizationPending}
	}
	if bindingCode != f.wantCode || oobCode != f.lastOOB {
		return &mfaapi.APIError{Op: "confirm", Status: 403, Code: "invalid_grant", Err: mfaapi.ErrInvalidCode}
	}
	return nil
}
