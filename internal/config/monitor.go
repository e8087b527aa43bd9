package config

// parseMonitorURI handles `monitor-uri <uri>`.
func parseMonitorURI(c *ctx) {
	switch {
	case c.nargs() < 1 || c.arg(1) == "":
		c.alertf("'%s' expects an URI.", c.arg(0))
	case c.nargs() > 1:
		c.alertf("'%s' cannot handle unexpected argument '%s'.", c.arg(0), c.arg(2))
	default:
		c.proxy.MonitorURI = c.arg(1)
	}
}

// parseMonitor handles `monitor fail {if|unless} <cond>`. As in HAProxy,
// a condition with no term is accepted: `if` alone never fails, `unless`
// alone always does.
func parseMonitor(c *ctx) {
	if c.arg(1) != "fail" {
		c.alertf("'%s' only supports 'fail'.", c.arg(0))
		return
	}
	kw := c.arg(2)
	if kw != "if" && kw != "unless" {
		c.alertf("'%s fail' requires either 'if' or 'unless' followed by a condition.", c.arg(0))
		return
	}
	if c.nargs() == 2 {
		c.warnMisplaced(rankMonitorFail, "monitor fail")
		c.proxy.MonitorFail = append(c.proxy.MonitorFail, &Cond{Pos: c.pos, Unless: kw == "unless"})
		return
	}
	cond, ok := c.parseCond(2, "a 'monitor fail' condition")
	if ok {
		c.warnMisplaced(rankMonitorFail, "monitor fail")
		c.proxy.MonitorFail = append(c.proxy.MonitorFail, cond)
	}
}
