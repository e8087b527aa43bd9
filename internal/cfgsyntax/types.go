package cfgsyntax

import (
	"fmt"
	"os"
	"strconv"
)

// Pos is a position in a configuration file. Later stages keep it so that
// every diagnostic can point at the place HAProxy would name.
type Pos struct {
	File string
	Line int
	Col  int // 1-based byte column; 0 when the whole line is meant
}

// String names the place the way HAProxy does ("file:line"), so Sluice's
// messages read like HAProxy's.
func (p Pos) String() string {
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Word is one argument after quote removal, escape processing and
// environment expansion. Keyword parsers use Text; Raw and Pos exist so that
// diagnostics can quote and locate what the user actually wrote.
type Word struct {
	Text string // the value, cut at the first NUL byte as HAProxy's C strings are
	Raw  string // the source bytes of the word as written (the whole token for words split by "${VAR[*]}")
	Pos  Pos    // where the word starts (Col is 1-based byte column)
}

// Line is one statement: the words of one configuration line that survived
// conditional blocks. Words never starts with an empty word (HAProxy ignores
// such lines) and never ends with one (HAProxy cannot tell a trailing empty
// argument from the end of the list), but empty words may appear in between:
// HAProxy 2.6 keeps them and most keyword parsers stop at the first one.
type Line struct {
	Pos   Pos
	Words []Word
	// Scope is the name of the "[name]" scope declaration in force
	// (HAProxy's cfg_scope), or "" when none was declared in this file.
	Scope string
}

// Args returns the words up to (excluding) the first empty one, which is
// what most HAProxy 2.6 keyword parsers see since they loop while *args[i].
func (l Line) Args() []Word {
	for i, w := range l.Words {
		if w.Text == "" {
			return l.Words[:i]
		}
	}
	return l.Words
}

// Severity tells how loud a Message is, mirroring HAProxy's log levels for
// configuration messages so callers can print or filter them the same way.
type Severity int

// Severities of messages, from the quietest (.diag, shown by HAProxy only in
// diagnostic mode -dD) to .alert (always fatal).
const (
	SevDiag Severity = iota
	SevNotice
	SevWarning
	SevAlert
)

// String returns HAProxy's tag for the severity ("DIAG", "NOTICE", ...).
func (s Severity) String() string {
	switch s {
	case SevDiag:
		return "DIAG"
	case SevNotice:
		return "NOTICE"
	case SevWarning:
		return "WARNING"
	case SevAlert:
		return "ALERT"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// Message is something the file itself asked to print (.diag, .notice,
// .warning, .alert) in a branch that was taken. HAProxy 2.6's lexer has no
// non-fatal remarks of its own (it does not warn about empty arguments), so
// only directives produce messages. Text is the directive's argument.
type Message struct {
	Sev  Severity
	Pos  Pos
	Text string
}

// Options carries what HAProxy would take from its process and build:
// the environment, its version and its feature list. Keeping them injectable
// makes the lexer pure and testable.
type Options struct {
	LookupEnv func(name string) (string, bool) // nil means os.LookupEnv
	Version   string                           // version reported to version_atleast()/version_before(); "" means "2.6"
	Features  []string                         // names for which feature(NAME) is true

	// SSLLibName and SSLLibVersion answer ssllib_name_startswith() and
	// openssl_version_atleast()/openssl_version_before(), which HAProxy 2.6
	// also has. With SSLLibVersion empty those two predicates fail to
	// evaluate, as in an HAProxy built without OpenSSL.
	SSLLibName    string
	SSLLibVersion string
}

func (o *Options) lookup() func(string) (string, bool) {
	if o == nil || o.LookupEnv == nil {
		return os.LookupEnv
	}
	return o.LookupEnv
}

func (o *Options) version() string {
	if o == nil || o.Version == "" {
		return "2.6"
	}
	return o.Version
}

func (o *Options) hasFeature(name string) bool {
	if o == nil {
		return false
	}
	for _, f := range o.Features {
		if f == name {
			return true
		}
	}
	return false
}

// Error is a fatal lexing problem. It carries the position separately so
// callers can sort or locate errors, and formats itself like HAProxy.
type Error struct {
	Pos Pos
	Msg string
}

// Error returns "parsing [FILE:LINE] : MESSAGE" in HAProxy's shape, or just
// the message when there is no file (errors from SplitArgs/EvalCondition).
func (e *Error) Error() string {
	if e.Pos.File == "" && e.Pos.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("parsing [%s] : %s", e.Pos, e.Msg)
}
