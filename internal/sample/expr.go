package sample

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
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
}

// Arg is one parsed argument of a fetch or converter.
type Arg struct {
	Str string
	Int int64
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
	e := &Expr{Name: name, fetch: ev, Type: ev.typ}
	var err error
	if ev.parse != nil {
		if e.args, err = ev.parse(words); err != nil {
			return nil, fmt.Errorf("invalid arguments to fetch method '%s': %w", name, err)
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

// splitArgs splits "a,b" into words; an empty string has none.
func splitArgs(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
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
	*v = Value{}
	c.mayChange = false
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
