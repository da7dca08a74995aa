package auth0emu

import (
	"fmt"
	"net"
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
