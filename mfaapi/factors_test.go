package mfaapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"mfaportal/mfaapi"
)

// The factor list is the OpenAPI document's GuardianFactor array; the
// phone's message types are asked only when the phone factor is on.
func TestFactorSettings(t *testing.T) {
	for name, tc := range map[string]struct {
		factors, types string
		want           mfaapi.FactorSettings
		calls          []string
	}{
		"phone on": {
			factors: `[{"enabled":true,"trial_expired":false,"name":"sms"},{"enabled":false,"trial_expired":false,"name":"email"},{"enabled":true,"name":"otp"}]`,
			types:   `{"message_types":["voice","fax"]}`,
			want:    mfaapi.FactorSettings{Enabled: []string{"sms", "otp"}, PhoneMessageTypes: []string{"voice"}},
			calls:   []string{"/api/v2/guardian/factors", "/api/v2/guardian/factors/phone/message-types"},
		},
		"phone off": {
			factors: `[{"enabled":false,"name":"sms"},{"enabled":true,"name":"push-notification"}]`,
			want:    mfaapi.FactorSettings{Enabled: []string{"push-notification"}},
			calls:   []string{"/api/v2/guardian/factors"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var calls []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls = append(calls, r.URL.Path)
				if r.Header.Get("Authorization") != "Bearer m2m" {
					t.Errorf("authorization %q", r.Header.Get("Authorization"))
				}
				if r.URL.Path == "/api/v2/guardian/factors" {
					io.WriteString(w, tc.factors)
					return
				}
				io.WriteString(w, tc.types)
			}))
			defer srv.Close()
			got, err := mustManagement(t, srv.URL, staticTokens("m2m")).FactorSettings(context.Background())
			if err != nil || !slices.Equal(got.Enabled, tc.want.Enabled) || !slices.Equal(got.PhoneMessageTypes, tc.want.PhoneMessageTypes) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
			if !slices.Equal(calls, tc.calls) {
				t.Errorf("calls %v, want %v", calls, tc.calls)
			}
		})
	}
	t.Run("insufficient scope", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:guardian_factors","errorCode":"insufficient_scope"}`)
		}))
		defer srv.Close()
		_, err := mustManagement(t, srv.URL, staticTokens("m2m")).FactorSettings(context.Background())
		if !errors.Is(err, mfaapi.ErrForbidden) {
			t.Errorf("got %v, want ErrForbidden", err)
		}
	})
}
