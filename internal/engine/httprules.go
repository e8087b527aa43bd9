package engine

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"sluice/internal/acl"
	"sluice/internal/config"
	"sluice/internal/h1"
	"sluice/internal/httperr"
	"sluice/internal/logfmt"
	"sluice/internal/sample"
)

// httpAct is what an http-request, http-response or http-after-response
// rule does.
type httpAct uint8

const (
	haAllow httpAct = iota
	haDeny
	haReturn
	haRedirect
	haSetHeader
	haAddHeader
	haDelHeader
	haReplaceHeader
	haReplaceValue
	haSetPath
	haSetPathQ
	haSetQuery
	haSetURI
	haSetMethod
	haReplacePath
	haReplacePathQ
	haReplaceURI
	haSetStatus
	haCapture
	haVar // set-var, set-var-fmt, unset-var
	haTarpit
	haSetTimeout
	haAuth
	haSetLogLevel
	haReject     // close the client connection, no response
	haSilentDrop // make the client connection vanish
	haWaitBody   // wait-for-body: read the request body before going on
	haSetAddr    // set-src, set-dst and their -port
)

var httpActs = map[string]httpAct{
	"allow": haAllow, "deny": haDeny, "return": haReturn, "redirect": haRedirect,
	"set-header": haSetHeader, "add-header": haAddHeader, "del-header": haDelHeader,
	"replace-header": haReplaceHeader, "replace-value": haReplaceValue,
	"set-path": haSetPath, "set-pathq": haSetPathQ, "set-query": haSetQuery, "set-uri": haSetURI,
	"set-method": haSetMethod, "replace-path": haReplacePath, "replace-pathq": haReplacePathQ,
	"replace-uri": haReplaceURI, "set-status": haSetStatus,
	"capture": haCapture,
	"set-var": haVar, "set-var-fmt": haVar, "unset-var": haVar,
	"tarpit": haTarpit, "set-timeout": haSetTimeout,
	"reject": haReject, "silent-drop": haSilentDrop, "auth": haAuth,
	"set-log-level": haSetLogLevel, "wait-for-body": haWaitBody,
	"set-src": haSetAddr, "set-src-port": haSetAddr, "set-dst": haSetAddr, "set-dst-port": haSetAddr,
}

// httpRule is a compiled HTTP rule.
type httpRule struct {
	act  httpAct
	cond *acl.Cond
	name []byte    // header name
	val  *valueFmt // header value, path, URI, method... (log-format)
	re   *regexp.Regexp
	// del-header -m: how the name matches.
	match string
	// status: deny, return, set-status, redirect code, set-log-level's
	// level (as sample.Ctx.LogLevel); reason for set-status.
	status int
	reason []byte
	// return and deny payloads.
	reply *reply
	// redirect
	redir redirect
	// expr is the sample a capture or set-var rule evaluates.
	expr *sample.Expr
	// capture: the slot, its length for a `len` rule, or capByID for an
	// `id` rule (the frontend's slot gives the length).
	capSlot, capLen int
	capByID         bool
	// v is a variable action.
	v *varAction
	// legacy: a `redirect` keyword rule, run after the http-request
	// rules (an allow does not skip it).
	legacy bool
	// tarpit is how long a tarpit rule holds the request: its proxy's
	// timeout tarpit, else timeout connect.
	tarpit time.Duration
	// realm is an auth rule's realm: its own, else the proxy's name.
	realm []byte
	// set-timeout: the constant (or expr), and which timeout;
	// wait-for-body: its time and at-least.
	timeout  time.Duration
	tunnelTO bool
	atLeast  int64
	// addr is a set-src, set-dst or -port rule's.
	addr *addrAction
}

// valueFmt is a log-format string evaluated per request.
type valueFmt struct {
	lit   []byte // the whole value when it has no '%'
	f     *logfmt.Format
	exprs []*sample.Expr
}

func compileValue(s string) (*valueFmt, error) {
	if !strings.Contains(s, "%") {
		return &valueFmt{lit: []byte(s)}, nil
	}
	// HAProxy compiles rule values with LOG_OPT_HTTP: an absent sample
	// is empty rather than "-", and sample values are %-encoded for a
	// header (controls but tab, and DEL).
	f, _, err := logfmt.CompileWith(s, logfmt.Options{Mode: logfmt.HTTP, UniqueID: true})
	if err != nil {
		return nil, err
	}
	v := &valueFmt{f: f}
	for _, x := range f.Exprs() {
		se, err := sample.Compile(x.Fetch.Name, x.Fetch.Args, x.ConverterChain())
		if err != nil {
			return nil, fmt.Errorf("%%[%s]: %w", x.Text, err)
		}
		v.exprs = append(v.exprs, se)
	}
	return v, nil
}

