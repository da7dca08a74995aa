package mfaapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"mfaportal/mfaapi"
)

// Confirmations and associations are never repeated, and each way they can
// fail maps to what the portal must say: a wrong code, a lost answer (the
// method may be active now), a gateway giving up, a rate limit.
func TestEnrolmentFaults(t *testing.T) {
	answer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	lost := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm() // read the request, as Auth0 would before applying it
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(ctx context.Context, baseURL string) error
		want    error
	}{
		{"wrong app code", answer(403, `{"error":"invalid_grant","error_description":"Invalid otp_code."}`), confirmOTP, mfaapi.ErrInvalidCode},
		{"lapsed association", answer(403, `{"error":"expired_token","error_description":"mfa_token is expired"}`), confirmOOB, mfaapi.ErrInvalidCode},
		{"confirmation answer lost", lost, confirmOTP, mfaapi.ErrOutcomeUnknown},
		{"gateway gave up on the confirmation", answer(504, `upstream timeout`), confirmOOB, mfaapi.ErrOutcomeUnknown},
		{"confirmation rate limited", answer(429, `{"error":"too_many_requests","error_description":"Too many attempts"}`), confirmOTP, mfaapi.ErrRateLimited},
		{"association refused", answer(400, `{"error":"invalid_request","error_description":"phone_number must be in E.164 format"}`), associateSMS, mfaapi.ErrBadRequest},
		{"too many unconfirmed associations", answer(429, `{"error":"too_many_requests","error_description":"Too many pending enrollments."}`), associateSMS, mfaapi.ErrRateLimited},
		{"association answer lost", lost, associateSMS, mfaapi.ErrOutcomeUnknown},
		{"association answer without an oob_code", answer(200, `{"authenticator_type":"oob","oob_channel":"sms"}`), associateSMS, mfaapi.ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				tt.handler(w, r)
			}))
			t.Cleanup(srv.Close)
			err := tt.call(t.Context(), srv.URL)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("sent %d times; an enrolment step is never repeated", n)
			}
		})
	}
}

func confirmOTP(ctx context.Context, baseURL string) error {
	c, err := mfaapi.NewEnroller(baseURL, "client", "secret-of-the-portal", nil, mfaapi.WithMaxRetries(3))
	if err != nil {
		return err
	}
	return c.ConfirmOTP(ctx, "user-access-token", "123456")
}

func confirmOOB(ctx context.Context, baseURL string) error {
	c, err := mfaapi.NewEnroller(baseURL, "client", "secret-of-the-portal", nil, mfaapi.WithMaxRetries(3))
	if err != nil {
		return err
	}
	return c.ConfirmOOB(ctx, "user-access-token", "oob", "123456")
}

func associateSMS(ctx context.Context, baseURL string) error {
	c, err := mfaapi.NewEnroller(baseURL, "client", "secret-of-the-portal", nil, mfaapi.WithMaxRetries(3))
	if err != nil {
		return err
	}
	_, err = c.Associate(ctx, "user-access-token", mfaapi.ChannelSMS, "+33612345678", "")
	return err
}

// By default the confirmation authenticates as the portal's sign-in does
// (client_secret_basic): the secret is never in the form.
func TestEnrollerClientSecretBasic(t *testing.T) {
	var user, pass, formSecret, mfaToken string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ = r.BasicAuth()
		_ = r.ParseForm()
		formSecret, mfaToken = r.PostForm.Get("client_secret"), r.PostForm.Get("mfa_token")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"x","token_type":"Bearer","expires_in":600}`))
	}))
	t.Cleanup(srv.Close)
	c, err := mfaapi.NewEnroller(srv.URL, "portal:web", "s3cret&more", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ConfirmOTP(t.Context(), "user-access-token", "123456"); err != nil {
		t.Fatal(err)
	}
	if user != "portal%3Aweb" || pass != "s3cret%26more" || formSecret != "" || mfaToken != "user-access-token" {
		t.Errorf("basic %q:%q, form secret %q, mfa_token %q", user, pass, formSecret, mfaToken)
	}
}

// An error that echoes the phone number keeps it out of the error's text,
// which is logged.
func TestAssociateErrorHidesThePhoneNumber(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"phone_number +33612345678 is not allowed"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := mfaapi.NewEnroller(srv.URL, "client", "secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Associate(t.Context(), "user-access-token", mfaapi.ChannelSMS, "+33612345678", "")
	if !errors.Is(err, mfaapi.ErrBadRequest) || strings.Contains(err.Error(), "612345678") {
		t.Errorf("err = %v", err)
	}
}
