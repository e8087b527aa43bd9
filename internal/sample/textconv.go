package sample

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
)

// Text converters after HAProxy 2.6's src/sample.c: field, word, regsub.

func init() {
	converters["field"] = &converter{in: Str, out: Str, min: 2, max: 3, parse: fieldArgs, fn: convField}
	converters["word"] = &converter{in: Str, out: Str, min: 2, max: 3, parse: fieldArgs, fn: convWord}
	converters["regsub"] = &converter{in: Str, out: Str, min: 2, max: 3, parse: regsubArgs, fn: convRegsub}
}

// fieldArgs is sample_conv_field_check: a non-zero index, a non-empty
// delimiter list and an optional count.
func fieldArgs(w []string) ([]Arg, error) {
	out := make([]Arg, len(w))
	for _, i := range []int{0, 2} {
		if i >= len(w) {
			continue
		}
		n, err := strconv.ParseInt(w[i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("failed to parse '%s' as type 'integer'", w[i])
		}
		out[i].Int = n
	}
	if out[0].Int == 0 {
		return nil, fmt.Errorf("Unexpected value 0 for index")
	}
	if w[1] == "" {
		return nil, fmt.Errorf("Empty separators list")
	}
	out[1].Str = w[1]
	if len(w) == 2 {
		out = append(out, Arg{Int: 1})
	}
	return out, nil
}

func isDelimIn(ch byte, delims string) bool {
	for i := 0; i < len(delims); i++ {
		if delims[i] == ch {
			return true
		}
	}
	return false
}

// convField is sample_conv_field: field index (from the end when
// negative) between delimiters, count fields long (to the end when the
// count is 0 or less). A missing field fails the conversion.
func convField(c *Ctx, a []Arg, v *Value) bool {
	idx, delims, count := a[0].Int, a[1].Str, a[2].Int
	s := v.Bytes
	var start, end int
	if idx < 0 {
		field := int64(-1)
		start, end = len(s), len(s)
		for ; start > 0; start-- {
			if !isDelimIn(s[start-1], delims) {
				continue
			}
			if field == idx {
				if count == 1 {
					goto found
				} else if count > 1 {
					count--
				}
			} else {
				end = start - 1
				field--
			}
		}
		if field != idx {
			return false
		}
	} else {
		field := int64(1)
		for ; end < len(s); end++ {
			if !isDelimIn(s[end], delims) {
				continue
			}
			if field == idx {
				if count == 1 {
					goto found
				} else if count > 1 {
					count--
				}
			} else {
				start = end + 1
				field++
			}
		}
		if field != idx {
			return false
		}
	}
found:
	v.Bytes = s[start:end]
	return true
}

// convWord is sample_conv_word: word index (from the end when negative)
// where runs of delimiters separate words, count words long. A missing
// word gives an empty string, as in HAProxy.
func convWord(c *Ctx, a []Arg, v *Value) bool {
	idx, delims, count := a[0].Int, a[1].Str, a[2].Int
	s := v.Bytes
	var word int64
	inword := false
	var start, end int
	if idx < 0 {
		start, end = len(s), len(s)
		for ; start > 0; start-- {
			issep := isDelimIn(s[start-1], delims)
			if !inword {
				if !issep {
					if word != idx {
						word--
						end = start
					}
					inword = true
				}
			} else if issep {
				if word == idx {
					if count == 1 {
						goto found
					} else if count > 1 {
						count--
					}
				}
				inword = false
			}
		}
	} else {
		for ; end < len(s); end++ {
			issep := isDelimIn(s[end], delims)
			if !inword {
				if !issep {
					if word != idx {
						word++
						start = end
					}
					inword = true
				}
			} else if issep {
				if word == idx {
					if count == 1 {
						goto found
					} else if count > 1 {
						count--
					}
				}
				inword = false
			}
		}
	}
	if word != idx {
		v.Bytes = s[:0]
		return true
	}
found:
	v.Bytes = s[start:end]
	return true
}

// regsubArgs compiles the regex (RE2), keeps the substitution and reads
// the flags: 'i' ignores case, 'g' replaces every match.
func regsubArgs(w []string) ([]Arg, error) {
	icase, global := false, false
	if len(w) == 3 {
		for i := 0; i < len(w[2]); i++ {
			switch w[2][i] {
			case 'i':
				icase = true
			case 'g':
				global = true
			default:
				return nil, fmt.Errorf("invalid regex flag '%c', only 'i' and 'g' are supported", w[2][i])
			}
		}
	}
	expr := w[0]
	if icase {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("regex '%s' is invalid: %v (Sluice uses RE2 syntax: no backreferences or lookarounds)", w[0], err)
	}
	g := int64(0)
	if global {
		g = 1
	}
	notBOL, err := withoutBOL(expr)
	if err != nil {
		return nil, err
	}
	return []Arg{{Str: w[0], Int: g, re: re}, {Str: w[1], re: notBOL}}, nil
}

// withoutBOL compiles expr with its beginning-of-text anchors made
// never to match: after the first match HAProxy searches on with
// REG_NOTBOL, so "^" only matches at the very start of the input.
func withoutBOL(expr string) (*regexp.Regexp, error) {
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	var walk func(r *syntax.Regexp)
	walk = func(r *syntax.Regexp) {
		if r.Op == syntax.OpBeginText {
			r.Op = syntax.OpNoMatch
		}
		for _, s := range r.Sub {
			walk(s)
		}
	}
	walk(tree)
	return regexp.Compile(tree.String())
}

// convRegsub is sample_conv_regsub: the first match (every match with
// 'g') replaced by the substitution, in which \0..\9 name groups and
// \xHH a byte.
func convRegsub(c *Ctx, a []Arg, v *Value) bool {
	re, subst, global := a[0].re, a[1].Str, a[0].Int == 1
	src := v.Bytes
	out := c.buf()
	var m [20]int
	pos := 0
	first := true
	for {
		var loc []int
		if first {
			loc = re.FindSubmatchIndex(src[pos:])
		} else if global {
			loc = a[1].re.FindSubmatchIndex(src[pos:])
		}
		if loc == nil {
			out = append(out, src[pos:]...)
			break
		}
		n := copy(m[:], loc)
		for i := n; i < len(m); i++ {
			m[i] = -1
		}
		out = append(out, src[pos:pos+m[0]]...)
		out = expReplace(out, src[pos:], subst, &m)
		if pos >= len(src) {
			break
		}
		// A match of length 0 stands before a character: copy that
		// character and go on after it, as HAProxy does.
		if m[1] == 0 {
			out = append(out, src[pos])
			m[1]++
		}
		pos += m[1]
		first = false
		if !global {
			out = append(out, src[pos:]...)
			break
		}
	}
	v.Bytes = c.keep(out)
	return true
}

// expReplace is HAProxy's exp_replace: the substitution with \N group
// references (relative to src), \xHH bytes and \c for any other c.
func expReplace(out, src []byte, subst string, m *[20]int) []byte {
	for i := 0; i < len(subst); i++ {
		ch := subst[i]
		if ch != '\\' || i+1 >= len(subst) {
			out = append(out, ch)
			continue
		}
		i++
		ch = subst[i]
		switch {
		case ch >= '0' && ch <= '9':
			n := int(ch - '0')
			if so, eo := m[2*n], m[2*n+1]; so > -1 && eo > -1 {
				out = append(out, src[so:eo]...)
			}
		case ch == 'x' && i+2 < len(subst):
			h1, h2 := hexNibble(subst[i+1]), hexNibble(subst[i+2])
			out = append(out, h1<<4+h2)
			i += 2
		default:
			out = append(out, ch)
		}
	}
	return out
}

// hexNibble is exp_replace's loose hex digit: no validation.
func hexNibble(c byte) byte {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	c -= '0'
	if c > 9 {
		c -= 'A' - '9' - 1
	}
	return c
}