// render appends the value for this transaction.
func (v *valueFmt) render(dst []byte, s *stream) []byte {
	return v.renderCtx(dst, &s.smp)
}

// Render is renderCtx, for the sample package's unique-id.
func (v *valueFmt) Render(dst []byte, c *sample.Ctx) []byte { return v.renderCtx(dst, c) }

// renderCtx appends the value from what a stream's sample context knows:
// addresses, names and samples.
func (v *valueFmt) renderCtx(dst []byte, c *sample.Ctx) []byte {
	if v.f == nil {
		return append(dst, v.lit...)
	}
	f := logfmt.Fields{Client: c.Src, Frontend: c.Dst, FrontendName: c.FrontendName, Hostname: c.Hostname(),
		ReqCounter: c.StreamID, ServerName: c.ServerName}
	// %b is the frontend's name until a backend is chosen, as in HAProxy.
	f.BackendName = c.FrontendName
	if c.BackendName != "" {
		f.BackendName = c.BackendName
	}
	f.Sample = func(dst []byte, x *logfmt.Expr) ([]byte, bool) {
		val := c.Value()
		if found, _ := v.exprs[x.Index].Eval(c, val); !found {
			return dst, false
		}
		return val.AsString(dst), true
	}
	return v.f.Append(dst, &f)
}

// compileHTTPRuleSets compiles a proxy's three HTTP rule families.
func compileHTTPRuleSets(p *config.Proxy, cc *condCompiler, req, res, after *[]httpRule) error {
	var err error
	if *req, err = compileHTTPRules(p, cc, "http-request"); err != nil {
		return err
	}
	legacy, err := compileHTTPRules(p, cc, "redirect")
	if err != nil {
		return err
	}
	for i := range legacy {
		legacy[i].legacy = true
	}
	*req = append(*req, legacy...)
	if *res, err = compileHTTPRules(p, cc, "http-response"); err != nil {
		return err
	}
	*after, err = compileHTTPRules(p, cc, "http-after-response")
	return err
}

// compileHTTPRules compiles a proxy's rules of one family.
func compileHTTPRules(p *config.Proxy, cc *condCompiler, family string) ([]httpRule, error) {
	var out []httpRule
	for _, r := range p.Rules[family] {
		hr, err := compileHTTPRule(r)
		if hr.act == haAuth && hr.realm == nil {
			hr.realm = []byte(p.Name)
		}
		hr.tarpit = p.Timeouts.Tarpit
		if hr.tarpit == 0 {
			hr.tarpit = p.Timeouts.Connect
		}
		if err == nil {
			hr.cond, err = cc.compile(r.Cond)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s %s: %w", r.Pos.File, r.Pos.Line, family, r.Action, err)
		}
		out = append(out, hr)
	}
	return out, nil
}

func compileHTTPRule(r *config.Rule) (httpRule, error) {
	act, ok := httpActs[actionName(r.Action)]
	if !ok {
		return httpRule{}, fmt.Errorf("action '%s' is not supported yet by Sluice", r.Action)
	}
	hr := httpRule{act: act}
	a := r.Args
	var err error
	switch act {
	case haSetHeader, haAddHeader:
		hr.name = []byte(a[0])
		hr.val, err = compileValue(a[1])
	case haDelHeader:
		hr.name, hr.match = []byte(a[0]), "str"
		if len(a) == 3 && a[1] == "-m" {
			hr.match = a[2]
		} else if len(a) != 1 {
			return hr, fmt.Errorf("expects <name> [-m <method>]")
		}
		if hr.match == "reg" {
			hr.re, err = regexp.Compile(a[0])
		}
	case haReplaceHeader, haReplaceValue:
		hr.name = []byte(a[0])
		if hr.re, err = regexp.Compile("^(?:" + a[1] + ")$"); err == nil {
			hr.val, err = compileValue(a[2])
		}
	case haSetPath, haSetPathQ, haSetQuery, haSetURI, haSetMethod:
		hr.val, err = compileValue(a[0])
	case haReplacePath, haReplacePathQ, haReplaceURI:
		if hr.re, err = regexp.Compile(a[0]); err == nil {
			hr.val, err = compileValue(a[1])
		}
	case haSetStatus:
		hr.status, err = strconv.Atoi(a[0])
		if err != nil || hr.status < 100 || hr.status > 999 {
			return hr, fmt.Errorf("expects an HTTP status code between 100 and 999")
		}
		if len(a) == 3 && a[1] == "reason" {
			hr.reason = []byte(a[2])
		}
	case haDeny, haReturn, haTarpit:
		err = hr.compileReply(r)
	case haRedirect:
		err = hr.compileRedirect(a, r.Family == "redirect")
	case haCapture:
		hr.capSlot, hr.capLen, hr.capByID = r.Slot, r.SlotLen, r.SlotByID
		hr.expr, err = sample.CompileExpr(a[0])
	case haVar:
		hr.v, err = compileVarAction(r, false)
	case haSetLogLevel:
		hr.status = logLevelArg(a[0])
	case haAuth:
		if len(a) >= 2 && a[0] == "realm" {
			hr.realm = []byte(a[1])
		}
	case haWaitBody:
		hr.timeout, hr.atLeast = r.Timeout, r.AtLeast
	case haSetAddr:
		hr.addr, err = compileAddrAction(r.Action, a[0])
	case haSetTimeout:
		hr.tunnelTO = a[0] == "tunnel"
		if r.Timeout > 0 {
			hr.timeout = r.Timeout
		} else {
			hr.expr, err = sample.CompileExpr(a[1])
		}
	}
	return hr, err
}

