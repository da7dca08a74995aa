package config

import (
	"fmt"
	"strings"
)

// Var describes one configuration variable. The list returned by Vars drives
// the flag set, the loader and the README table, so the three cannot drift.
type Var struct {
	// Name is the environment variable, e.g. "AUTH0_DOMAIN".
	Name string
	// Flag is the command-line flag without its dash. For a secret it takes a
	// file path, never the secret itself: command lines are visible to every
	// local user (ps, /proc).
	Flag string
	// Default is used when neither the flag nor the variable is set.
	Default string
	// DefaultFrom names another variable whose value is the default.
	DefaultFrom string
	// Required variables have no default; Load reports them when missing.
	Required bool
	// Secret values are also read from Name+"_FILE" and are never printed.
	Secret bool
	// Example is a valid value shown in the README and in "missing" errors.
	Example string
	// Description says what the value is for, in one or two sentences.
	Description string

	// apply validates a non-empty value and stores it in c; each returned
	// string is one problem, without the variable name (the loader adds it).
	apply func(c *Config, value string) []string
}

// FileVar is the variable holding a path to the secret, e.g. "AUTH0_CLIENT_SECRET_FILE".
func (v Var) FileVar() string {
	if !v.Secret {
		return ""
	}
	return v.Name + "_FILE"
}

// Vars lists every configuration variable in the order Load checks them
// (AUTH0_DOMAIN comes before AUTH0_TENANT_DOMAIN, which defaults to it).
func Vars() []Var {
	return []Var{
		{
			Name: "LISTEN_ADDR", Flag: "listen", Default: ":8080",
			Example:     "127.0.0.1:8080",
			Description: "Address the portal listens on (host:port). Put it behind a TLS-terminating proxy that serves `PUBLIC_URL`.",
			apply:       applyListenAddr,
		},
		{
			Name: "PUBLIC_URL", Flag: "public-url", Required: true,
			Example:     "https://mfa.example.com",
			Description: "The portal's public base URL as users' browsers see it, without a path. The sign-in callback is `PUBLIC_URL/callback`; register it (and `PUBLIC_URL/signed-out` as an allowed logout URL) on the Auth0 application. `https://` unless the host is loopback.",
			apply:       applyPublicURL,
		},
		{
			Name: "AUTH0_DOMAIN", Flag: "auth0-domain", Required: true,
			Example:     "login.example.com",
			Description: "The domain users sign in on: the tenant domain (`example.eu.auth0.com`) or its custom domain. It is the ID token issuer and serves `/authorize` and `/oauth/token`. A bare host means `https://`; plain `http://` only for loopback (the emulator).",
			apply:       applyLoginDomain,
		},
		{
			Name: "AUTH0_TENANT_DOMAIN", Flag: "auth0-tenant-domain", DefaultFrom: "AUTH0_DOMAIN",
			Example:     "example.eu.auth0.com",
			Description: "The canonical `*.auth0.com` tenant domain, for the `/mfa/` audience and the Management API (`/api/v2/`), which always use it. Set it when `AUTH0_DOMAIN` is a custom domain.",
			apply:       applyTenantDomain,
		},
		{
			Name: "AUTH0_CLIENT_ID", Flag: "auth0-client-id", Required: true,
			Example:     "yourRegularWebAppClientId",
			Description: "Client ID of the Regular Web Application users sign in through (grant types: Authorization Code and MFA).",
			apply:       func(c *Config, v string) []string { return setClientID(&c.ClientID, v) },
		},
		{
			Name: "AUTH0_CLIENT_SECRET", Flag: "auth0-client-secret-file", Required: true, Secret: true,
			Description: "Client secret of that Regular Web Application.",
			apply:       func(c *Config, v string) []string { return setSecret(&c.ClientSecret, v) },
		},
		{
			Name: "AUTH0_M2M_CLIENT_ID", Flag: "auth0-m2m-client-id", Required: true,
			Example:     "yourM2MAppClientId",
			Description: "Client ID of the Machine to Machine application authorised for the Auth0 Management API with the scopes `read:authentication_methods`, `update:authentication_methods`, `delete:authentication_methods` and `update:users`, and optionally `read:guardian_factors` (what users may add, see `MFA_FACTORS`; see Setting it up; `mfaportal check` says which are missing).",
			apply:       func(c *Config, v string) []string { return setClientID(&c.M2MClientID, v) },
		},
		{
			Name: "AUTH0_M2M_CLIENT_SECRET", Flag: "auth0-m2m-client-secret-file", Required: true, Secret: true,
			Description: "Client secret of that Machine to Machine application.",
			apply:       func(c *Config, v string) []string { return setSecret(&c.M2MClientSecret, v) },
		},
		{
			Name: "SESSION_KEYS", Flag: "session-keys-file", Required: true, Secret: true,
			Description: "Session cookie keys: base64, at least 32 bytes each (`openssl rand -base64 32`), separated by commas or whitespace. The first signs and encrypts new cookies; all of them are accepted, so put a new key first and keep the old one until its sessions have expired.",
			apply:       applySessionKeys,
		},
		{
			Name: "FRAME_ANCESTORS", Flag: "frame-ancestors",
			Example:     "https://app.example.com",
			Description: "Origins allowed to embed the `/embed/` pages in an iframe, separated by spaces or commas (`https://`; `http://` only for loopback). Empty: embedding is off (`/embed/` answers 404). Every other page stays unframeable. No wildcards or CSP keywords.",
			apply:       applyFrameAncestors,
		},
		{
			Name: "TRUSTED_PROXIES", Flag: "trusted-proxies",
			Example:     "10.0.0.0/8",
			Description: "Networks of the load balancers in front of the portal (CIDRs or addresses, separated by commas or spaces). Only a request from one of them has its `X-Forwarded-For` believed for the client address in the logs. Empty: the connecting address is the client.",
			apply:       applyTrustedProxies,
		},
		{
			Name: "METRICS_ADDR", Flag: "metrics-addr",
			Example:     "127.0.0.1:9090",
			Description: "Address (host:port) of a separate listener serving Prometheus metrics on `/metrics`. Keep it off the public network. Empty: no metrics.",
			apply:       applyMetricsAddr,
		},
		{
			Name: "MFA_FACTORS", Flag: "mfa-factors", Default: strings.Join(FactorNames[:5], ","),
			Example:     "otp,push-notification,sms",
			Description: "What users may add when the M2M application may not read the tenant's factor settings (`read:guardian_factors`, which decide when granted): any of " + "`" + strings.Join(FactorNames, "`, `") + "`" + ", separated by commas (`sms` and `voice` are the phone's two ways). Security keys and passkeys are only mentioned: Auth0's MFA API cannot add them.",
			apply:       applyFactors,
		},
		{
			Name: "VIEWS_PER_MINUTE", Flag: "views-per-minute", Default: "60",
			Example:     "60",
			Description: "Page views one user may make per minute (10 to 1000000). Each view asks Auth0, so this keeps one browser from spending the tenant's rate limit; people read far slower. Counted by each replica on its own (with Redis too), so behind N replicas a user may reach N times this.",
			apply: func(c *Config, v string) []string {
				return setInt(&c.ViewsPerMinute, v, 10, 1_000_000)
			},
		},
		{
			Name: "UPSTREAM_TIMEOUT", Flag: "upstream-timeout", Default: "10s",
			Example:     "10s",
			Description: "Deadline for each request to Auth0, retries included (1s to 60s).",
			apply: func(c *Config, v string) []string {
				return setDuration(&c.UpstreamTimeout, v, minUpstreamTimeout, maxUpstreamTimeout)
			},
		},
		{
			Name: "MAX_AUTH_AGE", Flag: "max-auth-age", Default: "1h",
			Example:     "1h",
			Description: "How recent the sign-in must be: sent as `max_age` to `/authorize` and checked against the ID token's `auth_time` (1m to 24h).",
			apply:       func(c *Config, v string) []string { return setDuration(&c.MaxAuthAge, v, minMaxAuthAge, maxMaxAuthAge) },
		},
		{
			Name: "LOG_FORMAT", Flag: "log-format", Default: "json",
			Example:     "json",
			Description: "Log format: `json` or `text`.",
			apply:       applyLogFormat,
		},
		{
			Name: "LOG_LEVEL", Flag: "log-level", Default: "info",
			Example:     "info",
			Description: "Log level: `debug`, `info`, `warn` or `error`.",
			apply:       applyLogLevel,
		},
		{
			Name: "REDIS_URL", Flag: "redis-url-file", Secret: true,
			Description: "Redis for running several replicas: `redis://[:password@]host:6379[/db]`, or `rediss://` for TLS. Sessions are then kept in Redis (the cookie holds only a random id, so signing out ends the session on every replica and survives restarts), as are sign-outs, one-time form tokens, embed handoff codes and the per-user limits on changes (page views are counted per replica). Empty: sessions live in encrypted cookies and the rest in memory, which suits a single instance; a restart then signs everyone out, so that a signed-out cookie never works again.",
			apply:       applyRedisURL,
		},
	}
}

