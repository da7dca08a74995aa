package auth0emu

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// apiStyle says how a route reports errors: the Authentication API (incl.
// /mfa/) uses {error, error_description}, the Management API uses
// {statusCode, error, message, errorCode}, and browser routes render a page.
type apiStyle int

const (
	styleAuth apiStyle = iota
	styleMgmt
	stylePage
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error","error_description":"internal error"}`)
	}
	writeJSONBytes(w, status, b)
}

func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// authError is an Authentication API error body.
type authError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func writeAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, authError{Error: code, ErrorDescription: description})
}

// mgmtError is a Management API error body.
type mgmtError struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode,omitempty"`
}

func writeMgmtError(w http.ResponseWriter, status int, message, errorCode string) {
	writeJSON(w, status, mgmtError{StatusCode: status, Error: http.StatusText(status), Message: message, ErrorCode: errorCode})
}

// oauthCodeForStatus picks the OAuth error code an injected status answers with.
func oauthCodeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusUnauthorized:
		return "invalid_token"
	case http.StatusForbidden:
		return "access_denied"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusTooManyRequests:
		return "too_many_requests"
	case http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	}
	if status >= 500 {
		return "server_error"
	}
	return "invalid_request"
}

// writeStyledError answers status in the route's own error style.
func (t *Tenant) writeStyledError(w http.ResponseWriter, r *http.Request, style apiStyle, status int, description string) {
	code := oauthCodeForStatus(status)
	switch style {
	case styleMgmt:
		writeMgmtError(w, status, description, code)
	case stylePage:
		t.renderError(w, r, status, code, description)
	default:
		writeAuthError(w, status, code, description)
	}
}

func setRateLimitHeaders(h http.Header, limit, remaining int, reset time.Time) {
	h.Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
}
