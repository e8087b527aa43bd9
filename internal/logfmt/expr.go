package logfmt

import "strings"

// Expr is a %[...] sample expression of a format. The compiler only finds
// where it ends and splits it into terms; the caller's sample engine
// evaluates it (see Fields.Sample).
type Expr struct {
	// Text is the expression as written between the brackets, for
	// example "req.hdr(host),lower".
	Text string
	// Fetch is the sample fetch, Converters the converters in order.
	Fetch      Term
	Converters []Term
	// Flags are the %{...} flags in effect for the expression.
	Flags Flags
	// Index is the position of the expression in Format.Exprs, so that a
	// caller can keep its compiled form in a slice.
	Index int
}

// Term is a fetch or a converter with its raw argument text.
type Term struct {
	Name string
	// Args is the text between the parentheses, quotes and backslashes
	// as written; HasArgs says whether there were parentheses at all.
	Args    string
	HasArgs bool
}

// isIDChar is HAProxy's is_idchar: the characters of fetch and converter
// names.
func isIDChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == ':'
}

// scanSample reads a sample expression starting at i the way HAProxy's
// sample_parse_expr does when it is asked where the expression ends: a
// fetch name, optional arguments in parentheses, then ",converter(args)"
// terms. It returns the index of the first character not part of the
// expression, or HAProxy's error text.
func scanSample(s string, i int) (int, Expr, string) {
	var e Expr
	j := i
	for j < len(s) && isIDChar(s[j]) {
		j++
	}
	if j == i {
		return 0, e, "missing fetch method"
	}
	e.Fetch.Name = s[i:j]
	if j < len(s) && s[j] == '(' {
		end, ok := scanArgs(s, j+1)
		if !ok {
			return 0, e, "fetch method '" + e.Fetch.Name + "' : expected ')'"
		}
		e.Fetch.Args, e.Fetch.HasArgs = s[j+1:end], true
		j = end + 1
	}
	for j < len(s) && s[j] == ',' {
		for j < len(s) && s[j] == ',' {
			j++
		}
		if j == len(s) {
			break // trailing commas are tolerated
		}
		k := j
		for k < len(s) && isIDChar(s[k]) {
			k++
		}
		t := Term{Name: s[j:k]}
		if t.Name == "" {
			return 0, e, "unknown converter ''"
		}
		if k < len(s) && s[k] == '(' {
			end, ok := scanArgs(s, k+1)
			if !ok {
				return 0, e, "invalid arg 1 in converter '" + t.Name + "' : expected ')'"
			}
			t.Args, t.HasArgs = s[k+1:end], true
			k = end + 1
		}
		e.Converters = append(e.Converters, t)
		j = k
	}
	e.Text = s[i:j]
	return j, e, ""
}

// scanArgs returns the index of the ')' closing an argument list that
// starts at i. Single and double quotes protect ')' and ','; outside single
// quotes a backslash escapes a quote or another backslash (checked against
// haproxy 2.6: "str(a\)b)" ends at the first ')').
func scanArgs(s string, i int) (int, bool) {
	var squote, dquote bool
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && !squote && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '"' || s[i+1] == '\''):
			i++
		case c == '\'' && !dquote:
			squote = !squote
		case c == '"' && !squote:
			dquote = !dquote
		case c == ')' && !squote && !dquote:
			return i, true
		}
	}
	return 0, false
}

// ConverterChain renders the converters as written after the fetch
// (",lower,ipmask(24)"), the form a sample engine compiles.
func (e *Expr) ConverterChain() string {
	var b strings.Builder
	for _, c := range e.Converters {
		b.WriteByte(',')
		b.WriteString(c.Name)
		if c.HasArgs {
			b.WriteString("(" + c.Args + ")")
		}
	}
	return b.String()
}
