package auth0emu

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Route names: Go ServeMux patterns, used for faults, counters and rate limits.
const (
	RouteDiscovery                   = "GET /.well-known/openid-configuration"
	RouteJWKS                        = "GET /.well-known/jwks.json"
	RouteAuthorize                   = "GET /authorize"
	RouteLoginPage                   = "GET /u/login"
	RouteLoginSubmit                 = "POST /u/login"
	RouteMFAPage                     = "GET /u/mfa"
	RouteMFASubmit                   = "POST /u/mfa"
	RouteToken                       = "POST /oauth/token"
	RouteUserInfo                    = "GET /userinfo"
	RouteLogout                      = "GET /v2/logout"
	RouteListAuthenticators          = "GET /mfa/authenticators"
	RouteDeleteAuthenticator         = "DELETE /mfa/authenticators/{id}"
	RouteAssociate                   = "POST /mfa/associate"
	RouteRegenerateRecoveryCode      = "POST /api/v2/users/{id}/recovery-code-regeneration"
	RouteListAuthenticationMethods   = "GET /api/v2/users/{id}/authentication-methods"
	RouteDeleteAuthenticationMethods = "DELETE /api/v2/users/{id}/authentication-methods"
	RouteGetAuthenticationMethod     = "GET /api/v2/users/{id}/authentication-methods/{method_id}"
	RouteUpdateAuthenticationMethod  = "PATCH /api/v2/users/{id}/authentication-methods/{method_id}"
	RouteDeleteAuthenticationMethod  = "DELETE /api/v2/users/{id}/authentication-methods/{method_id}"
	RouteGuardianFactors             = "GET /api/v2/guardian/factors"
	RoutePhoneMessageTypes           = "GET /api/v2/guardian/factors/phone/message-types"
)

// routes builds the mux: the whole surface of the tenant at a glance.
func (t *Tenant) routes() {
	t.mux = http.NewServeMux()
	t.counters = map[string]*atomic.Int64{}
	t.routeSet = map[string]bool{}

	t.handle(RouteDiscovery, styleAuth, t.handleDiscovery)
	t.handle(RouteJWKS, styleAuth, t.handleJWKS)

	t.handle(RouteAuthorize, stylePage, t.handleAuthorize)
	t.handle(RouteLoginPage, stylePage, t.handleLoginPage)
	t.handle(RouteLoginSubmit, stylePage, t.handleLoginSubmit)
	t.handle(RouteMFAPage, stylePage, t.handleMFAPage)
	t.handle(RouteMFASubmit, stylePage, t.handleMFASubmit)
	t.handle(RouteLogout, stylePage, t.handleLogout)

	t.handle(RouteToken, styleAuth, t.handleToken)
	t.handle(RouteUserInfo, styleAuth, t.handleUserInfo)
	t.handle(RouteListAuthenticators, styleAuth, t.handleListAuthenticators)
	t.handle(RouteDeleteAuthenticator, styleAuth, t.handleDeleteAuthenticator)
	t.handle(RouteAssociate, styleAuth, t.handleAssociate)

	t.handle(RouteRegenerateRecoveryCode, styleMgmt, t.handleRegenerateRecoveryCode)
	t.handle(RouteListAuthenticationMethods, styleMgmt, t.handleListAuthenticationMethods)
	t.handle(RouteDeleteAuthenticationMethods, styleMgmt, t.handleDeleteAuthenticationMethods)
	t.handle(RouteGetAuthenticationMethod, styleMgmt, t.handleGetAuthenticationMethod)
	t.handle(RouteUpdateAuthenticationMethod, styleMgmt, t.handleUpdateAuthenticationMethod)
	t.handle(RouteDeleteAuthenticationMethod, styleMgmt, t.handleDeleteAuthenticationMethod)
	t.handle(RouteGuardianFactors, styleMgmt, t.handleGuardianFactors)
	t.handle(RoutePhoneMessageTypes, styleMgmt, t.handlePhoneMessageTypes)

	t.adminRoutes()
	t.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAuthError(w, http.StatusNotFound, "not_found", "Not Found")
	})
}

// handle registers h under route behind the emulator's per-route machinery:
// call counter, injected latency and status, rate limit, dropped responses.
func (t *Tenant) handle(route string, style apiStyle, h http.HandlerFunc) {
	counter := new(atomic.Int64)
	t.counters[route] = counter
	t.routeSet[route] = true
	t.limits.register(route)
	t.mux.HandleFunc(route, func(w http.ResponseWriter, r *http.Request) {
		counter.Add(1)
		start := time.Now()
		fault := t.faults.take(route)
		if fault.latency > 0 && !sleepCtx(r, fault.latency) {
			return
		}
		if fault.status != 0 {
			if fault.status == http.StatusTooManyRequests {
				d := t.limits.exhausted(route)
				setRateLimitHeaders(w.Header(), d.limit, d.remaining, d.reset)
			}
			t.writeStyledError(w, r, style, fault.status, "Injected by the emulator")
			t.log.Debug("fault answered", "route", route, "status", fault.status)
			return
		}
		d := t.limits.allow(route)
		setRateLimitHeaders(w.Header(), d.limit, d.remaining, d.reset)
		if !d.allowed {
			t.writeRateLimited(w, r, style)
			return
		}
		if fault.drop {
			h(&discardWriter{h: w.Header().Clone()}, r)
			t.log.Debug("fault dropped response after applying", "route", route)
			dropConnection(w)
			return
		}
		h(w, r)
		t.log.Debug("request", "route", route, "duration", time.Since(start))
	})
}

func (t *Tenant) writeRateLimited(w http.ResponseWriter, r *http.Request, style apiStyle) {
	switch style {
	case styleMgmt:
		writeMgmtError(w, http.StatusTooManyRequests, "Global limit has been reached", "too_many_requests")
	case stylePage:
		t.renderError(w, r, http.StatusTooManyRequests, "too_many_requests", "Too many requests. Try again later.")
	default:
		writeAuthError(w, http.StatusTooManyRequests, "too_many_requests", "Rate limit exceeded. Please retry after some time.")
	}
}
