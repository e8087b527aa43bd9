package cfgsyntax

import (
	"bytes"
	"strconv"
)

// maxLineArgs is HAProxy's MAX_LINE_ARGS: a line may hold at most 64 words.
const maxLineArgs = 64

// lexErr mirrors the PARSE_ERR_* bits of parse_line() that stop a line.
type lexErr int

const (
	lexOK lexErr = iota
	lexErrQuote
	lexErrBrace
	lexErrVarname
	lexErrHex
	lexErrExpand
)

// lexEnv is what parse_line() reads from the outside world: the environment
// and the three pseudo-variables.
type lexEnv struct {
	lookup  func(string) (string, bool)
	file    string
	line    int
	section string
	hasFile bool // .FILE is defined (false for -cc)
	hasSect bool // .SECTION is defined (false before the first section)
}

// lexArg is one argument: where its text starts in the output buffer and
// which source bytes produced it.
type lexArg struct {
	out      int
	rawStart int
	rawEnd   int
}

// lexResult is parse_line()'s output: HAProxy's output buffer, where every
// argument is followed by a NUL, plus argument bookkeeping.
type lexResult struct {
	out        []byte
	args       []lexArg // arguments started (at most maxLineArgs)
	nbargs     int      // arguments counted by HAProxy
	tooMany    bool
	defaultEnd int // index of the '}' closing the first "${VAR-default}", or -1
	err        lexErr
	errPos     int // index in the input of the offending byte
}

// lexer is a port of parse_line() with PARSE_OPT_ENV, DQUOTE, SQUOTE,
// BKSLASH and WORD_EXPAND always on, and SHARP (comments) optional.
type lexer struct {
	in       []byte
	i        int
	sharp    bool
	env      *lexEnv
	res      lexResult
	arg      int
	squote   bool
	dquote   bool
	quote    int
	tokStart int
}

func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func hexVal(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }

// lexLine splits in (one line, without its line feed) starting at byte
// start. Positions in the result are indexes into in.
func lexLine(in []byte, start int, sharp bool, env *lexEnv) lexResult {
	if n := bytes.IndexByte(in, 0); n >= 0 {
		in = in[:n] // C strings end at the first NUL
	}
	l := &lexer{in: in, i: start, sharp: sharp, env: env, quote: -1, tokStart: start}
	l.res.defaultEnd = -1
	l.res.args = append(l.res.args, lexArg{out: 0, rawStart: start, rawEnd: -1})
	if !l.run() {
		return l.res
	}
	l.endToken()
	l.emit(0)
	l.res.nbargs = l.arg
	if l.arg < maxLineArgs && l.res.out[l.res.args[l.arg].out] != 0 {
		l.res.nbargs++
	}
	if l.quote >= 0 {
		l.fail(lexErrQuote, l.quote)
	}
	return l.res
}

func (l *lexer) peek(off int) byte {
	if l.i+off < len(l.in) {
		return l.in[l.i+off]
	}
	return 0
}

func (l *lexer) emit(c byte) { l.res.out = append(l.res.out, c) }

func (l *lexer) fail(kind lexErr, pos int) bool {
	l.res.err = kind
	l.res.errPos = pos
	return false
}

// run is parse_line()'s main loop. It returns false on an error that made
// HAProxy leave early.
func (l *lexer) run() bool {
	for {
		c := l.peek(0)
		switch {
		case c == 0 || c == '\n' || c == '\r':
			return true
		case c == '#' && l.sharp && !l.squote && !l.dquote:
			return true
		case c == '"' && !l.squote:
			l.dquote = !l.dquote
			l.setQuote(l.dquote)
			l.i++
		case c == '\'' && !l.dquote:
			l.squote = !l.squote
			l.setQuote(l.squote)
			l.i++
		case c == '\\' && !l.squote:
			if !l.escape() {
				return false
			}
		case isCSpace(c) && !l.squote && !l.dquote:
			l.endToken()
			for isCSpace(l.peek(0)) {
				l.i++
			}
			l.tokStart = l.i
			l.newArg()
		case c == '$' && l.dquote:
			if !l.envVar() {
				return false
			}
		default:
			l.emit(c)
			l.i++
		}
	}
}

func (l *lexer) setQuote(open bool) {
	if open {
		l.quote = l.i
	} else {
		l.quote = -1
	}
}

// newArg terminates the current argument and starts the next one.
func (l *lexer) newArg() {
	l.emit(0)
	l.arg++
	if l.arg < maxLineArgs {
		l.res.args = append(l.res.args, lexArg{out: len(l.res.out), rawStart: l.tokStart, rawEnd: -1})
	} else {
		l.res.tooMany = true
	}
}

// endToken records where the source token of the pending arguments ends.
func (l *lexer) endToken() {
	for k := len(l.res.args) - 1; k >= 0 && l.res.args[k].rawEnd < 0; k-- {
		l.res.args[k].rawEnd = l.i
	}
}

