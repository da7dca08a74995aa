package main

import (
	"os"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// stage is a part of a page view's work in the portal, as its CPU profile
// shows it.
type stage struct {
	name string
	// markers are function name prefixes: a sample belongs to the first
	// stage (in the order of stages) any frame of whose stack starts with
	// one, so the session's JSON is session decoding, not JSON.
	markers []string
}

// stages are checked in this order; the last takes what none claims.
var stages = []stage{
	{"session decode (cookie or Redis record)", []string{"mfaportal/session.", "github.com/gorilla/securecookie."}},
	{"compression", []string{"compress/", "github.com/andybalholm/brotli", "github.com/klauspost/compress"}},
	// Before the page: the page's one Write of its buffer ends in the
	// server's writer and the kernel, which is sending, not rendering.
	{"sending the answer (net/http's writer, kernel)", []string{"net/http.(*response).", "net/http.(*chunkWriter).",
		"net/http.checkConnErrorWriter", "github.com/labstack/echo/v4.(*Response).Write"}},
	{"page (grouping, words, HTML)", []string{"mfaportal/views.", "github.com/a-h/templ", "mfaportal/i18n.", "golang.org/x/text/",
		"mfaportal/handlers.(*portal).render", "mfaportal/handlers.(*portal).factorView", "mfaportal/handlers.groupFactors",
		"mfaportal/handlers.detailedGroups", "mfaportal/handlers.(*portal).page"}},
	{"JSON (Auth0's answers, cached details)", []string{"encoding/json."}},
	{"upstream call (MFA API, details cache)", []string{"net/http.(*Transport)", "net/http.(*persistConn)", "net/http.(*Client)",
		"net/http.persistConnWriter", "mfaportal/mfaapi.", "mfaportal/authmethods.", "mfaportal/kvstore."}},
	{"middleware (logging, metrics, headers, limits)", []string{"log/slog.", "mfaportal/metrics.", "github.com/prometheus/",
		"mfaportal/handlers.(*portal).accessLog", "mfaportal/handlers.securityHeaders", "mfaportal/ratelimit.",
		"mfaportal/handlers.withRequestID", "mfaportal/handlers.(*portal).withLanguage"}},
	{"garbage collector (background)", []string{"runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge"}},
	{"HTTP server, routing, the rest", nil},
}

// stageShare is one stage's part of the portal's CPU.
type stageShare struct {
	name    string
	share   float64
	perView time.Duration
}

// attributeStages splits the CPU profile at path over stages; perView is
// the portal's CPU time per view over the same runs.
func attributeStages(path string, perView time.Duration) ([]stageShare, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, err
	}
	cpuIndex := len(p.SampleType) - 1 // "cpu" nanoseconds, after "samples"
	sums := make([]int64, len(stages))
	var total int64
	for _, s := range p.Sample {
		v := s.Value[cpuIndex]
		sums[classify(s)] += v
		total += v
	}
	out := make([]stageShare, len(stages))
	for i, st := range stages {
		out[i].name = st.name
		if total > 0 {
			out[i].share = float64(sums[i]) / float64(total)
			out[i].perView = time.Duration(out[i].share * float64(perView))
		}
	}
	return out, nil
}

func classify(s *profile.Sample) int {
	for i, st := range stages {
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function == nil {
					continue
				}
				for _, m := range st.markers {
					if strings.HasPrefix(line.Function.Name, m) {
						return i
					}
				}
			}
		}
	}
	return len(stages) - 1
}
