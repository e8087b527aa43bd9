package logfmt

import (
	"errors"
	"fmt"
	"strings"
)

// Flags are the per-node options set with %{+X,-Y}: they change how a value
// is written.
type Flags uint8

// Flags HAProxy 2.6 knows. FlagMandatory is on by default in log formats:
// an empty value is written "-".
const (
	FlagMandatory Flags = 1 << iota // M: write "-" for an empty value
	FlagQuote                       // Q: enclose text values in double quotes
	FlagHex                         // X: write addresses, ports and some numbers in hexadecimal
	FlagEscape                      // E: escape '"', '\' and ']' with a backslash
	flagHTTP                        // unique-id-format: %-encode samples for a header value
)

var flagNames = [...]struct {
	name string
	flag Flags
}{{"M", FlagMandatory}, {"Q", FlagQuote}, {"X", FlagHex}, {"E", FlagEscape}}

// Sentinel errors that a compilation *Error matches with errors.Is.
var (
	ErrUnknownVariable = errors.New("unknown log-format variable")
	ErrHTTPOnly        = errors.New("log-format variable reserved for HTTP mode")
	ErrSyntax          = errors.New("log-format syntax error")
	ErrSample          = errors.New("invalid sample expression in log-format")
)

// Error is a compilation error. Its text is HAProxy's, so that a caller
// printing "failed to parse log-format : " + err.Error() matches haproxy -c.
type Error struct {
	Pos   int    // byte offset in the format string
	Msg   string // HAProxy's message
	kind  error
	cause error
}

// Error returns HAProxy's message.
func (e *Error) Error() string { return e.Msg }

// Unwrap exposes the sentinel (ErrSyntax, ...) and, for sample errors, the
// error returned by Options.CheckSample.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// Warning reports something HAProxy accepts silently but that almost
// certainly does not do what its author meant.
type Warning struct {
	Pos int
	Msg string
}

// String returns the message.
func (w Warning) String() string { return w.Msg }

// Options tune compilation.
type Options struct {
	// Mode is the mode of the proxy that owns the format.
	Mode Mode
	// UniqueID compiles a unique-id-format: values are not replaced by
	// "-" when empty and sample values are %-encoded for a header.
	UniqueID bool
	// CheckSample, when set, validates each %[...] expression after its
	// syntax was checked. Its error text is reported after HAProxy's
	// "failed to parse sample expression <...> : " prefix; HAProxy's own
	// texts are "unknown fetch method 'x'" and "unknown converter 'x'". A
	// *NotAvailableError is reported as HAProxy reports a fetch that the
	// proxy's mode cannot serve.
	CheckSample func(e *Expr) error
}

// node is one element of a compiled format.
type node struct {
	op    opKind
	v     varKind
	flags Flags
	text  string // literal text for opText
	expr  int    // index in Format.exprs for opExpr
}

type opKind uint8

const (
	opText opKind = iota
	opSep         // a space; consecutive ones collapse
	opVar
	opExpr
)

// Format is a compiled log-format. It is immutable and safe for concurrent
// use.
type Format struct {
	src   string
	mode  Mode
	nodes []node
	exprs []Expr
}

// String returns the source string the format was compiled from.
func (f *Format) String() string { return f.src }

// Mode returns the mode the format was compiled for.
func (f *Format) Mode() Mode { return f.mode }

// Exprs returns the sample expressions of the format in order; Expr.Index
// is the position in this slice.
func (f *Format) Exprs() []Expr { return f.exprs }

// Uses reports whether the format references the named variable, so that a
// caller can skip measuring what is never logged.
func (f *Format) Uses(name string) bool {
	v, ok := lookupVar(name)
	if !ok {
		return false
	}
	for _, n := range f.nodes {
		if n.op == opVar && n.v == v.kind {
			return true
		}
	}
	return false
}

// Compile compiles a log-format string for a proxy in the given mode. It
// returns HAProxy's error text on failure; warnings point at constructs
// HAProxy accepts but silently ignores.
func Compile(s string, mode Mode) (*Format, []Warning, error) {
	return CompileWith(s, Options{Mode: mode})
}

