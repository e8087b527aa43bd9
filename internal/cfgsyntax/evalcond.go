package cfgsyntax

import (
	"fmt"
	"strings"
)

// trashSize bounds one decoded predicate argument like HAProxy's trash
// buffer (bufsize 16384, one byte kept for the NUL).
const trashSize = 16384

// makeArgList is make_arg_list() restricted to what condition predicates
// use: nargs mandatory string arguments. It returns the arguments, the
// offset of the first byte after the list, the argument number HAProxy
// reports, and an error message ("" on success).
func makeArgList(s string, in, nargs int) (args []string, end, argn int, msg string) {
	at := func(i int) byte {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	empty := at(in) != '('
	if !empty {
		in++
	}
	pos := 0
	for pos < nargs {
		var buf []byte
		var stop bool
		buf, in, stop = decodeArg(s, in, empty)
		if stop {
			return nil, in, pos, fmt.Sprintf("failed to parse '%s' after '%s' as type 'string' at position %d", s[in:], buf, pos+1)
		}
		if !empty && at(in) != 0 && at(in) != ',' && at(in) != ')' {
			return nil, in, pos, fmt.Sprintf("too small buffer size to store decoded argument %d, increase bufsize ?", pos+1)
		}
		args = append(args, string(buf))
		pos++
		if empty || at(in) == 0 || at(in) == ')' || pos >= nargs {
			break
		}
		in++ // skip the comma
	}
	if pos < nargs {
		return nil, in, pos, fmt.Sprintf("missing arguments (got %d/%d), type 'string' expected", pos, nargs)
	}
	if empty {
		return args, in, pos, ""
	}
	if at(in) == ')' {
		return args, in + 1, pos, ""
	}
	if pos > 1 {
		pos--
	}
	if in < len(s) {
		return nil, in, pos, fmt.Sprintf("expected ')' before '%s'", s[in:])
	}
	return nil, in, pos, "expected ')'"
}

// decodeArg reads one argument up to an unquoted ',' or ')', handling
// quotes and the \\ \<space> \" \' \r \n \t escapes. stop is true for a
// backslash at the very end, which HAProxy rejects.
func decodeArg(s string, in int, empty bool) (buf []byte, next int, stop bool) {
	if empty {
		return nil, in, false
	}
	squote, dquote := false, false
	for in < len(s) && len(buf) < trashSize-1 {
		c := s[in]
		switch {
		case c == '"' && !squote:
			dquote = !dquote
			in++
		case c == '\'' && !dquote:
			squote = !squote
			in++
		case c == '\\' && !squote:
			if in+1 >= len(s) {
				return buf, in, true
			}
			switch n := s[in+1]; n {
			case '\\', ' ', '"', '\'':
				buf = append(buf, n)
				in++
			case 'r', 'n', 't':
				buf = append(buf, map[byte]byte{'r': '\r', 'n': '\n', 't': '\t'}[n])
				in++
			default:
				buf = append(buf, '\\')
			}
			in++
		case !squote && !dquote && (c == ',' || c == ')'):
			return buf, in, false
		default:
			buf = append(buf, c)
			in++
		}
	}
	return buf, in, false
}

// evaluator walks a parsed condition; msg is set when it returns -1.
type evaluator struct {
	opt *Options
	msg string
}

// expr evaluates ORs left to right, stopping at the first true (or error).
func (ev *evaluator) expr(e *condExpr) int {
	for {
		r := ev.and(e.left)
		if r != 0 || e.right == nil {
			return r
		}
		e = e.right
	}
}

// and evaluates ANDs left to right, stopping at the first false (or error).
func (ev *evaluator) and(e *condAnd) int {
	for {
		r := ev.term(e.left)
		if r <= 0 || e.right == nil {
			return r
		}
		e = e.right
	}
}

func (ev *evaluator) term(t *condTerm) int {
	r := -1
	switch t.kind {
	case termFalse:
		r = 0
	case termTrue:
		r = 1
	case termParen:
		r = ev.expr(t.expr)
	case termPred:
		r = ev.pred(t.pred.name, t.args)
	}
	if r >= 0 && t.neg {
		r = 1 - r
	}
	return r
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (ev *evaluator) pred(name string, args []string) int {
	switch name {
	case "defined":
		_, ok := ev.opt.lookup()(args[0])
		return b2i(ok)
	case "feature":
		return b2i(ev.opt.hasFeature(args[0]))
	case "streq":
		return b2i(args[0] == args[1])
	case "strneq":
		return b2i(args[0] != args[1])
	case "version_atleast":
		return b2i(compareVersion(ev.opt.version(), args[0]) <= 0)
	case "version_before":
		return b2i(compareVersion(ev.opt.version(), args[0]) > 0)
	case "ssllib_name_startswith":
		return b2i(ev.opt != nil && strings.HasPrefix(ev.opt.SSLLibName, args[0]))
	}
	return ev.sslVersion(name, args[0])
}

// sslVersion answers openssl_version_atleast/before against
// Options.SSLLibVersion.
func (ev *evaluator) sslVersion(name, arg string) int {
	if ev.opt == nil || ev.opt.SSLLibVersion == "" {
		ev.msg = fmt.Sprintf("'%s' needs an SSL library version, none is known", name)
		return -1
	}
	cur, ok1 := opensslVersion(ev.opt.SSLLibVersion)
	want, ok2 := opensslVersion(arg)
	if !ok1 || !ok2 {
		ev.msg = fmt.Sprintf("'%s' cannot compare SSL library versions '%s' and '%s'", name, ev.opt.SSLLibVersion, arg)
		return -1
	}
	if name == "openssl_version_atleast" {
		return b2i(cur >= want)
	}
	return b2i(cur < want)
}
