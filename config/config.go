// Package config loads and validates the portal's configuration from flags and
// the environment, once, at start. Nothing else in the program reads the
// environment; the resulting Config is passed explicitly.
package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

const (
	minUpstreamTimeout = time.Second
	maxUpstreamTimeout = time.Minute
	minMaxAuthAge      = time.Minute
	maxMaxAuthAge      = 24 * time.Hour

	// minSessionKeyBytes matches what securecookie needs for an HMAC-SHA256
	// key with full strength.
	minSessionKeyBytes = 32
	generateKeyHint    = "generate one with: openssl rand -base64 32"
)

// Config is the validated configuration. Load is the only way to build a
// valid one.
type Config struct {
	ListenAddr      string        // LISTEN_ADDR
	PublicURL       *url.URL      // PUBLIC_URL, scheme and host only
	LoginDomain     *url.URL      // AUTH0_DOMAIN, scheme and host only (the issuer)
	TenantDomain    *url.URL      // AUTH0_TENANT_DOMAIN, scheme and host only; defaults to LoginDomain
	ClientID        string        // AUTH0_CLIENT_ID
	ClientSecret    string        // AUTH0_CLIENT_SECRET(_FILE); secret
	M2MClientID     string        // AUTH0_M2M_CLIENT_ID
	M2MClientSecret string        // AUTH0_M2M_CLIENT_SECRET(_FILE); secret
	SessionKeys     [][]byte      // SESSION_KEYS(_FILE); secret; the first signs, all verify
	FrameAncestors  []string      // FRAME_ANCESTORS, normalised origins; empty means none
	TrustedProxies  []*net.IPNet  // TRUSTED_PROXIES; empty: X-Forwarded-For is ignored
	MetricsAddr     string        // METRICS_ADDR; empty: no metrics listener
	UpstreamTimeout time.Duration // UPSTREAM_TIMEOUT
	MFAFactors      []string      // MFA_FACTORS, FactorNames
	ViewsPerMinute  int           // VIEWS_PER_MINUTE
	MaxAuthAge      time.Duration // MAX_AUTH_AGE
	LogFormat       string        // LOG_FORMAT: "json" or "text"
	LogLevel        slog.Level    // LOG_LEVEL
	RedisURL        string        // REDIS_URL(_FILE); secret (may hold a password); empty: no Redis
}

// FactorNames are what MFA_FACTORS may name: the Management API's factor
// names, with the phone's message types ("sms", "voice") for its phone
// factor. The first five are what the MFA API can add, the default.
var FactorNames = []string{"otp", "push-notification", "sms", "voice", "email", "webauthn-roaming", "webauthn-platform"}

func applyFactors(c *Config, v string) []string {
	c.MFAFactors = nil
	for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		n = strings.ToLower(n)
		if !slices.Contains(FactorNames, n) {
			return []string{fmt.Sprintf("%q is not a factor this portal knows; use any of %s", n, strings.Join(FactorNames, ", "))}
		}
		if !slices.Contains(c.MFAFactors, n) {
			c.MFAFactors = append(c.MFAFactors, n)
		}
	}
	return nil
}

// Issuer is the OpenID Connect issuer: the login domain with a trailing slash,
// exactly as Auth0 writes it in the ID token's "iss".
func (c *Config) Issuer() string { return urlString(c.LoginDomain) + "/" }

// TenantURL is the canonical tenant base URL, without a trailing slash.
func (c *Config) TenantURL() string { return urlString(c.TenantDomain) }

// MFAAudience is the audience of the access token for the MFA API, which Auth0
// always names after the canonical tenant domain, even with a custom domain.
func (c *Config) MFAAudience() string { return c.TenantURL() + "/mfa/" }

// ManagementAudience is the audience of the M2M token for the Management API.
func (c *Config) ManagementAudience() string { return c.TenantURL() + "/api/v2/" }

// TokenURL is the token endpoint on the login domain: a custom domain serves
// it too, and tokens it issues carry the custom-domain issuer.
func (c *Config) TokenURL() string { return c.Issuer() + "oauth/token" }

