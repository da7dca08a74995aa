package auth0emu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// CheckLoopback returns an error unless addr (host:port) names a loopback
// address. "localhost" counts; an empty host (all interfaces) does not.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("auth0emu: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("auth0emu: refusing to listen on %q: it is a test double whose demo passwords and secrets are public; use a loopback address such as 127.0.0.1", addr)
	}
	return nil
}

// ListenAndServe serves t on addr until ctx is done, then shuts down
// gracefully. It refuses a non-loopback addr unless allowRemote.
func ListenAndServe(ctx context.Context, addr string, allowRemote bool, t *Tenant) error {
	if !allowRemote {
		if err := CheckLoopback(addr); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("auth0emu: listen: %w", err)
	}
	return Serve(ctx, ln, t)
}

// Serve serves t on ln until ctx is done; useful when the caller picked the
// port (e.g. ":0") before building the tenant's BaseURL.
func Serve(ctx context.Context, ln net.Listener, t *Tenant) error {
	srv := &http.Server{
		Handler:           t,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("auth0emu: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("auth0emu: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
