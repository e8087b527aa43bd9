package config

import (
	"errors"

	"sluice/internal/sample"
)

// validateSetTimeout checks `http-request set-timeout server|tunnel
// <time>|<expr>` as HAProxy 2.6 does: backends only, a constant that is
// not zero, or a sample expression when the word does not read as a time.
func (c *ctx) validateSetTimeout(r *Rule, fail func(string, ...any)) {
	a := r.Args
	if len(a) < 2 {
		fail("expects exactly 2 arguments.")
		return
	}
	if c.proxy.Cap&CapBE == 0 {
		fail("proxy '%s' has no backend capability.", c.proxy.Name)
		return
	}
	if a[0] != "server" && a[0] != "tunnel" {
		fail("'set-timeout' rule supports 'server'/'tunnel' (got '%s').", a[0])
		return
	}
	if len(a) > 2 {
		c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.Family, r.Action, a[2])
		return
	}
	d, err := ParseTime(a[1])
	switch {
	case err == nil && d == 0:
		fail("null value is not valid for a 'set-timeout %s' rule.", a[0])
	case err == nil:
		r.Timeout = d
	default:
		_, cerr := sample.CompileExpr(a[1])
		if cerr != nil {
			if errors.Is(cerr, sample.ErrNotSupported) {
				fail("%v.", cerr)
				c.refused()
				return
			}
			fail("%v in rule 'set-timeout %s'.", err, a[0])
			return
		}
		r.Timeout = -1 // an expression, compiled by the engine
	}
}
