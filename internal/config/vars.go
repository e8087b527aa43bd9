package config

import (
	"errors"
	"fmt"
	"strings"

	"sluice/internal/logfmt"
	"sluice/internal/sample"
)

// isVarAction says whether a rule's action is set-var, set-var-fmt or
// unset-var (with or without its parenthesised name).
func isVarAction(stem string) bool {
	return stem == "set-var" || stem == "set-var-fmt" || stem == "unset-var"
}

const varActionUsage = "Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'."

// validateVarRule checks `set-var(<name>[,<cond>...]) <expr>`,
// `set-var-fmt(<name>[,<cond>...]) <fmt>` and `unset-var(<name>)` with
// HAProxy 2.6's messages, and records the variable and its conditions in
// the rule.
func (c *ctx) validateVarRule(r *Rule, fail func(string, ...any)) {
	action, stem := r.Action, actionStem(r.Action)
	open := strings.IndexByte(action, '(')
	if open < 0 {
		fail("invalid or incomplete action '%s'. %s", action, varActionUsage)
		return
	}
	end := strings.IndexByte(action, ')')
	if end < open {
		fail("incomplete argument after action '%s'. %s", action, varActionUsage)
		return
	}
	inner := action[open+1 : end]
	name, conds, hasConds := strings.Cut(inner, ",")
	if hasConds && stem == "unset-var" {
		fail("unset-var does not expect parameters after the variable name. Only \"set-var\" and \"set-var-fmt\" manage conditions.")
		return
	}
	v, err := sample.ParseVarName(name)
	if err != nil {
		var se *sample.VarSyntaxError
		if errors.As(err, &se) {
			fail("invalid syntax at char '%s'.", action[open+1+se.At:])
		} else {
			fail("%v.", err)
		}
		return
	}
	r.Var = v
	if hasConds {
		for _, w := range strings.Split(conds, ",") {
			cond, err := sample.ParseVarCond(w)
			if err != nil {
				fail("%v.", err)
				return
			}
			r.VarCond |= cond
		}
	}
	a := r.Args
	max := 1
	if stem == "unset-var" {
		max = 0
	}
	if len(a) > max {
		c.ruleExtraArg(r, a[max])
		return
	}
	switch stem {
	case "set-var":
		if len(a) == 0 {
			fail("missing fetch method.")
			return
		}
		c.validateRuleExpr(a[0], r.Family != "http-request" && strings.HasPrefix(r.Family, "http-"), fail, action)
		if c.alerts == 0 && earlyFamily(r.Family) {
			c.checkEarlyExpr(a[0], action, fail)
		}
	case "set-var-fmt":
		if len(a) == 1 {
			c.validateValue(a[0], fail)
		}
	}
}

// earlyFamily: rules that run before a stream exists, when no request data
// was read.
func earlyFamily(f string) bool {
	return f == "tcp-request connection" || f == "tcp-request session"
}

// checkEarlyExpr refuses fetches that read request data in rules that run
// before any was read.
func (c *ctx) checkEarlyExpr(expr, action string, fail func(string, ...any)) {
	name, _, _, _ := sample.SplitExpr(expr)
	f, ok := sample.LookupFetch(name)
	if !ok {
		return
	}
	switch f.Layer {
	case sample.L6:
		fail("fetch method '%s' extracts information from 'request buffer', none of which is available here.", action)
	case sample.L7:
		fail("fetch method '%s' extracts information from 'HTTP request headers', none of which is available here.", action)
	}
}

// ruleExtraArg reports a word left after a rule's arguments, as HAProxy
// words it for the rule's family.
func (c *ctx) ruleExtraArg(r *Rule, w string) {
	if strings.HasPrefix(r.Family, "tcp-") {
		c.alertf("'%s %s' only accepts 'if' or 'unless', in %s '%s' (got '%s')", r.Family, r.Action, c.proxy.Kind, c.proxy.Name, w)
		return
	}
	c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.Family, r.Action, w)
}

// validateTCPRule checks the arguments of a tcp-request rule Sluice runs.
// HAProxy words these messages without the "error detected" prefix and
// without a final period.
func (c *ctx) validateTCPRule(r *Rule) {
	fail := func(format string, a ...any) {
		c.alertf("%s", strings.TrimSuffix(fmt.Sprintf(format, a...), "."))
	}
	if isVarAction(actionStem(r.Action)) {
		c.validateVarRule(r, fail)
	}
	switch r.Action {
	case "set-src", "set-src-port", "set-dst", "set-dst-port":
		c.validateAddrRule(r, fail)
	}
	if r.Action == "set-log-level" {
		switch {
		case len(r.Args) == 0 || !validLogLevel(r.Args[0]):
			c.alertf("expects exactly 1 argument (log level name or 'silent')")
		case len(r.Args) > 1:
			c.alertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'", r.Family, r.Action, r.Args[1])
		}
	}
}

// checkVarRules refuses variable rules Sluice would run differently from
// HAProxy. In a tcp proxy, HAProxy reads HTTP out of the payload for
// Layer 7 fetches; Sluice has no HTTP message there, so a variable rule
// using one is refused, as conditions using one are. (In an http proxy,
// tcp-request content rules run for each request, with its head parsed,
// as in HAProxy.)
func (l *loader) checkVarRules(p *Proxy) {
	if p.Mode == ModeHTTP {
		return
	}
	for _, fam := range []string{"tcp-request connection", "tcp-request session", "tcp-request content"} {
		for _, r := range p.Rules[fam] {
			if !isVarAction(actionStem(r.Action)) || len(r.Args) == 0 {
				continue
			}
			for _, name := range exprFetches(actionStem(r.Action), r.Args[0]) {
				if isL7(name) {
					l.diags.parsing(SevAlert, r.Pos, "'%s %s' : fetch method '%s' in mode tcp is not supported yet by Sluice.", fam, actionStem(r.Action), name)
					l.diags[len(l.diags)-1].Refusal = true
				}
			}
		}
	}
}

// exprFetches lists the fetches a set-var expression or a set-var-fmt
// format reads.
func exprFetches(stem, arg string) []string {
	if stem == "set-var" {
		name, _, _, _ := sample.SplitExpr(arg)
		return []string{name}
	}
	f, _, err := logfmt.CompileWith(arg, logfmt.Options{Mode: logfmt.HTTP, UniqueID: true})
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range f.Exprs() {
		out = append(out, e.Fetch.Name)
	}
	return out
}
