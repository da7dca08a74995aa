package e2e

import (
	"fmt"
	"io"
	"sync"
	"testing"
)

// suiteTally counts the cases of one suite and how each one ended. The
// counts come from what the cases asserted, so the summary printed after
// the run says what was shown, not what was planned.
type suiteTally struct {
	name    string
	okWord  string // what a case that held is called: "refused", "handled"
	badWord string // what a case that leaked is called; empty: not counted
	// countSkips reports skipped cases, for suites where a skip hides a gap
	// (the browser journeys without Chromium).
	countSkips bool

	mu                             sync.Mutex
	cases, held, breaches, skipped int
}

// caseOutcome is filled in by one case while it runs.
type caseOutcome struct {
	// held: the attack was refused or the fault handled as it should be.
	held bool
	// breached: something that must not happen did (a session was created,
	// the tenant changed).
	breached bool
}

// begin counts a case and records its outcome when t ends. A case only
// counts as held if it said so and none of its assertions failed.
func (s *suiteTally) begin(t *testing.T) *caseOutcome {
	t.Helper()
	out := &caseOutcome{}
	s.mu.Lock()
	s.cases++
	s.mu.Unlock()
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if out.held && !t.Failed() && !t.Skipped() {
			s.held++
		}
		if t.Skipped() {
			s.skipped++
		}
		if out.breached {
			s.breaches++
		}
	})
	return out
}

func (s *suiteTally) line() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := fmt.Sprintf("%s: %d cases, %d %s", s.name, s.cases, s.held, s.okWord)
	if s.badWord != "" {
		l += fmt.Sprintf(", %d %s", s.breaches, s.badWord)
	}
	if s.countSkips {
		l += fmt.Sprintf(", %d skipped", s.skipped)
	}
	return l
}

func (s *suiteTally) ran() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cases > 0
}

// suiteTallies are the suites that report a summary line. A package-level
// value because TestMain must read what every test recorded; it is test
// code only and holds nothing but counters.
type suiteTallies struct {
	security, oidc, faults, browser *suiteTally
}

var suites = suiteTallies{
	// security is for the lead's CSRF/session/authorisation cases: a case
	// joins the count by calling suites.security.begin(t). Its line is
	// printed only when some case did.
	security: &suiteTally{name: "security", okWord: "refused", badWord: "changes leaked"},
	oidc:     &suiteTally{name: "oidc", okWord: "refused", badWord: "sessions created"},
	faults:   &suiteTally{name: "faults", okWord: "handled"},
	// browser is for the Chromium journeys: suites.browser.begin(t) at the
	// start of each, held = true at its end.
	browser: &suiteTally{name: "browser", okWord: "passed", countSkips: true},
}

// print writes one line per suite that ran.
func (st suiteTallies) print(w io.Writer) {
	for _, s := range []*suiteTally{st.security, st.oidc, st.faults, st.browser} {
		if s.ran() {
			fmt.Fprintln(w, s.line())
		}
	}
}
