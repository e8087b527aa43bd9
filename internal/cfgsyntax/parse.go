package cfgsyntax

import (
	"bytes"
	"errors"
	"fmt"
)

const (
	lineSize       = 2048 // HAProxy's LINESIZE: initial line buffer
	maxNestedConds = 100  // HAProxy's MAXNESTEDCONDS
	maxFatal       = 50   // readcfgfile() gives up after this many fatal errors
)

// flow tells the read loop what to do after a line, mirroring the
// "goto next_line", "break" and "goto err" of readcfgfile().
type flow int

const (
	flowNext  flow = iota // go on with the next line
	flowBreak             // stop reading, but still run the end-of-file checks
	flowAbort             // stop at once, skipping the end-of-file checks
)

// sections lists the keywords that open a section in HAProxy 2.6 (as built
// by Debian, which includes namespace_list); they drive ".SECTION".
var sections = map[string]bool{
	"global": true, "defaults": true, "frontend": true, "backend": true,
	"listen": true, "userlist": true, "peers": true, "mailers": true,
	"namespace_list": true, "resolvers": true, "cache": true, "program": true,
	"http-errors": true, "ring": true, "log-forward": true, "fcgi-app": true,
}

// parser holds readcfgfile()'s state for one file.
type parser struct {
	file      string
	opt       *Options
	env       lexEnv
	lines     []Line
	msgs      []Message
	errs      []error
	linenum   int
	fatal     int
	outCap    int // size of HAProxy's output buffer, grown in 1024-byte steps
	conds     []condState
	scope     string
	inSection bool
	abortNext bool // a scope error with ERR_ABORT waits for the next statement
}

// Parse lexes one file. Conditional blocks are resolved here: lines in false
// branches are not returned. An .alert in a taken branch is a fatal *Error.
// Unterminated quotes, unbalanced/misplaced .elif/.else/.endif, an .if still
// open at end of file, unknown conditional directives or condition functions
// are *Error. Several errors may be returned joined with errors.Join (each a
// *Error) where HAProxy would keep going. The lines and messages gathered
// before parsing stopped are returned even when err is not nil.
func Parse(file string, src []byte, opt *Options) ([]Line, []Message, error) {
	p := &parser{file: file, opt: opt}
	p.env = lexEnv{lookup: opt.lookup(), file: file, hasFile: true}
	p.read(src)
	var err error
	switch len(p.errs) {
	case 0:
	case 1:
		err = p.errs[0]
	default:
		err = errors.Join(p.errs...)
	}
	return p.lines, p.msgs, err
}

func (p *parser) errorf(col int, format string, args ...any) {
	p.errs = append(p.errs, &Error{Pos: Pos{File: p.file, Line: p.linenum, Col: col}, Msg: fmt.Sprintf(format, args...)})
}

// read emulates readcfgfile()'s fgets() loop, including the line buffer that
// doubles when a line does not fit and the NUL-byte checks.
func (p *parser) read(src []byte) {
	size, kept, pos := lineSize, 0, 0
	missingLF := -1
	var buf []byte
	for pos < len(src) {
		n := 0
		for n < size-kept-1 && pos+n < len(src) {
			n++
			if src[pos+n-1] == '\n' {
				break
			}
		}
		buf = append(buf[:kept], src[pos:pos+n]...)
		pos += n
		if missingLF >= 0 {
			p.errorf(0, "Stray NUL character at position %d.", missingLF+1)
			missingLF = -1
			break
		}
		p.linenum++
		if p.fatal >= maxFatal {
			p.errorf(0, "too many fatal errors (%d), stopping now.", p.fatal)
			break
		}
		end := len(buf)
		if z := bytes.IndexByte(buf, 0); z >= 0 {
			end = z
		}
		if end == size-1 && buf[end-1] != '\n' {
			kept, size = size-1, size*2
			p.linenum--
			continue
		}
		kept = 0
		line := buf[:end]
		if end > 0 && line[end-1] == '\n' {
			line = line[:end-1]
		} else {
			missingLF = end
		}
		switch p.line(line) {
		case flowAbort:
			return
		case flowBreak:
			pos = len(src)
		}
	}
	p.finish(missingLF)
}

// finish runs the end-of-file checks of readcfgfile().
func (p *parser) finish(missingLF int) {
	if missingLF >= 0 {
		p.errorf(0, "Missing LF on last line, file might have been truncated at position %d.", missingLF+1)
	}
	if len(p.conds) > 0 {
		p.errorf(0, "non-terminated '.if' block.")
	}
}

