package phone

import (
	"errors"
	"testing"

	"golang.org/x/text/language"
)

func TestParse(t *testing.T) {
	tests := []struct {
		input, region, want string
		err                 error
	}{
		{"06 12 34 56 78", "FR", "+33612345678", nil},
		{"+33 6 12 34 56 78", "", "+33612345678", nil},
		{"0033612345678", "FR", "+33612345678", nil}, // the international prefix from France
		{"(415) 555-2671", "US", "+14155552671", nil},
		{"+1 415 555 2671", "FR", "+14155552671", nil}, // the + code wins over the list
		{"", "FR", "", ErrEmpty},
		{"0612345678", "", "", ErrNoRegion},
		{"0612345678", "ZZ", "", ErrNoRegion},
		{"12", "FR", "", ErrInvalid},
		{"06 12 34 56 78 90 12 34 56 78 90 12 34 56 78 90", "FR", "", ErrInvalid},
		{"not a number", "FR", "", ErrInvalid},
		{"0899 12 34 56", "FR", "", ErrNotPhone}, // premium rate
	}
	for _, tt := range tests {
		got, err := Parse(tt.input, tt.region)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Parse(%q, %q) = %q, %v; want %q, %v", tt.input, tt.region, got, err, tt.want, tt.err)
		}
	}
}

func TestRegions(t *testing.T) {
	fr := Regions(language.French)
	var de, us Region
	for _, r := range fr {
		switch r.Code {
		case "DE":
			de = r
		case "US":
			us = r
		}
	}
	if de.Name != "Allemagne" || de.Dial != "+49" || us.Name != "États-Unis" {
		t.Errorf("French names: %+v %+v", de, us)
	}
	if len(fr) < 200 || fr[0].Name > fr[1].Name && fr[0].Name != "Afghanistan" {
		t.Errorf("%d regions, first %q", len(fr), fr[0].Name)
	}
	if DefaultRegion(language.MustParse("fr-CA")) != "CA" || DefaultRegion(language.English) != "" {
		t.Error("default region")
	}
	if Mask("+33612345678") != "••• 5678" {
		t.Error("mask")
	}
}
