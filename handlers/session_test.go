package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSessionRoundTripAndSize(t *testing.T) {
	now := time.Now()
	store, err := newSessionStore([][]byte{[]byte(strings.Repeat("k", 32))}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	sess := newSession()
	sess.Sub = "auth0|" + strings.Repeat("9", 24)
	sess.Name = strings.Repeat("Ünïcødé ", 16)
	// Auth0's /mfa/ tokens are around 1 KB; leave room for a larger one.
	sess.AccessToken = strings.Repeat("a", 1400)
	sess.TokenExpiry = now.Add(10 * time.Minute)
	sess.AuthTime = now
	sess.Flash, sess.FlashArg = flashRemoved, "Guardian app (push notifications and one-time codes)"
	rec := httptest.NewRecorder()
	if err := store.save(rec, httptest.NewRequest(http.MethodGet, "/", nil), sess); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Header().Get("Set-Cookie")
	if len(cookie) >= 4096 {
		t.Errorf("session cookie is %d bytes, want < 4096", len(cookie))
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", strings.SplitN(cookie, ";", 2)[0])
	got, _ := store.load(req)
	if got == nil || got.Sub != sess.Sub || got.AccessToken != sess.AccessToken || !got.TokenExpiry.Equal(sess.TokenExpiry.Truncate(time.Second)) || got.CSRFToken != sess.CSRFToken {
		t.Fatalf("loaded %+v", got)
	}
	if strings.Contains(cookie, "aaaa") || strings.Contains(cookie, "auth0") {
		t.Error("the cookie is not encrypted")
	}

	// Rotation: a store whose first key is new still reads the old cookie,
	// and a store without the old key does not.
	rotated, _ := newSessionStore([][]byte{[]byte(strings.Repeat("n", 32)), []byte(strings.Repeat("k", 32))}, func() time.Time { return now })
	if us, _ := rotated.load(req); us == nil {
		t.Error("rotated keys do not verify the old cookie")
	}
	other, _ := newSessionStore([][]byte{[]byte(strings.Repeat("n", 32))}, func() time.Time { return now })
	if us, _ := other.load(req); us != nil {
		t.Error("a store without the key accepted the cookie")
	}

	// Revocation.
	if err := store.destroy(httptest.NewRecorder(), req, got); err != nil {
		t.Fatal(err)
	}
	if us, _ := store.load(req); us != nil {
		t.Error("a destroyed session still loads")
	}
}

func TestTooLargeSessionFails(t *testing.T) {
	store, _ := newSessionStore([][]byte{[]byte(strings.Repeat("k", 32))}, time.Now)
	sess := newSession()
	sess.AccessToken = strings.Repeat("a", 5000)
	if err := store.save(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), sess); err == nil {
		t.Error("a cookie over 4096 bytes was written")
	}
}
