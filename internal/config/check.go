package config

import (
	"errors"
	"fmt"
	"strings"

	"sluice/internal/acl"
	"sluice/internal/logfmt"
	"sluice/internal/netaddr"
	"sluice/internal/sample"
)

// postParse runs the checks HAProxy makes once every file is read: references
// between proxies, mode compatibility, and settings that make no sense for a
// proxy's mode or capabilities.
func (l *loader) postParse() {
	l.buildErrorPages()
	l.resolveUserlists()
	optSeen := map[Pos]bool{}
	for _, p := range l.cfg.Proxies {
		if p.Maxconn == 0 && p.Cap&CapFE != 0 {
			p.Maxconn = l.opt.DefaultMaxconn // -N; 0 still means the global value
		}
		if p.Disabled {
			continue
		}
		if p.Cap&CapFE != 0 {
			l.checkSwitching(p)
		}
		l.checkModeDependent(p)
		l.checkACLProxyArgs(p)
		if p.Mode == ModeTCP {
			l.checkConds(p)
		}
		l.checkLogFormat(p)
		l.checkUserlistRefs(p)
		if p.Cap&CapBE != 0 {
			l.checkUseServers(p)
			l.checkBalanceHash(p)
		}
		if p.Mode == ModeHTTP {
			l.warnL6Conds(p)
		}
		// tune.http.cookielen is 64 bytes, the NUL included.
		if cc := p.CaptureCookie; cc != nil && cc.Len >= 64 {
			l.diags.global(SevWarning, cc.Pos, "truncating capture length to 63 bytes for %s '%s'.", proxyWord(p), p.Name)
			cc.Len = 63
		}
		l.checkCaptureIDs(p)
		l.checkVarRules(p)
		l.checkHTTPOptions(p, optSeen)
		l.checkReplySections(p)
		l.checkServerChecks(p)
		l.checkTimeouts(p)
		l.checkLogs(p)
		l.checkBindTLS(p)
		if p.Cap == CapFE && len(p.Binds) == 0 {
			l.diags.global(SevWarning, p.Pos, "frontend '%s' has no 'bind' directive. Please declare it as a backend if this was intended.", p.Name)
		}
	}
	l.loadCaseAdjustFile()
}

// checkServerChecks refuses health checks with no port to connect to, as
// HAProxy's check_config_validity.
func (l *loader) checkServerChecks(p *Proxy) {
	kind := "backend"
	if p.Cap&CapFE != 0 {
		kind = "proxy"
	}
	for _, s := range p.Servers {
		if s.Params.Check && s.Params.Port == 0 && (s.Addr.PortMode != netaddr.PortFixed || s.Addr.Port == 0) {
			l.diags.global(SevAlert, s.Pos, "config: %s '%s': server '%s' has neither service port nor check port.", kind, p.Name, s.Name)
		}
	}
}

// checkSwitching resolves static backend names and applies HAProxy 2.6's
// mode rule: an http frontend cannot use a tcp backend (a tcp frontend may
// use an http backend: the stream is upgraded).
func (l *loader) checkSwitching(p *Proxy) {
	refs := append([]*BackendRef(nil), p.UseBackends...)
	if p.DefaultBackend != nil {
		refs = append(refs, p.DefaultBackend)
	}
	for _, r := range refs {
		if r.Dynamic {
			if r != p.DefaultBackend {
				l.checkDynamicBackend(p, r)
			}
			continue
		}
		isDefault := r == p.DefaultBackend
		be := l.cfg.Backend(r.Name)
		if be == nil {
			kind := "use_backend"
			if isDefault {
				kind = "default_backend"
			}
			l.diags.global(SevAlert, r.Pos, "Proxy '%s': unable to find required %s: '%s'.", p.Name, kind, r.Name)
			continue
		}
		if p.Mode == ModeHTTP && be.Mode == ModeTCP {
			how := "in a 'use_backend' rule"
			if isDefault {
				how = "as its default backend"
			}
			l.diags.global(SevAlert, r.Pos, "http frontend '%s' (%s:%d) tries to use incompatible tcp backend '%s' (%s:%d) %s (see 'mode').",
				p.Name, p.Pos.File, p.Pos.Line, be.Name, be.Pos.File, be.Pos.Line, how)
		}
	}
}

