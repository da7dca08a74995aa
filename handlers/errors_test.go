package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/i18n"
	"mfaportal/kvstore"
	"mfaportal/mfaapi"
	"mfaportal/ratelimit"
	"mfaportal/session"
)

// Every entry of the error table reads as a sentence in every language,
// never as its key.
func TestErrorTableIsTranslated(t *testing.T) {
	cat := i18n.New()
	entries := []errorEntry{tooOften, internalError, notFound, methodNotAllowed, tooLarge, badRequest}
	for _, row := range errorTable {
		entries = append(entries, row.entry)
	}
	for _, lang := range []string{"en", "fr"} {
		tag, _ := cat.Supported(lang)
		pr := cat.Printer(tag)
		for _, e := range entries {
			for _, key := range []string{e.heading, e.message, e.actionText} {
				if key == "" {
					continue
				}
				if got := pr.T(key); got == key || got == "" {
					t.Errorf("%s: %q (class %s) is not translated", lang, key, e.class)
				}
			}
			if e.class == "" || e.status < 400 {
				t.Errorf("entry %+v lacks a class or an error status", e)
			}
		}
	}
}

// What a person, the log and the metrics see for each kind of error.
func TestErrorPages(t *testing.T) {
	tests := []struct {
		err     error
		status  int
		class   string
		heading string
		action  string
	}{
		{fmt.Errorf("loading: %w", kvstore.ErrUnavailable), 503, "store_down", "temporarily unavailable", "/factors"},
		{kvstore.ErrFull, 503, "store_down", "temporarily unavailable", "/factors"},
		{session.ErrEnded, 401, "session_ended", "Please sign in again", "/login"},
		{&ratelimit.ExceededError{Rule: regenerateRule, Wait: 90 * time.Second}, 429, "too_often", "Please wait before trying again", "/recovery-code"},
		{&mfaapi.APIError{Err: mfaapi.ErrRateLimited, RetryAfter: 30 * time.Second}, 429, "rate_limited", "wait", "/factors"},
		{fmt.Errorf("x: %w", mfaapi.ErrOutcomeUnknown), 502, "outcome_unknown", "", "/recovery-code"},
		{errors.New("surprise"), 500, "internal", "", "/factors"},
		{echo.ErrNotFound, 404, "not_found", "", "/factors"},
	}
	for _, tt := range tests {
		t.Run(tt.class, func(t *testing.T) {
			var logs bytes.Buffer
			deps, _ := testDeps(t, time.Now, &logs)
			p, err := newPortal(deps)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/factors", nil), rec)
			p.errorHandler(tt.err, c)
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.heading) || !strings.Contains(body, `href="`+tt.action) {
				t.Errorf("page %d, want %d with %q and an action to %s:\n%.800s", rec.Code, tt.status, tt.heading, tt.action, body)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line["error_class"] != tt.class {
				t.Errorf("log %s, want error_class %s", logs.String(), tt.class)
			}
			if strings.Contains(body, "surprise") {
				t.Error("the error's text reached the page")
			}
		})
	}
}
