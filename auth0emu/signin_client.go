package auth0emu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/net/html"
)

// SignIn says how CompleteSignIn answers the emulator's pages.
type SignIn struct {
	Email, Password string
	// MFAMethod is otp, push, sms, voice, email or recovery-code; empty
	// takes the method the page offers first.
	MFAMethod string
	// Code overrides the code CompleteSignIn would otherwise read from the
	// page (TOTP computed from the shown secret, recovery code, sent code).
	Code string
}

// maxSignInSteps bounds the page walk so a loop in the emulator cannot hang a test.
const maxSignInSteps = 12

// CompleteSignIn drives the emulator's sign-in pages as a browser would.
// authorizeURL is a /authorize URL on the tenant. c should carry a cookie
// jar (for SSO); its redirects are followed only within the tenant's
// origin. It returns the redirect back to the client: redirect_uri with
// code and state, or with error and error_description.
func CompleteSignIn(ctx context.Context, c *http.Client, authorizeURL string, s SignIn) (*url.URL, error) {
	start, err := url.Parse(authorizeURL)
	if err != nil {
		return nil, fmt.Errorf("auth0emu: authorize URL: %w", err)
	}
	origin := start.Scheme + "://" + start.Host
	client := *c
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("auth0emu: too many redirects")
		}
		if req.URL.Scheme+"://"+req.URL.Host != origin {
			return http.ErrUseLastResponse
		}
		return nil
	}
	sc := signInClient{ctx: ctx, c: &client, s: s, origin: origin}
	page, err := sc.do(http.MethodGet, authorizeURL, nil)
	submitted := map[string]bool{}
	for range maxSignInSteps {
		if err != nil || page.exit != nil {
			return page.exit, err
		}
		page, err = sc.next(page, submitted)
	}
	return nil, errors.New("auth0emu: sign-in did not finish")
}

type signInClient struct {
	ctx    context.Context
	c      *http.Client
	s      SignIn
	origin string
}

// signInPage is one response: either the exit redirect or a parsed page.
type signInPage struct {
	exit *url.URL
	url  *url.URL
	doc  *html.Node
}

func (sc *signInClient) do(method, target string, form url.Values) (signInPage, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(sc.ctx, method, target, body)
	if err != nil {
		return signInPage{}, fmt.Errorf("auth0emu: request: %w", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := sc.c.Do(req)
	if err != nil {
		return signInPage{}, fmt.Errorf("auth0emu: %s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := resp.Location()
		if err != nil {
			return signInPage{}, fmt.Errorf("auth0emu: redirect without location: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return signInPage{exit: loc}, nil
	}
	doc, err := html.Parse(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return signInPage{}, fmt.Errorf("auth0emu: parse page: %w", err)
	}
	return signInPage{url: resp.Request.URL, doc: doc}, nil
}

// next answers one page.
func (sc *signInClient) next(p signInPage, submitted map[string]bool) (signInPage, error) {
	form := findNode(p.doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "data-step") != "" })
	if form == nil {
		msg := textOf(findNode(p.doc, testID("error-message")))
		code := textOf(findNode(p.doc, testID("error-code")))
		return signInPage{}, fmt.Errorf("auth0emu: sign-in stopped on an emulator page: %s: %s", code, msg)
	}
	values := hiddenInputs(form)
	action, err := p.url.Parse(attr(form, "action"))
	if err != nil {
		return signInPage{}, fmt.Errorf("auth0emu: form action: %w", err)
	}
	step := attr(form, "data-step")
	if step != "recovery-new" && submitted[step+attr(form, "data-method")] {
		msg := textOf(findNode(p.doc, testID("error-message")))
		return signInPage{}, fmt.Errorf("auth0emu: %s step refused the answer: %s", step, msg)
	}
	switch step {
	case "login":
		values.Set("email", sc.s.Email)
		values.Set("password", sc.s.Password)
	case "mfa":
		method := attr(form, "data-method")
		if want := sc.s.MFAMethod; want != "" && want != method {
			link := findNode(p.doc, func(n *html.Node) bool { return n.Data == "a" && attr(n, "data-method") == want })
			if link == nil {
				return signInPage{}, fmt.Errorf("auth0emu: MFA method %q is not offered", want)
			}
			target, err := p.url.Parse(attr(link, "href"))
			if err != nil {
				return signInPage{}, err
			}
			return sc.do(http.MethodGet, target.String(), nil)
		}
		if err := sc.answerChallenge(p.doc, form, method, values); err != nil {
			return signInPage{}, err
		}
	case "recovery-new":
		values.Set("action", "continue")
	default:
		return signInPage{}, fmt.Errorf("auth0emu: unknown sign-in step %q", step)
	}
	submitted[step+attr(form, "data-method")] = true
	return sc.do(http.MethodPost, action.String(), values)
}

// answerChallenge fills the MFA form: what a user would read from their
// device, which the emulator shows on the page.
func (sc *signInClient) answerChallenge(doc, form *html.Node, method string, values url.Values) error {
	code := sc.s.Code
	switch method {
	case mfaMethodPush:
		values.Set("action", "approve")
		return nil
	case mfaMethodOTP:
		if code == "" {
			secret := textOf(findNode(doc, testID("totp-secret")))
			at, err := strconv.ParseInt(attr(form, "data-emulator-time"), 10, 64)
			if err != nil || secret == "" {
				return errors.New("auth0emu: the OTP page shows no secret")
			}
			if code, err = totp.GenerateCodeCustom(secret, time.Unix(at, 0), totpOpts); err != nil {
				return fmt.Errorf("auth0emu: compute TOTP: %w", err)
			}
		}
	case mfaMethodRecover:
		if code == "" {
			code = textOf(findNode(doc, testID("recovery-code")))
		}
	default:
		if code == "" {
			code = textOf(findNode(doc, testID("sent-code")))
		}
	}
	values.Set("action", "verify")
	values.Set("code", code)
	return nil
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func testID(id string) func(*html.Node) bool {
	return func(n *html.Node) bool { return attr(n, "data-testid") == id }
}

// findNode returns the first element, depth first, that match accepts.
func findNode(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n == nil {
		return nil
	}
	if n.Type == html.ElementNode && match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if found := findNode(c, match); found != nil {
			return found
		}
	}
	return nil
}

func textOf(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// hiddenInputs collects the form's hidden fields.
func hiddenInputs(form *html.Node) url.Values {
	values := url.Values{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "type") == "hidden" {
			values.Set(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(form)
	return values
}
