package cfgsyntax

import (
	"fmt"
	"strings"
)

// EvalCondition evaluates a condition given as already-split words (as after
// `.if`, or haproxy's `-cc` argument lexed like a config line). Like HAProxy
// it joins the words with single spaces (NUL bytes become spaces too), then
// parses the whole text before evaluating it, so a syntax error is reported
// even in a branch that && or || would skip. No words, or only empty text,
// is false. Errors are *Error values whose message matches HAProxy's and
// whose Pos.Col is the 1-based offset in the joined text (0 if none).
func EvalCondition(words []string, opt *Options) (bool, error) {
	text := strings.ReplaceAll(strings.Join(words, " "), "\x00", " ")
	ok, err := evalText(text, opt)
	if err != nil {
		e := err.(*condError)
		return false, &Error{Pos: Pos{Col: e.pos + 1}, Msg: e.msg}
	}
	return ok, nil
}

// SplitArgs lexes a single string as one configuration line would be (used
// for -cc). It follows haproxy -cc exactly: quotes, escapes and "$VAR"
// expansion inside double quotes work as in a file, but '#' does not start a
// comment and leading blanks produce an empty first word, since -cc does not
// enable those line-level rules. ".LINE" expands to "0"; ".FILE" and
// ".SECTION" are undefined. So that EvalCondition(SplitArgs(s)) evaluates
// exactly the text haproxy -cc evaluates, words keep any NUL byte made by
// "\x00", and blanks after the last word yield a final empty word (haproxy
// keeps them in the condition text; they show in its error messages).
// Errors are *Error values with Pos.Col set to the 1-based offending byte.
func SplitArgs(s string, opt *Options) ([]string, error) {
	env := &lexEnv{lookup: opt.lookup()}
	res := lexLine([]byte(s), 0, false, env)
	if res.err != lexOK || res.tooMany {
		return nil, splitError(&res)
	}
	if len(res.out) == 1 {
		return nil, nil
	}
	words := make([]string, len(res.args))
	for k := range words {
		a := res.args[k]
		words[k] = string(res.out[a.out:res.argEnd(k)])
	}
	return words, nil
}

func splitError(res *lexResult) error {
	col := res.errPos + 1
	var msg string
	switch res.err {
	case lexErrQuote:
		msg = "unmatched quote"
	case lexErrBrace:
		msg = "unmatched brace in environment variable name"
	case lexErrVarname:
		msg = "forbidden first char in environment variable name"
	case lexErrHex:
		msg = "truncated or invalid hexadecimal sequence"
	case lexErrExpand:
		msg = "truncated or invalid word expansion sequence"
	default:
		return &Error{Pos: Pos{Col: res.args[maxLineArgs-1].rawStart + 1}, Msg: "Too many words."}
	}
	return &Error{Pos: Pos{Col: col}, Msg: fmt.Sprintf("%s at position %d", msg, col)}
}
