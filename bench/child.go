package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"mfaportal/app"
	"mfaportal/config"
)

// Child processes. Each side of the comparison runs as its own process, so
// its CPU time per view is read off that process alone (/proc/PID/stat) and
// its memory off its own RSS. The bench re-runs its own binary with -child
// and the side's name; the environment says the rest:
//
//	BENCH_ADDR       the address to serve on (reserved by the parent)
//	BENCH_ADMIN      the address of the child's control listener: /gc,
//	                 /cpu/start?path=F, /cpu/stop (loopback, bench only)
//	portal           the portal's own variables (config.Load), as deployed
//	baseline         BENCH_UPSTREAM (GET /mfa/authenticators), BENCH_TOKEN
//	app              BENCH_UPSTREAM: the oauth2-proxy peer's upstream
//	floor            the portal's variables; BENCH_PAGE, BENCH_HEADER, BENCH_TOKENS
//	                 and BENCH_COOKIES (floor.go)
const (
	childPortal   = "portal"
	childBaseline = "baseline"
	childApp      = "app"
)

// runChild serves one side until the parent kills it.
func runChild(ctx context.Context, mode string) error {
	var h http.Handler
	switch mode {
	case childPortal:
		cfg, err := config.Load(nil, os.Getenv, os.ReadFile)
		if err != nil {
			return err
		}
		// Logged as in production (JSON, info), then discarded: the cost
		// of logging is measured, the terminal is not.
		logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
		h, err = app.New(ctx, cfg, app.Options{Logger: logger})
		if err != nil {
			return err
		}
	case childBaseline:
		h = newBaseline(os.Getenv("BENCH_UPSTREAM"), os.Getenv("BENCH_TOKEN"))
	case childApp:
		h = newPeerApp(os.Getenv("BENCH_UPSTREAM"))
	case childFloor:
		var err error
		if h, err = newFloor(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown -child %q", mode)
	}
	ln, err := net.Listen("tcp", os.Getenv("BENCH_ADDR"))
	if err != nil {
		return err
	}
	admin, err := net.Listen("tcp", os.Getenv("BENCH_ADMIN"))
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(admin, childControl()) }()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// childControl lets the parent collect garbage before a memory reading and
// profile the measured runs.
func childControl() http.Handler {
	var mu sync.Mutex
	var profile *os.File
	mux := http.NewServeMux()
	mux.HandleFunc("POST /gc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
	})
	mux.HandleFunc("POST /cpu/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.Create(r.URL.Query().Get("path"))
		if err == nil {
			if err = pprof.StartCPUProfile(f); err != nil {
				f.Close()
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		profile = f
	})
	mux.HandleFunc("POST /cpu/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if profile != nil {
			pprof.StopCPUProfile()
			_ = profile.Close()
			profile = nil
		}
	})
	return mux
}
