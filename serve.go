package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"mfaportal/config"
	"mfaportal/handlers"
)

// shutdownTimeout is how long in-flight requests get to finish on SIGTERM.
const shutdownTimeout = 15 * time.Second

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(args, getenv, os.ReadFile)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, err)
		return nil
	}
	if err != nil {
		return err
	}
	logger := newLogger(cfg, stdout)
	var metrics *handlers.Metrics
	if cfg.MetricsAddr != "" {
		metrics = handlers.NewMetrics()
	}
	h, err := handlers.NewFromConfig(ctx, cfg, logger, time.Now, handlers.WithMetrics(metrics))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	if metrics != nil {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		logger.Info("metrics listening", slog.String("addr", mln.Addr().String()))
		g.Go(func() error { return serve(ctx, mln, metricsMux(metrics), logger) })
	}
	logger.Info("portal listening", slog.String("addr", ln.Addr().String()), slog.String("public_url", cfg.PublicURL.String()))
	g.Go(func() error { return serve(ctx, ln, h, logger) })
	return g.Wait()
}

// metricsMux serves only /metrics: the listener is for Prometheus, not people.
func metricsMux(m *handlers.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// serve runs h on ln until ctx ends, then lets in-flight requests finish.
func serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
