package config

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the generated table in README-config.md")

// Distinctive secrets, so a leak is easy to spot in any output.
const (
	testClientSecret    = "web-SECRET-d41d8cd98f00b204"
	testM2MClientSecret = "m2m-SECRET-e9800998ecf8427e"
)

// testKey returns a base64 key of size bytes, all equal to fill.
func testKey(fill byte, size int) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, size))
}

// validEnv is a complete, valid environment for a tenant without a custom domain.
func validEnv() map[string]string {
	return map[string]string{
		"PUBLIC_URL":              "https://mfa.example.com",
		"AUTH0_DOMAIN":            "example.eu.auth0.com",
		"AUTH0_CLIENT_ID":         "webClientID",
		"AUTH0_CLIENT_SECRET":     testClientSecret,
		"AUTH0_M2M_CLIENT_ID":     "m2mClientID",
		"AUTH0_M2M_CLIENT_SECRET": testM2MClientSecret,
		"SESSION_KEYS":            testKey('a', 32),
	}
}

// with returns a copy of env with the overrides applied; "" deletes a key.
func with(env map[string]string, overrides map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	for k, v := range overrides {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func fakeFiles(files map[string]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		content, ok := files[path]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return []byte(content), nil
	}
}

func load(args []string, env map[string]string, files map[string]string) (*Config, error) {
	return Load(args, func(k string) string { return env[k] }, fakeFiles(files))
}

func mustLoad(t *testing.T, args []string, env map[string]string, files map[string]string) *Config {
	t.Helper()
	c, err := load(args, env, files)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// problemsOf asserts err is an *Error and returns its problems.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("error = %v (%T), want *config.Error", err, err)
	}
	return cfgErr.Problems
}

func TestLoadDefaults(t *testing.T) {
	c := mustLoad(t, nil, validEnv(), nil)
	checks := []struct {
		name      string
		got, want any
	}{
		{"ListenAddr", c.ListenAddr, ":8080"},
		{"TenantDomain", c.TenantURL(), "https://example.eu.auth0.com"},
		{"FrameAncestors", c.FrameAncestors, []string(nil)},
		{"UpstreamTimeout", c.UpstreamTimeout, 10 * time.Second},
		{"MaxAuthAge", c.MaxAuthAge, time.Hour},
		{"LogFormat", c.LogFormat, "json"},
		{"LogLevel", c.LogLevel, slog.LevelInfo},
	}
	for _, check := range checks {
		if !reflect.DeepEqual(check.got, check.want) {
			t.Errorf("%s = %#v, want %#v", check.name, check.got, check.want)
		}
	}
	if c.TenantDomain == c.LoginDomain {
		t.Error("TenantDomain aliases LoginDomain; a caller changing one would change the other")
	}
}

