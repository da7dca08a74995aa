package mfaapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mfaportal/mfaapi"
)

// recordedMethods is the list Auth0 answered in
// TestUserManager_AuthenticationMethods.yaml (include_totals=true).
const recordedMethods = `{"authenticators":[{"id":"email|dev_jFUpfLan83lYSMIF","type":"email","confirmed":true,"name":"MyEmail","email":"****@exam*******","created_at":"2023-03-10T16:25:52.098Z"},{"id":"totp|dev_F9T7cy0hM0IgHjwP","type":"totp","confirmed":true,"name":"MyTotp","created_at":"2023-03-10T16:25:52.099Z"},{"id":"phone|dev_kXVq4drj3Mw6uCF5","type":"phone","confirmed":true,"name":"MyPhone","phone_number":"XXXXXXXXXXX5044","created_at":"2023-03-10T16:25:52.099Z","preferred_authentication_method":"sms","authentication_methods":[{"id":"sms|dev_kXVq4drj3Mw6uCF5","type":"sms"}]}],"total":3,"start":0,"limit":50}`

func TestListAuthenticationMethods(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, recordedMethods)
	}))
	defer srv.Close()
	m := mustManagement(t, srv.URL, staticTokens("m2m-token"))
	got, err := m.ListAuthenticationMethods(context.Background(), "auth0|640b5a0ed3534be8b2db9dd3")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Type != "phone" || got[2].AuthenticationMethods[0].ID != "sms|dev_kXVq4drj3Mw6uCF5" ||
		got[2].PreferredAuthenticationMethod != "sms" || got[2].PhoneNumber != "XXXXXXXXXXX5044" || got[1].Name != "MyTotp" ||
		!got[0].CreatedAt.Equal(time.Date(2023, 3, 10, 16, 25, 52, 98e6, time.UTC)) || got[0].Confirmed == nil || !*got[0].Confirmed {
		t.Errorf("parsed %+v", got)
	}
	want := "GET /api/v2/users/auth0%7C640b5a0ed3534be8b2db9dd3/authentication-methods?include_totals=true&page=0&per_page=100 Bearer m2m-token"
	if len(seen) != 1 || seen[0] != want {
		t.Errorf("requests %q, want %q", seen, want)
	}
}

func TestListAuthenticationMethodsPages(t *testing.T) {
	const total = 230
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var items []string
		for i := page * 100; i < min(total, page*100+100); i++ {
			items = append(items, `{"id":"totp|dev_`+strconv.Itoa(i)+`","type":"totp","created_at":"2024-01-01T00:00:00.000Z"}`)
		}
		io.WriteString(w, `{"authenticators":[`+strings.Join(items, ",")+`],"total":`+strconv.Itoa(total)+`,"start":`+strconv.Itoa(page*100)+`,"limit":100}`)
	}))
	defer srv.Close()
	got, err := mustManagement(t, srv.URL, staticTokens("t")).ListAuthenticationMethods(context.Background(), "u")
	if err != nil || len(got) != total || calls != 3 || got[229].ID != "totp|dev_229" {
		t.Fatalf("%d methods in %d calls, %v", len(got), calls, err)
	}
}

func TestUpdateAndDeleteAuthenticationMethod(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.EscapedPath()+" "+string(body))
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, `{"type":"phone","name":"Desk","id":"phone|dev_X"}`)
	}))
	defer srv.Close()
	m := mustManagement(t, srv.URL, staticTokens("t"))
	name, voice := "Desk <b>☎</b>", "voice"
	if _, err := m.UpdateAuthenticationMethod(context.Background(), "auth0|u", "phone|dev_X", mfaapi.MethodUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.UpdateAuthenticationMethod(context.Background(), "auth0|u", "phone|dev_X", mfaapi.MethodUpdate{PreferredAuthenticationMethod: &voice}); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteAuthenticationMethod(context.Background(), "auth0|u", "passkey|dev_../x"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`PATCH /api/v2/users/auth0%7Cu/authentication-methods/phone%7Cdev_X {"name":"Desk \u003cb\u003e☎\u003c/b\u003e"}`,
		`PATCH /api/v2/users/auth0%7Cu/authentication-methods/phone%7Cdev_X {"preferred_authentication_method":"voice"}`,
		`DELETE /api/v2/users/auth0%7Cu/authentication-methods/passkey%7Cdev_..%2Fx `,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, id := range []string{"", ".", ".."} {
		if err := m.DeleteAuthenticationMethod(context.Background(), "auth0|u", id); !errors.Is(err, mfaapi.ErrBadRequest) {
			t.Errorf("delete %q: %v", id, err)
		}
	}
}

// One rate-limited answer pauses every Management API call in the process
// until the reset: no retry storm against the tenant's shared limit.
func TestRateLimitPausesTheManagementAPI(t *testing.T) {
	var calls atomic.Int32
	reset := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-Ratelimit-Limit", "10")
		w.Header().Set("X-Ratelimit-Remaining", "0")
		w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"}`)
	}))
	defer srv.Close()
	m := mustManagement(t, srv.URL, staticTokens("t"))
	if _, err := m.ListAuthenticationMethods(context.Background(), "u"); !errors.Is(err, mfaapi.ErrRateLimited) {
		t.Fatalf("first call: %v", err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := m.ListAuthenticationMethods(context.Background(), "u")
			var apiErr *mfaapi.APIError
			if !errors.As(err, &apiErr) || !errors.Is(err, mfaapi.ErrRateLimited) || apiErr.Reset.Before(reset.Add(-time.Second)) {
				t.Errorf("paused call: %v", err)
			}
		})
	}
	wg.Wait()
	if _, err := m.RegenerateRecoveryCode(context.Background(), "u"); !errors.Is(err, mfaapi.ErrRateLimited) {
		t.Errorf("regeneration while paused: %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d requests reached Auth0, want 1 (the first; no retry, the others paused)", n)
	}
}
