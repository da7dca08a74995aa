// Package phone checks the phone numbers people type for a new method and
// normalises them to E.164, as Auth0's phone_number wants. It uses
// nyaruka/phonenumbers, the maintained Go port of Google's libphonenumber
// and its per-country metadata, rather than rules of our own.
package phone

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Why a number was refused.
var (
	ErrEmpty    = errors.New("phone: no number")
	ErrInvalid  = errors.New("phone: not a valid number")
	ErrNoRegion = errors.New("phone: no country for a number without its code")
	ErrNotPhone = errors.New("phone: a number that takes no text messages or calls")
)

// maxInput bounds what is parsed: the longest numbers, with spaces, are
// well under it.
const maxInput = 40

// Parse reads what a person typed, with the country they chose for a
// number without its "+" code, and returns it in E.164 ("+33612345678").
func Parse(input, region string) (string, error) {
	input = strings.TrimSpace(input)
	switch {
	case input == "":
		return "", ErrEmpty
	case len(input) > maxInput:
		return "", ErrInvalid
	case !strings.HasPrefix(input, "+") && !Supported(region):
		return "", ErrNoRegion
	}
	n, err := phonenumbers.Parse(input, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.TOLL_FREE, phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL:
		return "", ErrNotPhone
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Supported reports whether region is a country code the metadata knows.
func Supported(region string) bool {
	return len(region) == 2 && phonenumbers.GetSupportedRegions()[strings.ToUpper(region)]
}

// Region is one choice of the country list.
type Region struct {
	Code string // ISO 3166-1 alpha-2, e.g. "FR"
	Name string // in the reader's language
	Dial string // "+33"
}

// Regions lists every country the metadata knows, named in lang and in
// its alphabetical order.
func Regions(lang language.Tag) []Region {
	namer := display.Regions(lang)
	var out []Region
	for code := range phonenumbers.GetSupportedRegions() {
		r, err := language.ParseRegion(code)
		name := code
		if err == nil && namer != nil {
			if n := namer.Name(r); n != "" {
				name = n
			}
		}
		out = append(out, Region{Code: code, Name: name, Dial: "+" + strconv.Itoa(phonenumbers.GetCountryCodeForRegion(code))})
	}
	c := collate.New(lang)
	sort.Slice(out, func(i, j int) bool { return c.CompareString(out[i].Name, out[j].Name) < 0 })
	return out
}

// DefaultRegion is the country a language tag names itself ("fr-CA" →
// "CA"), "" when it names none (a guess from "en" alone would be wrong
// for most English speakers).
func DefaultRegion(tag language.Tag) string {
	r, conf := tag.Region()
	if conf != language.Exact || !Supported(r.String()) {
		return ""
	}
	return r.String()
}

// Mask keeps a number's last four digits, for showing where a code went.
func Mask(e164 string) string {
	if len(e164) <= 4 {
		return e164
	}
	return "••• " + e164[len(e164)-4:]
}