// checkUserlistRefs resolves http_auth(<userlist>) arguments, which HAProxy
// checks once every section is known (a userlist may follow its users).
func (l *loader) checkUserlistRefs(p *Proxy) {
	for _, a := range p.ACLs {
		if a.Criterion != "http_auth" && a.Criterion != "http_auth_group" {
			continue
		}
		name, _, _ := strings.Cut(a.Args, ",")
		found := false
		for _, u := range l.cfg.Userlists {
			found = found || u.Name == name
		}
		if !found {
			l.diags.global(SevAlert, a.Pos, "parsing [%s:%d]: unable to find userlist '%s' referenced in arg 1 of ACL keyword '%s' in proxy '%s'.",
				a.Pos.File, a.Pos.Line, name, a.Criterion, p.Name)
		}
	}
}

// proxyWord is how HAProxy names a proxy in post-parse warnings: listen
// sections are "proxy".
func proxyWord(p *Proxy) string {
	if p.Cap == CapFE|CapBE {
		return "proxy"
	}
	return p.Kind
}

// checkModeDependent warns about HTTP-only settings in tcp proxies, with
// HAProxy's texts and fallbacks.
func (l *loader) checkModeDependent(p *Proxy) {
	if p.Mode == ModeHTTP {
		return
	}
	w := proxyWord(p)
	if o := p.Options["httplog"]; o != nil && !o.Disabled && p.Cap&CapFE != 0 {
		l.diags.parsing(SevWarning, o.Pos, "'option httplog' not usable with %s '%s' (needs 'mode http'). Falling back to 'option tcplog'.", w, p.Name)
	}
	for _, fam := range []string{"http-request", "http-response", "http-after-response", "redirect"} {
		if len(p.Rules[fam]) > 0 {
			l.diags.global(SevWarning, p.Rules[fam][0].Pos, "'%s' rules ignored for %s '%s' as they require HTTP mode.", fam, w, p.Name)
		}
	}
	if p.Cap&CapBE != 0 && layer7Algos[p.Balance.Algo] {
		l.diags.global(SevWarning, p.Balance.Pos, "Layer 7 hash not possible for %s '%s' (needs 'mode http'). Falling back to round robin.", w, p.Name)
		p.Balance = Balance{Pos: p.Balance.Pos, Algo: "roundrobin", Draws: 2}
	}
	for _, name := range []string{"forwardfor", "originalto"} {
		if o := p.Options[name]; o != nil && !o.Disabled {
			l.diags.global(SevWarning, o.Pos, "'option %s' ignored for %s '%s' as it requires HTTP mode.", name, w, p.Name)
		}
	}
	// HAProxy's check of its option tables, in their order; these words
	// are "proxy" whatever the section.
	for _, name := range httpModeOptions {
		o := p.Options[name]
		if o == nil || o.Disabled || p.Cap&optionTable[name].caps&(CapFE|CapBE) == 0 {
			continue
		}
		l.diags.global(SevWarning, o.Pos, "'option %s' ignored for proxy '%s' as it requires HTTP mode.", name, p.Name)
	}
}

// httpModeOptions are the options of HAProxy 2.6's cfg_opts and
// cfg_opts2 tables that need mode http, in those tables' order.
var httpModeOptions = []string{"checkcache", "http-buffer-request", "http-ignore-probes", "prefer-last-server",
	"idle-close-on-response", "accept-invalid-http-request", "accept-invalid-http-response",
	"http-use-proxy-header", "http-pretend-keepalive", "http-no-delay", "h1-case-adjust-bogus-client",
	"h1-case-adjust-bogus-server", "disable-h2-upgrade"}

const missingTimeouts = "missing timeouts for %s '%s'.\n" +
	"   | While not properly invalid, you will certainly encounter various problems\n" +
	"   | with such a configuration. To fix this, please ensure that all following\n" +
	"   | timeouts are set to a non-zero value: 'client', 'connect', 'server'."

func (l *loader) checkTimeouts(p *Proxy) {
	t := p.Timeouts
	missing := (p.Cap&CapFE != 0 && t.Client == 0) ||
		(p.Cap&CapBE != 0 && (t.Connect == 0 || t.Server == 0))
	if missing {
		l.diags.global(SevWarning, p.Pos, missingTimeouts, proxyWord(p), p.Name)
	}
}

func (l *loader) checkLogs(p *Proxy) {
	if p.Cap&CapFE == 0 || len(p.Logs) > 0 {
		return
	}
	if p.LogFormat != "" || p.Opt("tcplog") || p.Opt("httplog") || p.Opt("httpslog") {
		l.diags.global(SevWarning, p.Pos, "log format ignored for %s '%s' since it has no log address.", proxyWord(p), p.Name)
	}
}

