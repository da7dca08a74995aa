package e2e

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserUsableAt320px: every page of the journey fits a 320 px wide
// screen without sideways scrolling, and its main actions stay visible.
func TestBrowserUsableAt320px(t *testing.T) {
	e := newEnv(t)
	b := newTab(t, e)
	b.do("narrow viewport", chromedp.EmulateViewport(320, 640))
	b.signInAlice("/factors", `[data-testid=factor-list]`)
	pages := []struct{ name, path, action string }{
		{"factors", "/factors", `[data-testid=remove]`},
		{"confirm-remove-phone", "/factors/" + url.PathEscape(e.idOf(alice, "sms|")) + "/delete", `[data-testid=confirm-remove]`},
		{"recovery-code", "/recovery-code", `[data-testid=regenerate]`},
		{"signed-out", "/signed-out", `[data-testid=sign-in-again]`},
		{"not-found", "/no-such-page", `[data-testid=error-action]`},
	}
	for _, p := range pages {
		b.open(e.portalURL + p.path)
		b.waitFor(p.action)
		b.shot(p.name + "-320px")
		if w := eval[int](b, `document.documentElement.scrollWidth`); w > 320 {
			t.Errorf("%s is %d px wide at a 320 px viewport", p.path, w)
		}
		if right := eval[float64](b, `document.querySelector("`+p.action+`").getBoundingClientRect().right`); right > 320 {
			t.Errorf("%s: the main action ends at %.0f px, off screen", p.path, right)
		}
		// The header leaves the screen to the page: it once took 165 px.
		if h := eval[float64](b, `document.querySelector("header.top").getBoundingClientRect().height`); h > 140 {
			t.Errorf("%s: the header is %.0f px high at 320 px", p.path, h)
		}
	}
}
