package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"mfaportal/auth0emu"
)

// methodsTour is a signed-in tab on alice's factors with axe loaded, that
// audits and checks every page it looks at, at 1280 and 320 px.
type methodsTour struct {
	*tab
	axe string
}

// look shoots the page at both widths, audits it with axe and checks that
// it fits 320 px with its main action on screen.
func (b methodsTour) look(name, action string) {
	b.t.Helper()
	b.shot(name)
	if r := b.audit(b.axe); len(r.Violations) > 0 {
		b.t.Errorf("%s: %d axe-core %s violations:%s", name, len(r.Violations), r.Version, formatViolations(r.Violations))
	}
	b.do("narrow viewport", chromedp.EmulateViewport(320, 640))
	b.shot(name + "-320px")
	if w := eval[int](b.tab, `document.documentElement.scrollWidth`); w > 320 {
		b.t.Errorf("%s is %d px wide at a 320 px viewport", name, w)
	}
	if right := eval[float64](b.tab, `document.querySelector("`+action+`").getBoundingClientRect().right`); right > 320 {
		b.t.Errorf("%s: %s ends at %.0f px, off screen", name, action, right)
	}
	b.do("wide viewport", chromedp.EmulateViewport(1280, 800))
}

func newMethodsTour(t *testing.T, e *env, lang string) methodsTour {
	b := methodsTour{tab: newTab(t, e), axe: loadAxe(t)}
	b.signInAlice("/factors?lang="+lang, `[data-testid=factor-list]`)
	return b
}

// TestBrowserMethodDetails: names and dates on the list, renaming (markup
// and emoji stay text), a phone's channel, and removing a security key,
// in English and French.
func TestBrowserMethodDetails(t *testing.T) {
	for _, tc := range []struct {
		lang                                    string
		added, lastUsed, neverUsed, renamed, ch string
		tooLong, keyLabel                       string
	}{
		{"en", "Added 15 January 2024", "Last used", "Never used", "Renamed to “", "Codes for this phone will now come by voice call.",
			"Use at most 20 characters", "Security key"},
		{"fr", "Ajoutée le 15 janvier 2024", "Dernière utilisation", "Jamais utilisée", "Renommée en «", "Les codes pour ce téléphone arriveront désormais par appel vocal.",
			"Utilisez au plus 20", "Clé de sécurité"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			e := newEnv(t)
			b := newMethodsTour(t, e, tc.lang)
			page := b.text()
			for _, want := range []string{tc.added, tc.lastUsed, tc.neverUsed, "“Work phone”", tc.keyLabel, "YubiKey 5C", "MacBook passkey"} {
				if tc.lang == "fr" && want == "“Work phone”" {
					want = "«\u00a0Work phone\u00a0»"
				}
				if !strings.Contains(page, want) {
					t.Errorf("the list lacks %q", want)
				}
			}
			b.look("factors-with-details", `[data-testid=factor-phone] [data-testid=details]`)

			// Rename the phone: markup and emoji are a name, shown as text.
			b.click(`[data-testid=factor-phone] [data-testid=details]`)
			b.waitFor(`[data-testid=name-input]`)
			b.look("method-details-phone", `[data-testid=save-name]`)
			b.typeInto(`[data-testid=name-input]`, strings.Repeat("x", 21))
			b.click(`[data-testid=save-name]`)
			b.waitFor(`[data-testid=name-error]`)
			if !strings.Contains(b.text(), tc.tooLong) {
				t.Errorf("a 21-character name: the page does not say %q", tc.tooLong)
			}
			b.look("method-rename-too-long", `[data-testid=save-name]`)
			name := "<b>Desk</b> ☎️📱"
			b.typeInto(`[data-testid=name-input]`, name)
			b.click(`[data-testid=save-name]`)
			b.waitFor(`[data-testid=flash]`)
			if !strings.Contains(b.flash(), tc.renamed) || !strings.Contains(b.flash(), name) {
				t.Errorf("flash %q, want it to say %q and the name %q", b.flash(), tc.renamed, name)
			}
			if n := b.count(`[data-testid=factor-list] b`); n != 0 {
				t.Error("the name's markup became markup on the page")
			}
			if got := b.texts(`[data-testid=factor-phone] [data-testid=factor-name]`); len(got) != 1 || !strings.Contains(got[0], name) {
				t.Errorf("the phone's name reads %q, want %q", got, name)
			}
			phone := e.tenant.MethodID(alice, "phone")
			if got, _, _ := e.tenant.MethodState(alice, phone); got != name {
				t.Errorf("the tenant has the name %q, want %q", got, name)
			}
			b.shot("factors-after-rename")

			// Text or voice.
			b.click(`[data-testid=factor-phone] [data-testid=details]`)
			b.waitFor(`[data-testid=channel-voice]`)
			if !eval[bool](b.tab, `document.querySelector("[data-testid=channel-sms]").checked`) {
				t.Error("the phone's preferred channel (sms) is not the one checked")
			}
			b.do("choose voice", chromedp.Click(chromedp.CSS(`[data-testid=channel-voice]`), chromedp.NodeVisible))
			b.click(`[data-testid=save-channel]`)
			b.waitFor(`[data-testid=flash]`)
			if b.flash() != tc.ch {
				t.Errorf("flash %q, want %q", b.flash(), tc.ch)
			}
			if _, preferred, _ := e.tenant.MethodState(alice, phone); preferred != "voice" {
				t.Errorf("the tenant's preferred channel is %q, want voice", preferred)
			}

			// Remove the security key (through the Management API).
			key := e.tenant.MethodID(alice, "webauthn-roaming")
			b.click(`[data-testid=factor-security-key] [data-testid=remove]`)
			b.waitFor(`[data-testid=confirm-remove]`)
			b.look("confirm-remove-security-key", `[data-testid=confirm-remove]`)
			if !strings.Contains(b.text(), "YubiKey 5C") {
				t.Error("the confirmation does not name the key")
			}
			b.click(`[data-testid=confirm-remove]`)
			b.waitFor(`[data-testid=flash]`)
			if e.tenant.MethodID(alice, "webauthn-roaming") != "" || b.count(`[data-testid=factor-security-key]`) != 0 {
				t.Errorf("the security key %s is still there", key)
			}
			b.shot("factors-after-removing-the-key")
		})
	}
}