// CompileWith is Compile with options.
func CompileWith(s string, o Options) (*Format, []Warning, error) {
	c := &compiler{src: s, opts: o, f: &Format{src: s, mode: o.Mode}, def: FlagMandatory}
	if o.UniqueID {
		c.def = flagHTTP
	}
	if err := c.run(); err != nil {
		return nil, c.warns, err
	}
	return c.f, c.warns, nil
}

type compiler struct {
	src   string
	opts  Options
	f     *Format
	def   Flags // flags given to new nodes; changed by %o
	warns []Warning
}

// run walks the string. Spaces become separators (HAProxy always compiles
// log formats with LOG_OPT_MERGE_SPACES), '%' starts a variable, anything
// else is literal text.
func (c *compiler) run() error {
	s := c.src
	lit := 0
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ':
			c.addText(lit, i)
			c.f.nodes = append(c.f.nodes, node{op: opSep})
			i++
			lit = i
		case '%':
			c.addText(lit, i)
			next, err := c.percent(i)
			if err != nil {
				return err
			}
			lit = next
			if next == i+2 && s[i+1] == '%' {
				lit = i + 1 // "%%": the second '%' is literal text
			}
			i = next
		default:
			i++
		}
	}
	c.addText(lit, len(s))
	return nil
}

func (c *compiler) addText(from, to int) {
	if to > from {
		c.f.nodes = append(c.f.nodes, node{op: opText, text: c.src[from:to]})
	}
}

func (c *compiler) errorf(kind error, pos int, format string, args ...any) error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), kind: kind}
}