func TestLoadValidValues(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		got  func(*Config) any
		want any
	}{
		{"listen all interfaces", map[string]string{"LISTEN_ADDR": ":9000"}, func(c *Config) any { return c.ListenAddr }, ":9000"},
		{"listen loopback", map[string]string{"LISTEN_ADDR": "127.0.0.1:8080"}, func(c *Config) any { return c.ListenAddr }, "127.0.0.1:8080"},
		{"listen ipv6", map[string]string{"LISTEN_ADDR": "[::1]:8080"}, func(c *Config) any { return c.ListenAddr }, "[::1]:8080"},
		{"listen any port", map[string]string{"LISTEN_ADDR": "localhost:0"}, func(c *Config) any { return c.ListenAddr }, "localhost:0"},
		{"listen trimmed", map[string]string{"LISTEN_ADDR": "  :8081\n"}, func(c *Config) any { return c.ListenAddr }, ":8081"},

		{"public url https", map[string]string{"PUBLIC_URL": "https://mfa.example.com"}, func(c *Config) any { return c.PublicURL.String() }, "https://mfa.example.com"},
		{"public url trailing slash", map[string]string{"PUBLIC_URL": "https://mfa.example.com/"}, func(c *Config) any { return c.PublicURL.String() }, "https://mfa.example.com"},
		{"public url upper case", map[string]string{"PUBLIC_URL": "HTTPS://MFA.Example.COM"}, func(c *Config) any { return c.PublicURL.String() }, "https://mfa.example.com"},
		{"public url port", map[string]string{"PUBLIC_URL": "https://mfa.example.com:8443"}, func(c *Config) any { return c.PublicURL.String() }, "https://mfa.example.com:8443"},
		{"public url default port dropped", map[string]string{"PUBLIC_URL": "https://mfa.example.com:443"}, func(c *Config) any { return c.PublicURL.String() }, "https://mfa.example.com"},
		{"public url http loopback", map[string]string{"PUBLIC_URL": "http://127.0.0.1:8080"}, func(c *Config) any { return c.PublicURL.String() }, "http://127.0.0.1:8080"},
		{"public url http localhost", map[string]string{"PUBLIC_URL": "http://localhost:8080"}, func(c *Config) any { return c.PublicURL.String() }, "http://localhost:8080"},
		{"public url http ipv6 loopback", map[string]string{"PUBLIC_URL": "http://[::1]:8080"}, func(c *Config) any { return c.PublicURL.String() }, "http://[::1]:8080"},

		{"login bare host", map[string]string{"AUTH0_DOMAIN": "login.example.com"}, func(c *Config) any { return c.LoginDomain.String() }, "https://login.example.com"},
		{"login https", map[string]string{"AUTH0_DOMAIN": "https://login.example.com"}, func(c *Config) any { return c.LoginDomain.String() }, "https://login.example.com"},
		{"login issuer form", map[string]string{"AUTH0_DOMAIN": "https://login.example.com/"}, func(c *Config) any { return c.LoginDomain.String() }, "https://login.example.com"},
		{"login emulator", map[string]string{"AUTH0_DOMAIN": "http://127.0.0.1:9010"}, func(c *Config) any { return c.LoginDomain.String() }, "http://127.0.0.1:9010"},
		{"login loopback range", map[string]string{"AUTH0_DOMAIN": "http://127.1.2.3:9010"}, func(c *Config) any { return c.LoginDomain.String() }, "http://127.1.2.3:9010"},
		{"login ipv6 loopback", map[string]string{"AUTH0_DOMAIN": "http://[::1]:9010"}, func(c *Config) any { return c.LoginDomain.String() }, "http://[::1]:9010"},

		{"tenant set", map[string]string{"AUTH0_DOMAIN": "login.example.com", "AUTH0_TENANT_DOMAIN": "example.eu.auth0.com"}, func(c *Config) any { return c.TenantURL() }, "https://example.eu.auth0.com"},
		{"tenant defaults to login", map[string]string{"AUTH0_DOMAIN": "login.example.com"}, func(c *Config) any { return c.TenantURL() }, "https://login.example.com"},

		{"client id", map[string]string{"AUTH0_CLIENT_ID": "abcDEF123"}, func(c *Config) any { return c.ClientID }, "abcDEF123"},
		{"client secret", map[string]string{"AUTH0_CLIENT_SECRET": "s3cr3t_-x"}, func(c *Config) any { return c.ClientSecret }, "s3cr3t_-x"},
		{"m2m client id", map[string]string{"AUTH0_M2M_CLIENT_ID": "m2mXYZ"}, func(c *Config) any { return c.M2MClientID }, "m2mXYZ"},
		{"m2m client secret", map[string]string{"AUTH0_M2M_CLIENT_SECRET": "m2m_s3cr3t"}, func(c *Config) any { return c.M2MClientSecret }, "m2m_s3cr3t"},

		{"one key", map[string]string{"SESSION_KEYS": testKey(1, 32)}, func(c *Config) any { return c.SessionKeys }, [][]byte{bytes.Repeat([]byte{1}, 32)}},
		{"64-byte key", map[string]string{"SESSION_KEYS": testKey(1, 64)}, func(c *Config) any { return len(c.SessionKeys[0]) }, 64},
		{"keys comma and space", map[string]string{"SESSION_KEYS": testKey(1, 32) + ", " + testKey(2, 32) + "\n" + testKey(3, 32)}, func(c *Config) any { return len(c.SessionKeys) }, 3},
		{"key unpadded url-safe", map[string]string{"SESSION_KEYS": base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 17))}, func(c *Config) any { return c.SessionKeys[0] }, bytes.Repeat([]byte{0xfb, 0xff}, 17)},
		{"key padded url-safe", map[string]string{"SESSION_KEYS": base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 34))}, func(c *Config) any { return c.SessionKeys[0] }, bytes.Repeat([]byte{0xfb}, 34)},
		{"key unpadded std", map[string]string{"SESSION_KEYS": base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 34))}, func(c *Config) any { return c.SessionKeys[0] }, bytes.Repeat([]byte{0xfb}, 34)},

		{"one ancestor", map[string]string{"FRAME_ANCESTORS": "https://app.example.com"}, func(c *Config) any { return c.FrameAncestors }, []string{"https://app.example.com"}},
		{"ancestors mixed separators", map[string]string{"FRAME_ANCESTORS": "https://a.example.com, https://b.example.com:8443 http://localhost:3000"}, func(c *Config) any { return c.FrameAncestors }, []string{"https://a.example.com", "https://b.example.com:8443", "http://localhost:3000"}},
		{"ancestors normalised and deduplicated", map[string]string{"FRAME_ANCESTORS": "https://App.example.com/ https://app.example.com:443"}, func(c *Config) any { return c.FrameAncestors }, []string{"https://app.example.com"}},

		{"upstream timeout", map[string]string{"UPSTREAM_TIMEOUT": "30s"}, func(c *Config) any { return c.UpstreamTimeout }, 30 * time.Second},
		{"upstream timeout min", map[string]string{"UPSTREAM_TIMEOUT": "1s"}, func(c *Config) any { return c.UpstreamTimeout }, time.Second},
		{"upstream timeout max", map[string]string{"UPSTREAM_TIMEOUT": "1m"}, func(c *Config) any { return c.UpstreamTimeout }, time.Minute},
		{"max auth age", map[string]string{"MAX_AUTH_AGE": "15m"}, func(c *Config) any { return c.MaxAuthAge }, 15 * time.Minute},
		{"max auth age min", map[string]string{"MAX_AUTH_AGE": "1m"}, func(c *Config) any { return c.MaxAuthAge }, time.Minute},
		{"max auth age max", map[string]string{"MAX_AUTH_AGE": "24h"}, func(c *Config) any { return c.MaxAuthAge }, 24 * time.Hour},

		{"log format text", map[string]string{"LOG_FORMAT": "text"}, func(c *Config) any { return c.LogFormat }, "text"},
		{"log format upper case", map[string]string{"LOG_FORMAT": "JSON"}, func(c *Config) any { return c.LogFormat }, "json"},
		{"log level debug", map[string]string{"LOG_LEVEL": "debug"}, func(c *Config) any { return c.LogLevel }, slog.LevelDebug},
		{"log level warn", map[string]string{"LOG_LEVEL": "WARN"}, func(c *Config) any { return c.LogLevel }, slog.LevelWarn},
		{"log level error", map[string]string{"LOG_LEVEL": "error"}, func(c *Config) any { return c.LogLevel }, slog.LevelError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, nil, with(validEnv(), tt.env), nil)
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLoadInvalidValues(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		variable string // the problem must start with it
		contains string // and explain the fix
	}{
		{"listen no port", map[string]string{"LISTEN_ADDR": "localhost"}, "LISTEN_ADDR", "use e.g. :8080"},
		{"listen bad port", map[string]string{"LISTEN_ADDR": ":http"}, "LISTEN_ADDR", `port "http" is not a number`},
		{"listen port too big", map[string]string{"LISTEN_ADDR": ":70000"}, "LISTEN_ADDR", "from 0 to 65535"},
		{"listen bad host", map[string]string{"LISTEN_ADDR": "bad_host:80"}, "LISTEN_ADDR", "not an IP address or host name"},

		{"public url missing", map[string]string{"PUBLIC_URL": ""}, "PUBLIC_URL", "missing; set it, e.g. PUBLIC_URL=https://mfa.example.com"},
		{"public url no scheme", map[string]string{"PUBLIC_URL": "mfa.example.com"}, "PUBLIC_URL", "must start with https://"},
		{"public url http", map[string]string{"PUBLIC_URL": "http://mfa.example.com"}, "PUBLIC_URL", "use https://mfa.example.com"},
		{"public url path", map[string]string{"PUBLIC_URL": "https://mfa.example.com/portal"}, "PUBLIC_URL", "must not have a path (/portal)"},
		{"public url query", map[string]string{"PUBLIC_URL": "https://mfa.example.com/?a=b"}, "PUBLIC_URL", "must not have a query or fragment"},
		{"public url empty query", map[string]string{"PUBLIC_URL": "https://mfa.example.com?"}, "PUBLIC_URL", "must not have a query or fragment"},
		{"public url fragment", map[string]string{"PUBLIC_URL": "https://mfa.example.com#x"}, "PUBLIC_URL", "must not have a query or fragment"},
		{"public url user info", map[string]string{"PUBLIC_URL": "https://u:p@mfa.example.com"}, "PUBLIC_URL", "user name or password"},
		{"public url ftp", map[string]string{"PUBLIC_URL": "ftp://mfa.example.com"}, "PUBLIC_URL", `scheme "ftp" is not allowed`},
		{"public url no host", map[string]string{"PUBLIC_URL": "https://"}, "PUBLIC_URL", "valid host name"},
		{"public url bad host", map[string]string{"PUBLIC_URL": "https://mfa_portal.example.com"}, "PUBLIC_URL", "valid host name"},
		{"public url bad port", map[string]string{"PUBLIC_URL": "https://mfa.example.com:0"}, "PUBLIC_URL", "from 1 to 65535"},

		{"login missing", map[string]string{"AUTH0_DOMAIN": ""}, "AUTH0_DOMAIN", "AUTH0_DOMAIN=login.example.com"},
		{"login http refused", map[string]string{"AUTH0_DOMAIN": "http://login.example.com"}, "AUTH0_DOMAIN", "accepted only for loopback hosts (127.0.0.1, ::1, localhost); use https://login.example.com"},
		{"login http private ip refused", map[string]string{"AUTH0_DOMAIN": "http://10.0.0.1:9010"}, "AUTH0_DOMAIN", "use https://10.0.0.1:9010"},
		{"login http lookalike refused", map[string]string{"AUTH0_DOMAIN": "http://localhost.example.com"}, "AUTH0_DOMAIN", "only for loopback"},
		{"login path", map[string]string{"AUTH0_DOMAIN": "https://login.example.com/authorize"}, "AUTH0_DOMAIN", "must not have a path"},
		{"login bare host with path", map[string]string{"AUTH0_DOMAIN": "login.example.com/x"}, "AUTH0_DOMAIN", "must not have a path"},
		{"login scheme", map[string]string{"AUTH0_DOMAIN": "ldap://login.example.com"}, "AUTH0_DOMAIN", "only https"},

		{"tenant http refused", map[string]string{"AUTH0_TENANT_DOMAIN": "http://example.eu.auth0.com"}, "AUTH0_TENANT_DOMAIN", "use https://example.eu.auth0.com"},
		{"tenant path", map[string]string{"AUTH0_TENANT_DOMAIN": "https://example.eu.auth0.com/api/v2/"}, "AUTH0_TENANT_DOMAIN", "must not have a path"},

		{"client id missing", map[string]string{"AUTH0_CLIENT_ID": ""}, "AUTH0_CLIENT_ID", "missing; set it"},
		{"client id whitespace", map[string]string{"AUTH0_CLIENT_ID": "abc def"}, "AUTH0_CLIENT_ID", "contains whitespace"},
		{"client secret missing", map[string]string{"AUTH0_CLIENT_SECRET": ""}, "AUTH0_CLIENT_SECRET", "set AUTH0_CLIENT_SECRET or AUTH0_CLIENT_SECRET_FILE"},
		{"client secret whitespace", map[string]string{"AUTH0_CLIENT_SECRET": "abc\ndef"}, "AUTH0_CLIENT_SECRET", "contains whitespace"},
		{"m2m id missing", map[string]string{"AUTH0_M2M_CLIENT_ID": ""}, "AUTH0_M2M_CLIENT_ID", "missing; set it"},
		{"m2m secret missing", map[string]string{"AUTH0_M2M_CLIENT_SECRET": ""}, "AUTH0_M2M_CLIENT_SECRET", "set AUTH0_M2M_CLIENT_SECRET or AUTH0_M2M_CLIENT_SECRET_FILE"},

		{"keys missing", map[string]string{"SESSION_KEYS": ""}, "SESSION_KEYS", "openssl rand -base64 32"},
		{"keys only separators", map[string]string{"SESSION_KEYS": " , ,"}, "SESSION_KEYS", "contains no keys"},
		{"key too short", map[string]string{"SESSION_KEYS": testKey(1, 32) + "," + testKey(2, 16)}, "SESSION_KEYS", "key 2 decodes to 16 bytes; need at least 32 (generate one with: openssl rand -base64 32)"},
		{"key 31 bytes", map[string]string{"SESSION_KEYS": testKey(1, 31)}, "SESSION_KEYS", "key 1 decodes to 31 bytes"},
		{"key not base64", map[string]string{"SESSION_KEYS": "not!base64!at!all!not!base64!at!all!not!base64!"}, "SESSION_KEYS", "key 1 is not valid base64"},
		{"key duplicate", map[string]string{"SESSION_KEYS": testKey(1, 32) + " " + testKey(2, 32) + " " + testKey(1, 32)}, "SESSION_KEYS", "key 3 is the same as key 1"},
		{"key duplicate other encoding", map[string]string{"SESSION_KEYS": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 33)) + "," + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 33))}, "SESSION_KEYS", "key 2 is the same as key 1"},

		{"ancestor star", map[string]string{"FRAME_ANCESTORS": "*"}, "FRAME_ANCESTORS", "no wildcards"},
		{"ancestor wildcard subdomain", map[string]string{"FRAME_ANCESTORS": "https://*.example.com"}, "FRAME_ANCESTORS", "no wildcards"},
		{"ancestor unsafe keyword", map[string]string{"FRAME_ANCESTORS": "'unsafe-inline'"}, "FRAME_ANCESTORS", "CSP keywords"},
		{"ancestor self", map[string]string{"FRAME_ANCESTORS": "'self'"}, "FRAME_ANCESTORS", "CSP keywords"},
		{"ancestor path", map[string]string{"FRAME_ANCESTORS": "https://app.example.com/embed"}, "FRAME_ANCESTORS", "must not have a path"},
		{"ancestor http", map[string]string{"FRAME_ANCESTORS": "http://app.example.com"}, "FRAME_ANCESTORS", "use https://app.example.com"},
		{"ancestor bare host", map[string]string{"FRAME_ANCESTORS": "app.example.com"}, "FRAME_ANCESTORS", "must start with https://"},
		{"ancestor scheme only", map[string]string{"FRAME_ANCESTORS": "https:"}, "FRAME_ANCESTORS", "must start with https://"},
		{"ancestor data", map[string]string{"FRAME_ANCESTORS": "data://x"}, "FRAME_ANCESTORS", "only https"},

		{"upstream timeout no unit", map[string]string{"UPSTREAM_TIMEOUT": "10"}, "UPSTREAM_TIMEOUT", "write a number with a unit, e.g. 10s"},
		{"upstream timeout too short", map[string]string{"UPSTREAM_TIMEOUT": "500ms"}, "UPSTREAM_TIMEOUT", "from 1s to 1m"},
		{"upstream timeout too long", map[string]string{"UPSTREAM_TIMEOUT": "2m"}, "UPSTREAM_TIMEOUT", "from 1s to 1m"},
		{"upstream timeout negative", map[string]string{"UPSTREAM_TIMEOUT": "-5s"}, "UPSTREAM_TIMEOUT", "out of range"},
		{"max auth age too short", map[string]string{"MAX_AUTH_AGE": "30s"}, "MAX_AUTH_AGE", "from 1m to 24h"},
		{"max auth age too long", map[string]string{"MAX_AUTH_AGE": "25h"}, "MAX_AUTH_AGE", "from 1m to 24h"},
		{"max auth age garbage", map[string]string{"MAX_AUTH_AGE": "one hour"}, "MAX_AUTH_AGE", "is not a duration"},

		{"log format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT", "use json or text"},
		{"log level", map[string]string{"LOG_LEVEL": "trace"}, "LOG_LEVEL", "use debug, info, warn or error"},
		{"log level numeric", map[string]string{"LOG_LEVEL": "INFO+2"}, "LOG_LEVEL", "use debug, info, warn or error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(nil, with(validEnv(), tt.env), nil)
			if err == nil {
				t.Fatalf("Load succeeded with %v; want an error", c)
			}
			problems := problemsOf(t, err)
			if len(problems) != 1 {
				t.Fatalf("problems = %q, want exactly one", problems)
			}
			if !strings.HasPrefix(problems[0], tt.variable+":") {
				t.Errorf("problem %q does not start with %q", problems[0], tt.variable+":")
			}
			if !strings.Contains(problems[0], tt.contains) {
				t.Errorf("problem %q does not contain %q", problems[0], tt.contains)
			}
		})
	}
}