// TestBrowserFactorsWithoutDetails: while the Management API fails or is
// rate limited, the list still shows what is active, says details are
// unavailable, and offers nothing it cannot do safely.
func TestBrowserFactorsWithoutDetails(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault auth0emu.Fault
		lang  string
		says  string
	}{
		{"failing", auth0emu.Fault{Status: http.StatusInternalServerError, Times: 1000}, "en", "Some details about your sign-in methods can't be loaded right now"},
		{"rate-limited", auth0emu.Fault{Status: http.StatusTooManyRequests, Times: 1}, "en", "Some details about your sign-in methods can't be loaded right now"},
		{"failing-fr", auth0emu.Fault{Status: http.StatusInternalServerError, Times: 1000}, "fr", "Certains détails de vos méthodes de connexion ne peuvent pas être chargés"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.tenant.Inject(auth0emu.RouteListAuthenticationMethods, tc.fault)
			b := newMethodsTour(t, e, tc.lang)
			if !strings.Contains(b.text(), tc.says) {
				t.Errorf("the page does not say %q", tc.says)
			}
			if n := b.count(`[data-testid=remove]`) + b.count(`[data-testid=details]`); n != 0 {
				t.Errorf("%d removals or renames offered without the details", n)
			}
			if n := b.count(`[data-testid=factor-list] > li`); n < 5 {
				t.Errorf("only %d methods listed from the MFA API", n)
			}
			b.look("factors-without-details-"+tc.name, `[data-testid=details-unavailable]`)
			// A removal link kept from before is refused, nothing changes.
			before := e.ids(alice)
			if status := b.openStatus(e.portalURL + "/factors/" + url.PathEscape(e.idOf(alice, "sms|")) + "/delete"); status != http.StatusServiceUnavailable {
				t.Errorf("a removal link without the details answered %d, want 503", status)
			}
			b.waitFor(`[data-testid=error-heading]`)
			b.look("remove-without-details-"+tc.name, `[data-testid=error-action]`)
			if after := e.ids(alice); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Error("the tenant changed")
			}
		})
	}
}
