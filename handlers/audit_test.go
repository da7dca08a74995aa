package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"mfaportal/mfaapi"
)

func TestAudit(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		want  map[string]any
		level string
	}{
		{"success", nil, map[string]any{"outcome": "success"}, "INFO"},
		{"upstream refusal", fmt.Errorf("delete: %w", mfaapi.ErrForbidden), map[string]any{"outcome": "refused", "error_class": "forbidden"}, "WARN"},
		{"rate limited", &mfaapi.APIError{Err: mfaapi.ErrRateLimited, Description: "secret-ish detail"}, map[string]any{"outcome": "refused", "error_class": "rate_limited"}, "WARN"},
		{"outage", fmt.Errorf("x: %w", mfaapi.ErrUnavailable), map[string]any{"outcome": "failure", "error_class": "unavailable"}, "WARN"},
		{"answer lost", fmt.Errorf("x: %w", mfaapi.ErrOutcomeUnknown), map[string]any{"outcome": "unknown", "error_class": "outcome_unknown"}, "WARN"},
		{"unexpected", fmt.Errorf("boom with token eyJhbGci"), map[string]any{"outcome": "failure", "error_class": "internal"}, "WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			p := &portal{log: slog.New(slog.NewJSONHandler(&logs, nil))}
			c := echo.New().NewContext(httptest.NewRequest(http.MethodPost, "/factors/x/delete", nil), httptest.NewRecorder())
			c.Set(ctxRequestID, "req-0123456789")
			p.audit(c, auditFactorRemoved, "auth0|alice", tt.err, slog.String("factor_type", "totp"))

			var rec map[string]any
			if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
				t.Fatalf("%v\n%s", err, logs.String())
			}
			want := map[string]any{"audit": true, "event": "factor_removed", "msg": "factor_removed", "level": tt.level,
				"request_id": "req-0123456789", "sub": "auth0|alice", "factor_type": "totp"}
			for k, v := range tt.want {
				want[k] = v
			}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v", k, rec[k], v)
				}
			}
			if tt.err == nil && rec["error_class"] != nil {
				t.Errorf("a success has error_class %v", rec["error_class"])
			}
			if bytes.Contains(logs.Bytes(), []byte("eyJhbGci")) || bytes.Contains(logs.Bytes(), []byte("secret-ish")) {
				t.Errorf("the error's text was logged: %s", logs.String())
			}
		})
	}
}