func TestFlagsOverrideEnv(t *testing.T) {
	env := with(validEnv(), map[string]string{
		"LISTEN_ADDR":      ":1111",
		"FRAME_ANCESTORS":  "https://env.example.com",
		"UPSTREAM_TIMEOUT": "5s",
		"LOG_LEVEL":        "error",
	})
	files := map[string]string{
		"/flag/secret": "from-flag-file\n",
		"/flag/keys":   testKey(9, 32) + "\n",
	}
	tests := []struct {
		name string
		args []string
		got  func(*Config) any
		want any
	}{
		{"listen", []string{"-listen", ":2222"}, func(c *Config) any { return c.ListenAddr }, ":2222"},
		{"listen with equals", []string{"-listen=:3333"}, func(c *Config) any { return c.ListenAddr }, ":3333"},
		{"public url", []string{"-public-url", "https://flag.example.com"}, func(c *Config) any { return c.PublicURL.String() }, "https://flag.example.com"},
		{"auth0 domain", []string{"--auth0-domain", "login.flag.example"}, func(c *Config) any { return c.Issuer() }, "https://login.flag.example/"},
		{"tenant domain", []string{"-auth0-tenant-domain", "flag.us.auth0.com"}, func(c *Config) any { return c.TenantURL() }, "https://flag.us.auth0.com"},
		{"client id", []string{"-auth0-client-id", "flagClient"}, func(c *Config) any { return c.ClientID }, "flagClient"},
		{"client secret file", []string{"-auth0-client-secret-file", "/flag/secret"}, func(c *Config) any { return c.ClientSecret }, "from-flag-file"},
		{"m2m client id", []string{"-auth0-m2m-client-id", "flagM2M"}, func(c *Config) any { return c.M2MClientID }, "flagM2M"},
		{"m2m secret file", []string{"-auth0-m2m-client-secret-file", "/flag/secret"}, func(c *Config) any { return c.M2MClientSecret }, "from-flag-file"},
		{"session keys file", []string{"-session-keys-file", "/flag/keys"}, func(c *Config) any { return c.SessionKeys }, [][]byte{bytes.Repeat([]byte{9}, 32)}},
		{"frame ancestors", []string{"-frame-ancestors", "https://flag.example.com"}, func(c *Config) any { return c.FrameAncestors }, []string{"https://flag.example.com"}},
		{"upstream timeout", []string{"-upstream-timeout", "20s"}, func(c *Config) any { return c.UpstreamTimeout }, 20 * time.Second},
		{"max auth age", []string{"-max-auth-age", "2h"}, func(c *Config) any { return c.MaxAuthAge }, 2 * time.Hour},
		{"log format", []string{"-log-format", "text"}, func(c *Config) any { return c.LogFormat }, "text"},
		{"log level", []string{"-log-level", "debug"}, func(c *Config) any { return c.LogLevel }, slog.LevelDebug},
		{"env kept when flag absent", []string{"-log-level", "debug"}, func(c *Config) any { return c.ListenAddr }, ":1111"},
		{"empty flag falls back to default", []string{"-listen="}, func(c *Config) any { return c.ListenAddr }, ":8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.args, env, files)
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestFlagProblems(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		contains string
	}{
		{"unknown flag", []string{"-nope"}, "flags: flag provided but not defined: -nope"},
		{"secret value as flag", []string{"-auth0-client-secret", "x"}, "not defined: -auth0-client-secret"},
		{"missing flag value", []string{"-listen"}, "flag needs an argument: -listen"},
		{"positional argument", []string{"extra"}, `flags: unexpected argument "extra"`},
		{"invalid flag value names flag", []string{"-public-url", "http://mfa.example.com"}, "PUBLIC_URL (flag -public-url): "},
		{"unreadable flag file", []string{"-session-keys-file", "/missing"}, "SESSION_KEYS (flag -session-keys-file): cannot read the file: open /missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.args, validEnv(), nil)
			problems := problemsOf(t, err)
			if !strings.Contains(strings.Join(problems, "\n"), tt.contains) {
				t.Errorf("problems %q do not contain %q", problems, tt.contains)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		_, err := load([]string{arg}, validEnv(), nil)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%s: error = %v, want one wrapping flag.ErrHelp", arg, err)
		}
		for _, v := range Vars() {
			if !strings.Contains(err.Error(), "-"+v.Flag+"\t"+v.Name) {
				t.Errorf("%s: usage does not list -%s for %s:\n%s", arg, v.Flag, v.Name, err)
			}
		}
	}
}

func TestSecretFiles(t *testing.T) {
	files := map[string]string{
		"/s/newline":   "file-secret\n",
		"/s/crlf":      "file-secret\r\n",
		"/s/none":      "file-secret",
		"/s/two-lines": "file-secret\n\n",
		"/s/empty":     "",
		"/s/keys":      testKey(1, 32) + "\n" + testKey(2, 32) + "\n",
	}
	tests := []struct {
		name     string
		env      map[string]string
		got      func(*Config) any
		want     any
		problem  string // set when Load must fail with this problem
		variable string
	}{
		{name: "client secret file", env: map[string]string{"AUTH0_CLIENT_SECRET": "", "AUTH0_CLIENT_SECRET_FILE": "/s/newline"}, got: func(c *Config) any { return c.ClientSecret }, want: "file-secret"},
		{name: "crlf trimmed", env: map[string]string{"AUTH0_CLIENT_SECRET": "", "AUTH0_CLIENT_SECRET_FILE": "/s/crlf"}, got: func(c *Config) any { return c.ClientSecret }, want: "file-secret"},
		{name: "no newline", env: map[string]string{"AUTH0_CLIENT_SECRET": "", "AUTH0_CLIENT_SECRET_FILE": "/s/none"}, got: func(c *Config) any { return c.ClientSecret }, want: "file-secret"},
		{name: "m2m secret file", env: map[string]string{"AUTH0_M2M_CLIENT_SECRET": "", "AUTH0_M2M_CLIENT_SECRET_FILE": "/s/newline"}, got: func(c *Config) any { return c.M2MClientSecret }, want: "file-secret"},
		{name: "session keys file, one per line", env: map[string]string{"SESSION_KEYS": "", "SESSION_KEYS_FILE": "/s/keys"}, got: func(c *Config) any { return c.SessionKeys }, want: [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)}},

		{name: "only one newline trimmed", env: map[string]string{"AUTH0_CLIENT_SECRET": "", "AUTH0_CLIENT_SECRET_FILE": "/s/two-lines"}, variable: "AUTH0_CLIENT_SECRET_FILE", problem: "contains whitespace"},
		{name: "both set", env: map[string]string{"AUTH0_CLIENT_SECRET_FILE": "/s/newline"}, variable: "AUTH0_CLIENT_SECRET", problem: "both AUTH0_CLIENT_SECRET and AUTH0_CLIENT_SECRET_FILE are set; set only one of them"},
		{name: "both set m2m", env: map[string]string{"AUTH0_M2M_CLIENT_SECRET_FILE": "/s/newline"}, variable: "AUTH0_M2M_CLIENT_SECRET", problem: "both AUTH0_M2M_CLIENT_SECRET and AUTH0_M2M_CLIENT_SECRET_FILE are set"},
		{name: "both set keys", env: map[string]string{"SESSION_KEYS_FILE": "/s/keys"}, variable: "SESSION_KEYS", problem: "both SESSION_KEYS and SESSION_KEYS_FILE are set"},
		{name: "missing file", env: map[string]string{"AUTH0_CLIENT_SECRET": "", "AUTH0_CLIENT_SECRET_FILE": "/s/missing"}, variable: "AUTH0_CLIENT_SECRET_FILE", problem: "cannot read the file: open /s/missing: file does not exist"},
		{name: "empty file", env: map[string]string{"AUTH0_CLIENT_SECRET": "", "AUTH0_CLIENT_SECRET_FILE": "/s/empty"}, variable: "AUTH0_CLIENT_SECRET_FILE", problem: "the file /s/empty is empty"},
		{name: "bad key in file", env: map[string]string{"SESSION_KEYS": "", "SESSION_KEYS_FILE": "/s/newline"}, variable: "SESSION_KEYS_FILE", problem: "key 1 decodes to 8 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(nil, with(validEnv(), tt.env), files)
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got %#v, want %#v", got, tt.want)
				}
				return
			}
			problems := problemsOf(t, err)
			if len(problems) != 1 || !strings.HasPrefix(problems[0], tt.variable+":") || !strings.Contains(problems[0], tt.problem) {
				t.Errorf("problems = %q, want one starting %q containing %q", problems, tt.variable+":", tt.problem)
			}
		})
	}
}

