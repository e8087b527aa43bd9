package config

import (
	"fmt"
	"sort"
	"strings"

	"sluice/internal/cfgsyntax"
)

// Status says what Sluice does with a keyword HAProxy knows.
type Status int

// Keyword statuses. Every HAProxy keyword in a table has exactly one; none is
// silently ignored.
const (
	// Supported keywords are parsed and honoured.
	Supported Status = iota
	// NoEffect keywords cannot change what Sluice does (tuning knobs of
	// HAProxy's internals): accepted with a warning naming them.
	NoEffect
	// Pending keywords are parsed and validated with HAProxy's rules, then
	// refused: Sluice does not implement their behaviour yet and will not
	// run a configuration whose meaning it would change.
	Pending
	// Unsupported keywords are refused outright.
	Unsupported
)

// String names the status for the keyword reference.
func (s Status) String() string {
	return [...]string{"supported", "accepted, no effect (warning)", "not supported yet", "not supported"}[s]
}

// keyword is one row of a section's table.
type keyword struct {
	name string
	// caps restricts proxy keywords: CapFE and/or CapBE, plus CapDefaults
	// when the keyword may appear in a defaults section.
	caps Cap
	// namedDefaults: allowed in defaults only when the section is named.
	namedDefaults bool
	status        Status
	parse         func(c *ctx)
	doc           string
}

// table is a section's keywords by name.
type table map[string]*keyword

func (t table) add(kws ...*keyword) table {
	for _, k := range kws {
		t[k.name] = k
	}
	return t
}

func (t table) names() []string { return sortedKeys(t) }

// sortedKeys lists a keyword table's names in order, for did-you-mean
// suggestions and "expects 'a', 'b' or 'c'" messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ctx is one statement being parsed.
type ctx struct {
	l     *loader
	pos   Pos
	words []cfgsyntax.Word
	proxy *Proxy
	kw    *keyword
	// no is set for "no <keyword>" lines; def for "default <keyword>".
	no, def bool
	// alerts counts alerts raised for this line, so dispatch knows whether
	// the line itself was valid before judging its status.
	alerts int
	// valueResponse: the log-format values being checked belong to a
	// response rule, which cannot read the request's headers.
	valueResponse bool
}

// arg returns word i (0 is the keyword) or "".
func (c *ctx) arg(i int) string {
	if i < len(c.words) {
		return c.words[i].Text
	}
	return ""
}

// args returns the texts of words from i on.
func (c *ctx) args(i int) []string {
	if i >= len(c.words) {
		return nil
	}
	out := make([]string, 0, len(c.words)-i)
	for _, w := range c.words[i:] {
		out = append(out, w.Text)
	}
	return out
}

// nargs is the number of words after the keyword's own words.
func (c *ctx) nargs() int { return len(c.words) - 1 }

func (c *ctx) alertf(format string, a ...any) {
	c.alerts++
	c.l.diags.parsing(SevAlert, c.pos, format, a...)
}

func (c *ctx) warnf(format string, a ...any) {
	c.l.diags.parsing(SevWarning, c.pos, format, a...)
}

// nonFatalAlertf prints an alert that does not fail the load, as HAProxy
// does for a few repeated settings.
func (c *ctx) nonFatalAlertf(format string, a ...any) {
	c.l.diags.parsing(SevAlert, c.pos, format, a...)
	c.l.diags[len(c.l.diags)-1].NonFatal = true
}

// refused marks the alert just raised as a refusal of a valid keyword.
func (c *ctx) refused() {
	c.l.diags[len(c.l.diags)-1].Refusal = true
}

// tightAlertf reports in HAProxy's "parsing [file:line]: ..." shape (no
// space before the colon), which some of its rule parsers use.
func (c *ctx) tightAlertf(format string, a ...any) {
	c.alerts++
	c.l.diags.global(SevAlert, c.pos, "parsing [%s:%d]: %s", c.pos.File, c.pos.Line, fmt.Sprintf(format, a...))
}

