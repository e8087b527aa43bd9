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
	c.warnMisplaced(rankRedirect, "redirect")
	c.warnCondConflicts(r.Cond, "redirect")
	p.Rules["redirect"] = append(p.Rules["redirect"], r)
}

// The kinds of request rule in the order HAProxy processes them, whatever
// their order in the file.
const (
	rankTCPConnection = iota
	rankTCPSession
	rankTCPContent
	rankMonitorFail
	rankHTTPRequest
	rankRedirect
	rankUseBackend
)

// warnMisplaced is HAProxy's warning (its warnif_misplaced_* checks) for
// a rule of kind rank, named label, written after a rule of a kind that
// is processed later: it names the first such kind in processing order.
// Only the proxy's own rules count, not those a defaults section gave it.
func (c *ctx) warnMisplaced(rank int, label string) {
	p := c.proxy
	own := func(family string) bool {
		for _, r := range p.Rules[family] {
			if r.Pos.File == p.Pos.File && r.Pos.Line > p.Pos.Line {
				return true
			}
		}
		return false
	}
	later := []struct {
		rank int
		name string
		has  bool
	}{
		{rankTCPSession, "a 'tcp-request session'", own("tcp-request session")},
		{rankTCPContent, "a 'tcp-request content'", own("tcp-request content")},
		{rankMonitorFail, "a 'monitor fail'", len(p.MonitorFail) > 0},
		{rankHTTPRequest, "an 'http-request'", own("http-request")},
		{rankRedirect, "a 'redirect'", own("redirect")},
		{rankUseBackend, "a 'use_backend'", len(p.UseBackends) > 0},
	}
	for _, k := range later {
		if k.rank > rank && k.has {
			c.warnf("a '%s' rule placed after %s rule will still be processed before.", label, k.name)
			return
		}
	}
}
