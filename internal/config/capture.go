package config

import (
	"errors"
	"strconv"

	"sluice/internal/sample"
)

// CaptureSlot is one capture slot of a frontend: a `capture request|response
// header` line (Header set), a `declare capture` line or an `http-request
// capture ... len` rule (Header empty: rules fill it). A frontend's request
// slots and response slots are each numbered from 0 in declaration order;
// the log shows them in that order in %hr and %hs.
type CaptureSlot struct {
	Pos    Pos
	Header string
	Len    int
}

// negativeCapture ends Sluice's refusal of a negative capture length.
// haproxy 2.6.12 accepts one (`haproxy -c` says the file is valid), sizes
// the slot's memory pool from it (len+1: nothing) and copies values
// without truncating them: a header value of a few kilobytes corrupts its
// heap ("malloc(): corrupted top size") and a captured cookie crashes it
// at the end of the request. No configuration works that way, so Sluice
// refuses it at load rather than guess at a meaning.
const negativeCapture = "; haproxy 2.6 accepts a negative length, then writes captured values past its buffer and may crash."

// parseCapture handles `capture cookie|request header|response header`.
func parseCapture(c *ctx) {
	what := c.arg(1)
	if c.proxy.Cap&CapDefaults != 0 && (what == "cookie" || what == "request" || what == "response") {
		c.alertf("'%s %s' not allowed in 'defaults' section.", c.arg(0), what)
		return
	}
	switch {
	case what == "cookie":
		if c.nargs() > 4 {
			c.alertf("'%s %s' cannot handle unexpected argument '%s'.", c.arg(0), what, c.arg(5))
			return
		}
		// HAProxy checks only that a length is there: the word
		// before it may be anything.
		if c.arg(4) == "" {
			c.alertf("'%s' expects 'cookie' <cookie_name> 'len' <len>.", c.arg(0))
			return
		}
		n, _ := atoi(c.arg(4))
		if n < 0 {
			c.alertf("'%s %s' : length must be >= 0 (got '%s')%s", c.arg(0), what, c.arg(4), negativeCapture)
			return
		}
		c.proxy.CaptureCookie = &CookieCapture{Pos: c.pos, Name: c.arg(2), Len: n}
	case (what == "request" || what == "response") && c.arg(2) == "header":
		if c.nargs() > 5 {
			c.alertf("'%s %s' cannot handle unexpected argument '%s'.", c.arg(0), what, c.arg(6))
			return
		}
		if c.arg(3) == "" || c.arg(4) != "len" || c.arg(5) == "" {
			c.alertf("'%s %s' expects 'header' <header_name> 'len' <len>.", c.arg(0), what)
			return
		}
		// HAProxy reads the length with atol: "10x" is 10, "abc" is 0.
		n, _ := atoi(c.arg(5))
		if n < 0 {
			c.alertf("'%s %s header' : length must be >= 0 (got '%s')%s", c.arg(0), what, c.arg(5), negativeCapture)
			return
		}
		c.addCaptureSlot(what == "response", c.arg(3), n)
	case what == "request" || what == "response":
		c.alertf("'%s %s' expects 'header' <header_name> 'len' <len>.", c.arg(0), what)
	default:
		c.alertf("'%s' expects 'cookie' or 'request header' or 'response header'.", c.arg(0))
	}
}

// addCaptureSlot appends a slot and returns its index.
func (c *ctx) addCaptureSlot(response bool, header string, n int) int {
	slots := &c.proxy.ReqCaptures
	if response {
		slots = &c.proxy.ResCaptures
	}
	*slots = append(*slots, CaptureSlot{Pos: c.pos, Header: header, Len: n})
	return len(*slots) - 1
}

