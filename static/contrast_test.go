package static

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// luminance is a colour's relative luminance (WCAG 2.2).
func luminance(hex string) float64 {
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var c [3]float64
	for i := range 3 {
		v, _ := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		s := float64(v) / 255
		if s <= 0.04045 {
			c[i] = s / 12.92
		} else {
			c[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
}

func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// schemes reads each colour scheme's variables from the stylesheet: the
// light one in the first :root, the dark one in the media query's.
func schemes(t *testing.T) map[string]map[string]string {
	t.Helper()
	css, err := files.ReadFile("style.css")
	if err != nil {
		t.Fatal(err)
	}
	text := string(css)
	dark := strings.Index(text, "@media (prefers-color-scheme: dark)")
	if dark < 0 {
		t.Fatal("no dark scheme")
	}
	vars := regexp.MustCompile(`--([a-z-]+):\s*(#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b)`)
	read := func(s string) map[string]string {
		m := map[string]string{}
		for _, v := range vars.FindAllStringSubmatch(s, -1) {
			m[v[1]] = v[2]
		}
		return m
	}
	light := read(text[:dark])
	darkVars := read(text[dark:])
	for k, v := range light {
		if _, ok := darkVars[k]; !ok {
			darkVars[k] = v
		}
	}
	return map[string]map[string]string{"light": light, "dark": darkVars}
}

// WCAG 2.2: the focus indicator against what surrounds it at least 3:1;
// text at least 4.5:1, in both schemes.
func TestContrast(t *testing.T) {
	for name, v := range schemes(t) {
		for _, ground := range []string{"bg", "card"} {
			if c := contrast(v["focus"], v[ground]); c < 3 {
				t.Errorf("%s: the focus ring on --%s is %.2f:1, want 3:1", name, ground, c)
			} else {
				t.Logf("%s: focus ring %s on --%s %s: %.2f:1", name, v["focus"], ground, v[ground], c)
			}
		}
		if c := contrast(v["focus"], v["brand"]); c < 3 {
			// The ring sits 2 px off a primary button, on its halo.
			if h := contrast(v["focus"], v["focus-halo"]); h < 3 {
				t.Errorf("%s: the focus ring next to a primary button: %.2f:1, halo %.2f:1", name, c, h)
			}
		}
		for _, pair := range [][2]string{{"fg", "bg"}, {"fg", "card"}, {"muted", "bg"}, {"muted", "card"}, {"brand", "card"},
			{"danger", "card"}, {"on-brand", "brand"}, {"on-brand", "danger"}, {"ok", "ok-bg"}, {"danger", "danger-bg"}, {"fg", "warn-bg"}} {
			if c := contrast(v[pair[0]], v[pair[1]]); c < 4.5 {
				t.Errorf("%s: --%s on --%s is %.2f:1, want 4.5:1", name, pair[0], pair[1], c)
			}
		}
	}
}
