package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"sluice/internal/logfmt"
	"sluice/internal/logsink"
	"sluice/internal/sample"
)

// validateHTTPRule checks the arguments of an HTTP rule Sluice runs, with
// HAProxy's messages, so that `sluice -c` refuses what haproxy refuses.
func (c *ctx) validateHTTPRule(r *Rule) {
	where := fmt.Sprintf("error detected in %s '%s' while parsing '%s %s' rule", c.proxy.Kind, c.proxy.Name, r.Family, r.Action)
	fail := func(format string, a ...any) { c.alertf("%s : %s", where, fmt.Sprintf(format, a...)) }
	a := r.Args
	c.valueResponse = r.Family != "http-request"
	defer func() { c.valueResponse = false }()
	if isVarAction(actionStem(r.Action)) {
		c.validateVarRule(r, fail)
		return
	}
	switch r.Action {
	case "redirect":
		c.validateRedirect(a, fail, false)
	case "capture":
		c.validateCaptureRule(r, fail)
	case "set-timeout":
		c.validateSetTimeout(r, fail)
	case "wait-for-body":
		c.validateWaitForBody(r, fail)
	case "set-src", "set-src-port", "set-dst", "set-dst-port":
		c.validateAddrRule(r, fail)
	case "deny", "return", "tarpit":
		c.validateReply(r, fail)
	case "set-log-level":
		if len(a) == 0 || !validLogLevel(a[0]) {
			fail("expects exactly 1 argument (log level name or 'silent').")
			return
		}
		if len(a) > 1 {
			c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.Family, r.Action, a[1])
		}
	case "auth":
		rest := a
		if len(a) > 0 && a[0] == "realm" {
			if len(a) < 2 || a[1] == "" {
				fail("missing realm value.\n.")
				return
			}
			rest = a[2:]
		}
		if len(rest) > 0 {
			c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.Family, r.Action, rest[0])
		}
	case "set-header", "add-header":
		c.validateValue(a[1], fail)
	case "replace-header", "replace-value":
		c.validateValue(a[2], fail)
	case "set-path", "set-pathq", "set-query", "set-uri", "set-method":
		c.validateValue(a[0], fail)
	case "replace-path", "replace-pathq", "replace-uri":
		c.validateValue(a[1], fail)
	case "set-status":
		if n, err := strconv.Atoi(a[0]); err != nil || n < 100 || n > 999 {
			fail("expects an HTTP status code between 100 and 999 (got '%s').", a[0])
		}
	}
}

// validateRedirect checks a redirect's arguments as HAProxy's
// http_parse_redirect_rule does. literal is set for the legacy `redirect`
// keyword, whose value is text, not a log-format.
func (c *ctx) validateRedirect(a []string, fail func(string, ...any), literal bool) {
	const expects = "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '%s')."
	typed := false
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case "location", "prefix", "scheme", "code", "set-cookie", "clear-cookie":
			if i+1 >= len(a) {
				fail("missing argument for '%s'.", a[i])
				return
			}
			switch a[i] {
			case "location", "prefix", "scheme":
				typed = true
				if !literal {
					c.validateValue(a[i+1], fail)
				}
			case "code":
				switch a[i+1] {
				case "301", "302", "303", "307", "308":
				default:
					fail("'code': unsupported HTTP code '%s' (must be one of 301, 302, 303, 307 or 308).", a[i+1])
					return
				}
			}
			i++
		case "drop-query", "append-slash", "ignore-empty":
		default:
			fail(expects, a[i])
			return
		}
	}
	if !typed {
		fail("redirection type expected ('prefix', 'location', or 'scheme').")
	}
}

// validateValue compiles a log-format value and its sample expressions.
func (c *ctx) validateValue(v string, fail func(string, ...any)) {
	if !strings.Contains(v, "%") {
		return
	}
	response := c.valueResponse
	check := func(e *logfmt.Expr) error {
		if _, err := sample.Compile(e.Fetch.Name, e.Fetch.Args, e.ConverterChain()); err != nil {
			return err
		}
		if needs := sample.Unavailable(e.Fetch.Name, response); needs != "" {
			return &logfmt.NotAvailableError{Needs: needs}
		}
		return nil
	}
	if _, _, err := logfmt.CompileWith(v, logfmt.Options{Mode: logfmt.HTTP, CheckSample: check}); err != nil {
		fail("%v.", err)
	}
}

