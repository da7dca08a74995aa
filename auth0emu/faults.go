package auth0emu

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Fault makes a route misbehave, for tests and benchmarks of the portal's
// resilience. Fields combine; a zero Fault clears the route's fault.
type Fault struct {
	// Latency is added before every call to the route while the fault is
	// set. A cancelled request stops waiting.
	Latency time.Duration
	// Status answers the next Times calls with this status and an
	// Auth0-style error body (429 with x-ratelimit-* headers) without
	// applying the request.
	Status int
	Times  int
	// DropAfterApply makes the next N calls apply the request, then close
	// the connection without answering, as when a response is lost.
	DropAfterApply int
}

// faultTable holds the faults per route. active counts routes with a fault
// so the hot path skips the lock when none is set.
type faultTable struct {
	active atomic.Int32
	mu     sync.Mutex
	m      map[string]*Fault
}

func newFaultTable() *faultTable { return &faultTable{m: map[string]*Fault{}} }

// faultAction is what one call must suffer.
type faultAction struct {
	latency time.Duration
	status  int
	drop    bool
}

// take returns what the next call to route suffers and uses up counted faults.
func (ft *faultTable) take(route string) faultAction {
	if ft.active.Load() == 0 {
		return faultAction{}
	}
	ft.mu.Lock()
	defer ft.mu.Unlock()
	f := ft.m[route]
	if f == nil {
		return faultAction{}
	}
	act := faultAction{latency: f.Latency}
	switch {
	case f.Status != 0 && f.Times > 0:
		act.status = f.Status
		f.Times--
	case f.DropAfterApply > 0:
		act.drop = true
		f.DropAfterApply--
	}
	if f.Latency == 0 && f.Times <= 0 && f.DropAfterApply <= 0 {
		delete(ft.m, route)
		ft.active.Store(int32(len(ft.m)))
	}
	return act
}

func (ft *faultTable) set(route string, f Fault) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if f.Status == 0 {
		f.Times = 0
	}
	if f.Latency <= 0 && f.Times <= 0 && f.DropAfterApply <= 0 {
		delete(ft.m, route)
	} else {
		ft.m[route] = &f
	}
	ft.active.Store(int32(len(ft.m)))
}

func (ft *faultTable) clear() {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	clear(ft.m)
	ft.active.Store(0)
}

// Inject sets the fault of route (a Route* constant), replacing any other.
// Unknown routes are ignored and logged.
func (t *Tenant) Inject(route string, f Fault) {
	if !t.routeSet[route] {
		t.log.Warn("fault for unknown route ignored", "route", route)
		return
	}
	t.faults.set(route, f)
}

// ClearFaults removes every fault.
func (t *Tenant) ClearFaults() { t.faults.clear() }

// Calls returns how many requests reached route (a Route* constant) since
// the start or the last ResetCalls, including those a fault answered.
func (t *Tenant) Calls(route string) int {
	c, ok := t.counters[route]
	if !ok {
		return 0
	}
	return int(c.Load())
}

// ResetCalls sets every route counter to zero.
func (t *Tenant) ResetCalls() {
	for _, c := range t.counters {
		c.Store(0)
	}
}

// callCounts returns a snapshot of the counters.
func (t *Tenant) callCounts() map[string]int {
	out := make(map[string]int, len(t.counters))
	for route, c := range t.counters {
		out[route] = int(c.Load())
	}
	return out
}

// dropConnection closes the client's connection without a response. A
// server without hijacking (HTTP/2, a recorder) gets http.ErrAbortHandler,
// which net/http turns into a reset stream or closed connection.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// sleepCtx waits d unless the request is cancelled first.
func sleepCtx(r *http.Request, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
