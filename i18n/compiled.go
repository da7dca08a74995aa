package i18n

import (
	"fmt"
	"strconv"
	"strings"
)

// compiled is a message whose verbs are only %s, %d, their indexed forms
// (%[2]s) and %%: T formats it without x/text's printer, which costs ten
// times as much. %d is written by strconv only below 1000, where no
// language of the catalogue groups digits; anything else falls back to
// x/text, so the words are the same either way.
type compiled struct {
	parts []part
	nargs int
}

// part is literal text, or argument arg (0-based) with verb 's' or 'd'.
type part struct {
	text string
	arg  int
	verb byte
}

// compile returns m compiled, or false when it uses anything else.
func compile(m string) (compiled, bool) {
	var c compiled
	var lit strings.Builder
	next := 0
	for i := 0; i < len(m); i++ {
		if m[i] != '%' {
			lit.WriteByte(m[i])
			continue
		}
		i++
		if i >= len(m) {
			return compiled{}, false
		}
		if m[i] == '%' {
			lit.WriteByte('%')
			continue
		}
		arg := next
		if m[i] == '[' {
			end := strings.IndexByte(m[i:], ']')
			if end < 0 {
				return compiled{}, false
			}
			n, err := strconv.Atoi(m[i+1 : i+end])
			if err != nil || n < 1 {
				return compiled{}, false
			}
			arg, i = n-1, i+end+1
			if i >= len(m) {
				return compiled{}, false
			}
		}
		if m[i] != 's' && m[i] != 'd' {
			return compiled{}, false
		}
		if lit.Len() > 0 {
			c.parts = append(c.parts, part{text: lit.String(), arg: -1})
			lit.Reset()
		}
		c.parts = append(c.parts, part{arg: arg, verb: m[i]})
		next = arg + 1
		c.nargs = max(c.nargs, arg+1)
	}
	if lit.Len() > 0 {
		c.parts = append(c.parts, part{text: lit.String(), arg: -1})
	}
	return c, true
}

// format fills the message in, or reports false when an argument is not
// one it writes exactly as x/text would.
func (c compiled) format(args []any) (string, bool) {
	if len(args) != c.nargs {
		return "", false
	}
	var b strings.Builder
	for _, p := range c.parts {
		if p.arg < 0 {
			b.WriteString(p.text)
			continue
		}
		switch v := args[p.arg].(type) {
		case string:
			if p.verb != 's' {
				return "", false
			}
			b.WriteString(v)
		case int:
			if p.verb != 'd' || v <= -1000 || v >= 1000 {
				return "", false
			}
			b.WriteString(strconv.Itoa(v))
		case fmt.Stringer:
			if p.verb != 's' {
				return "", false
			}
			b.WriteString(v.String())
		default:
			return "", false
		}
	}
	return b.String(), true
}