func (c *compiler) warnf(pos int, format string, args ...any) {
	c.warns = append(c.warns, Warning{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// percent handles what follows a '%' at i and returns where scanning goes
// on. For "%%" it returns i+2 and run keeps the second '%' as text.
func (c *compiler) percent(i int) (int, error) {
	s := c.src
	if i+1 >= len(s) {
		return 0, c.errorf(ErrSyntax, i, "truncated line after '%%'")
	}
	switch ch := s[i+1]; {
	case ch == '%':
		return i + 2, nil
	case ch == '{':
		return c.withArgs(i)
	case ch == '[':
		return c.expr(i+1, c.def)
	case isAlpha(ch):
		return c.variable(i+1, c.def)
	case isDigit(ch) || ch == ' ' || ch == '\t':
		return 0, c.errorf(ErrSyntax, i+1, "unexpected variable name near '%c' at position %d line : '%s'. Maybe you want to write a single '%%', use the syntax '%%%%'", ch, i+1, s)
	default:
		// HAProxy drops the '%' and keeps the character as text.
		c.warnf(i, "'%%' before '%c' is dropped; write '%%%%' for a literal '%%'", ch)
		return i + 1, nil
	}
}

// withArgs handles "%{flags}name" and "%{flags}[expr]"; s[i] is the '%'.
func (c *compiler) withArgs(i int) (int, error) {
	s := c.src
	start := i + 2
	end := strings.IndexByte(s[start:], '}')
	if end < 0 {
		return 0, c.errorf(ErrSyntax, start, "truncated line after '%s'", s[start:])
	}
	arg := s[start : start+end]
	k := start + end + 1
	if k >= len(s) || (s[k] != '[' && !isAlnum(s[k])) {
		return 0, c.errorf(ErrSyntax, i, "parse argument modifier without variable name near '%%{%s}'", arg)
	}
	flags := c.parseFlags(arg, c.def, start)
	if s[k] == '[' {
		return c.expr(k, flags)
	}
	return c.variable(k, flags)
}

// variable reads a name made of letters and digits at i.
func (c *compiler) variable(i int, flags Flags) (int, error) {
	s := c.src
	j := i
	for j < len(s) && isAlnum(s[j]) {
		j++
	}
	name := s[i:j]
	v, ok := lookupVar(name)
	if !ok {
		e := c.errorf(ErrUnknownVariable, i, "no such format variable '%s'. If you wanted to emit the '%%' character verbatim, you need to use '%%%%'", name)
		return 0, e
	}
	if v.httpOnly && c.opts.Mode != HTTP {
		return 0, c.errorf(ErrHTTPOnly, i, "format variable '%s' is reserved for HTTP mode", name)
	}
	if v.kind == vGlobal {
		c.def = flags
	} else {
		c.f.nodes = append(c.f.nodes, node{op: opVar, v: v.kind, flags: flags})
	}
	return j, nil
}

// expr handles a sample expression; s[i] is the '['.
func (c *compiler) expr(i int, flags Flags) (int, error) {
	s := c.src
	start := i + 1
	end, e, msg := scanSample(s, start)
	if msg != "" {
		return 0, c.errorf(ErrSample, start, "failed to parse sample expression <%s> : %s", s[start:], msg)
	}
	e.Flags = flags &^ flagHTTP
	e.Index = len(c.f.exprs)
	if c.opts.CheckSample != nil {
		if err := c.opts.CheckSample(&e); err != nil {
			return 0, sampleError(s[start:], start, err)
		}
	}
	if end >= len(s) || s[end] != ']' {
		if end < len(s) && s[end] >= 0x20 && s[end] < 0x7f {
			return 0, c.errorf(ErrSyntax, end, "expected ']' after '%s', but found '%c'", s[start:end], s[end])
		}
		return 0, c.errorf(ErrSyntax, end, "missing ']' after '%s'", s[start:end])
	}
	c.f.exprs = append(c.f.exprs, e)
	c.f.nodes = append(c.f.nodes, node{op: opExpr, flags: flags, expr: e.Index})
	return end + 1, nil
}

// NotAvailableError is what Options.CheckSample returns for a fetch that
// needs data a log line cannot have, such as HTTP headers in a TCP proxy.
// Needs names the data the way HAProxy does ("HTTP request headers").
type NotAvailableError struct {
	Needs string
}

// Error describes the missing data.
func (e *NotAvailableError) Error() string {
	return "needs '" + e.Needs + "' which is not available here"
}

// sampleError words a CheckSample failure as HAProxy does; rest is the
// format from the expression's first character to its end, which HAProxy
// quotes whole.
func sampleError(rest string, pos int, err error) error {
	msg := fmt.Sprintf("failed to parse sample expression <%s> : %s", rest, err)
	var na *NotAvailableError
	if errors.As(err, &na) {
		msg = fmt.Sprintf("sample fetch <%s> may not be reliably used here because it needs '%s' which is not available here", rest, na.Needs)
	}
	return &Error{Pos: pos, Msg: msg, kind: ErrSample, cause: err}
}

// parseFlags applies "+Q,-M,..." to base the way HAProxy's
// parse_logformat_var_args does: in each comma-separated token only the
// part after the last '+' or '-' counts, and unknown names are ignored.
func (c *compiler) parseFlags(arg string, base Flags, pos int) Flags {
	f := base
	for tokStart := 0; tokStart <= len(arg); {
		end := strings.IndexByte(arg[tokStart:], ',')
		if end < 0 {
			end = len(arg)
		} else {
			end += tokStart
		}
		tok := arg[tokStart:end]
		applied := applyFlag(tok, &f)
		if tok != "" && applied != tok {
			c.warnf(pos+tokStart, "ignoring '%s' in log-format flags '%s': flags are +M, +Q, +X, +E or their '-' forms, separated by commas", strings.TrimSuffix(tok, applied), arg)
		}
		tokStart = end + 1
	}
	return f
}

// applyFlag applies one token and returns the suffix of it that took
// effect ("" when nothing did).
func applyFlag(tok string, f *Flags) string {
	at := strings.LastIndexAny(tok, "+-")
	if at < 0 {
		return ""
	}
	name := tok[at+1:]
	for _, fn := range flagNames {
		if fn.name == name {
			if tok[at] == '+' {
				*f |= fn.flag
			} else {
				*f &^= fn.flag
			}
			return tok[at:]
		}
	}
	return ""
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }
