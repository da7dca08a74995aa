package auth0emu

import (
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// adminRoutes registers the loopback-only control endpoint under /_emulator/.
func (t *Tenant) adminRoutes() {
	t.mux.HandleFunc("POST /_emulator/faults", t.loopbackOnly(t.handleAdminInject))
	t.mux.HandleFunc("DELETE /_emulator/faults", t.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		t.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.mux.HandleFunc("GET /_emulator/calls", t.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, t.callCounts())
	}))
	t.mux.HandleFunc("POST /_emulator/calls/reset", t.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		t.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.mux.HandleFunc("GET /_emulator/outbox", t.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		t.renderPage(w, r, http.StatusOK, "outbox", localeFrom(r.URL.Query().Get("ui_locales")), outboxPage{Enrolments: t.PendingEnrolments("")})
	}))
	// A form on the page above (same origin: loopbackOnly refuses others).
	t.mux.HandleFunc("POST /_emulator/outbox/push", t.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		device := strings.TrimSpace(r.PostFormValue("device"))
		if n := []rune(device); len(n) > 40 {
			device = string(n[:40])
		}
		t.AnswerPush(r.PostFormValue("oob_code"), r.PostFormValue("action") == "approve", cmpOr(device, "Emulated phone"))
		http.Redirect(w, r, "/_emulator/outbox", http.StatusSeeOther)
	}))
	t.mux.HandleFunc("POST /_emulator/rotate-keys", t.loopbackOnly(func(w http.ResponseWriter, r *http.Request) {
		t.RotateKeys()
		w.WriteHeader(http.StatusNoContent)
	}))
}

// loopbackOnly refuses callers that are not on this machine: even with
// -allow-remote, nobody else may reconfigure the emulator. It also refuses
// what a browser marks as cross-origin (Sec-Fetch-Site, then Origin), so a
// page on another site cannot drive it through the developer's browser
// with a form or a text/plain POST.
func (t *Tenant) loopbackOnly(h http.HandlerFunc) http.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(w http.ResponseWriter, r *http.Request) {
		if err := cop.Check(r); err != nil {
			writeAuthError(w, http.StatusForbidden, "access_denied", "The emulator admin endpoint refuses cross-origin requests")
			return
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			writeAuthError(w, http.StatusForbidden, "access_denied", "The emulator admin endpoint is only reachable from loopback")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r)
	}
}

// adminFault is the JSON body of POST /_emulator/faults.
type adminFault struct {
	Route          string `json:"route"`
	LatencyMS      int    `json:"latency_ms"`
	Status         int    `json:"status"`
	Times          int    `json:"times"`
	DropAfterApply int    `json:"drop_after_apply"`
}

func (t *Tenant) handleAdminInject(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeAuthError(w, http.StatusUnsupportedMediaType, "invalid_request", "Body must be application/json")
		return
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	var body adminFault
	if err := dec.Decode(&body); err != nil {
		writeAuthError(w, http.StatusBadRequest, "invalid_request", "Body must be JSON {route, latency_ms, status, times, drop_after_apply}")
		return
	}
	switch {
	case !t.routeSet[body.Route]:
		writeAuthError(w, http.StatusBadRequest, "invalid_request", "Unknown route; see GET /_emulator/calls for route names")
		return
	case body.LatencyMS < 0 || body.Times < 0 || body.DropAfterApply < 0:
		writeAuthError(w, http.StatusBadRequest, "invalid_request", "Negative values are not allowed")
		return
	case body.Status != 0 && (body.Status < 400 || body.Status > 599):
		writeAuthError(w, http.StatusBadRequest, "invalid_request", "status must be an error status (400-599)")
		return
	}
	t.Inject(body.Route, Fault{
		Latency: time.Duration(body.LatencyMS) * time.Millisecond,
		Status:  body.Status, Times: body.Times, DropAfterApply: body.DropAfterApply,
	})
	w.WriteHeader(http.StatusNoContent)
}
