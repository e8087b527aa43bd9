package config

import (
	"errors"
	"strings"

	"sluice/internal/check"
)

// actionSpec describes one action of a rule family.
type actionSpec struct {
	status Status
	// minArgs/maxArgs count words between the action and if/unless
	// (maxArgs < 0: unbounded).
	minArgs, maxArgs int
}

func actions(st Status, min, max int, names string) map[string]actionSpec {
	m := map[string]actionSpec{}
	for _, n := range strings.Fields(names) {
		m[n] = actionSpec{st, min, max}
	}
	return m
}

func merge(ms ...map[string]actionSpec) map[string]actionSpec {
	out := map[string]actionSpec{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Rule families and their actions. Every HAProxy 2.6 action is listed with a
// status; parameterised actions like set-var(name) are keyed by their stem.
var ruleActions = map[string]map[string]actionSpec{
	"tcp-request connection": merge(
		actions(Supported, 0, 0, "accept reject silent-drop"),
		actions(Supported, 1, 1, "expect-proxy"),
		actions(Pending, 1, 1, "expect-netscaler-cip"),
		actions(Supported, 0, -1, "set-var set-var-fmt unset-var"),
		actions(Supported, 0, -1, "set-src set-src-port set-dst set-dst-port"),
		actions(Unsupported, 1, -1, "capture track-sc0 track-sc1 track-sc2 sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0 set-mark set-tos send-spoe-group"),
	),
	"tcp-request session": merge(
		actions(Supported, 0, 0, "accept reject silent-drop"),
		actions(Supported, 0, -1, "set-var set-var-fmt unset-var"),
		actions(Supported, 0, -1, "set-src set-dst"),
		actions(Unsupported, 1, -1, "track-sc0 track-sc1 track-sc2 sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0 set-mark set-tos"),
	),
	"tcp-request content": merge(
		actions(Supported, 0, 0, "accept reject silent-drop"),
		actions(Pending, 2, 2, "switch-mode"),
		actions(Supported, 0, -1, "set-var set-var-fmt unset-var set-log-level"),
		actions(Supported, 0, -1, "set-src set-src-port set-dst set-dst-port"),
		actions(Unsupported, 1, -1, "capture do-resolve use-service track-sc0 track-sc1 track-sc2 sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0 set-priority-class set-priority-offset set-nice set-mark set-tos send-spoe-group set-bandwidth-limit"),
	),
	"tcp-response content": merge(
		actions(Pending, 0, 0, "accept reject close silent-drop"),
		actions(Unsupported, 1, -1, "set-var set-var-fmt unset-var send-spoe-group sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0 set-log-level set-nice set-mark set-tos capture"),
	),
	"http-request": merge(
		actions(Supported, 2, 2, "set-header add-header"),
		actions(Supported, 1, 3, "del-header"),
		actions(Supported, 3, 3, "replace-header replace-value"),
		actions(Supported, 1, 1, "set-path set-pathq set-query set-uri set-method"),
		actions(Supported, 0, -1, "set-log-level"),
		actions(Pending, 1, 1, "set-nice set-mark set-tos early-hint"),
		actions(Supported, 0, -1, "set-src set-src-port set-dst set-dst-port"),
		actions(Supported, 2, 2, "replace-path replace-pathq replace-uri"),
		actions(Supported, 0, -1, "set-timeout"),
		actions(Supported, 0, -1, "redirect"),
		actions(Supported, 0, -1, "capture set-var set-var-fmt unset-var"),
		actions(Pending, 1, -1, "normalize-uri track-sc0 track-sc1 track-sc2 track-sc add-acl del-acl set-map del-map cache-use use-service sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0 do-resolve set-priority-class set-priority-offset strict-mode send-spoe-group"),
		actions(Supported, 0, -1, "wait-for-body"),
		actions(Supported, 0, -1, "deny return"),
		actions(Supported, 0, -1, "tarpit"),
		actions(Supported, 0, -1, "auth"),
		actions(Supported, 0, 0, "allow"),
		actions(Supported, 0, 0, "reject silent-drop"),
		actions(Pending, 0, 0, "disable-l7-retry wait-for-handshake"),
		actions(Unsupported, 1, -1, "set-bandwidth-limit ot-group lua"),
	),
	"http-response": merge(
		actions(Supported, 2, 2, "set-header add-header"),
		actions(Supported, 1, 3, "del-header"),
		actions(Supported, 3, 3, "replace-header replace-value"),
		actions(Supported, 1, 3, "set-status"),
		actions(Supported, 0, -1, "capture set-var set-var-fmt unset-var"),
		actions(Supported, 0, -1, "set-log-level"),
		actions(Pending, 1, -1, "redirect track-sc0 track-sc1 track-sc2 add-acl del-acl set-map del-map cache-store sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0 set-nice set-mark set-tos wait-for-body strict-mode send-spoe-group"),
		actions(Supported, 0, -1, "deny return"),
		actions(Supported, 0, 0, "allow silent-drop"),
		actions(Unsupported, 1, -1, "set-bandwidth-limit ot-group lua"),
	),
	"http-after-response": merge(
		actions(Supported, 2, 2, "set-header add-header"),
		actions(Supported, 1, 3, "del-header"),
		actions(Supported, 3, 3, "replace-header replace-value"),
		actions(Supported, 1, 3, "set-status"),
		actions(Supported, 0, -1, "set-var set-var-fmt unset-var"),
		actions(Pending, 1, -1, "capture set-map del-map del-acl add-acl strict-mode sc-inc-gpc sc-inc-gpc0 sc-inc-gpc1 sc-set-gpt sc-set-gpt0"),
		actions(Supported, 0, 0, "allow"),
	),
}

// actionStem strips a parameter: set-var(txn.x) -> set-var.
func actionStem(a string) string {
	if i := strings.IndexByte(a, '('); i > 0 {
		return a[:i]
	}
	return a
}

// finalHTTPActions end an HTTP rule list (HAProxy's ACT_FLAG_FINAL).
var finalHTTPActions = map[string]bool{"allow": true, "auth": true, "deny": true, "tarpit": true, "redirect": true, "return": true}

// warnAfterFinalRule is HAProxy's warning for an HTTP rule that follows
// one of the proxy's own rules that always ends the list.
func (c *ctx) warnAfterFinalRule(family string) {
	rules := c.proxy.Rules[family]
	if !strings.HasPrefix(family, "http-") || len(rules) == 0 {
		return
	}
	last := rules[len(rules)-1]
	own := last.Pos.File == c.proxy.Pos.File && last.Pos.Line > c.proxy.Pos.Line
	if own && last.Cond == nil && finalHTTPActions[last.Action] {
		c.tightWarnf("previous '%s' action is final and has no condition attached, further entries are NOOP.", family)
	}
}

// parseRuleLine parses "<action> [args] [if|unless cond]" from word i.
func (c *ctx) parseRuleLine(family string, i int) {
	c.warnAfterFinalRule(family)
	specs := ruleActions[family]
	action := c.arg(i)
	spec, ok := specs[actionStem(action)]
	if !ok {
		names := sortedKeys(specs)
		for i, n := range names {
			names[i] = "'" + n + "'"
		}
		c.alertf("'%s' expects %s, but got '%s'.", family, strings.Join(names, ", "), action)
		return
	}
	j := i + 1
	for j < len(c.words) && c.arg(j) != "if" && c.arg(j) != "unless" {
		j++
	}
	n := j - i - 1
	if strings.HasPrefix(family, "http-") && spec.maxArgs == 0 && n > 0 {
		c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", family, action, c.arg(i+1))
		return
	}
	if n < spec.minArgs || (spec.maxArgs >= 0 && n > spec.maxArgs) {
		what := "exactly"
		want := spec.minArgs
		if spec.maxArgs != spec.minArgs {
			what, want = "at least", spec.minArgs
			if n > spec.maxArgs && spec.maxArgs >= 0 {
				what, want = "at most", spec.maxArgs
			}
		}
		c.alertf("error detected in %s '%s' while parsing '%s %s' rule : expects %s %d arguments.", c.proxy.Kind, c.proxy.Name, family, action, what, want)
		return
	}
	r := &Rule{Pos: c.pos, Family: family, Action: action, Args: c.args(i + 1)[:n]}
	if j < len(c.words) {
		cond, ok := c.parseCond(j, "'"+family+" "+action+"' rule")
		if !ok {
			return
		}
		r.Cond = cond
	}
	switch family {
	case "tcp-request connection":
		c.warnMisplaced(rankTCPConnection, "tcp-request")
	case "tcp-request session":
		c.warnMisplaced(rankTCPSession, "tcp-request")
	case "tcp-request content":
		c.warnMisplaced(rankTCPContent, "tcp-request")
	case "http-request":
		c.warnMisplaced(rankHTTPRequest, "http-request")
	}
	c.warnCondConflicts(r.Cond, family)
	c.proxy.Rules[family] = append(c.proxy.Rules[family], r)
	// HTTP rule families are ignored with HAProxy's warning in tcp proxies;
	// in an http proxy each rule is refused at its own line until the HTTP
	// engine exists.
	if strings.HasPrefix(family, "http-") && spec.status == Supported {
		c.validateHTTPRule(r)
	}
	if strings.HasPrefix(family, "tcp-request ") && spec.status == Supported {
		c.validateTCPRule(r)
	}
	if !strings.HasPrefix(family, "http-") || spec.status == Unsupported || c.proxy.Mode == ModeHTTP {
		c.judge(family+" "+actionStem(action), spec.status)
	}
}

func parseHTTPRule(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("'%s' expects an action.", c.arg(0))
		return
	}
	c.parseRuleLine(c.arg(0), 1)
}

func parseTCPRequest(c *ctx) {
	switch c.arg(1) {
	case "inspect-delay":
		if c.proxy.Cap&CapDefaults != 0 && c.proxy.Name == "" {
			c.alertf("'tcp-request inspect-delay' not allowed in anonymous 'defaults' section.")
			return
		}
		c.proxy.InspectDelay = c.needTime(2, "tcp-request inspect-delay")
	case "connection", "content", "session":
		if c.nargs() < 2 {
			c.alertf("'tcp-request %s' expects an action.", c.arg(1))
			return
		}
		c.parseRuleLine("tcp-request "+c.arg(1), 2)
	default:
		c.alertf("'tcp-request' expects 'inspect-delay', 'connection', or 'content' in %s '%s' (got '%s')", c.proxy.Kind, c.proxy.Name, c.arg(1))
	}
}

func parseTCPResponse(c *ctx) {
	switch c.arg(1) {
	case "inspect-delay":
		c.needTime(2, "tcp-response inspect-delay")
	case "content":
		c.parseRuleLine("tcp-response content", 2)
	default:
		c.alertf("'tcp-response' expects 'inspect-delay' or 'content' in %s '%s' (got '%s')", c.proxy.Kind, c.proxy.Name, c.arg(1))
	}
}

var httpCheckSteps = map[string]bool{"send": true, "expect": true, "connect": true, "comment": true,
	"send-state": true, "disable-on-404": true, "set-var": true, "unset-var": true}
var tcpCheckSteps = map[string]bool{"connect": true, "send": true, "send-lf": true, "send-binary": true,
	"send-binary-lf": true, "expect": true, "comment": true, "set-var": true, "unset-var": true}

var expectHTTP = map[string]bool{"status": true, "rstatus": true, "string": true, "rstring": true,
	"hdr": true, "fhdr": true, "string-lf": true}
var expectTCP = map[string]bool{"string": true, "rstring": true, "binary": true, "rbinary": true,
	"string-lf": true, "binary-lf": true}

func parseHTTPCheck(c *ctx) { parseCheckRule(c, "http-check", httpCheckSteps, expectHTTP) }
func parseTCPCheck(c *ctx)  { parseCheckRule(c, "tcp-check", tcpCheckSteps, expectTCP) }

// parseCheckRule validates a health-check script step.
func parseCheckRule(c *ctx, family string, steps, matches map[string]bool) {
	step := actionStem(c.arg(1))
	if !steps[step] {
		names := sortedKeys(steps)
		c.alertf("'%s' only supports %s (got '%s').%s", family, quoteList(names, "and"), c.arg(1), didYouMean(c.arg(1), names))
		return
	}
	if step == "expect" && !validExpect(c, family, matches) {
		return
	}
	if (step == "send" || step == "send-binary" || step == "send-lf" || step == "send-binary-lf") && family == "tcp-check" && c.arg(2) == "" {
		c.alertf("'%s %s' expects a <data> as argument.", family, step)
		return
	}
	st := Supported
	if err := check.ParseLine(family, step, c.args(2)); err != nil {
		if !errors.Is(err, check.ErrNotSupported) {
			c.alertf("'%s %s' : %v.", family, step, err)
			return
		}
		st = Pending
	}
	// A proxy's own check rules replace those it inherited from its
	// defaults section.
	if c.proxy.ownChecks == nil {
		c.proxy.ownChecks = map[string]bool{}
	}
	if !c.proxy.ownChecks[family] {
		c.proxy.ownChecks[family] = true
		c.proxy.Rules[family] = nil
	}
	// An HTTP check sends one request per connection: a second send needs
	// its own connect before it.
	if family == "http-check" && step == "send" {
		seenSend := false
		for _, r := range c.proxy.Rules[family] {
			switch r.Action {
			case "send":
				seenSend = true
			case "connect":
				seenSend = false
			}
		}
		if seenSend {
			c.alertf("'http-check send' : unable to add http-check send rule at step %d (missing connect rule).", len(c.proxy.Rules[family])+1)
			return
		}
	}
	c.proxy.Rules[family] = append(c.proxy.Rules[family], &Rule{Pos: c.pos, Family: family, Action: step, Args: c.args(2)})
	c.judge(family+" "+step, st)
}

func validExpect(c *ctx, family string, matches map[string]bool) bool {
	args := c.args(2)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "min-recv", "comment", "ok-status", "error-status", "tout-status", "on-success", "on-error", "status-code":
			i++
			continue
		case "!":
			continue
		}
		if !matches[a] {
			c.alertf("'%s expect' : unknown match '%s'; expects %s.", family, a, quoteList(sortedKeys(matches), "or"))
			return false
		}
		if i+1 >= len(args) {
			c.alertf("'%s expect %s' expects <pattern> as an argument.", family, a)
			return false
		}
		return true
	}
	c.alertf("'%s expect' expects a match type and a pattern.", family)
	return false
}