// HasListener reports whether the configuration would accept any connection:
// HAProxy refuses to start (exit 2) when none would.
func (c *Config) HasListener() bool {
	for _, p := range c.Proxies {
		if !p.Disabled && p.Cap&CapFE != 0 && len(p.Binds) > 0 {
			return true
		}
	}
	return false
}

// String names a proxy for messages: "frontend 'fe' (file:line)".
func (p *Proxy) String() string {
	return fmt.Sprintf("%s '%s' (%s:%d)", p.Kind, p.Name, p.Pos.File, p.Pos.Line)
}

// ruleConds lists the conditions of a tcp proxy's rules that Sluice runs:
// switching, persistence, use-server and tcp-request rules.
func ruleConds(p *Proxy) []*Cond {
	var out []*Cond
	for _, r := range p.UseBackends {
		if r.Cond != nil {
			out = append(out, r.Cond)
		}
	}
	for _, r := range p.PersistRules {
		out = append(out, r.Cond)
	}
	for _, r := range p.UseServers {
		out = append(out, r.Cond)
	}
	for _, fam := range []string{"tcp-request connection", "tcp-request session", "tcp-request content"} {
		for _, r := range p.Rules[fam] {
			if r.Cond != nil {
				out = append(out, r.Cond)
			}
		}
	}
	return out
}

// checkConds refuses conditions that use a fetch or converter Sluice cannot
// evaluate yet, naming the ACL and the rule's line. HAProxy would run them,
// so accepting them would silently change what the rule does.
func (l *loader) checkConds(p *Proxy) {
	for _, cond := range ruleConds(p) {
		for _, suite := range cond.Terms {
			for _, t := range suite {
				if def, ok := sample.Predefined[t.Name]; ok && t.Anon == nil {
					_, err := acl.Predefined(t.Name)
					if err == nil && p.Mode == ModeTCP && isL7(strings.Fields(def)[0]) {
						err = fmt.Errorf("predefined ACL '%s' is %w", t.Name, sample.ErrNotSupported)
					}
					if err != nil {
						l.diags.place(SevAlert, cond.Pos, "acl '%s' : %v.", t.Name, err)
						l.diags[len(l.diags)-1].Refusal = true
					}
					continue
				}
				for _, a := range p.termACLs(t) {
					err := a.Err
					if err == nil && p.Mode == ModeTCP && isL7(a.Criterion) {
						// HAProxy parses HTTP out of a TCP stream's payload
						// for these; Sluice has no message there yet.
						err = fmt.Errorf("fetch method '%s' in mode tcp is %w", a.Criterion, sample.ErrNotSupported)
					}
					if err != nil {
						l.diags.place(SevAlert, cond.Pos, "acl '%s' : %v.", aclLabel(a), err)
						l.diags[len(l.diags)-1].Refusal = true
					}
				}
			}
		}
	}
}

// warnL6Conds warns, as HAProxy's warnif_tcp_http_cond, about each rule
// of an http proxy whose condition reads buffered payload (req.len,
// req.payload, req.ssl_sni...): the request is held in HTX form there,
// where those fetches find nothing or count something else. HAProxy
// checks the switching rules first, then each rule family in turn.
func (l *loader) warnL6Conds(p *Proxy) {
	var conds []*Cond
	for _, r := range p.UseBackends {
		conds = append(conds, r.Cond)
	}
	for _, fam := range []string{"tcp-request connection", "tcp-request session", "tcp-request content",
		"tcp-response content", "http-request", "http-response", "http-after-response"} {
		for _, r := range p.Rules[fam] {
			conds = append(conds, r.Cond)
		}
	}
	for _, c := range conds {
		if c != nil && p.condReadsPayload(c) {
			l.diags.global(SevWarning, c.Pos, "Proxy '%s': L6 sample fetches ignored on HTTP proxies (declared at %s:%d).", p.Name, c.Pos.File, c.Pos.Line)
		}
	}
}

// condReadsPayload reports whether any ACL of a condition reads buffered
// payload (a Layer 6 fetch).
func (p *Proxy) condReadsPayload(c *Cond) bool {
	for _, suite := range c.Terms {
		for _, t := range suite {
			if def, ok := sample.Predefined[t.Name]; ok && t.Anon == nil {
				if isL6(strings.Fields(def)[0]) {
					return true
				}
				continue
			}
			for _, a := range p.termACLs(t) {
				if isL6(a.Criterion) {
					return true
				}
			}
		}
	}
	return false
}

// isL6 reports whether an ACL criterion (fetch or ACL keyword) reads
// buffered payload.
func isL6(crit string) bool { return critLayer(crit) == sample.L6 }