// RedirectURL is the OAuth callback to register on the Auth0 application.
func (c *Config) RedirectURL() string { return urlString(c.PublicURL) + "/callback" }

// PublicOrigin is the portal's origin, scheme://host[:port].
func (c *Config) PublicOrigin() string { return urlString(c.PublicURL) }

// String describes the configuration without its secrets. It has a value
// receiver so that printing a Config or a *Config is equally safe.
func (c Config) String() string {
	return fmt.Sprintf("config{listen=%s public_url=%s auth0_domain=%s auth0_tenant_domain=%s client_id=%s client_secret=%s m2m_client_id=%s m2m_client_secret=%s session_keys=%s frame_ancestors=%q upstream_timeout=%s max_auth_age=%s log_format=%s log_level=%s}",
		c.ListenAddr, urlString(c.PublicURL), urlString(c.LoginDomain), urlString(c.TenantDomain),
		c.ClientID, setOrUnset(c.ClientSecret), c.M2MClientID, setOrUnset(c.M2MClientSecret),
		keyCount(c.SessionKeys), c.FrameAncestors, c.UpstreamTimeout, c.MaxAuthAge, c.LogFormat, c.LogLevel)
}

// GoString keeps %#v from dumping the secret fields.
func (c Config) GoString() string { return c.String() }

// LogValue lets the configuration be logged as a group, without its secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("listen", c.ListenAddr),
		slog.String("public_url", urlString(c.PublicURL)),
		slog.String("auth0_domain", urlString(c.LoginDomain)),
		slog.String("auth0_tenant_domain", urlString(c.TenantDomain)),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", setOrUnset(c.ClientSecret)),
		slog.String("m2m_client_id", c.M2MClientID),
		slog.String("m2m_client_secret", setOrUnset(c.M2MClientSecret)),
		slog.String("session_keys", keyCount(c.SessionKeys)),
		slog.Any("frame_ancestors", c.FrameAncestors),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
		slog.String("metrics_addr", c.MetricsAddr),
		slog.Duration("upstream_timeout", c.UpstreamTimeout),
		slog.Duration("max_auth_age", c.MaxAuthAge),
		slog.String("log_format", c.LogFormat),
		slog.String("log_level", c.LogLevel.String()),
		slog.Any("mfa_factors", c.MFAFactors),
		slog.String("redis_url", setOrUnset(c.RedisURL)),
	)
}

var (
	_ fmt.Stringer   = Config{}
	_ fmt.GoStringer = Config{}
	_ slog.LogValuer = Config{}
)

func urlString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func setOrUnset(secret string) string {
	if secret == "" {
		return "unset"
	}
	return "set"
}

func keyCount(keys [][]byte) string {
	if len(keys) == 1 {
		return "1 key"
	}
	return fmt.Sprintf("%d keys", len(keys))
}

// Error lists every configuration problem, one per entry, each naming the
// variable and saying how to fix it.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

// helpError is returned for -h/-help: its text is the usage, and
// errors.Is(err, flag.ErrHelp) lets the caller exit 0.
type helpError struct{}

func (helpError) Error() string { return Usage() }
func (helpError) Unwrap() error { return flag.ErrHelp }

// Load reads the flags in args, then the environment through getenv; a flag
// wins over its variable. readFile reads the *_FILE paths (nil means
// os.ReadFile). The error is an *Error listing every problem at once, or, for
// -h, one that wraps flag.ErrHelp and reads as the usage.
func Load(args []string, getenv func(string) string, readFile func(string) ([]byte, error)) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	vars := Vars()
	fs := flag.NewFlagSet("mfaportal", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	flagValues := make(map[string]*string, len(vars))
	for _, v := range vars {
		flagValues[v.Name] = fs.String(v.Flag, "", v.flagUsage())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, helpError{}
		}
		return nil, &Error{Problems: []string{"flags: " + err.Error() + " (run with -h to list the flags)"}}
	}
	flagsSet := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { flagsSet[f.Name] = true })

	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("flags: unexpected argument %q; every setting is a -flag or an environment variable", fs.Arg(0)))
	}
	c := &Config{}
	src := source{getenv: getenv, readFile: readFile}
	for _, v := range vars {
		var flagValue *string
		if flagsSet[v.Flag] {
			flagValue = flagValues[v.Name]
		}
		value, label, problem := src.lookup(v, flagValue)
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		if value == "" {
			if v.Required {
				problems = append(problems, missingProblem(v))
				continue
			}
			value = v.Default
		}
		if value == "" {
			continue
		}
		for _, p := range v.apply(c, value) {
			problems = append(problems, label+": "+p)
		}
	}
	if c.TenantDomain == nil && c.LoginDomain != nil {
		tenant := *c.LoginDomain
		c.TenantDomain = &tenant
	}
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	return c, nil
}

