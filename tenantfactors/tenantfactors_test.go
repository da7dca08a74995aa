package tenantfactors

import (
	"context"
	"strings"
	"testing"
	"time"

	"mfaportal/mfaapi"
)

type fakeAPI struct {
	calls    int
	settings mfaapi.FactorSettings
	err      error
}

func (f *fakeAPI) FactorSettings(context.Context) (mfaapi.FactorSettings, error) {
	f.calls++
	return f.settings, f.err
}

func TestFromNames(t *testing.T) {
	for list, want := range map[string]Offer{
		"otp":                                   {App: true},
		"otp,push-notification":                 {App: true, Guardian: true},
		"sms":                                   {SMS: true},
		"voice,email":                           {Voice: true, Email: true},
		"otp,webauthn-roaming":                  {App: true, SecurityKeys: true},
		"otp,push-notification,sms,voice,email": Default,
		"":                                      {},
	} {
		if got := FromNames(strings.Split(list, ",")); got != want {
			t.Errorf("FromNames(%q) = %+v; want %+v", list, got, want)
		}
	}
}

func TestFromSettings(t *testing.T) {
	got := FromSettings(mfaapi.FactorSettings{Enabled: []string{"sms", "email", "webauthn-platform", "recovery-code"}, PhoneMessageTypes: []string{"voice"}})
	if want := (Offer{Voice: true, Email: true, SecurityKeys: true}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// Message types without the phone factor on offer nothing.
	if got := FromSettings(mfaapi.FactorSettings{Enabled: []string{"otp"}, PhoneMessageTypes: []string{"sms"}}); got.Phone() {
		t.Errorf("phone offered while the factor is off: %+v", got)
	}
}

func TestSource(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	configured := Offer{App: true}
	ctx := context.Background()

	t.Run("the tenant's settings, read once per lifetime", func(t *testing.T) {
		api := &fakeAPI{settings: mfaapi.FactorSettings{Enabled: []string{"push-notification", "sms"}, PhoneMessageTypes: []string{"sms"}}}
		s := New(api, configured, nil, clock)
		want := Offer{Guardian: true, SMS: true}
		for range 3 {
			if got := s.Offer(ctx); got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		}
		if api.calls != 1 {
			t.Errorf("%d reads, want 1", api.calls)
		}
		api.settings = mfaapi.FactorSettings{Enabled: []string{"otp"}}
		now = now.Add(Lifetime)
		if got := s.Offer(ctx); got != (Offer{App: true}) || api.calls != 2 {
			t.Errorf("after the lifetime: %+v after %d reads", got, api.calls)
		}
	})
	t.Run("not allowed to read: the configuration", func(t *testing.T) {
		api := &fakeAPI{err: &mfaapi.APIError{Op: "read factor settings", Status: 403, Err: mfaapi.ErrForbidden}}
		s := New(api, configured, nil, clock)
		if got := s.Offer(ctx); got != configured {
			t.Errorf("got %+v, want the configuration %+v", got, configured)
		}
		s.Offer(ctx)
		if api.calls != 1 {
			t.Errorf("%d reads, want 1 per lifetime", api.calls)
		}
	})
	t.Run("a failure keeps the last answer and tries again soon", func(t *testing.T) {
		api := &fakeAPI{settings: mfaapi.FactorSettings{Enabled: []string{"email"}}}
		s := New(api, configured, nil, clock)
		s.Offer(ctx)
		now = now.Add(Lifetime)
		api.err = &mfaapi.APIError{Op: "read factor settings", Status: 503, Err: mfaapi.ErrUnavailable}
		if got := s.Offer(ctx); got != (Offer{Email: true}) {
			t.Errorf("after a failure: %+v, want the last answer", got)
		}
		api.err = nil
		api.settings = mfaapi.FactorSettings{Enabled: []string{"otp"}}
		now = now.Add(retryAfter)
		if got := s.Offer(ctx); got != (Offer{App: true}) || api.calls != 3 {
			t.Errorf("retry: %+v after %d reads", got, api.calls)
		}
	})
	t.Run("a failure before any answer: the configuration", func(t *testing.T) {
		s := New(&fakeAPI{err: &mfaapi.APIError{Err: mfaapi.ErrTimeout}}, configured, nil, clock)
		if got := s.Offer(ctx); got != configured {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("no Management API: the configuration", func(t *testing.T) {
		if got := New(nil, configured, nil, clock).Offer(ctx); got != configured {
			t.Errorf("got %+v", got)
		}
	})
}
