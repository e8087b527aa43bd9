package config

// parseRedirect handles the legacy `redirect location|prefix|scheme ...
// [{if|unless} <cond>]` keyword. Its value is plain text (HAProxy 2.6
// compiles no log-format for it: "%[...]" goes out as written). Frontends
// run these rules after their http-request rules, backends after theirs.
func parseRedirect(c *ctx) {
	p := c.proxy
	j := 1
	for j < len(c.words) && c.arg(j) != "if" && c.arg(j) != "unless" {
		j++
	}
	r := &Rule{Pos: c.pos, Family: "redirect", Action: "redirect", Args: c.args(1)[:j-1]}
	where := "error detected in " + p.Kind + " '" + p.Name + "' while parsing redirect rule"
	fail := func(format string, a ...any) { c.alertf("%s : "+format, append([]any{where}, a...)...) }
	c.validateRedirect(r.Args, fail, true)
	if c.alerts > 0 {
		return
	}
	if j < len(c.words) {
		if c.nargs() == j {
			// An empty condition never applies ('if') or always does
			// ('unless'), as in HAProxy.
			r.Cond = &Cond{Pos: c.pos, Unless: c.arg(j) == "unless"}
		} else {
			cond, ok := c.parseCond(j, "redirect rule")
			if !ok {
				return
			}
			r.Cond = cond
		}
	}
	if len(p.UseBackends) > 0 {
		c.warnf("a 'redirect' rule placed after a 'use_backend' rule will still be processed before.")
	}
	p.Rules["redirect"] = append(p.Rules["redirect"], r)
}

// warnHTTPRuleAfterRedirect is HAProxy's warning for an http-request rule
// written after a legacy redirect, which still runs before it.
func (c *ctx) warnHTTPRuleAfterRedirect(family string) {
	if family == "http-request" && len(c.proxy.Rules["redirect"]) > 0 {
		c.warnf("a 'http-request' rule placed after a 'redirect' rule will still be processed before.")
	}
}