// source finds a variable's raw value in the flags, the environment or a file.
type source struct {
	getenv   func(string) string
	readFile func(string) ([]byte, error)
}

// lookup returns the raw value of v, the label to name it by in problems
// (which says where the value came from) and a problem if it could not be read.
// flagValue is nil when the flag was not given.
func (s source) lookup(v Var, flagValue *string) (value, label, problem string) {
	if flagValue != nil {
		label = v.Name + " (flag -" + v.Flag + ")"
		if !v.Secret {
			return strings.TrimSpace(*flagValue), label, ""
		}
		return s.readSecretFile(label, strings.TrimSpace(*flagValue))
	}
	if !v.Secret {
		return strings.TrimSpace(s.getenv(v.Name)), v.Name, ""
	}
	direct, path := s.getenv(v.Name), strings.TrimSpace(s.getenv(v.FileVar()))
	switch {
	case direct != "" && path != "":
		return "", v.Name, fmt.Sprintf("%s: both %s and %s are set; set only one of them", v.Name, v.Name, v.FileVar())
	case path != "":
		return s.readSecretFile(v.FileVar(), path)
	default:
		return direct, v.Name, ""
	}
}

func (s source) readSecretFile(label, path string) (string, string, string) {
	if path == "" {
		return "", label, ""
	}
	data, err := s.readFile(path)
	if err != nil {
		// The error names the path and the cause, never the contents.
		return "", label, fmt.Sprintf("%s: cannot read the file: %v", label, err)
	}
	// Editors and `echo` end files with a newline that is not part of the secret.
	value := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	if value == "" {
		return "", label, fmt.Sprintf("%s: the file %s is empty", label, path)
	}
	return value, label, ""
}

func missingProblem(v Var) string {
	switch {
	case v.Name == "SESSION_KEYS":
		return fmt.Sprintf("%s: missing; set %s or %s to one or more base64 keys of at least %d bytes (%s)",
			v.Name, v.Name, v.FileVar(), minSessionKeyBytes, generateKeyHint)
	case v.Secret:
		return fmt.Sprintf("%s: missing; set %s or %s (a path to a file holding it). %s",
			v.Name, v.Name, v.FileVar(), v.Description)
	default:
		return fmt.Sprintf("%s: missing; set it, e.g. %s=%s", v.Name, v.Name, v.Example)
	}
}

func applyListenAddr(c *Config, value string) []string {
	host, port, err := net.SplitHostPort(value)
	if err != nil {
		return []string{fmt.Sprintf("%q is not host:port; use e.g. :8080 or 127.0.0.1:8080", value)}
	}
	if _, err := parsePort(port, 0); err != nil {
		return []string{fmt.Sprintf("%q: %v; use e.g. :8080", value, err)}
	}
	if host != "" && !validHost(host) {
		return []string{fmt.Sprintf("%q: %q is not an IP address or host name; use e.g. :8080 or 127.0.0.1:8080", value, host)}
	}
	c.ListenAddr = value
	return nil
}

func applyPublicURL(c *Config, value string) []string {
	u, problem := parseOrigin(value, false, "https://mfa.example.com")
	if problem != "" {
		return []string{problem}
	}
	c.PublicURL = u
	return nil
}