// escape handles a backslash outside single quotes. Unknown sequences keep
// the backslash ("\q" stays "\q", a trailing "\" stays "\").
func (l *lexer) escape() bool {
	tosend := byte('\\')
	switch next := l.peek(1); next {
	case ' ', '\\':
		tosend = next
		l.i++
	case 't':
		tosend = '\t'
		l.i++
	case 'n':
		tosend = '\n'
		l.i++
	case 'r':
		tosend = '\r'
		l.i++
	case '#':
		if l.sharp {
			tosend = '#'
			l.i++
		}
	case '\'', '"':
		tosend = next
		l.i++
	case '$':
		if l.dquote {
			tosend = '$'
			l.i++
		}
	case 'x':
		if !isHex(l.peek(2)) || !isHex(l.peek(3)) {
			return l.fail(lexErrHex, l.i)
		}
		tosend = hexVal(l.peek(2))<<4 | hexVal(l.peek(3))
		l.i += 3
	}
	l.i++
	l.emit(tosend)
	return true
}

// envVar expands $NAME, ${NAME}, ${NAME-default} and ${NAME[*]} inside
// double quotes.
func (l *lexer) envVar() bool {
	l.i++
	brace := -1
	if l.peek(0) == '{' {
		brace = l.i
		l.i++
	}
	if c := l.peek(0); !isAlpha(c) && c != '_' && c != '.' {
		return l.fail(lexErrVarname, l.i)
	}
	nameStart := l.i
	if l.peek(0) == '.' {
		l.i++
	}
	for c := l.peek(0); isAlnum(c) || c == '_'; c = l.peek(0) {
		l.i++
	}
	value, ok, good := l.varValue(string(l.in[nameStart:l.i]))
	if !good {
		return l.fail(lexErrVarname, nameStart)
	}
	expand := false
	if l.peek(0) == '[' && brace >= 0 {
		if l.peek(1) != '*' || l.peek(2) != ']' {
			return l.fail(lexErrExpand, l.i)
		}
		l.i += 3
		expand = true
	}
	if brace >= 0 && !l.closeBrace(brace, &value, &ok) {
		return false
	}
	if ok {
		l.emitValue(value, expand)
	}
	return true
}

// closeBrace handles an optional "-default" and the closing brace of
// "${...}". The default is raw text up to the first '}', used only when the
// variable is undefined.
func (l *lexer) closeBrace(brace int, value *string, ok *bool) bool {
	if l.peek(0) == '-' {
		def := l.i + 1
		for l.peek(0) != 0 && l.peek(0) != '}' {
			l.i++
		}
		if l.peek(0) == 0 {
			return l.fail(lexErrBrace, brace)
		}
		if l.res.defaultEnd < 0 {
			l.res.defaultEnd = l.i
		}
		if !*ok {
			*value, *ok = string(l.in[def:l.i]), true
		}
	} else if l.peek(0) != '}' {
		return l.fail(lexErrBrace, brace)
	}
	l.i++
	return true
}

// varValue resolves a variable name; good is false for an unknown
// pseudo-variable (a name starting with '.').
func (l *lexer) varValue(name string) (value string, ok, good bool) {
	if name[0] != '.' {
		value, ok = l.env.lookup(name)
		if n := bytes.IndexByte([]byte(value), 0); n >= 0 {
			value = value[:n]
		}
		return value, ok, true
	}
	switch name {
	case ".LINE":
		return strconv.Itoa(l.env.line), true, true
	case ".FILE":
		return l.env.file, l.env.hasFile, true
	case ".SECTION":
		return l.env.section, l.env.hasSect, true
	}
	return "", false, false
}

// emitValue copies a variable's value, splitting it into several arguments
// on blanks when the "[*]" suffix was used.
func (l *lexer) emitValue(v string, expand bool) {
	for j := 0; j < len(v); {
		if expand && isCSpace(v[j]) {
			l.newArg()
			for j++; j < len(v) && isCSpace(v[j]); j++ {
			}
			continue
		}
		l.emit(v[j])
		j++
	}
}

// argEnd returns the index in out of the NUL that ends argument k.
func (r *lexResult) argEnd(k int) int {
	if k+1 < len(r.args) {
		return r.args[k+1].out - 1
	}
	return len(r.out) - 1
}

// fullText is argument k including any NUL produced by "\x00".
func (r *lexResult) fullText(k int) string {
	if k >= r.nbargs || k >= len(r.args) {
		return ""
	}
	return string(r.out[r.args[k].out:r.argEnd(k)])
}

// cText is argument k as HAProxy's C code sees it: cut at the first NUL.
func (r *lexResult) cText(k int) string {
	s := r.fullText(k)
	if n := bytes.IndexByte([]byte(s), 0); n >= 0 {
		return s[:n]
	}
	return s
}

// mergedFrom rebuilds the text HAProxy passes to the condition evaluator:
// everything from argument k to the end, NULs turned into spaces.
func (r *lexResult) mergedFrom(k int) string {
	start := len(r.out) - 1
	if k < r.nbargs && k < len(r.args) {
		start = r.args[k].out
	}
	return string(bytes.ReplaceAll(r.out[start:len(r.out)-1], []byte{0}, []byte{' '}))
}