// verdict is how a rule list ended.
type httpVerdict int

const (
	vContinue httpVerdict = iota // every rule ran, or allow
	vReply                       // a rule ends the transaction: deny, return, redirect, reject...
	vEnded                       // the transaction ended in a rule (a wait-for-body timed out)
)

// runReqRules runs http-request rules on t.req. It returns vReply with
// the rule that answered.
func (s *stream) runHTTPRules(rules []httpRule, t *httpTxn, h *h1.Head) (httpVerdict, *httpRule) {
	for i := 0; i < len(rules); i++ {
		r := &rules[i]
		if r.cond != nil {
			if m, _ := r.cond.Match(&s.smp); !m {
				continue
			}
		}
		switch r.act {
		case haAllow:
			// allow ends the http-request rules, not the legacy
			// redirects that follow them.
			for i+1 < len(rules) && !rules[i+1].legacy {
				i++
			}
			continue
		case haRedirect:
			if r.redir.ignoreEmpty && len(s.redirectLocation(t, r)) == 0 {
				continue
			}
			return vReply, r
		case haDeny, haReturn, haTarpit, haReject, haSilentDrop, haAuth:
			return vReply, r
		case haCapture:
			s.runCapture(r)
		case haVar:
			r.v.run(&s.smp)
		case haSetTimeout:
			s.setTimeout(t, r)
		case haSetLogLevel:
			s.smp.LogLevel = r.status
		case haSetAddr:
			s.keepAddrs(t)
			r.addr.run(&s.smp)
		case haWaitBody:
			if !s.waitBody(t.cli, t, r.timeout, r.atLeast) {
				return vEnded, nil
			}
			s.exposeBody(t.cli, t)
		default:
			s.applyEdit(r, t, h)
		}
	}
	return vContinue, nil
}

// arenaFrom returns what was appended to the transaction's arena since
// start. A head's new fields and start line point there; when the arena
// grows, earlier slices keep the old memory alive.
func (t *httpTxn) arenaFrom(start int) []byte {
	return t.arena[start:len(t.arena):len(t.arena)]
}

func (s *stream) render(t *httpTxn, v *valueFmt) []byte {
	start := len(t.arena)
	t.arena = v.render(t.arena, s)
	return t.arenaFrom(start)
}

func (s *stream) applyEdit(r *httpRule, t *httpTxn, h *h1.Head) {
	switch r.act {
	case haSetHeader:
		v := s.render(t, r.val)
		h.Del(string(r.name))
		h.Add(r.name, v)
	case haAddHeader:
		h.Add(r.name, s.render(t, r.val))
	case haDelHeader:
		delHeader(h, r)
	case haReplaceHeader, haReplaceValue:
		replaceHeader(s, t, h, r)
	case haSetMethod:
		h.SetMethod(s.render(t, r.val))
	case haSetURI:
		h.SetURI(s.render(t, r.val))
	case haSetPath, haSetPathQ, haSetQuery:
		setURIPart(s, t, h, r)
	case haReplacePath, haReplacePathQ, haReplaceURI:
		replaceURIPart(s, t, h, r)
	case haSetStatus:
		reason := r.reason
		if reason == nil {
			reason = []byte(statusReason(r.status))
		}
		h.SetStatus(r.status, reason)
	}
}

func delHeader(h *h1.Head, r *httpRule) {
	name := string(r.name)
	out := h.Fields[:0]
	for _, f := range h.Fields {
		n := string(f.Name) // compared without allocation by the compiler for switch below
		del := false
		switch r.match {
		case "str":
			del = h1.EqualFold(f.Name, name)
		case "beg":
			del = len(n) >= len(name) && strings.EqualFold(n[:len(name)], name)
		case "end":
			del = len(n) >= len(name) && strings.EqualFold(n[len(n)-len(name):], name)
		case "sub":
			del = strings.Contains(strings.ToLower(n), strings.ToLower(name))
		case "reg":
			del = r.re.MatchString(n)
		}
		if !del {
			out = append(out, f)
		}
	}
	clear(h.Fields[len(out):])
	h.Fields = out
}

