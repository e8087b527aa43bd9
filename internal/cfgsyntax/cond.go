package cfgsyntax

import (
	"fmt"
	"strings"
)

// maxCfgRecursion is HAProxy's MAX_CFG_RECURSION: the depth budget of the
// condition parser (each parenthesis level costs 3, each && or || costs 1).
const maxCfgRecursion = 1024

// condError is a condition failure with the offset (in the condition text)
// HAProxy reports, or -1 when it reports none.
type condError struct {
	msg string
	pos int
}

func (e *condError) Error() string { return e.msg }

// The operators !, &&, || and parentheses all exist in HAProxy 2.6
// (src/cfgcond.c since 2.5); their behaviour here was checked with -cc.
// && binds tighter than ||, both evaluate left to right and short-circuit,
// but the whole expression is parsed first.

// predicate describes one condition function and its number of (mandatory,
// string) arguments, as in HAProxy 2.6's cond_predicates[]. strstr() and
// enabled() only arrived in 2.8 and are therefore unknown here, as in 2.6.
type predicate struct {
	name  string
	nargs int
}

var predicates = []predicate{
	{"defined", 1}, {"feature", 1}, {"streq", 2}, {"strneq", 2},
	{"version_atleast", 1}, {"version_before", 1},
	{"openssl_version_atleast", 1}, {"openssl_version_before", 1},
	{"ssllib_name_startswith", 1},
}

// lookupPredicate matches the word ending at the first space or '('.
func lookupPredicate(s string) *predicate {
	n := strings.IndexAny(s, " (")
	if n < 0 {
		n = len(s)
	}
	for i := range predicates {
		if predicates[i].name == s[:n] {
			return &predicates[i]
		}
	}
	return nil
}

type termKind int

const (
	termFalse termKind = iota
	termTrue
	termPred
	termParen
)

// condTerm, condAnd and condExpr are the parse tree of cfgcond.c: an
// expression is a chain of ORs of chains of ANDs of terms.
type condTerm struct {
	kind termKind
	neg  bool
	pred *predicate
	args []string
	expr *condExpr
}

type condAnd struct {
	left  *condTerm
	right *condAnd
}

type condExpr struct {
	left  *condAnd
	right *condExpr
}

// condParser parses one condition text. Positions are byte offsets into s.
type condParser struct {
	s   string
	err *condError
}

func (c *condParser) at(i int) byte {
	if i < len(c.s) {
		return c.s[i]
	}
	return 0
}

func (c *condParser) skipBlanks(i int) int {
	for c.at(i) == ' ' || c.at(i) == '\t' {
		i++
	}
	return i
}

func (c *condParser) fail(pos int, format string, args ...any) int {
	c.err = &condError{msg: fmt.Sprintf(format, args...), pos: pos}
	return -1
}

// parseTerm is cfg_parse_cond_term(): returns -1 on error, 0 when there is
// nothing to parse, 1 on success (with *text moved past the term).
func (c *condParser) parseTerm(text *int, depth int) (*condTerm, int) {
	in := c.skipBlanks(*text)
	if in >= len(c.s) {
		return nil, 0
	}
	if depth <= 0 {
		return nil, c.fail(*text, "unparsable conditional expression '%s'", c.s[*text:])
	}
	t := &condTerm{}
	for c.at(in) == '!' {
		t.neg = !t.neg
		in = c.skipBlanks(in + 1)
	}
	if end, nonzero := strtolBase0(c.s, in); end != in {
		t.kind = map[bool]termKind{true: termTrue, false: termFalse}[nonzero]
		*text = end
		return t, 1
	}
	if c.at(in) == '(' {
		t.kind = termParen
		in = c.skipBlanks(in + 1)
		e, ret := c.parseExpr(&in, depth-1)
		if ret < 0 {
			return nil, -1
		}
		if ret == 0 {
			return nil, c.fail(*text, "unparsable conditional expression '%s'", c.s[*text:])
		}
		in = c.skipBlanks(in)
		if c.at(in) != ')' {
			return nil, c.fail(*text, "expected ')' after conditional expression '%s'", c.s[*text:])
		}
		t.expr = e
		*text = c.skipBlanks(in + 1)
		return t, 1
	}
	if t.pred = lookupPredicate(c.s[in:]); t.pred != nil {
		t.kind = termPred
		args, end, argn, msg := makeArgList(c.s, in+len(t.pred.name), t.pred.nargs)
		if msg != "" {
			return nil, c.fail(end, "%s in argument %d of predicate '%s' used in conditional expression", msg, argn, t.pred.name)
		}
		t.args = args
		*text = end
		return t, 1
	}
	return nil, c.fail(*text, "unparsable conditional expression '%s'", c.s[*text:])
}

// parseAnd is cfg_parse_cond_and(): a term optionally followed by && and
// another AND chain.
func (c *condParser) parseAnd(text *int, depth int) (*condAnd, int) {
	in := *text
	if in >= len(c.s) {
		return nil, 0
	}
	if depth <= 0 {
		return nil, c.fail(in, "unparsable conditional sub-expression '%s'", c.s[in:])
	}
	e := &condAnd{}
	var ret int
	if e.left, ret = c.parseTerm(&in, depth-1); ret < 0 {
		return nil, -1
	} else if ret == 0 {
		return nil, c.fail(in, "unparsable conditional sub-expression '%s'", c.s[in:])
	}
	in = c.skipBlanks(in)
	*text = in
	if c.at(in) != '&' || c.at(in+1) != '&' {
		return e, 1
	}
	in = c.skipBlanks(in + 2)
	if e.right, ret = c.parseAnd(&in, depth-1); ret > 0 {
		*text = in
	}
	return e, ret
}

// parseExpr is cfg_parse_cond_expr(): an AND chain optionally followed by
// || and another expression.
func (c *condParser) parseExpr(text *int, depth int) (*condExpr, int) {
	in := *text
	if in >= len(c.s) {
		return nil, 0
	}
	if depth <= 0 {
		return nil, c.fail(in, "unparsable conditional expression '%s'", c.s[in:])
	}
	e := &condExpr{}
	var ret int
	if e.left, ret = c.parseAnd(&in, depth-1); ret < 0 {
		return nil, -1
	} else if ret == 0 {
		return nil, c.fail(in, "unparsable conditional expression '%s'", c.s[in:])
	}
	in = c.skipBlanks(in)
	*text = in
	if c.at(in) != '|' || c.at(in+1) != '|' {
		return e, 1
	}
	in = c.skipBlanks(in + 2)
	if e.right, ret = c.parseExpr(&in, depth-1); ret > 0 {
		*text = in
	}
	return e, ret
}

// evalText is cfg_eval_condition() on an already merged condition text:
// the whole text is parsed first (so syntax errors are found even in
// branches that short-circuit away), then evaluated.
func evalText(s string, opt *Options) (bool, error) {
	if s == "" {
		return false, nil
	}
	c := &condParser{s: s}
	pos := 0
	e, ret := c.parseExpr(&pos, maxCfgRecursion)
	if ret < 0 {
		return false, c.err
	}
	if ret == 0 {
		return false, &condError{msg: fmt.Sprintf("unparsable conditional expression '%s'", s), pos: pos}
	}
	if pos = c.skipBlanks(pos); pos < len(s) {
		return false, &condError{msg: fmt.Sprintf("unexpected character '%c' at the end of conditional expression '%s'", s[pos], s), pos: pos}
	}
	ev := evaluator{opt: opt}
	r := ev.expr(e)
	if r < 0 {
		return false, &condError{msg: ev.msg, pos: -1}
	}
	return r > 0, nil
}