// isL7 reports whether an ACL criterion (fetch or ACL keyword) reads an
// HTTP message.
func isL7(crit string) bool { return critLayer(crit) == sample.L7 }

// critLayer is the layer of the fetch an ACL criterion reads, through its
// ACL keyword if it is one; -1 for an unknown name.
func critLayer(crit string) sample.Layer {
	crit, _, _ = strings.Cut(crit, "(")
	if k, ok := sample.LookupACLKeyword(crit); ok {
		crit = k.Fetch
	}
	if f, ok := sample.LookupFetch(crit); ok {
		return f.Layer
	}
	return -1
}

// termACLs is every ACL line a condition term refers to: a named ACL is
// the OR of all lines declaring the name.
func (p *Proxy) termACLs(t CondTerm) []*ACL {
	if t.Anon != nil {
		return []*ACL{t.Anon}
	}
	var out []*ACL
	for _, a := range p.ACLs {
		if a.Name == t.Name {
			out = append(out, a)
		}
	}
	return out
}

func aclLabel(a *ACL) string {
	if a.Name == "" {
		return "{ " + a.Criterion + " ... }"
	}
	return a.Name
}

// checkDynamicBackend compiles a use_backend rule whose name is a
// log-format string, as HAProxy does once every section is read.
func (l *loader) checkDynamicBackend(p *Proxy, r *BackendRef) {
	l.checkDynamicName(p, r.Pos, r.Name, "use_backend", func(err error) {
		l.diags.global(SevAlert, r.Pos, "Parsing [%s:%d]: failed to parse use_backend rule '%s' : %v.", r.Pos.File, r.Pos.Line, r.Name, err)
	})
}

// checkUseServers resolves the servers use-server rules name, and
// compiles those named by a log-format string, in HAProxy's words.
func (l *loader) checkUseServers(p *Proxy) {
	for _, r := range p.UseServers {
		if r.Dynamic {
			l.checkDynamicName(p, r.Pos, r.Name, "use-server", func(err error) {
				l.diags.global(SevAlert, r.Pos, "Parsing [%s:%d]; use-server rule failed to parse log-format '%s' : %v.", r.Pos.File, r.Pos.Line, r.Name, err)
			})
			continue
		}
		found := false
		for _, s := range p.Servers {
			found = found || s.Name == r.Name
		}
		if !found {
			l.diags.global(SevAlert, r.Pos, "%s '%s' : unable to find server '%s' referenced in a 'use-server' rule.", proxyWord(p), p.Name, r.Name)
		}
	}
}

// checkBalanceHash compiles "balance hash"'s expression as HAProxy does
// once every section is read, and in its words: the alert names the
// backend's own line.
func (l *loader) checkBalanceHash(p *Proxy) {
	b := p.Balance
	if b.Algo != "hash" {
		return
	}
	_, err := sample.CompileExpr(b.Name)
	name, _, _, _ := sample.SplitExpr(b.Name)
	if _, known := sample.LookupFetch(name); err == nil || known && errors.Is(err, sample.ErrNotSupported) {
		// A fetch that cannot be read where the server is chosen is
		// refused in HAProxy's words, whether Sluice has it or not.
		if sample.Usable(name)&sample.CkpBESetSrv == 0 {
			l.diags.global(SevAlert, p.Pos, "%s '%s' [%s:%d]: error detected while parsing 'balance hash' expression '%s' which requires information from %s, which is not available here.",
				proxyWord(p), p.Name, p.Pos.File, p.Pos.Line, b.Name, sample.SourceName(name))
			return
		}
	}
	switch {
	case errors.Is(err, sample.ErrNotSupported):
		l.diags.place(SevAlert, b.Pos, "balance hash : %s.", err)
		l.diags[len(l.diags)-1].Refusal = true
	case err != nil:
		l.diags.global(SevAlert, p.Pos, "%s '%s' [%s:%d]: failed to parse 'balance hash' expression '%s' in : %v.",
			proxyWord(p), p.Name, p.Pos.File, p.Pos.Line, b.Name, err)
	}
}

