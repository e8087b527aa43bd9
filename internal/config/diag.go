// Package config turns HAProxy 2.6 configuration files into Sluice's typed,
// validated model. Every directive is a row in a keyword table; every problem
// becomes a Diag that names file:line in HAProxy's words, so people and tools
// that read HAProxy's output read ours.
package config

import (
	"fmt"
	"strings"

	"sluice/internal/cfgsyntax"
)

// Severity orders diagnostics the way HAProxy prints them.
type Severity int

// Severities, from informational to fatal.
const (
	SevNotice Severity = iota
	SevWarning
	SevAlert
)

// String returns HAProxy's tag for the severity.
func (s Severity) String() string {
	switch s {
	case SevNotice:
		return "NOTICE"
	case SevWarning:
		return "WARNING"
	default:
		return "ALERT"
	}
}

// Diag is one message about the configuration. Msg is the whole text HAProxy
// would print after "config : " (it names file:line itself, in whichever of
// HAProxy's shapes fits the message); Pos repeats the place for tools, and is
// zero for messages about the configuration as a whole.
type Diag struct {
	Sev Severity
	Pos cfgsyntax.Pos
	Msg string
	// NonFatal marks the few alerts HAProxy prints without failing the
	// load (e.g. "user/uid already specified. Continuing.").
	NonFatal bool
	// Refusal marks alerts that only refuse a valid keyword Sluice cannot
	// run yet: the rest of the configuration is still checked in full.
	Refusal bool
}

// Error makes a Diag usable as an error.
func (d Diag) Error() string { return d.Msg }

// Diags collects the messages of one load.
type Diags []Diag

// HasAlerts reports whether any message is fatal.
func (ds Diags) HasAlerts() bool {
	for _, d := range ds {
		if d.Sev == SevAlert && !d.NonFatal {
			return true
		}
	}
	return false
}

// HasWarnings reports whether any message is a warning.
func (ds Diags) HasWarnings() bool {
	for _, d := range ds {
		if d.Sev == SevWarning {
			return true
		}
	}
	return false
}

// String renders all messages one per line, for tests and logs.
func (ds Diags) String() string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "[%s] %s\n", d.Sev, d.Msg)
	}
	return b.String()
}

// parsing records a message about one line: "parsing [file:line] : msg".
func (ds *Diags) parsing(sev Severity, pos cfgsyntax.Pos, format string, args ...any) {
	*ds = append(*ds, Diag{Sev: sev, Pos: pos, Msg: fmt.Sprintf("parsing [%s:%d] : ", pos.File, pos.Line) + fmt.Sprintf(format, args...)})
}

// place records a message about an object defined at a line: "[file:line] : msg".
func (ds *Diags) place(sev Severity, pos cfgsyntax.Pos, format string, args ...any) {
	*ds = append(*ds, Diag{Sev: sev, Pos: pos, Msg: fmt.Sprintf("[%s:%d] : ", pos.File, pos.Line) + fmt.Sprintf(format, args...)})
}

// global records a message that names no line of its own.
func (ds *Diags) global(sev Severity, pos cfgsyntax.Pos, format string, args ...any) {
	*ds = append(*ds, Diag{Sev: sev, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}