func applyLoginDomain(c *Config, value string) []string {
	u, problem := parseOrigin(value, true, "login.example.com")
	if problem != "" {
		return []string{problem}
	}
	c.LoginDomain = u
	return nil
}

func applyTenantDomain(c *Config, value string) []string {
	u, problem := parseOrigin(value, true, "example.eu.auth0.com")
	if problem != "" {
		return []string{problem}
	}
	c.TenantDomain = u
	return nil
}

func setClientID(dst *string, value string) []string {
	if strings.ContainsFunc(value, unicode.IsSpace) {
		return []string{"contains whitespace; copy the Client ID from the application's Settings tab in the Auth0 dashboard"}
	}
	*dst = value
	return nil
}

func setSecret(dst *string, value string) []string {
	// Auth0 secrets never contain whitespace; a stray one is usually an
	// extra line in a file or a copy-paste slip, and would fail every token request.
	if strings.ContainsFunc(value, unicode.IsSpace) {
		return []string{"contains whitespace (an extra line in the file?); copy the Client Secret again from the application's Settings tab"}
	}
	*dst = value
	return nil
}

func applySessionKeys(c *Config, value string) []string {
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(fields) == 0 {
		return []string{fmt.Sprintf("contains no keys; set one or more base64 keys (%s)", generateKeyHint)}
	}
	var problems []string
	keys := make([][]byte, 0, len(fields))
	for i, field := range fields {
		n := i + 1
		key, ok := decodeBase64(field)
		if !ok {
			// Never quote the field: it is (part of) a secret.
			problems = append(problems, fmt.Sprintf("key %d is not valid base64 (%s)", n, generateKeyHint))
			continue
		}
		if len(key) < minSessionKeyBytes {
			problems = append(problems, fmt.Sprintf("key %d decodes to %d bytes; need at least %d (%s)", n, len(key), minSessionKeyBytes, generateKeyHint))
			continue
		}
		if prev := indexOfKey(keys, key); prev >= 0 {
			problems = append(problems, fmt.Sprintf("key %d is the same as key %d; remove the duplicate", n, prev+1))
			continue
		}
		keys = append(keys, key)
	}
	if len(problems) > 0 {
		return problems
	}
	c.SessionKeys = keys
	return nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not: people
// paste keys from openssl, from Go and from JWK tooling.
func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

func indexOfKey(keys [][]byte, key []byte) int {
	for i, k := range keys {
		if bytes.Equal(k, key) {
			return i
		}
	}
	return -1
}

func applyFrameAncestors(c *Config, value string) []string {
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	var problems []string
	var origins []string
	for _, field := range fields {
		if strings.Contains(field, "*") || strings.HasPrefix(field, "'") {
			problems = append(problems, fmt.Sprintf("%q is not allowed: no wildcards or CSP keywords ('self', 'none', 'unsafe-...'); list each origin, e.g. https://app.example.com", field))
			continue
		}
		u, problem := parseOrigin(field, false, "https://app.example.com")
		if problem != "" {
			problems = append(problems, problem)
			continue
		}
		origin := u.String()
		if !containsString(origins, origin) {
			origins = append(origins, origin)
		}
	}
	if len(problems) > 0 {
		return problems
	}
	c.FrameAncestors = origins
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func setInt(dst *int, value string, lo, hi int) []string {
	n, err := strconv.Atoi(strings.TrimSpace(value))
	if err != nil {
		return []string{fmt.Sprintf("%q is not a whole number", value)}
	}
	if n < lo || n > hi {
		return []string{fmt.Sprintf("%d is out of range; use a number from %d to %d", n, lo, hi)}
	}
	*dst = n
	return nil
}

func setDuration(dst *time.Duration, value string, lo, hi time.Duration) []string {
	d, err := time.ParseDuration(value)
	if err != nil {
		return []string{fmt.Sprintf("%q is not a duration; write a number with a unit, e.g. %s", value, formatDuration(lo*10))}
	}
	if d < lo || d > hi {
		return []string{fmt.Sprintf("%s is out of range; use a duration from %s to %s", d, formatDuration(lo), formatDuration(hi))}
	}
	*dst = d
	return nil
}

// formatDuration writes whole minutes and hours the way people type them
// ("1m", "24h") rather than time.Duration's "1m0s".
func formatDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	default:
		return d.String()
	}
}

