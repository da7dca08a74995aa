// Package dev is "mfaportal dev", the portal on an emulated Auth0 tenant
// with demo users and a sample account page that embeds it, and
// "mfaportal emulator", the emulated tenant alone. Neither is in the
// production build (tag noemulator).
package dev

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"syscall"

	"golang.org/x/sync/errgroup"

	"mfaportal/app"
	"mfaportal/auth0emu"
	"mfaportal/emulated"
)

// Run runs the portal against an in-process emulated Auth0 tenant with
// demo users: one command, no environment, fresh random keys every start.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mfaportal dev", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8080", "portal address (loopback)")
	tenantAddr := fs.String("tenant-addr", "127.0.0.1:9010", "emulated tenant address (loopback)")
	accountAddr := fs.String("account-addr", "localhost:8081", "sample account page that embeds the portal (loopback; another origin)")
	usersFile := fs.String("users", "", "JSON file of users (default: built-in demo users)")
	if done, err := parseFlags(fs, args, stdout, "Runs the portal on an emulated Auth0 tenant with demo users; every address must be loopback."); done || err != nil {
		return err
	}
	listeners := []struct {
		flag, what, addr string
		ln               net.Listener
	}{
		{"-tenant-addr", "the emulated tenant", *tenantAddr, nil},
		{"-addr", "the portal", *addr, nil},
		{"-account-addr", "the sample account page", *accountAddr, nil},
	}
	for _, l := range listeners {
		if err := auth0emu.CheckLoopback(l.addr); err != nil {
			return fmt.Errorf("dev: %s %s: %s in dev mode listens on loopback only, since it signs in through an emulated tenant whose demo passwords are public; use e.g. 127.0.0.1", l.flag, l.addr, l.what)
		}
	}
	users, err := loadUsers(*usersFile)
	if err != nil {
		return err
	}
	for i := range listeners {
		l := &listeners[i]
		if l.ln, err = net.Listen("tcp", l.addr); err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Errorf("dev: %s for %s is already in use (another mfaportal dev?); choose another with %s, e.g. %s 127.0.0.1:0 for any free port", l.addr, l.what, l.flag, l.flag)
			}
			return fmt.Errorf("dev: %s: %w", l.what, err)
		}
		defer l.ln.Close()
	}
	tenantLn, portalLn, accountLn := listeners[0].ln, listeners[1].ln, listeners[2].ln

	tenantURL := "http://" + tenantLn.Addr().String()
	portalURL := "http://" + portalLn.Addr().String()
	// Named by host name, not IP, so that it is another site than the portal.
	_, accountPort, _ := net.SplitHostPort(accountLn.Addr().String())
	accountURL := "http://localhost:" + accountPort
	tenant, err := auth0emu.New(auth0emu.Options{BaseURL: tenantURL, Users: users})
	if err != nil {
		return err
	}

	cfg, err := emulated.Config(tenant, portalURL, map[string]string{
		"LISTEN_ADDR":     portalLn.Addr().String(),
		"LOG_FORMAT":      "text",
		"FRAME_ANCESTORS": accountURL,
	})
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	logger := app.NewLogger(cfg, stdout)
	portal, err := app.New(ctx, cfg, app.Options{Logger: logger})
	if err != nil {
		return err
	}
	printDevBanner(stdout, portalURL, tenant, users)
	fmt.Fprintf(stdout, "  Embedded in another site: %s\n\n", accountURL)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return app.Serve(ctx, tenantLn, tenant, logger.With(slog.String("component", "emulated-tenant")))
	})
	g.Go(func() error { return app.Serve(ctx, portalLn, portal, logger) })
	g.Go(func() error {
		return app.Serve(ctx, accountLn, accountPage(portalURL), logger.With(slog.String("component", "sample-account-page")))
	})
	return g.Wait()
}

// Emulator runs the emulated tenant alone, e.g. for a portal started with
// its own environment.
func Emulator(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("mfaportal emulator", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:9010", "listen address")
	usersFile := fs.String("users", "", "JSON file of users (default: built-in demo users)")
	allowRemote := fs.Bool("allow-remote", false, "allow a non-loopback address (it is a test double: never expose it)")
	redirect := fs.String("redirect-uri", "http://127.0.0.1:8080/callback", "the portal's callback URL to register")
	logoutURL := fs.String("logout-url", "http://127.0.0.1:8080/signed-out", "the portal's sign-out return URL to register")
	if done, err := parseFlags(fs, args, stdout, "Runs the emulated Auth0 tenant alone (a test double, not Auth0)."); done || err != nil {
		return err
	}
	if !*allowRemote {
		if err := auth0emu.CheckLoopback(*addr); err != nil {
			return fmt.Errorf("emulator: %w (pass -allow-remote to override)", err)
		}
	}
	users, err := loadUsers(*usersFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	tenant, err := auth0emu.New(auth0emu.Options{BaseURL: "http://" + ln.Addr().String(), Users: users})
	if err != nil {
		return err
	}
	tenant.AddRedirectURI(*redirect)
	tenant.AddLogoutURL(*logoutURL)
	web, m2m := tenant.WebClient(), tenant.M2MClient()
	fmt.Fprintf(stdout, "Emulated Auth0 tenant (a test double, not Auth0)\n  issuer:            %s\n  web app:           AUTH0_CLIENT_ID=%s AUTH0_CLIENT_SECRET=%s\n  M2M app:           AUTH0_M2M_CLIENT_ID=%s AUTH0_M2M_CLIENT_SECRET=%s\n  callback allowed:  %s\n\n",
		tenant.Issuer(), web.ID, web.Secret, m2m.ID, m2m.Secret, *redirect)
	logger := slog.New(slog.NewTextHandler(stdout, nil))
	return app.Serve(ctx, ln, tenant, logger)
}

// parseFlags parses args; with -h it prints what the command does and its
// flags, and done is true. A bad flag's error names the command.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer, about string) (done bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: %s [flags]\n\n%s\n\n", fs.Name(), about)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return true, nil
	}
	if err != nil {
		return true, fmt.Errorf("%s: %w (see %s -h)", fs.Name(), err, fs.Name())
	}
	return false, nil
}

func loadUsers(path string) ([]auth0emu.User, error) {
	if path == "" {
		return auth0emu.DemoUsers(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	users, err := auth0emu.LoadUsers(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return users, nil
}

func printDevBanner(w io.Writer, portalURL string, tenant *auth0emu.Tenant, users []auth0emu.User) {
	fmt.Fprintf(w, "\n  mfaportal (development, on an EMULATED Auth0 tenant at %s)\n\n", tenant.Issuer())
	fmt.Fprintf(w, "  Open %s\n\n  Demo accounts:\n", portalURL)
	for _, u := range users {
		fmt.Fprintf(w, "    %-28s password %-18s", u.Email, u.Password)
		for _, f := range u.Factors {
			if f.Type == "totp" && f.Secret != "" && (f.Active == nil || *f.Active) {
				fmt.Fprintf(w, " TOTP secret %s", f.Secret)
				break
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\n  Nothing is sent: sign-in codes are shown on the emulator's challenge page, and codes")
	fmt.Fprintf(w, "  for a phone being added (and Guardian's Approve) at %s_emulator/outbox\n", tenant.Issuer())
	fmt.Fprintln(w)
}
