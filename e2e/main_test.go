package e2e

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the suites, prints one summary line per suite, then fails
// the run if any goroutine outlived the tests: every server, client and
// background fetch a test starts must be gone by the end.
func TestMain(m *testing.M) {
	code := m.Run()
	suites.print(os.Stdout)

	// Keep-alive connections of clients that used http.DefaultTransport are
	// idle, not leaked; closing them lets their read and write loops end.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	if err := goleak.Find(); err != nil {
		fmt.Fprintf(os.Stderr, "goleak: goroutines left after the tests:\n%v\n", err)
		if code == 0 {
			code = 1
		}
	} else {
		fmt.Println("goleak: no goroutine left after the tests")
	}
	os.Exit(code)
}