func applyLogFormat(c *Config, value string) []string {
	switch format := strings.ToLower(value); format {
	case "json", "text":
		c.LogFormat = format
		return nil
	}
	return []string{fmt.Sprintf("%q is not a log format; use json or text", value)}
}

func applyLogLevel(c *Config, value string) []string {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	level, ok := levels[strings.ToLower(value)]
	if !ok {
		return []string{fmt.Sprintf("%q is not a log level; use debug, info, warn or error", value)}
	}
	c.LogLevel = level
	return nil
}

// applyRedisURL checks the shape of a redis:// or rediss:// URL. The value
// may hold a password, so no problem message quotes it.
func applyRedisURL(c *Config, value string) []string {
	const fix = "; write it like redis://:password@redis.internal:6379/0 (or rediss:// for TLS)"
	u, err := url.Parse(value)
	if err != nil {
		return []string{"is not a valid URL" + fix}
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return []string{"must start with redis:// or rediss://" + fix}
	}
	if u.Hostname() == "" {
		return []string{"has no host" + fix}
	}
	if port := u.Port(); port != "" {
		if _, err := parsePort(port, 1); err != nil {
			return []string{"has an invalid port" + fix}
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return []string{"has a path that is not a database number" + fix}
		}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return []string{"must not have a query or fragment" + fix}
	}
	c.RedisURL = value
	return nil
}

// parseOrigin parses an http(s) URL that may end in "/" but has no other path,
// query, fragment or user info, and returns it reduced to scheme and host
// (lower case, default port dropped) so that it compares equal to what Auth0
// and browsers write. With bareHostOK, "login.example.com" means https.
// Plain http is refused unless the host is loopback: only the emulator speaks
// it. Problems end with how to fix them, using example as a valid value.
func parseOrigin(value string, bareHostOK bool, example string) (*url.URL, string) {
	fix := "; write it like " + example
	raw := value
	if !strings.Contains(raw, "://") {
		if !bareHostOK {
			return nil, fmt.Sprintf("%q has no scheme: it must start with https://%s", value, fix)
		}
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return nil, fmt.Sprintf("%q is not a valid URL%s", value, fix)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return nil, fmt.Sprintf("%q: scheme %q is not allowed, only https%s", value, u.Scheme, fix)
	}
	if u.User != nil {
		return nil, fmt.Sprintf("%q must not contain a user name or password%s", value, fix)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Sprintf("%q must not have a path (%s): give only the scheme and host%s", value, u.Path, fix)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return nil, fmt.Sprintf("%q must not have a query or fragment%s", value, fix)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || !validHost(host) {
		return nil, fmt.Sprintf("%q does not have a valid host name%s", value, fix)
	}
	port := u.Port()
	if port != "" {
		if _, err := parsePort(port, 1); err != nil {
			return nil, fmt.Sprintf("%q: %v%s", value, err, fix)
		}
		if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
			port = ""
		}
	}
	if scheme == "http" && !isLoopback(host) {
		return nil, fmt.Sprintf("%q uses plain http, which is accepted only for loopback hosts (127.0.0.1, ::1, localhost); use https://%s", value, hostPort(host, port))
	}
	return &url.URL{Scheme: scheme, Host: hostPort(host, port)}, ""
}

func parsePort(port string, lo int) (int, error) {
	n, err := strconv.Atoi(port)
	if err != nil || n < lo || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from %d to 65535", port, lo)
	}
	return n, nil
}

// hostPort joins host and an optional port, bracketing IPv6 addresses.
func hostPort(host, port string) string {
	if port != "" {
		return net.JoinHostPort(host, port)
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validHost accepts an IP address or a DNS name of letters, digits and
// hyphens (no empty labels, no label starting or ending with a hyphen).
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	if len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