// checkDynamicName compiles a log-format name (of a backend or a
// server): a syntax error goes to fail, a fetch Sluice cannot evaluate
// yet is refused by name.
func (l *loader) checkDynamicName(p *Proxy, pos Pos, name, kw string, fail func(error)) {
	mode := logfmt.TCP
	if p.Mode == ModeHTTP {
		mode = logfmt.HTTP
	}
	var pending []string
	check := func(e *logfmt.Expr) error {
		if f, ok := sample.LookupFetch(e.Fetch.Name); ok && f.Layer == sample.L7 && mode == logfmt.TCP {
			return &logfmt.NotAvailableError{Needs: "HTTP request headers"}
		}
		_, err := sample.Compile(e.Fetch.Name, e.Fetch.Args, e.ConverterChain())
		if errors.Is(err, sample.ErrNotSupported) {
			pending = append(pending, err.Error())
			return nil
		}
		return err
	}
	if _, _, err := logfmt.CompileWith(name, logfmt.Options{Mode: mode, CheckSample: check}); err != nil {
		fail(err)
		return
	}
	for _, msg := range pending {
		l.diags.place(SevAlert, pos, "%s : %s.", kw, msg)
		l.diags[len(l.diags)-1].Refusal = true
	}
}

// bothDirections are the fetches HAProxy 2.6 declares reading the
// request's or the response's headers, as the rule's direction says.
var bothDirections = map[string]bool{"hdr": true}

// checkLogFormat compiles a frontend's log-format as HAProxy does once
// every section is read, in HAProxy's words; fetches Sluice cannot
// evaluate yet are refused by name.
func (l *loader) checkLogFormat(p *Proxy) {
	if p.Cap&CapFE == 0 || p.LogFormat == "" {
		return
	}
	var pending []string
	mode := logfmt.TCP
	if p.Mode == ModeHTTP {
		mode = logfmt.HTTP
	}
	check := func(e *logfmt.Expr) error {
		f, ok := sample.LookupFetch(e.Fetch.Name)
		if ok && f.Layer == sample.L7 && mode == logfmt.TCP {
			return &logfmt.NotAvailableError{Needs: "HTTP request headers"}
		}
		if ok && sample.Usable(e.Fetch.Name)&sample.CkpFELogEnd == 0 {
			// Gone by the time the line is written: the request's
			// headers and body, the response's headers.
			needs := "HTTP request headers"
			switch n := sample.Unavailable(e.Fetch.Name, false); {
			case bothDirections[e.Fetch.Name]:
				needs = "HTTP request headers,HTTP response headers"
			case n != "":
				needs = n
			}
			return &logfmt.NotAvailableError{Needs: needs}
		}
		_, err := sample.Compile(e.Fetch.Name, e.Fetch.Args, e.ConverterChain())
		if errors.Is(err, sample.ErrNotSupported) {
			pending = append(pending, err.Error())
			return nil
		}
		return err
	}
	_, _, err := logfmt.CompileWith(p.LogFormat, logfmt.Options{Mode: mode, CheckSample: check})
	pos := p.LogFormatPos
	if err != nil {
		l.diags.global(SevAlert, pos, "Parsing [%s:%d]: failed to parse log-format : %v.", pos.File, pos.Line, err)
		return
	}
	for _, msg := range pending {
		l.diags.place(SevAlert, pos, "log-format : %s.", msg)
		l.diags[len(l.diags)-1].Refusal = true
	}
}

// proxyArgFetches take a proxy name as argument, resolved at load.
var proxyArgFetches = map[string]string{"nbsrv": "backend", "be_conn": "backend", "queue": "backend",
	"avg_queue": "backend", "be_sess_rate": "backend", "connslots": "backend", "fe_conn": "frontend",
	"fe_req_rate": "frontend", "fe_sess_rate": "frontend"}

// checkACLProxyArgs resolves the proxy named by nbsrv(), be_conn(),
// fe_conn() and the like, in HAProxy's words.
func (l *loader) checkACLProxyArgs(p *Proxy) {
	acls := append([]*ACL(nil), p.ACLs...)
	for _, cond := range ruleConds(p) {
		for _, suite := range cond.Terms {
			for _, t := range suite {
				if t.Anon != nil {
					acls = append(acls, t.Anon)
				}
			}
		}
	}
	for _, a := range acls {
		kind, ok := proxyArgFetches[a.Criterion]
		if !ok || a.Args == "" {
			continue
		}
		var found bool
		for _, q := range l.cfg.Proxies {
			if q.Name == a.Args && (kind == "backend" && q.Cap&CapBE != 0 || kind == "frontend" && q.Cap&CapFE != 0) {
				found = true
			}
		}
		if !found {
			l.diags.global(SevAlert, a.Pos, "parsing [%s:%d]: unable to find %s '%s' referenced in arg 1 of ACL keyword '%s' in proxy '%s'.",
				a.Pos.File, a.Pos.Line, kind, a.Args, a.Criterion, p.Name)
		}
	}
}
