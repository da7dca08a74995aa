package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mfaportal/auth0emu"
)

// regenLimit bounds the whole regeneration run.
const regenLimit = time.Minute

var (
	csrfInput  = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	nonceInput = regexp.MustCompile(`name="regen_nonce" value="([^"]+)"`)
)

// regenResult is the outcome of every signed-in user regenerating once.
type regenResult struct {
	users         int
	ok, errors    int
	firstErr      string
	elapsed       time.Duration
	tokenCalls    int // POST /oauth/token: the M2M token fetches
	regenerations int // POST .../recovery-code-regeneration at the tenant
	jwks          int
}

// runRegeneration has every user open /recovery-code and press the button,
// with up to pool users at once, and counts the M2M token fetches it took.
func runRegeneration(ctx context.Context, e *env, cookies []string, pool int) regenResult {
	ctx, cancel := context.WithTimeout(ctx, regenLimit)
	defer cancel()
	client := loadClient(pool)
	defer client.CloseIdleConnections()
	e.tenant.ResetCalls()
	var next, ok, failed atomic.Int64
	var errOnce sync.Once
	res := regenResult{users: len(cookies)}
	start := time.Now()
	var wg sync.WaitGroup
	for range min(pool, len(cookies)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(cookies) {
					return
				}
				if err := regenerate(ctx, client, e.portalURL, cookies[i]); err != nil {
					failed.Add(1)
					errOnce.Do(func() { res.firstErr = err.Error() })
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.ok, res.errors = int(ok.Load()), int(failed.Load())
	res.tokenCalls = e.tenant.Calls(auth0emu.RouteToken)
	res.regenerations = e.tenant.Calls(auth0emu.RouteRegenerateRecoveryCode)
	res.jwks = e.tenant.Calls(auth0emu.RouteJWKS)
	return res
}

// regenerate does what the person does: open the page, then submit its form
// from the same origin.
func regenerate(ctx context.Context, client *http.Client, portalURL, cookie string) error {
	page, err := fetchPage(ctx, client, portalURL+"/recovery-code", cookie)
	if err != nil {
		return err
	}
	csrf, nonce := csrfInput.FindStringSubmatch(page), nonceInput.FindStringSubmatch(page)
	if csrf == nil || nonce == nil {
		return fmt.Errorf("GET /recovery-code: no csrf_token or regen_nonce in the form")
	}
	form := url.Values{"csrf_token": {csrf[1]}, "regen_nonce": {nonce[1]}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, portalURL+"/recovery-code", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", portalURL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Cookie", cookie)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	// POST, redirect, GET: the new code is shown once, on the page the
	// redirect leads to, with the session cookie the POST rewrote.
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/recovery-code/new" {
		return fmt.Errorf("POST /recovery-code: status %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookieName {
			cookie = c.Name + "=" + c.Value
		}
	}
	shown, err := fetchPage(ctx, client, portalURL+"/recovery-code/new", cookie)
	if err != nil {
		return err
	}
	if !strings.Contains(shown, `data-testid="recovery-code"`) {
		return fmt.Errorf("GET /recovery-code/new: no recovery code shown")
	}
	return nil
}

// fetchPage GETs a portal page with a session cookie and returns its HTML.
func fetchPage(ctx context.Context, client *http.Client, url, cookie string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: status %d", req.URL.Path, resp.StatusCode)
	}
	return string(body), nil
}
