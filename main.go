// Command mfaportal is a self-service portal where Auth0 users see and manage
// their own second factors. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"mfaportal/check"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mfaportal:", err)
		os.Exit(1)
	}
}

// run is the whole program; tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, getenv, stdout)
	case "check":
		return check.Run(ctx, args, getenv, stdout)
	case "healthcheck":
		return check.Healthcheck(ctx, args, getenv, stdout)
	case "dev":
		return runDev(ctx, args, stdout)
	case "emulator":
		return runEmulator(ctx, args, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  mfaportal [serve] [flags]   run the portal (configuration from the environment, see README)
  mfaportal check [flags]     check the configuration against the Auth0 tenant before going live
  mfaportal healthcheck       exit 0 when the local portal answers /healthz (for container HEALTHCHECK)
  mfaportal dev [-addr 127.0.0.1:8080] [-tenant-addr 127.0.0.1:9010] [-account-addr localhost:8081] [-users FILE]
                              run the portal on an emulated Auth0 tenant with demo users (dev -h says more)
  mfaportal emulator [flags]  run the emulated Auth0 tenant alone (emulator -h lists the flags)
`
