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

	"golang.org/x/sync/errgroup"

	"mfaportal/app"
	"mfaportal/config"
	"mfaportal/metrics"
)

// runServe handles "mfaportal [serve]": the portal as configured by the
// environment, and its metrics listener when METRICS_ADDR is set.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(args, getenv, os.ReadFile)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stdout, err)
		return nil
	}
	if err != nil {
		return err
	}
	logger := app.NewLogger(cfg, stdout)
	var m *metrics.Metrics
	if cfg.MetricsAddr != "" {
		m = metrics.New()
	}
	h, err := app.New(ctx, cfg, app.Options{Logger: logger, Metrics: m})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	if m != nil {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		logger.Info("metrics listening", slog.String("addr", mln.Addr().String()))
		g.Go(func() error { return app.Serve(ctx, mln, metricsMux(m), logger) })
	}
	logger.Info("portal listening", slog.String("addr", ln.Addr().String()), slog.String("public_url", cfg.PublicURL.String()))
	g.Go(func() error { return app.Serve(ctx, ln, h, logger) })
	return g.Wait()
}

// metricsMux serves only /metrics: the listener is for Prometheus, not people.
func metricsMux(m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}
