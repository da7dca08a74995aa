// Package emulated wires a portal to an emulated Auth0 tenant (package
// auth0emu) exactly as production wires it to a real one: the same
// configuration variables, config.Load and app.New. "mfaportal dev", the
// end-to-end tests and the benchmark all build their portals here, so what
// they run is what users run.
package emulated

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"os"
	"strings"

	"mfaportal/app"
	"mfaportal/auth0emu"
	"mfaportal/config"
)

// Config is the configuration of a portal at publicURL that signs in
// through tenant, with vars added or overriding (e.g. REDIS_URL,
// FRAME_ANCESTORS, LOG_LEVEL). It registers the portal's callback and
// sign-out URLs with the tenant. Without SESSION_KEYS in vars the key is
// fresh and random.
func Config(tenant *auth0emu.Tenant, publicURL string, vars map[string]string) (*config.Config, error) {
	env := Env(tenant, publicURL, vars)
	return config.Load(nil, func(k string) string { return env[k] }, os.ReadFile)
}

// Env is Config's environment: what a portal started as its own process
// (the benchmark's) is given.
func Env(tenant *auth0emu.Tenant, publicURL string, vars map[string]string) map[string]string {
	tenant.AddRedirectURI(publicURL + "/callback")
	tenant.AddLogoutURL(publicURL + "/signed-out")
	env := map[string]string{
		"PUBLIC_URL":              publicURL,
		"AUTH0_DOMAIN":            strings.TrimSuffix(tenant.Issuer(), "/"),
		"AUTH0_CLIENT_ID":         tenant.WebClient().ID,
		"AUTH0_CLIENT_SECRET":     tenant.WebClient().Secret,
		"AUTH0_M2M_CLIENT_ID":     tenant.M2MClient().ID,
		"AUTH0_M2M_CLIENT_SECRET": tenant.M2MClient().Secret,
		"SESSION_KEYS":            NewSessionKey(),
	}
	for k, v := range vars {
		env[k] = v
	}
	return env
}

// Portal is the portal's handler for Config(tenant, publicURL, vars).
func Portal(ctx context.Context, tenant *auth0emu.Tenant, publicURL string, vars map[string]string, o app.Options) (http.Handler, error) {
	cfg, err := Config(tenant, publicURL, vars)
	if err != nil {
		return nil, err
	}
	return app.New(ctx, cfg, o)
}

// NewSessionKey is a random 32-byte session key, base64, as SESSION_KEYS
// takes it.
func NewSessionKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("emulated: crypto/rand failed: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b)
}
