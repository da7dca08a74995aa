// Package i18n holds the portal's words in every language it speaks, as
// golang.org/x/text message catalogues keyed by stable ids ("factors.title").
//
// Each language is one file, locales/<language>.json, embedded in the
// binary: adding a language is adding one file, with no code to change.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// locales holds one JSON file per language.
//
//go:embed locales/*.json
var locales embed.FS

// defaultLanguage is the reference every other language must match, and
// the one used when nothing says which.
var defaultLanguage = language.English

// localeFile is a language's file: fmt-style messages (%s, %d) keyed by
// stable ids, and the messages whose words change with a number.
type localeFile struct {
	Language string                                 `json:"language"`
	Messages map[string]string                      `json:"messages"`
	Counted  map[string]struct{ One, Other string } `json:"counted"`
}

// translations reads every language file; the default language comes first.
func translations() ([]translation, error) {
	names, err := fs.Glob(locales, "locales/*.json")
	if err != nil {
		return nil, err
	}
	ts := make([]translation, 0, len(names))
	for _, name := range names {
		raw, err := locales.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var f localeFile
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		tag, err := language.Parse(f.Language)
		if err != nil || name != "locales/"+tag.String()+".json" {
			return nil, fmt.Errorf("%s: language %q does not match the file's name", name, f.Language)
		}
		t := translation{tag: tag, messages: f.Messages, counted: map[string]counted{}}
		for k, c := range f.Counted {
			t.counted[k] = counted{one: c.One, other: c.Other}
		}
		ts = append(ts, t)
	}
	i := slices.IndexFunc(ts, func(t translation) bool { return t.tag == defaultLanguage })
	if i < 0 {
		return nil, fmt.Errorf("no locales/%s.json for the default language", defaultLanguage)
	}
	ts[0], ts[i] = ts[i], ts[0]
	return ts, nil
}

// translation is one language's messages.
type translation struct {
	tag language.Tag
	// messages are fmt-style formats (%s, %d) keyed by stable ids.
	messages map[string]string
	// counted are messages whose words change with a number (%d), chosen by
	// the language's plural rules (in French, "one" covers 0 and 1).
	counted map[string]counted
}

// counted is a message's singular and plural forms.
type counted struct{ one, other string }

// keyTimeLayout is the Go time layout for a time of day (x/text formats
// numbers and plurals, not dates).
const keyTimeLayout = "format.time"

// Catalog is every language's messages and the rules to choose one.
type Catalog struct {
	// printers holds one Printer per language, made once: a page view
	// formats dozens of messages, and making x/text's printer and looking
	// each plain message up through it was a fifth of a view's CPU.
	printers map[language.Tag]*Printer
	cat      catalog.Catalog
	tags     []language.Tag
	matcher  language.Matcher
}

// New builds the catalogue from the language files.
func New() *Catalog {
	ts, err := translations()
	if err != nil {
		// The files are compiled in: a broken one is a mistake that
		// go test ./i18n reports before any binary ships.
		panic("i18n: " + err.Error())
	}
	b := catalog.NewBuilder(catalog.Fallback(ts[0].tag))
	tags := make([]language.Tag, 0, len(ts))
	for _, t := range ts {
		tags = append(tags, t.tag)
		for k, m := range t.messages {
			// Building from the embedded files: an error is a typo that
			// the tests catch.
			if err := b.SetString(t.tag, k, m); err != nil {
				panic(fmt.Sprintf("i18n: %s %s: %v", t.tag, k, err))
			}
		}
		for k, m := range t.counted {
			if err := b.Set(t.tag, k, plural.Selectf(1, "%d", plural.One, m.one, plural.Other, m.other)); err != nil {
				panic(fmt.Sprintf("i18n: %s %s: %v", t.tag, k, err))
			}
		}
	}
	c := &Catalog{cat: b, tags: tags, matcher: language.NewMatcher(tags), printers: map[language.Tag]*Printer{}}
	for _, t := range ts {
		p := c.newPrinter(t.tag, plainMessages(ts[0], t), compiledMessages(ts[0], t))
		p.counted = compiledCounted(ts[0], t)
		c.printers[t.tag] = p
	}
	return c
}

// compiledMessages are t's messages (the default language's where t lacks
// one) that compile: see compiled.
func compiledMessages(def, t translation) map[string]compiled {
	out := make(map[string]compiled, len(def.messages))
	for _, tr := range []translation{def, t} {
		for k, m := range tr.messages {
			delete(out, k)
			if c, ok := compile(m); ok && strings.ContainsRune(m, '%') {
				out[k] = c
			}
		}
	}
	return out
}

// compiledCounted are t's counted messages whose two forms compile.
func compiledCounted(def, t translation) map[string][2]compiled {
	out := make(map[string][2]compiled, len(def.counted))
	for _, tr := range []translation{def, t} {
		for k, m := range tr.counted {
			delete(out, k)
			one, ok1 := compile(m.one)
			other, ok2 := compile(m.other)
			if ok1 && ok2 {
				out[k] = [2]compiled{one, other}
			}
		}
	}
	return out
}

