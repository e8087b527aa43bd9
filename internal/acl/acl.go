// Package acl compiles HAProxy's access control lists and the conditions
// built from them (if/unless, implicit AND, or/||, !, anonymous { })
// into trees evaluated against a sample context. It does no I/O beyond
// reading pattern files at compile time; evaluation is pure.
package acl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"sluice/internal/sample"
)

// Spec is an ACL expression as written: the criterion (fetch or ACL
// keyword), its argument text, converters, flags and patterns.
type Spec struct {
	Criterion string
	Args      string
	Converter string
	Flags     []string
	Patterns  []string
}

// Options tune compilation.
type Options struct {
	// ReadFile reads -f pattern files; nil uses os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// NoResolve refuses host names in IP patterns instead of resolving.
	NoResolve bool
}

// Expr is one compiled ACL line: a sample expression and its patterns.
type Expr struct {
	smp *sample.Expr
	pat patterns
}

// ErrNotSupported is sample.ErrNotSupported, re-exported for callers that
// only import this package.
var ErrNotSupported = sample.ErrNotSupported

// Compile builds an expression from its written form.
func Compile(s Spec, opt Options) (*Expr, error) {
	fetch, forced := s.Criterion, ""
	if k, ok := sample.LookupACLKeyword(fetch); ok {
		fetch, forced = k.Fetch, k.Match
	}
	smp, err := sample.Compile(fetch, s.Args, s.Converter)
	if err != nil {
		return nil, err
	}
	e := &Expr{smp: smp}
	e.pat.match = defaultMatch(smp.Type)
	if fetch == "http_auth_group" {
		e.pat.match, e.pat.authList = MatchAuth, s.Args
	}
	if forced != "" {
		m, ok := matchNames[forced]
		if !ok {
			return nil, fmt.Errorf("ACL keyword '%s' is %w", s.Criterion, ErrNotSupported)
		}
		e.pat.match = m
	}
	resolve := !opt.NoResolve
	words := s.Patterns
	var files []string
	flags := s.Flags
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case "-i":
			e.pat.icase = true
		case "-n":
			resolve = false
		case "-m":
			i++
			m, ok := matchNames[flags[i]]
			if !ok {
				return nil, fmt.Errorf("unknown matching method '%s'", flags[i])
			}
			e.pat.match = m
		case "-f":
			i++
			files = append(files, flags[i])
		case "-u", "-M":
			if flags[i] == "-u" {
				i++
			}
		}
	}
	for _, f := range files {
		lines, err := readPatternFile(f, opt.ReadFile)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if err := e.pat.add(l, "", resolve); err != nil {
				return nil, fmt.Errorf("%v in pattern file <%s>", err, f)
			}
		}
	}
	if err := e.addWords(words, resolve); err != nil {
		return nil, err
	}
	return e, nil
}

// addWords compiles pattern words; integer matches take eq/ge/gt/le/lt
// operator words that apply to the values after them.
func (e *Expr) addWords(words []string, resolve bool) error {
	op := ""
	intLike := e.pat.match == MatchInt || e.pat.match == MatchLen
	for _, w := range words {
		if intLike && operators[w] {
			op = w
			if w == "eq" {
				op = ""
			}
			continue
		}
		if err := e.pat.add(w, op, resolve); err != nil {
			return err
		}
	}
	return nil
}

// readPatternFile returns a file's patterns: one per line, blanks around
// them trimmed, empty lines and # comments skipped.
func readPatternFile(path string, read func(string) ([]byte, error)) ([]string, error) {
	if read == nil {
		read = os.ReadFile
	}
	data, err := read(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open pattern file <%s>", path)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// Test results. The values make AND the minimum and OR the maximum, as
// in HAProxy's acl_exec_cond.
type Test uint8

// Results of evaluating an expression or condition.
const (
	Fail Test = 0
	// Miss: no answer yet; more data could give one.
	Miss Test = 1
	Pass Test = 3
)

func (t Test) neg() Test {
	switch t {
	case Pass:
		return Fail
	case Fail:
		return Pass
	}
	return Miss
}

// Eval evaluates the expression: Pass when the sample matches a pattern,
// Miss when it might once more data arrives, Fail otherwise. Like
// HAProxy's ACLs, multi-valued fetches (hdr, cook, url_param without an
// occurrence) are tried value by value until one matches.
func (e *Expr) Eval(c *sample.Ctx) Test {
	v := c.Value()
	for next := false; ; next = true {
		found, may, more := e.smp.Iterate(c, v, next)
		if !found {
			if may {
				return Miss
			}
			return Fail
		}
		if e.pat.matchValue(c, v) {
			return Pass
		}
		if !more {
			if may {
				return Miss
			}
			return Fail
		}
	}
}

// ACL is a named ACL: every line declaring the name, ORed.
type ACL struct {
	Name  string
	Exprs []*Expr
}

// Eval is the OR of the ACL's expressions.
func (a *ACL) Eval(c *sample.Ctx) Test {
	res := Fail
	for _, e := range a.Exprs {
		res |= e.Eval(c)
		if res == Pass {
			break
		}
	}
	return res
}

// Term is one possibly negated ACL of a condition.
type Term struct {
	Neg bool
	ACL *ACL
}

// Cond is a compiled if/unless condition: an OR of ANDs of terms.
type Cond struct {
	Unless bool
	Suites [][]Term
}

// Eval evaluates the condition without applying unless: Miss means a
// rule must wait for more data.
func (c *Cond) Eval(ctx *sample.Ctx) Test {
	res := Fail
	for _, suite := range c.Suites {
		s := Pass
		for _, t := range suite {
			r := t.ACL.Eval(ctx)
			if t.Neg {
				r = r.neg()
			}
			s &= r
			if s == Fail {
				break
			}
		}
		res |= s
		if res == Pass {
			break
		}
	}
	return res
}

// Match evaluates a rule's condition: whether the rule applies, and
// whether the answer must wait for more data. A nil condition applies.
func (c *Cond) Match(ctx *sample.Ctx) (match, wait bool) {
	if c == nil {
		return true, false
	}
	r := c.Eval(ctx)
	if r == Miss {
		return false, true
	}
	return (r == Pass) != c.Unless, false
}

// Predefined compiles HAProxy's built-in ACL of that name.
func Predefined(name string) (*ACL, error) {
	def, ok := sample.Predefined[name]
	if !ok {
		return nil, fmt.Errorf("no such ACL : '%s'", name)
	}
	w := strings.Fields(def)
	s := Spec{Criterion: w[0], Patterns: w[1:]}
	if i := strings.IndexByte(s.Criterion, '('); i > 0 { // req.hdr_val(content-length)
		s.Criterion, s.Args = w[0][:i], strings.TrimSuffix(w[0][i+1:], ")")
	}
	e, err := Compile(s, Options{NoResolve: true})
	if err != nil {
		if errors.Is(err, ErrNotSupported) {
			return nil, fmt.Errorf("predefined ACL '%s' is %w", name, ErrNotSupported)
		}
		return nil, err
	}
	return &ACL{Name: name, Exprs: []*Expr{e}}, nil
}