// line processes one line (without its line feed).
func (p *parser) line(line []byte) flow {
	start := 0
	for start < len(line) && isCSpace(line[start]) {
		start++
	}
	if start < len(line) && line[start] == '[' {
		p.scopeLine(line, start)
		return flowNext
	}
	p.env.line = p.linenum
	res := lexLine(line, start, true, &p.env)
	if res.err == lexOK && len(res.out) > p.outCap {
		// HAProxy's output buffer was too small: it grows it and parses the
		// line again, but the first pass replaced the '}' closing each
		// "${VAR-default}" with a NUL, so the second pass fails.
		p.outCap = (len(res.out) + 1023) &^ 1023
		if res.defaultEnd >= 0 {
			res = lexLine(line[:res.defaultEnd], start, true, &p.env)
		}
	}
	if res.err != lexOK || res.tooMany {
		p.lexError(line, &res)
		return flowNext
	}
	if res.nbargs == 0 || res.cText(0) == "" {
		return flowNext
	}
	if res.cText(0)[0] == '.' {
		if f, done := p.condDirective(&res); done {
			return f
		}
	}
	if p.masked() {
		return flowNext
	}
	if res.cText(0)[0] == '.' {
		return p.msgDirective(&res)
	}
	return p.statement(line, &res)
}

// lexError reports a line that parse_line() rejected.
func (p *parser) lexError(line []byte, res *lexResult) {
	p.fatal++
	col := res.errPos + 1
	switch res.err {
	case lexErrQuote:
		p.errorf(col, "unmatched quote at position %d", col)
	case lexErrBrace:
		p.errorf(col, "unmatched brace in environment variable name at position %d", col)
	case lexErrVarname:
		p.errorf(col, "forbidden first char in environment variable name at position %d", col)
	case lexErrHex:
		p.errorf(col, "truncated or invalid hexadecimal sequence at position %d", col)
	case lexErrExpand:
		p.errorf(col, "truncated or invalid word expansion sequence at position %d", col)
	default:
		last := res.args[maxLineArgs-1]
		p.errorf(last.rawStart+1, "too many words, truncating after word %d, position %d: <%s>.",
			maxLineArgs, last.out+1, res.cText(maxLineArgs-1))
	}
}

// scopeLine handles a "[name]" scope declaration (cfg_parse_scope()). It is
// processed before conditional blocks, so it acts even in false branches.
func (p *parser) scopeLine(line []byte, start int) {
	beg := start + 1
	end := bytes.IndexByte(line[beg:], ']')
	if end <= 0 {
		p.errorf(start+1, "empty scope name is forbidden.")
		return
	}
	end += beg
	for i := beg; i < end; i++ {
		if c := line[i]; !isAlnum(c) && c != '.' && c != ':' && c != '_' && c != '-' {
			p.errorf(i+1, "character '%c' is not permitted in a scope name.", c)
			p.abortNext = true
			return
		}
	}
	rest := end + 1
	for rest < len(line) && isCSpace(line[rest]) {
		rest++
	}
	if rest < len(line) && line[rest] != '#' {
		p.errorf(rest+1, "character '%c' is not permitted after scope declaration.", line[rest])
		p.abortNext = true
		return
	}
	p.scope = string(line[beg:end])
}

// statement records a regular statement and tracks the current section.
func (p *parser) statement(line []byte, res *lexResult) flow {
	kw, name := 0, 1
	if w := res.cText(0); (w == "no" || w == "default") && res.cText(1) != "" {
		kw, name = 1, 2
	}
	if sections[res.cText(kw)] {
		p.inSection = true
		p.env.section, p.env.hasSect = res.cText(kw), true
		if n := res.cText(name); n != "" {
			p.env.section = n
		}
	}
	words := make([]Word, 0, res.nbargs)
	for k := 0; k < res.nbargs; k++ {
		a := res.args[k]
		words = append(words, Word{
			Text: res.cText(k),
			Raw:  string(line[a.rawStart:a.rawEnd]),
			Pos:  Pos{File: p.file, Line: p.linenum, Col: a.rawStart + 1},
		})
	}
	for len(words) > 0 && words[len(words)-1].Text == "" {
		words = words[:len(words)-1]
	}
	p.lines = append(p.lines, Line{Pos: words[0].Pos, Words: words, Scope: p.scope})
	if p.abortNext && p.inSection {
		return flowAbort
	}
	return flowNext
}