func TestSecretFileFromRealDisk(t *testing.T) {
	path := t.TempDir() + "/secret"
	if err := os.WriteFile(path, []byte("disk-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := with(validEnv(), map[string]string{"AUTH0_CLIENT_SECRET": "", "AUTH0_CLIENT_SECRET_FILE": path})
	c, err := Load(nil, func(k string) string { return env[k] }, nil) // nil readFile means os.ReadFile
	if err != nil {
		t.Fatal(err)
	}
	if c.ClientSecret != "disk-secret" {
		t.Errorf("ClientSecret = %q, want %q", c.ClientSecret, "disk-secret")
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	env := map[string]string{
		"LISTEN_ADDR":                  "nope",
		"AUTH0_DOMAIN":                 "http://login.example.com",
		"AUTH0_TENANT_DOMAIN":          "https://example.eu.auth0.com/path",
		"AUTH0_M2M_CLIENT_SECRET":      "x",
		"AUTH0_M2M_CLIENT_SECRET_FILE": "/run/secrets/m2m",
		"SESSION_KEYS":                 testKey(1, 16) + "," + testKey(2, 8),
		"FRAME_ANCESTORS":              "*",
		"UPSTREAM_TIMEOUT":             "0s",
		"VIEWS_PER_MINUTE":             "lots",
		"MFA_FACTORS":                  "otp,duo",
		"MAX_AUTH_AGE":                 "48h",
		"LOG_FORMAT":                   "yaml",
		"LOG_LEVEL":                    "loud",
		"TRUSTED_PROXIES":              "10.0.0.0/33",
		"METRICS_ADDR":                 "metrics",
		"REDIS_URL":                    "http://redis.internal:6379",
	}
	_, err := load(nil, env, nil)
	problems := problemsOf(t, err)
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid configuration:\n  - ") {
		t.Errorf("error does not start with the heading and a bullet:\n%s", msg)
	}
	for _, v := range Vars() {
		if !strings.Contains(msg, "\n  - "+v.Name) {
			t.Errorf("error does not name %s:\n%s", v.Name, msg)
		}
	}
	// Two session-key problems, one per bad key; one line each.
	if want := len(Vars()) + 1; len(problems) != want {
		t.Errorf("got %d problems, want %d:\n%s", len(problems), want, msg)
	}
	if got := strings.Count(msg, "\n"); got != len(problems) {
		t.Errorf("error has %d lines after the heading, want one per problem (%d):\n%s", got, len(problems), msg)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	keyText := testKey('K', 32)
	env := with(validEnv(), map[string]string{"SESSION_KEYS": keyText})
	c := mustLoad(t, nil, env, nil)

	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("config", slog.Any("config", c))
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("config", "config", *c)

	outputs := map[string]string{
		"String":        c.String(),
		"%v pointer":    fmt.Sprintf("%v", c),
		"%+v pointer":   fmt.Sprintf("%+v", c),
		"%#v pointer":   fmt.Sprintf("%#v", c),
		"%v value":      fmt.Sprintf("%v", *c),
		"%+v value":     fmt.Sprintf("%+v", *c),
		"%#v value":     fmt.Sprintf("%#v", *c),
		"slog json":     jsonLog.String(),
		"slog text":     textLog.String(),
		"LogValue text": c.LogValue().String(),
	}
	secrets := []string{testClientSecret, testM2MClientSecret, keyText, string(c.SessionKeys[0])}
	for name, out := range outputs {
		for _, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Errorf("%s leaks a secret: %s", name, out)
			}
		}
		for _, want := range []string{"set", "1 key", "webClientID"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s = %s; want it to mention %q", name, out, want)
			}
		}
	}
	if !strings.Contains(jsonLog.String(), `"client_secret":"set"`) {
		t.Errorf("JSON log does not show client_secret as set: %s", jsonLog.String())
	}

	unset := Config{}
	if s := unset.String(); !strings.Contains(s, "client_secret=unset") || !strings.Contains(s, "session_keys=0 keys") {
		t.Errorf("zero Config String() = %s; want unset secrets and 0 keys", s)
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	shortKey := testKey('Q', 16)
	badKey := "Zm9v!" + testClientSecret
	tests := map[string]map[string]string{
		"secret with whitespace": {"AUTH0_CLIENT_SECRET": testClientSecret + " trailing"},
		"both set":               {"AUTH0_M2M_CLIENT_SECRET_FILE": "/s/m2m"},
		"short key":              {"SESSION_KEYS": shortKey},
		"bad key":                {"SESSION_KEYS": badKey},
		"duplicate key":          {"SESSION_KEYS": shortKey + shortKey + "," + shortKey + shortKey},
	}
	for name, overrides := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := load(nil, with(validEnv(), overrides), nil)
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			for _, secret := range []string{testClientSecret, testM2MClientSecret, shortKey, badKey} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks a secret:\n%s", err)
				}
			}
		})
	}
}