// parseDeclare handles `declare capture request|response len <n>`, with
// HAProxy 2.6's messages.
func parseDeclare(c *ctx) {
	p := c.proxy
	switch {
	case p.Cap&CapDefaults != 0:
		c.alertf("'%s' not available in default section", c.arg(0))
		return
	case p.Cap&CapFE == 0:
		c.alertf("'%s' only available in frontend or listen section", c.arg(0))
		return
	case c.arg(1) == "":
		c.alertf("'%s' needs a second keyword that specify the type of declaration ('capture')", c.arg(0))
		return
	case c.arg(1) != "capture":
		c.alertf("unknown declaration type '%s' (supports 'capture')", c.arg(1))
		return
	case c.arg(2) != "request" && c.arg(2) != "response":
		c.alertf("'%s %s' requires a direction ('request' or 'response')", c.arg(0), c.arg(1))
		return
	case c.arg(3) != "len":
		c.alertf("'%s %s' requires a capture length ('len')", c.arg(0), c.arg(1))
		return
	case c.arg(4) == "":
		c.alertf("'%s %s': 'len' requires a numeric value that represents the capture length", c.arg(0), c.arg(1))
		return
	}
	n, err := strconv.ParseInt(c.arg(4), 10, 64)
	if err != nil && !isRangeErr(err) {
		// HAProxy 2.6 names the keyword instead of the value here.
		c.alertf("'%s %s': cannot parse the length '%s'.", c.arg(0), c.arg(1), c.arg(3))
		return
	}
	if n <= 0 || n > 1<<30 {
		c.alertf("length must be > 0")
		return
	}
	c.addCaptureSlot(c.arg(2) == "response", "", int(n))
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// validateCaptureRule checks `http-request capture <sample> len <n> | id <n>`
// and `http-response capture <sample> id <n>` as HAProxy's parsers do, and
// reserves the slot a `len` form declares.
func (c *ctx) validateCaptureRule(r *Rule, fail func(string, ...any)) {
	a := r.Args
	response := r.Family != "http-request"
	usage := "expects <expression> [ 'len' <length> | id <idx> ]."
	if response {
		usage = "expects <expression> id <idx>."
	}
	if len(a) < 3 {
		fail("%s", usage)
		return
	}
	if !c.validateRuleExpr(a[0], response, fail, "") {
		return
	}
	switch {
	case a[1] == "len" && !response:
		if c.proxy.Cap&CapFE == 0 {
			fail("proxy '%s' has no frontend capability.", c.proxy.Name)
			return
		}
		n, _ := atoi(a[2])
		if n <= 0 {
			fail("length must be > 0.")
			return
		}
		r.Slot = c.addCaptureSlot(false, "", n)
		r.SlotLen = n
	case a[1] == "id":
		n, err := strconv.ParseInt(a[2], 10, 32)
		if err != nil {
			fail("cannot parse id '%s'.", a[2])
			return
		}
		r.Slot, r.SlotByID = int(n), true
	case response:
		fail("expects 'id', found '%s'.", a[1])
		return
	default:
		fail("expects 'len' or 'id', found '%s'.", a[1])
		return
	}
	if len(a) > 3 {
		c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.Family, r.Action, a[3])
	}
}

// checkCaptureIDs resolves `capture ... id <n>` rules once every slot of a
// frontend is declared, as HAProxy's check_http_req_capture does. In a
// backend the frontend is not known yet: a missing slot is skipped at run
// time.
func (l *loader) checkCaptureIDs(p *Proxy) {
	if p.Cap&CapFE == 0 || p.Mode != ModeHTTP {
		return
	}
	for _, fam := range []string{"http-request", "http-response"} {
		n := len(p.ReqCaptures)
		if fam == "http-response" {
			n = len(p.ResCaptures)
		}
		for _, r := range p.Rules[fam] {
			if r.Action == "capture" && r.SlotByID && r.Slot >= n {
				l.diags.global(SevAlert, r.Pos, "Proxy '%s': unable to find capture id '%d' referenced by %s capture rule.", p.Name, r.Slot, fam)
			}
		}
	}
}

// validateRuleExpr compiles a rule's sample expression ("fetch(args),conv")
// with HAProxy's messages, and checks that the rule's direction can give
// the fetch what it reads. label is the name HAProxy 2.6 puts in its
// "extracts information" message ("" for the expression's fetch).
func (c *ctx) validateRuleExpr(expr string, response bool, fail func(string, ...any), label string) bool {
	name, args, convs, ok := sample.SplitExpr(expr)
	if !ok {
		fail("fetch method '%s' : expected ')' before '%s'.", name, expr[len(name):])
		return false
	}
	if name == "" {
		fail("missing fetch method.")
		return false
	}
	if _, err := sample.Compile(name, args, convs); err != nil {
		fail("%v.", err)
		if errors.Is(err, sample.ErrNotSupported) {
			c.refused()
		}
		return false
	}
	if needs := sample.Unavailable(name, response); needs != "" {
		if label == "" {
			label = expr
		}
		fail("fetch method '%s' extracts information from '%s', none of which is available here.", label, needs)
		return false
	}
	return true
}