// tightWarnf is tightAlertf's warning.
func (c *ctx) tightWarnf(format string, a ...any) {
	c.l.diags.global(SevWarning, c.pos, "parsing [%s:%d]: %s", c.pos.File, c.pos.Line, fmt.Sprintf(format, a...))
}

// placeAlertf reports in HAProxy's "[file:line] : ..." shape.
func (c *ctx) placeAlertf(format string, a ...any) {
	c.alerts++
	c.l.diags.place(SevAlert, c.pos, format, a...)
}

// directive records the line as a validated directive for later engines.
func (c *ctx) directive(name string, from int) *Directive {
	d := &Directive{Pos: c.pos, Keyword: name, Args: c.args(from)}
	if c.proxy != nil {
		c.proxy.Directives = append(c.proxy.Directives, d)
	}
	return d
}

// judge applies a keyword's status once its arguments were parsed.
func (c *ctx) judge(name string, st Status) {
	if c.alerts > 0 {
		return
	}
	switch st {
	case NoEffect:
		c.warnf("'%s' has no effect in Sluice; it is accepted and ignored.", name)
	case Pending:
		c.alertf("'%s' is not supported yet by Sluice.", name)
		c.refused()
	case Unsupported:
		c.alertf("'%s' is not supported by Sluice.", name)
		c.refused()
	}
}

// dispatch finds the line's keyword in t and runs it.
func dispatch(c *ctx, t table, secName string) {
	name := c.words[0].Text
	if (name == "no" || name == "default") && len(c.words) > 1 {
		c.no, c.def = name == "no", name == "default"
		c.words = c.words[1:]
		name = c.words[0].Text
	}
	kw := t[name]
	if kw == nil {
		c.alertf("unknown keyword '%s' in '%s' section%s", name, secName, didYouMean(name, t.names()))
		return
	}
	c.kw = kw
	if c.proxy != nil && !c.checkCaps(kw, secName) {
		return
	}
	if kw.parse != nil {
		kw.parse(c)
	}
	c.judge(kwLabel(c), kw.status)
}

// kwLabel names the statement for status messages ("option httplog").
func kwLabel(c *ctx) string {
	return c.words[0].Text
}

// checkCaps applies HAProxy's rules for keywords used in a proxy that lacks
// the capability they need: a warning and the line is ignored, except for
// servers, which are fatal.
func (c *ctx) checkCaps(kw *keyword, secName string) bool {
	p := c.proxy
	if p.Cap&CapDefaults != 0 {
		if kw.caps&CapDefaults == 0 {
			c.alertf("'%s' not allowed in 'defaults' section.", kw.name)
			return false
		}
		if kw.namedDefaults && p.Name == "" {
			c.alertf("'%s' not allowed in anonymous 'defaults' section.", kw.name)
			return false
		}
		return true
	}
	need := kw.caps & (CapFE | CapBE)
	if need == 0 || p.Cap&need != 0 {
		return true
	}
	what := "frontend"
	if need == CapFE {
		what = "frontend"
	} else {
		what = "backend"
	}
	if kw.name == "server" || kw.name == "default-server" || kw.name == "server-template" {
		c.placeAlertf("parsing [%s:%d] : '%s' not allowed because %s '%s' has no %s capability.", c.pos.File, c.pos.Line, kw.name, p.Kind, p.Name, what)
		return false
	}
	c.warnf("'%s' ignored because %s '%s' has no %s capability.", kw.name, p.Kind, p.Name, what)
	return false
}

// subKeyword is a row of a second-level table (option, timeout, actions).
type subKeyword struct {
	status Status
	parse  func(c *ctx, at int)
	doc    string
}

// quoteList formats names as 'a', 'b' and 'c' for HAProxy-style messages.
func quoteList(names []string, last string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + last + " " + q[len(q)-1]
}