func TestSessionKeyRotationOrder(t *testing.T) {
	newest := bytes.Repeat([]byte{3}, 32)
	middle := bytes.Repeat([]byte{0xfe}, 48) // encodes differently in std and URL alphabets
	oldest := bytes.Repeat([]byte{1}, 64)
	value := base64.StdEncoding.EncodeToString(newest) + ",\n  " +
		base64.RawURLEncoding.EncodeToString(middle) + " " +
		base64.URLEncoding.EncodeToString(oldest)
	c := mustLoad(t, nil, with(validEnv(), map[string]string{"SESSION_KEYS": value}), nil)
	want := [][]byte{newest, middle, oldest}
	if !reflect.DeepEqual(c.SessionKeys, want) {
		t.Errorf("SessionKeys = %x, want %x (first signs, in the order given)", c.SessionKeys, want)
	}
}

func TestDerivedURLs(t *testing.T) {
	type derived struct {
		Issuer, TenantURL, MFAAudience, ManagementAudience, TokenURL, RedirectURL, PublicOrigin string
	}
	tests := []struct {
		name string
		env  map[string]string
		want derived
	}{
		{
			name: "tenant domain only",
			env:  map[string]string{"AUTH0_DOMAIN": "example.eu.auth0.com", "PUBLIC_URL": "https://mfa.example.com/"},
			want: derived{
				Issuer:             "https://example.eu.auth0.com/",
				TenantURL:          "https://example.eu.auth0.com",
				MFAAudience:        "https://example.eu.auth0.com/mfa/",
				ManagementAudience: "https://example.eu.auth0.com/api/v2/",
				TokenURL:           "https://example.eu.auth0.com/oauth/token",
				RedirectURL:        "https://mfa.example.com/callback",
				PublicOrigin:       "https://mfa.example.com",
			},
		},
		{
			name: "custom login domain",
			env:  map[string]string{"AUTH0_DOMAIN": "https://login.example.com/", "AUTH0_TENANT_DOMAIN": "example.eu.auth0.com", "PUBLIC_URL": "https://mfa.example.com:8443"},
			want: derived{
				Issuer:             "https://login.example.com/",
				TenantURL:          "https://example.eu.auth0.com",
				MFAAudience:        "https://example.eu.auth0.com/mfa/",
				ManagementAudience: "https://example.eu.auth0.com/api/v2/",
				TokenURL:           "https://login.example.com/oauth/token",
				RedirectURL:        "https://mfa.example.com:8443/callback",
				PublicOrigin:       "https://mfa.example.com:8443",
			},
		},
		{
			name: "emulator on loopback",
			env:  map[string]string{"AUTH0_DOMAIN": "http://127.0.0.1:9010", "PUBLIC_URL": "http://127.0.0.1:8080"},
			want: derived{
				Issuer:             "http://127.0.0.1:9010/",
				TenantURL:          "http://127.0.0.1:9010",
				MFAAudience:        "http://127.0.0.1:9010/mfa/",
				ManagementAudience: "http://127.0.0.1:9010/api/v2/",
				TokenURL:           "http://127.0.0.1:9010/oauth/token",
				RedirectURL:        "http://127.0.0.1:8080/callback",
				PublicOrigin:       "http://127.0.0.1:8080",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, nil, with(validEnv(), tt.env), nil)
			got := derived{c.Issuer(), c.TenantURL(), c.MFAAudience(), c.ManagementAudience(), c.TokenURL(), c.RedirectURL(), c.PublicOrigin()}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestVarsAreConsistent(t *testing.T) {
	names, flags := map[string]bool{}, map[string]bool{}
	for _, v := range Vars() {
		if names[v.Name] || flags[v.Flag] {
			t.Errorf("%s: duplicate name or flag -%s", v.Name, v.Flag)
		}
		names[v.Name], flags[v.Flag] = true, true
		if v.apply == nil || v.Description == "" || v.Flag == "" {
			t.Errorf("%s: needs a flag, a description and a validator", v.Name)
		}
		if v.Required && (v.Default != "" || v.DefaultFrom != "") {
			t.Errorf("%s: required but has a default", v.Name)
		}
		if !v.Secret && v.Example == "" {
			t.Errorf("%s: needs an example", v.Name)
		}
		if v.Secret && v.Example != "" {
			t.Errorf("%s: a secret must not have an example value (it would be copied)", v.Name)
		}
		if v.Secret != strings.HasSuffix(v.Flag, "-file") {
			t.Errorf("%s: secret flags take a file path and end in -file; others do not", v.Name)
		}
	}
	// Every non-secret example must itself be valid.
	env := validEnv()
	for _, v := range Vars() {
		if !v.Secret {
			env[v.Name] = v.Example
		}
	}
	if _, err := load(nil, env, nil); err != nil {
		t.Errorf("the examples do not load: %v", err)
	}
}

const (
	readmePath  = "README-config.md"
	tableBegin  = "<!-- BEGIN config table"
	tableEnd    = "<!-- END config table -->"
	errorsBlock = "```\nmfaportal: invalid configuration:\n"
)

// TestREADMETable keeps the documented table equal to Vars. With -update it
// rewrites the table in README-config.md. Once the lead has pasted the
// section into ../README.md (markers included), that file is checked too.
func TestREADMETable(t *testing.T) {
	want := MarkdownTable()
	for _, path := range []string{readmePath, "../README.md"} {
		data, err := os.ReadFile(path)
		if err != nil {
			if path == readmePath {
				t.Fatal(err)
			}
			continue
		}
		doc := string(data)
		begin := strings.Index(doc, tableBegin)
		if begin < 0 && path != readmePath {
			continue // the section has not been pasted into README.md yet
		}
		end := strings.Index(doc, tableEnd)
		if begin < 0 || end < begin {
			t.Fatalf("%s: no %q ... %q section", path, tableBegin, tableEnd)
		}
		start := begin + strings.Index(doc[begin:], "\n") + 1
		if got := doc[start:end]; got != want {
			if *update {
				if err := os.WriteFile(path, []byte(doc[:start]+want+doc[end:]), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("%s: the configuration table is out of date with Vars(); run: go test ./config -run TestREADMETable -update\ngot:\n%s\nwant:\n%s", path, got, want)
		}
	}
}

// TestREADMEExampleLoads proves the documented example is a valid configuration.
func TestREADMEExampleLoads(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	inBlock := false
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case line == "```sh":
			inBlock = true
		case line == "```":
			inBlock = false
		case inBlock && strings.HasPrefix(line, "export "):
			line, _, _ = strings.Cut(line, " #")
			name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok {
				t.Fatalf("cannot parse example line %q", line)
			}
			env[name] = strings.Trim(strings.TrimSpace(value), `"`)
		}
	}
	if len(env) == 0 {
		t.Fatal("README-config.md has no ```sh block of exports")
	}
	for name := range env {
		if !isKnownVar(name) {
			t.Errorf("example sets %s, which is not a configuration variable", name)
		}
	}
	files := map[string]string{
		"/run/secrets/auth0_client_secret":     "webSecret\n",
		"/run/secrets/auth0_m2m_client_secret": "m2mSecret\n",
		"/run/secrets/session_keys":            testKey(7, 32) + "\n",
	}
	c := mustLoad(t, nil, env, files)
	// The README spells out what the example derives; keep it true.
	for _, derived := range []string{c.Issuer(), c.TokenURL(), c.MFAAudience(), c.ManagementAudience(), c.RedirectURL()} {
		if !strings.Contains(string(data), "`"+derived+"`") {
			t.Errorf("README-config.md does not show the derived URL `%s`", derived)
		}
	}
}

// TestREADMEErrorExample proves the error shown in the README is what Load says.
func TestREADMEErrorExample(t *testing.T) {
	data, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start := strings.Index(doc, errorsBlock)
	if start < 0 {
		t.Fatalf("README-config.md has no example error block starting %q", errorsBlock)
	}
	start += len("```\n")
	end := start + strings.Index(doc[start:], "\n```")
	documented := doc[start:end]

	env := with(validEnv(), map[string]string{
		"PUBLIC_URL":   "",
		"AUTH0_DOMAIN": "http://login.example.com",
		"SESSION_KEYS": testKey(1, 32) + "," + testKey(2, 16),
	})
	_, loadErr := load(nil, env, nil)
	if loadErr == nil {
		t.Fatal("Load succeeded; want an error")
	}
	if got := "mfaportal: " + loadErr.Error(); got != documented {
		t.Errorf("README error example is stale\ndocumented:\n%s\nactual:\n%s", documented, got)
	}
}

func isKnownVar(name string) bool {
	for _, v := range Vars() {
		if name == v.Name || (v.Secret && name == v.FileVar()) {
			return true
		}
	}
	return false
}
