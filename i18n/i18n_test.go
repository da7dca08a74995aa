package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
)

// TestEveryLanguageHasEveryMessage fails on a message missing from any
// language, or one that only some languages have.
func TestEveryLanguageHasEveryMessage(t *testing.T) {
	ts := mustTranslations(t)
	if len(ts) < 2 || ts[0].tag != defaultLanguage {
		t.Fatalf("languages %v: want English first, then at least French", tagsOf(ts))
	}
	ref := ts[0]
	for _, tr := range ts[1:] {
		if d := diff(keys(ref.messages), keys(tr.messages)); d != "" {
			t.Errorf("%s messages differ from %s: %s", tr.tag, ref.tag, d)
		}
		if d := diff(keys(ref.counted), keys(tr.counted)); d != "" {
			t.Errorf("%s counted messages differ from %s: %s", tr.tag, ref.tag, d)
		}
	}
	for _, tr := range ts {
		for k := range tr.messages {
			if _, dup := tr.counted[k]; dup {
				t.Errorf("%s: %q is both a message and a counted message", tr.tag, k)
			}
		}
	}
}

func mustTranslations(t *testing.T) []translation {
	t.Helper()
	ts, err := translations()
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func tagsOf(ts []translation) []string {
	var tags []string
	for _, tr := range ts {
		tags = append(tags, tr.tag.String())
	}
	return tags
}

// TestLanguageFilesAreWellFormed: each file's language matches its name, no
// message is empty, and every translation keeps its source's placeholders
// (%s, %d and the script's {n}, {time}) in the same order.
func TestLanguageFilesAreWellFormed(t *testing.T) {
	ts := mustTranslations(t)
	placeholders := regexp.MustCompile(`%[sdv]|\{[a-z]+\}`)
	ref := ts[0]
	for _, tr := range ts {
		for k, m := range tr.messages {
			if strings.TrimSpace(m) == "" && k != "layout.session.after" {
				t.Errorf("%s %s is empty", tr.tag, k)
			}
			if tr.tag == ref.tag || k == keyTimeLayout {
				continue
			}
			if want, got := placeholders.FindAllString(ref.messages[k], -1), placeholders.FindAllString(m, -1); !slices.Equal(want, got) {
				t.Errorf("%s %s has placeholders %v, %s has %v", tr.tag, k, got, ref.tag, want)
			}
		}
	}
}

// TestEveryKeyInTheCodeIsInTheCatalogue scans the portal's sources for
// message keys: any string literal that starts with one of the catalogue's
// namespaces ("factors.", "error.", ...) is a key and must exist.
func TestEveryKeyInTheCodeIsInTheCatalogue(t *testing.T) {
	en := mustTranslations(t)[0]
	all := append(keys(en.messages), keys(en.counted)...)
	var spaces []string
	for _, k := range all {
		ns, _, _ := strings.Cut(k, ".")
		if !slices.Contains(spaces, ns) {
			spaces = append(spaces, ns)
		}
	}
	literal := regexp.MustCompile(`"((?:` + strings.Join(spaces, "|") + `)\.[a-z0-9_.]+)"`)
	found := 0
	for _, dir := range []string{"../handlers", "../views"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if strings.HasSuffix(path, "_test.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".templ")) {
				return nil
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
				found++
				if !slices.Contains(all, m[1]) {
					t.Errorf("%s uses message %q, which the catalogue doesn't have", path, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found < 100 {
		t.Errorf("found only %d message keys in the sources: is the scan still looking in the right places?", found)
	}
}

// TestMessagesFormat: arguments, plurals and the time layout work in each
// language, and a key is never shown as itself.
func TestMessagesFormat(t *testing.T) {
	c := New()
	en, fr := c.Printer(language.English), c.Printer(language.French)
	at := time.Date(2026, 3, 1, 14, 32, 0, 0, time.UTC)
	tests := []struct{ got, want string }{
		{en.T("factors.title"), "Your sign-in methods"},
		{fr.T("factors.title"), "Vos méthodes de connexion"},
		{en.T("remove.heading", "Phone"), "Remove “Phone”?"},
		{fr.T("remove.heading", "Téléphone"), "Supprimer «\u00a0Téléphone\u00a0»\u00a0?"},
		{en.T("layout.minutes", 1), "1 minute"},
		{en.T("layout.minutes", 0), "0 minutes"},
		{en.T("layout.minutes", 12), "12 minutes"},
		{fr.T("layout.minutes", 0), "0\u00a0minute"},
		{fr.T("wait.seconds", 30), "30\u00a0secondes"},
		{en.Time(at), "2:32 PM UTC"},
		{fr.Time(at), "14:32 UTC"},
		{en.Lang() + fr.Lang(), "enfr"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestNegotiate: the lang parameter, then the cookie, then Accept-Language,
// then English.
func TestNegotiate(t *testing.T) {
	c := New()
	tests := []struct {
		name, param, cookie, accept string
		want                        language.Tag
		fromParam                   bool
	}{
		{"nothing: default", "", "", "", language.English, false},
		{"param wins over all", "fr", "en", "en-GB", language.French, true},
		{"param en over a fr cookie", "en", "fr", "fr", language.English, true},
		{"param is case-insensitive", "FR", "", "", language.French, true},
		{"param with a region", "fr-CA", "", "", language.French, true},
		{"unknown param: cookie", "de", "fr", "en", language.French, false},
		{"garbage param: cookie", "x\"><script>", "fr", "", language.French, false},
		{"cookie over Accept-Language", "", "fr", "en-US,en;q=0.9", language.French, false},
		{"unknown cookie: Accept-Language", "", "zz", "fr-FR,fr;q=0.9,en;q=0.8", language.French, false},
		{"Accept-Language order", "", "", "de-DE,de;q=0.9,fr;q=0.8,en;q=0.7", language.French, false},
		{"Accept-Language with q values", "", "", "en;q=0.5,fr;q=0.9", language.French, false},
		{"Accept-Language unsupported: default", "", "", "de-DE,ja", language.English, false},
		{"Accept-Language malformed: default", "", "", ";;;===", language.English, false},
		{"Accept-Language too long: default", "", "", "fr" + strings.Repeat(",fr", 300), language.English, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fromParam := c.Negotiate(tt.param, tt.cookie, tt.accept)
			if got != tt.want || fromParam != tt.fromParam {
				t.Errorf("Negotiate(%q, %q, %q) = %v, %v; want %v, %v", tt.param, tt.cookie, tt.accept, got, fromParam, tt.want, tt.fromParam)
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// diff names the keys only one side has.
func diff(a, b []string) string {
	var out []string
	for _, k := range a {
		if !slices.Contains(b, k) {
			out = append(out, "missing "+k)
		}
	}
	for _, k := range b {
		if !slices.Contains(a, k) {
			out = append(out, "extra "+k)
		}
	}
	return strings.Join(out, ", ")
}

// T's own formatting of simple messages writes exactly what x/text writes,
// for every message of every language, with words and numbers, and falls
// back to x/text for what it does not write.
func TestFastFormattingMatchesXText(t *testing.T) {
	c := New()
	for _, tr := range mustTranslations(t) {
		p := c.Printer(tr.tag)
		for key, m := range tr.messages {
			for _, args := range [][]any{nil, {"Alice", "x"}, {3, 7}, {"a", 2, "b"}, {999}, {1234}, {-5, "z"}} {
				verbs := strings.Count(m, "%") - 2*strings.Count(m, "%%")
				if len(args) != verbs {
					continue
				}
				if got, want := p.T(key, args...), p.p.Sprintf(key, args...); got != want {
					t.Errorf("%s %s %v: T gives %q, x/text %q", tr.tag, key, args, got, want)
				}
			}
		}
	}
	for _, tc := range []struct {
		m    string
		ok   bool
		want string
		args []any
	}{
		{"%[2]s then %[1]s", true, "b then a", []any{"a", "b"}},
		{"100%% of %d", true, "100% of 5", []any{5}},
		{"%.2f", false, "", nil},
		{"dangling %", false, "", nil},
	} {
		c, ok := compile(tc.m)
		if ok != tc.ok {
			t.Errorf("compile(%q) ok %v", tc.m, ok)
			continue
		}
		if ok {
			if got, _ := c.format(tc.args); got != tc.want {
				t.Errorf("%q: %q, want %q", tc.m, got, tc.want)
			}
		}
	}
}

// Counted messages, formatted by T itself, read as x/text's catalogue
// reads them, for the numbers whose form differs by language.
func TestFastCountedMatchesXText(t *testing.T) {
	c := New()
	for _, tr := range mustTranslations(t) {
		p := c.Printer(tr.tag)
		for key := range tr.counted {
			for _, n := range []int{0, 1, 2, 5, 21, 999, 1500} {
				if got, want := p.T(key, n), p.p.Sprintf(key, n); got != want {
					t.Errorf("%s %s %d: T gives %q, x/text %q", tr.tag, key, n, got, want)
				}
			}
		}
	}
}
