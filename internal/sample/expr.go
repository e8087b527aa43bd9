package sample

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
)

// ErrNotSupported marks a fetch or converter HAProxy has and Sluice cannot
// evaluate yet; configurations using one are refused at load.
var ErrNotSupported = errors.New("not supported yet by Sluice")

// Expr is a compiled sample expression: a fetch with its arguments and a
// converter chain. It is immutable and safe for concurrent use.
type Expr struct {
	// Name is the fetch name as written.
	Name  string
	fetch *evaluator
	args  []Arg
	convs []conv
	// Type is the output type once every converter has run.
	Type Type
	// reqOnly: the fetch reads the request's headers, which HAProxy no
	// longer has while response rules run.
	reqOnly bool
}

// Arg is one parsed argument of a fetch or converter.
type Arg struct {
	Str string
	Int int64
	// re is a compiled regular expression (regsub).
	re *regexp.Regexp
	// m is a loaded map file (map converters).
	m *mapFile
}

// evaluator computes one fetch.
type evaluator struct {
	typ     Type
	minArgs int
	maxArgs int
	// parse checks and converts the arguments; nil takes them as text.
	parse func(args []string) ([]Arg, error)
	fn    func(c *Ctx, args []Arg, v *Value) bool
}

// Compile parses a fetch (name and the text between its parentheses) and
// a converter chain as written after it (",lower,ipmask(24)").
func Compile(name, args, convs string) (*Expr, error) {
	ev, ok := evaluators[name]
	if !ok {
		if _, known := fetches[name]; known {
			return nil, fmt.Errorf("fetch method '%s' is %w", name, ErrNotSupported)
		}
		return nil, fmt.Errorf("unknown fetch method '%s'", name)
	}
	words := splitArgs(args)
	if len(words) < ev.minArgs || len(words) > ev.maxArgs {
		return nil, argCountError(name, len(words), ev.minArgs, ev.maxArgs)
	}
	e := &Expr{Name: name, fetch: ev, Type: ev.typ, reqOnly: reqHdrOnly[name]}
	var err error
	if ev.parse != nil {
		if e.args, err = ev.parse(words); err != nil {
			return nil, fmt.Errorf("invalid args in fetch method '%s' : %w", name, err)
		}
	} else {
		for _, w := range words {
			e.args = append(e.args, Arg{Str: w})
		}
	}
	if e.convs, e.Type, err = compileConvs(convs, e.Type); err != nil {
		return nil, err
	}
	return e, nil
}

func argCountError(name string, n, min, max int) error {
	switch {
	case max == 0:
		return fmt.Errorf("fetch method '%s' does not take arguments", name)
	case n < min:
		return fmt.Errorf("fetch method '%s' expects at least %d argument(s)", name, min)
	default:
		return fmt.Errorf("fetch method '%s' expects at most %d argument(s)", name, max)
	}
}

// splitArgs splits "a,b" into words as HAProxy's make_arg_list does:
// single and double quotes protect commas and blanks, and a backslash
// escapes a quote, a blank or itself (\r, \n and \t too); any other
// backslash is kept. Unquoted blanks around a word are dropped. An
// empty string has no words.
func splitArgs(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	var cur []byte
	keep := 0 // length of cur up to its last quoted or non-blank byte
	sq, dq := false, false
	word := func(b byte, quoted bool) {
		if !quoted && len(cur) == 0 && (b == ' ' || b == '\t') {
			return
		}
		cur = append(cur, b)
		if quoted || (b != ' ' && b != '\t') {
			keep = len(cur)
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' && !sq:
			dq = !dq
		case ch == '\'' && !dq:
			sq = !sq
		case ch == '\\' && !sq && i+1 < len(s):
			switch n := s[i+1]; n {
			case '\\', ' ', '"', '\'':
				word(n, true)
				i++
			case 'r', 'n', 't':
				word(map[byte]byte{'r': '\r', 'n': '\n', 't': '\t'}[n], true)
				i++
			default:
				word(ch, true)
			}
		case ch == ',' && !sq && !dq:
			out = append(out, string(cur[:keep]))
			cur, keep = cur[:0], 0
		default:
			word(ch, sq || dq)
		}
	}
	return append(out, string(cur[:keep]))
}

// intArgs parses every argument as a decimal integer.
func intArgs(words []string) ([]Arg, error) {
	out := make([]Arg, len(words))
	for i, w := range words {
		n, err := strconv.ParseInt(w, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("'%s' is not an integer", w)
		}
		out[i].Int = n
	}
	return out, nil
}

// Eval computes the expression. It reports whether a sample was found;
// v.MayChange tells a caller that more data could change the answer.
func (e *Expr) Eval(c *Ctx, v *Value) (found, mayChange bool) {
	c.iterate = false
	return e.eval(c, v)
}

// Iterate evaluates the expression for each value of a multi-valued
// fetch, as HAProxy's ACLs do: hdr(), cook() and url_param() without an
// occurrence give every value in turn instead of the last or first one.
// next is false for the first value; more reports whether another value
// may follow, for a call with next set.
func (e *Expr) Iterate(c *Ctx, v *Value, next bool) (found, mayChange, more bool) {
	if !next {
		c.cur = cursor{}
	}
	c.iterate = true
	found, mayChange = e.eval(c, v)
	more = c.more
	c.iterate, c.more = false, false
	return found, mayChange, more
}

func (e *Expr) eval(c *Ctx, v *Value) (found, mayChange bool) {
	*v = Value{}
	c.mayChange, c.more = false, false
	if !c.iterate {
		c.cur = cursor{}
	}
	if e.reqOnly && c.InResponse {
		// The request was forwarded: in HAProxy such a fetch finds
		// nothing in an http-response rule's condition (and its
		// configuration check warns that the ACL will never match).
		return false, false
	}
	if !e.fetch.fn(c, e.args, v) {
		return false, c.mayChange
	}
	for i := range e.convs {
		if !e.convs[i].fn(c, e.convs[i].args, v) {
			return false, c.mayChange
		}
	}
	return true, c.mayChange
}

// SplitExpr cuts "fetch(args),conv1,conv2(x)" into its fetch name, the
// text between the fetch's parentheses and the converter chain.
func SplitExpr(s string) (name, args, convs string, ok bool) {
	i := 0
	for i < len(s) && s[i] != '(' && s[i] != ',' {
		i++
	}
	name = s[:i]
	if i < len(s) && s[i] == '(' {
		depth, j := 0, i
		for ; j < len(s); j++ {
			if s[j] == '(' {
				depth++
			} else if s[j] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if j == len(s) {
			return name, "", "", false
		}
		args, i = s[i+1:j], j+1
	}
	return name, args, s[i:], true
}

// CompileExpr compiles a sample expression written as one word, as rule
// actions take it: "req.hdr(host),lower".
func CompileExpr(s string) (*Expr, error) {
	name, args, convs, ok := SplitExpr(s)
	if !ok {
		return nil, fmt.Errorf("fetch method '%s' : expected ')'", name)
	}
	if name == "" {
		return nil, fmt.Errorf("missing fetch method")
	}
	return Compile(name, args, convs)
}