// replaceHeader applies replace-header (the whole value) or replace-value
// (each comma-separated value) with the regex and its replacement format.
func replaceHeader(s *stream, t *httpTxn, h *h1.Head, r *httpRule) {
	repl := string(s.render(t, r.val))
	for i := range h.Fields {
		f := &h.Fields[i]
		if !h1.EqualFold(f.Name, string(r.name)) {
			continue
		}
		if r.act == haReplaceHeader {
			if m := r.re.FindSubmatchIndex(f.Value); m != nil {
				start := len(t.arena)
				t.arena = expandRefs(t.arena, []byte(repl), f.Value, m)
				f.Value = t.arenaFrom(start)
			}
			continue
		}
		parts := strings.Split(string(f.Value), ",")
		changed := false
		for k, p := range parts {
			v := strings.TrimSpace(p)
			if m := r.re.FindStringSubmatchIndex(v); m != nil {
				parts[k] = string(expandRefs(nil, []byte(repl), []byte(v), m))
				changed = true
			} else {
				parts[k] = v
			}
		}
		if changed {
			f.Value = []byte(strings.Join(parts, ", "))
		}
	}
}

// splitURI cuts a request target into its path and its query (without
// '?'); an absolute URI keeps its scheme and authority apart.
func splitURI(u []byte) (prefix, path, query []byte, hasQuery bool) {
	if len(u) > 0 && u[0] != '/' && u[0] != '*' {
		if i := strings.Index(string(u), "://"); i >= 0 {
			j := i + 3
			for j < len(u) && u[j] != '/' && u[j] != '?' {
				j++
			}
			prefix, u = u[:j], u[j:]
		}
	}
	if i := indexByte(u, '?'); i >= 0 {
		return prefix, u[:i], u[i+1:], true
	}
	return prefix, u, nil, false
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func setURIPart(s *stream, t *httpTxn, h *h1.Head, r *httpRule) {
	prefix, path, query, hasQ := splitURI(h.URI())
	v := s.render(t, r.val)
	start := len(t.arena)
	out := append(t.arena, prefix...)
	switch r.act {
	case haSetPath:
		out = append(out, v...)
		if hasQ {
			out = append(append(out, '?'), query...)
		}
	case haSetPathQ:
		out = append(out, v...)
	case haSetQuery:
		out = append(out, path...)
		if len(v) > 0 || hasQ {
			// HAProxy: an empty value leaves a bare '?'... unless none was there.
			if len(v) > 0 {
				out = append(append(out, '?'), v...)
			}
		}
	}
	t.arena = out
	h.SetURI(t.arenaFrom(start))
}

func replaceURIPart(s *stream, t *httpTxn, h *h1.Head, r *httpRule) {
	prefix, path, query, hasQ := splitURI(h.URI())
	var target []byte
	switch r.act {
	case haReplaceURI:
		target, prefix = h.URI(), nil
	case haReplacePath:
		target = path
	case haReplacePathQ:
		target = path
		if hasQ {
			target = h.URI()[len(prefix):]
		}
	}
	m := r.re.FindSubmatchIndex(target)
	if m == nil {
		return
	}
	repl := s.render(t, r.val)
	var out []byte
	out = append(out, prefix...)
	out = append(out, target[:m[0]]...)
	out = expandRefs(out, repl, target, m)
	out = append(out, target[m[1]:]...)
	if r.act == haReplacePath && hasQ {
		out = append(append(out, '?'), query...)
	}
	h.SetURI(out)
}

// expandRefs appends tmpl with HAProxy's back-references (\0 to \9)
// replaced by the groups of match m in src.
func expandRefs(dst, tmpl, src []byte, m []int) []byte {
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '\\' && i+1 < len(tmpl) && tmpl[i+1] >= '0' && tmpl[i+1] <= '9' {
			g := int(tmpl[i+1] - '0')
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				dst = append(dst, src[m[2*g]:m[2*g+1]]...)
			}
			i++
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// statusReason is HAProxy's reason phrase for a status it writes itself
// (http-request return, set-status without a reason): http_get_reason.
func statusReason(code int) string { return httperr.Reason(code) }

// redirectReason is the reason phrase of a redirect's status line, which
// HAProxy writes apart from http_get_reason (302 is "Found" there).
func redirectReason(code int) string {
	switch code {
	case 301:
		return "Moved Permanently"
	case 303:
		return "See Other"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	}
	return "Found"
}
