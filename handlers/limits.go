package handlers

import (
	"context"
	"errors"
	"time"

	"mfaportal/ratelimit"
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
	// preSessionRule bounds the iframe sign-ins one client address may
	// start (nobody is signed in yet), so open pre-sessions cannot be piled
	// up. It is generous: a whole office may share one address.
	preSessionRule = ratelimit.Rule{Name: "start-embed-sign-in", Max: 300, Window: 10 * time.Minute}
)

// checkLimit counts one attempt at rule by who, and counts a refusal in
// the metrics.
func (p *portal) checkLimit(ctx context.Context, rule ratelimit.Rule, who string) error {
	err := p.limits.Allow(ctx, rule, who)
	var ex *ratelimit.ExceededError
	if errors.As(err, &ex) {
		p.metrics.RateLimited(rule.Name)
	}
	return err
}
