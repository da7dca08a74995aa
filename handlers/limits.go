package handlers

import (
	"net/netip"
	"time"

	"mfaportal/ratelimit"
	"mfaportal/session"
)

// Per-user limits on destructive actions. They are not about load (Auth0
// has its own limits) but about damage: a stolen session, a stuck script or
// a confused user should not be able to strip an account or burn through
// recovery codes quickly.
var (
	regenerateRule   = ratelimit.Rule{Name: "regenerate-recovery-code", Max: 3, Window: 10 * time.Minute}
	removeFactorRule = ratelimit.Rule{Name: "remove-factor", Max: 10, Window: 10 * time.Minute}
	// changeMethodRule bounds renames and channel changes: each is a
	// Management API call on the tenant's shared limit.
	changeMethodRule = ratelimit.Rule{Name: "change-method", Max: 20, Window: 10 * time.Minute}
	// enrolRule bounds starts and confirmations of new methods: each start
	// makes an entry at Auth0, each confirmation tries a code.
	enrolRule = ratelimit.Rule{Name: "add-method", Max: 15, Window: 10 * time.Minute}
	// guardianCheckRule bounds asking whether the Guardian app approved: the
	// page asks by itself (every 5 s for a minute, then every 10 s, for the
	// association's 5 minutes: 36 asks), and no code is guessed.
	guardianCheckRule = ratelimit.Rule{Name: "check-guardian", Max: 60, Window: 10 * time.Minute}
	// preSessionRule bounds the iframe sign-ins one client may start
	// (nobody is signed in yet), by address (clientKey), so open
	// pre-sessions cannot be piled up. It is generous: a whole office may
	// share one address.
	preSessionRule = ratelimit.Rule{Name: "start-embed-sign-in", Max: 300, Window: 10 * time.Minute}
	// preSessionCeiling bounds the pre-sessions all clients together may
	// open per pre-session lifetime, so rotating addresses cannot fill the
	// state store either.
	preSessionCeiling = ratelimit.Rule{Name: "start-embed-sign-in-all", Max: 20000, Window: session.PreSessionLifetime}
)

// viewRule bounds the page views of one user (VIEWS_PER_MINUTE): each asks
// Auth0 (and is retried during an outage), so one browser must not spend
// the tenant's rate limit. A person reads far slower.
func viewRule(perMinute int) ratelimit.Rule {
	return ratelimit.Rule{Name: "view", Max: perMinute, Window: time.Minute}
}

// clientKey is who a per-address limit counts: an IPv4 address, or an
// IPv6 address's /64, which one client gets whole and can rotate through
// for free.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	prefix, _ := addr.Prefix(64)
	return prefix.String()
}