// plainMessages are t's messages that need no formatting (no verb, no
// "%%"), with the default language's standing in for any t lacks, as the
// catalogue's fallback does: T returns them as they are.
func plainMessages(def, t translation) map[string]string {
	plain := make(map[string]string, len(def.messages))
	for _, tr := range []translation{def, t} {
		for k, m := range tr.messages {
			if strings.ContainsRune(m, '%') {
				delete(plain, k)
				continue
			}
			plain[k] = m
		}
	}
	return plain
}

func (c *Catalog) newPrinter(tag language.Tag, plain map[string]string, formats map[string]compiled) *Printer {
	return &Printer{tag: tag, p: message.NewPrinter(tag, message.Catalog(c.cat)), plain: plain, formats: formats}
}

// Default is the language used when nothing else says which.
func (c *Catalog) Default() language.Tag { return c.tags[0] }

// Printer formats messages in one of the catalogue's languages.
func (c *Catalog) Printer(tag language.Tag) *Printer {
	if p, ok := c.printers[tag]; ok {
		return p
	}
	return c.newPrinter(tag, nil, nil)
}

// Supported returns the catalogue's language for an explicit choice (a
// lang parameter or cookie): "fr", "FR" or "fr-CA" mean French; anything
// the catalogue doesn't speak is refused rather than approximated.
func (c *Catalog) Supported(s string) (language.Tag, bool) {
	if s == "" || len(s) > 35 {
		return language.Und, false
	}
	t, err := language.Parse(s)
	if err != nil {
		return language.Und, false
	}
	_, i, conf := c.matcher.Match(t)
	if conf < language.High {
		return language.Und, false
	}
	return c.tags[i], true
}

// Negotiate picks the language: the lang parameter, then the cookie that
// remembers an earlier choice, then the browser's Accept-Language, then the
// default. fromParam says the parameter decided, so the choice is worth
// remembering.
func (c *Catalog) Negotiate(param, cookie, acceptLanguage string) (tag language.Tag, fromParam bool) {
	if t, ok := c.Supported(param); ok {
		return t, true
	}
	if t, ok := c.Supported(cookie); ok {
		return t, false
	}
	if len(acceptLanguage) <= 512 {
		if prefs, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(prefs) > 0 {
			if _, i, conf := c.matcher.Match(prefs...); conf > language.No {
				return c.tags[i], false
			}
		}
	}
	return c.Default(), false
}

// Printer is one language's view of the catalogue.
// It is safe for concurrent use: every request in a language shares one.
type Printer struct {
	tag     language.Tag
	p       *message.Printer
	plain   map[string]string      // read only
	formats map[string]compiled    // read only
	counted map[string][2]compiled // read only: the one and other forms
}

// T is the message key in the printer's language, formatted with args.
func (p *Printer) T(key string, args ...any) string {
	if len(args) == 0 {
		if m, ok := p.plain[key]; ok {
			return m
		}
	} else if c, ok := p.formats[key]; ok {
		if s, ok := c.format(args); ok {
			return s
		}
	} else if forms, ok := p.counted[key]; ok {
		// The form by the language's plural rules (x/text's, as the
		// catalogue's Selectf uses them) for the first argument.
		if n, ok := args[0].(int); ok && n >= 0 {
			form := forms[1]
			if plural.Cardinal.MatchPlural(p.tag, n, 0, 0, 0, 0) == plural.One {
				form = forms[0]
			}
			if s, ok := form.format(args); ok {
				return s
			}
		}
	}
	return p.p.Sprintf(key, args...)
}

// Lang is the BCP 47 tag, for <html lang> and ui_locales.
func (p *Printer) Lang() string { return p.tag.String() }

// Date is t's calendar date as the language writes it ("3 March 2025",
// "3 mars 2025"); month names are catalogue words.
func (p *Printer) Date(t time.Time) string {
	// The year as plain digits: x/text would group them ("2,024").
	return p.T("format.date", t.Day(), p.T(monthKeys[t.Month()-1]), strconv.Itoa(t.Year()))
}

var monthKeys = [12]string{"month.01", "month.02", "month.03", "month.04", "month.05", "month.06",
	"month.07", "month.08", "month.09", "month.10", "month.11", "month.12"}

// Time is t's time of day as the language writes it.
func (p *Printer) Time(t time.Time) string {
	return t.Format(p.T(keyTimeLayout))
}

type printerKey struct{}

// WithPrinter returns ctx carrying the request's printer.
func WithPrinter(ctx context.Context, p *Printer) context.Context {
	return context.WithValue(ctx, printerKey{}, p)
}

// FromContext is the request's printer, or nil when none was set.
func FromContext(ctx context.Context) *Printer {
	p, _ := ctx.Value(printerKey{}).(*Printer)
	return p
}