// validateCookie applies HAProxy's checks on a `cookie` line.
func (c *ctx) validateCookie() {
	modes := 0
	a := c.args(2)
	for i := 0; i < len(a); i++ {
		switch w := a[i]; w {
		case "insert", "rewrite", "prefix":
			modes++
		case "maxidle", "maxlife":
			if i+1 >= len(a) || a[i+1] == "" {
				what := "<idletime>"
				if w == "maxlife" {
					what = "<lifetime>"
				}
				c.l.diags.global(SevAlert, c.pos, "parsing [%s:%d]: '%s' expects %s in seconds as argument.", c.pos.File, c.pos.Line, w, what)
				c.alerts++
				return
			}
			i++
			if _, err := CookieAge(a[i]); err != nil {
				c.l.diags.global(SevAlert, c.pos, "parsing [%s:%d]: %s", c.pos.File, c.pos.Line, cookieAgeError(a[i], w, err))
				c.alerts++
				return
			}
		}
	}
	if modes > 1 {
		c.alertf("cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.")
	}
}

// CookieAge reads a cookie's maxidle or maxlife: a time whose default unit
// is the second, as HAProxy's parse_time_err with TIME_UNIT_S.
func CookieAge(s string) (time.Duration, error) {
	return parseTimeUnit(s, time.Second)
}

// cookieAgeError words a bad maxidle or maxlife as HAProxy does.
func cookieAgeError(arg, kw string, err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "timer overflow") {
		return fmt.Sprintf("timer overflow in argument <%s> to <%s>, maximum value is 2147483647 s (~68 years).", arg, kw)
	}
	return fmt.Sprintf("%s in argument to <%s>.", msg, kw)
}

// validLogLevel is set-log-level's argument: a syslog level name or
// "silent".
func validLogLevel(s string) bool {
	_, err := logsink.ParseLevel(s)
	return s == "silent" || err == nil
}

// validateWaitForBody reads `wait-for-body time <time> [at-least <bytes>]`
// (the two in either order) as HAProxy's parse_http_wait_for_body does.
func (c *ctx) validateWaitForBody(r *Rule, fail func(string, ...any)) {
	a := r.Args
	timeSet := false
	i := 0
	for ; i < len(a); i += 2 {
		switch a[i] {
		case "time":
			if i+1 >= len(a) {
				fail("missing argument for 'time'.")
				return
			}
			d, err := ParseTime(a[i+1])
			if err != nil {
				if strings.HasPrefix(err.Error(), "timer overflow") {
					fail("time overflow (maximum value is 2147483647 ms or ~24.8 days).")
				} else {
					fail("%v.", err)
				}
				return
			}
			r.Timeout, timeSet = d, true
		case "at-least":
			if i+1 >= len(a) {
				fail("missing argument for 'at-least'.")
				return
			}
			n, err := ParseSize(a[i+1])
			if err != nil {
				fail("%v.", err)
				return
			}
			r.AtLeast = n
		default:
			goto done
		}
	}
done:
	if !timeSet {
		fail("expects time <time> [ at-least <bytes> ].")
		return
	}
	if i < len(a) {
		c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.Family, r.Action, a[i])
	}
}

// validateAddrRule checks a set-src, set-src-port, set-dst or set-dst-port
// rule: one sample expression, in HAProxy's words.
func (c *ctx) validateAddrRule(r *Rule, fail func(string, ...any)) {
	if len(r.Args) == 0 {
		fail("missing fetch method.")
		return
	}
	if !c.validateRuleExpr(r.Args[0], false, fail, "") {
		return
	}
	switch {
	case len(r.Args) <= 1:
	case strings.HasPrefix(r.Family, "tcp-request"):
		c.alertf("'%s %s' only accepts 'if' or 'unless', in %s '%s' (got '%s')", r.Family, r.Action, c.proxy.Kind, c.proxy.Name, r.Args[1])
	default:
		c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.Family, r.Action, r.Args[1])
	}
}
