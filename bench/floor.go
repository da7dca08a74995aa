package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/config"
	"mfaportal/kvstore"
	"mfaportal/mfaapi"
	"mfaportal/session"
	"mfaportal/signin"
)

// The portal's floor answers "what would a view cost if the page were
// free?" in the same run, measured rather than estimated from the profile.
// It is a process of its own built from the portal's parts, with the
// portal's configuration: Echo, the portal's session store opening a sealed
// session cookie (with its cache of opened seals and its revocation check),
// the portal's MFA API client (one GET /mfa/authenticators with the
// session's token, its JSON decoded), then the very page and headers the
// portal sent for a bench user, captured once at the start. What it leaves
// out is everything else a portal view does: the middleware (access log,
// metrics, security headers, limits, request id), the Management API's
// details, the grouping, the words and the templates.
//
// A cookie store's seals are bound to its process (a restart ends every
// session), so the floor cannot open the portal's cookies: it seals its own
// for the same users, with the same fields the portal's sign-in fills and
// an /mfa/ token the tenant minted for each, and writes them where the
// bench reads them (BENCH_COOKIES).
const childFloor = "floor"

// Files that hand the captured page to the floor's process.
const (
	floorPageFile    = "floor-page.html"
	floorHeaderFile  = "floor-header.txt"
	floorTokensFile  = "floor-tokens.txt"
	floorCookiesFile = "floor-cookies.txt"
)

// capturedPage is one answer of the portal's: its headers and its body.
type capturedPage struct {
	header http.Header
	body   []byte
}

// capturePage fetches url as a browser would (the load client's headers)
// and keeps the answer, which must be a 200 page.
func capturePage(ctx context.Context, url, cookie string) (capturedPage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return capturedPage{}, err
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Accept-Encoding", browserAcceptEncoding)
	resp, err := loadClient(1).Do(req)
	if err != nil {
		return capturedPage{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return capturedPage{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return capturedPage{}, fmt.Errorf("capturing %s for the floor: status %d", url, resp.StatusCode)
	}
	h := resp.Header.Clone()
	h.Del("Date") // net/http writes its own
	return capturedPage{header: h, body: body}, nil
}

// startFloor starts the floor's process (floorVars) and returns the
// session cookies it sealed for the first n bench users.
func (e *env) startFloor(ctx context.Context, page capturedPage, n int) (*process, []string, error) {
	vars, err := e.floorVars(page, n)
	if err != nil {
		return nil, nil, err
	}
	p, err := startChild(ctx, "portal's floor", childFloor, "", vars)
	if err != nil {
		return nil, nil, err
	}
	cookies, err := os.ReadFile(vars["BENCH_COOKIES"])
	if err != nil {
		p.stop()
		return nil, nil, err
	}
	return p, strings.Fields(string(cookies)), nil
}

// floorVars writes the captured page and an /mfa/ token for each of the
// first n bench users where the floor's process reads them, and returns
// that process's environment: the portal's own configuration and the files.
func (e *env) floorVars(page capturedPage, n int) (map[string]string, error) {
	var hdr bytes.Buffer
	if err := page.header.Write(&hdr); err != nil {
		return nil, err
	}
	hdr.WriteString("\r\n")
	var tokens bytes.Buffer
	for _, u := range benchUsers(n) {
		token, err := e.tenant.MintAccessToken(u.UserID, e.tenant.MFAAudience(), signin.Scopes, benchTokenLifetime)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&tokens, "%s\t%s\t%s\n", u.UserID, u.Name, token)
	}
	vars := maps.Clone(e.portalVars)
	files := map[string]struct {
		name string
		body []byte
	}{
		"BENCH_PAGE":   {floorPageFile, page.body},
		"BENCH_HEADER": {floorHeaderFile, hdr.Bytes()},
		"BENCH_TOKENS": {floorTokensFile, tokens.Bytes()},
	}
	for v, f := range files {
		vars[v] = filepath.Join(e.dir, f.name)
		if err := os.WriteFile(vars[v], f.body, 0o600); err != nil {
			return nil, err
		}
	}
	vars["BENCH_COOKIES"] = filepath.Join(e.dir, floorCookiesFile)
	return vars, nil
}

// floor is the child's handler: see childFloor.
type floor struct {
	sessions *session.Store
	mfa      *mfaapi.Client
	timeout  time.Duration
	header   http.Header
	body     []byte
}

// newFloor builds the floor from the portal's configuration (config.Load)
// and the captured page named by BENCH_PAGE and BENCH_HEADER.
func newFloor() (http.Handler, error) {
	cfg, err := config.Load(nil, os.Getenv, os.ReadFile)
	if err != nil {
		return nil, err
	}
	body, err := os.ReadFile(os.Getenv("BENCH_PAGE"))
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(os.Getenv("BENCH_HEADER"))
	if err != nil {
		return nil, err
	}
	mime, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil {
		return nil, fmt.Errorf("reading the captured headers: %w", err)
	}
	sessions, err := session.New(session.Options{Keys: cfg.SessionKeys, KV: kvstore.NewMemory(time.Now, 0), Now: time.Now})
	if err != nil {
		return nil, err
	}
	mfa, err := mfaapi.New(cfg.TenantURL(), mfaapi.WithHTTPClient(mfaapi.NewHTTPClient(cfg.UpstreamTimeout)))
	if err != nil {
		return nil, err
	}
	if err := sealFloorSessions(sessions, os.Getenv("BENCH_TOKENS"), os.Getenv("BENCH_COOKIES")); err != nil {
		return nil, err
	}
	f := &floor{sessions: sessions, mfa: mfa, timeout: cfg.UpstreamTimeout, header: http.Header(mime), body: body}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/factors", f.view)
	return e, nil
}

// view is a portal view with the page already made.
func (f *floor) view(c echo.Context) error {
	sess, err := f.sessions.Load(c.Request(), session.TopLevel)
	if err != nil || sess == nil || !sess.SignedIn(time.Now()) {
		return c.NoContent(http.StatusUnauthorized)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), f.timeout)
	defer cancel()
	if _, err := f.mfa.ListAuthenticators(ctx, sess.AccessToken); err != nil {
		return c.NoContent(http.StatusBadGateway)
	}
	maps.Copy(c.Response().Header(), f.header)
	c.Response().WriteHeader(http.StatusOK)
	_, err = c.Response().Write(f.body)
	return err
}

// sealFloorSessions seals a top-level session for each "sub, name, token"
// line of tokensPath as the portal's sign-in does, and writes each one's
// Cookie header value, a line each, to cookiesPath.
func sealFloorSessions(sessions *session.Store, tokensPath, cookiesPath string) error {
	raw, err := os.ReadFile(tokensPath)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	now := time.Now()
	for line := range strings.Lines(string(raw)) {
		sub, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		name, token, _ := strings.Cut(rest, "\t")
		r := httptest.NewRequest(http.MethodGet, "/callback", nil)
		sess, err := sessions.Start(r, session.TopLevel)
		if err != nil {
			return err
		}
		sess.Sub, sess.Name, sess.AccessToken = sub, name, token
		sess.TokenExpiry, sess.AuthTime = now.Add(benchTokenLifetime), now
		w := httptest.NewRecorder()
		if err := sessions.Save(w, r, sess); err != nil {
			return err
		}
		cookies := w.Result().Cookies()
		if len(cookies) != 1 {
			return fmt.Errorf("sealing a floor session: %d cookies, want 1", len(cookies))
		}
		fmt.Fprintf(&out, "%s=%s\n", cookies[0].Name, cookies[0].Value)
	}
	return os.WriteFile(cookiesPath, out.Bytes(), 0o600)
}