// MarkdownTable renders Vars as the README's configuration table.
// config_test.go checks README-config.md (and README.md, once it holds the
// table) against it.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Flag | Default | Description |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, v := range Vars() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n",
			markdownCell(v.markdownName()), markdownCell(v.markdownFlag()),
			markdownCell(v.defaultText("`")), markdownCell(v.Description))
	}
	return b.String()
}

// Usage lists the flags and variables for "-h".
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: mfaportal [serve] [flags]\n\nEvery flag has an environment variable; the flag wins when both are set.\n\n")
	for _, v := range Vars() {
		name := v.Name
		if v.Secret {
			name += " or " + v.FileVar()
		}
		def := "default: " + v.defaultText("")
		if v.Required {
			def = "required"
		}
		fmt.Fprintf(&b, "  -%s\t%s (%s)\n    \t%s\n", v.Flag, name, def, stripBackticks(v.Description))
	}
	return b.String()
}

func (v Var) markdownName() string {
	if v.Secret {
		return "`" + v.Name + "` or `" + v.FileVar() + "` (secret)"
	}
	return "`" + v.Name + "`"
}

func (v Var) markdownFlag() string {
	if v.Secret {
		return "`-" + v.Flag + " PATH`"
	}
	return "`-" + v.Flag + "`"
}

// defaultText describes the default, quoting literal values with quote.
func (v Var) defaultText(quote string) string {
	switch {
	case v.Required:
		return "required"
	case v.DefaultFrom != "":
		return "value of " + quote + v.DefaultFrom + quote
	case v.Default != "":
		return quote + v.Default + quote
	default:
		return "empty"
	}
}

func (v Var) flagUsage() string {
	if v.Secret {
		return "path to a file holding " + v.Name
	}
	return v.Name
}

func markdownCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func stripBackticks(s string) string { return strings.ReplaceAll(s, "`", "") }
