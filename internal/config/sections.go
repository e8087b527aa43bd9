package config

import (
	"strings"

	"sluice/internal/cfgsyntax"
	"sluice/internal/httperr"
)

type section int

const (
	secNone section = iota
	secGlobal
	secDefaults
	secFrontend
	secBackend
	secListen
	secUserlist
	secPeers
	secResolvers
	secHTTPErrors
	secCache
	secRing
	secMailers
	secProgram
	secLogForward
	secFcgiApp
)

var sectionHeaders = map[string]section{
	"global": secGlobal, "defaults": secDefaults, "frontend": secFrontend,
	"backend": secBackend, "listen": secListen, "userlist": secUserlist,
	"peers": secPeers, "resolvers": secResolvers, "http-errors": secHTTPErrors,
	"cache": secCache, "ring": secRing, "mailers": secMailers,
	"program": secProgram, "log-forward": secLogForward, "fcgi-app": secFcgiApp,
}

var sectionNames = map[section]string{
	secGlobal: "global", secDefaults: "defaults", secFrontend: "frontend",
	secBackend: "backend", secListen: "listen", secUserlist: "userlist",
	secPeers: "peers", secResolvers: "resolvers", secHTTPErrors: "http-errors",
	secCache: "cache", secRing: "ring", secMailers: "mailers",
	secProgram: "program", secLogForward: "log-forward", secFcgiApp: "fcgi-app",
}

// header opens a new section.
func (l *loader) header(s section, ln *cfgsyntax.Line) {
	l.sec, l.proxy, l.other, l.userlist, l.httperrs = s, nil, nil, nil, nil
	kind := ln.Words[0].Text
	c := &ctx{l: l, pos: ln.Pos, words: ln.Words}
	switch s {
	case secGlobal:
		l.globalSeen = true
	case secDefaults, secFrontend, secBackend, secListen:
		l.proxyHeader(c, s)
	case secUserlist:
		if !l.needName(c, kind) {
			l.sec = secNone
			return
		}
		l.userlistHeader(c)
	case secHTTPErrors:
		if !l.needName(c, kind) {
			l.sec = secNone
			return
		}
		l.checkHTTPErrorsHeader(c)
		l.httperrs = &HTTPErrors{Pos: ln.Pos, Name: c.arg(1), Errorfiles: map[int]string{}, Pages: map[int]*httperr.Page{}}
		l.cfg.HTTPErrors = append(l.cfg.HTTPErrors, l.httperrs)
	default:
		l.otherHeader(c, s, kind)
	}
}

func (l *loader) needName(c *ctx, kind string) bool {
	if c.arg(1) == "" {
		c.alertf("'%s' expects <name> as argument.", kind)
		return false
	}
	return true
}

// validProxyName checks HAProxy's allowed characters for proxy names.
func validProxyName(n string) (byte, bool) {
	for i := 0; i < len(n); i++ {
		ch := n[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("_.:-", ch) >= 0) {
			return ch, false
		}
	}
	return 0, true
}

func (l *loader) proxyHeader(c *ctx, s section) {
	kind := sectionNames[s]
	name := c.arg(1)
	from := ""
	rest := c.args(2)
	if s == secDefaults && name == "from" {
		name, rest = "", c.args(1)
	}
	if len(rest) >= 2 && rest[0] == "from" {
		from = rest[1]
	} else if len(rest) > 0 {
		c.alertf("'%s' only supports the 'from' keyword after the name (got '%s').", kind, rest[0])
	}
	if s != secDefaults && name == "" {
		c.alertf("'%s' expects an <id> argument", kind)
		l.sec = secNone
		return
	}
	if ch, ok := validProxyName(name); !ok {
		c.alertf("character '%c' is not permitted in '%s' name '%s'.", ch, kind, name)
	}
	base := l.lastDefaults
	if s == secDefaults {
		// A defaults section starts from HAProxy's built-in values: it
		// replaces the previous one, never merges with it.
		base = newDefaults(Pos{}, "")
	}
	if from != "" {
		base = l.findDefaults(from)
		if base == nil {
			c.alertf("defaults section '%s' not found for %s '%s'.", from, kind, name)
			base = newDefaults(Pos{}, "")
		}
	}
	if s == secDefaults {
		d := inherit(base, "defaults", name, c.pos, CapDefaults|CapFE|CapBE)
		d.From = from
		l.cfg.Defaults = append(l.cfg.Defaults, d)
		l.lastDefaults, l.proxy = d, d
		return
	}
	capab := map[section]Cap{secFrontend: CapFE, secBackend: CapBE, secListen: CapFE | CapBE}[s]
	if capab == CapFE|CapBE && base.Name != "" && hasRules(base) {
		c.l.diags.global(SevAlert, c.pos, "parsing [%s:%d]: a listen section cannot inherit from a defaults section defining TCP/HTTP rules.", c.pos.File, c.pos.Line)
	}
	if base.Name != "" && hasRules(base) {
		// Rules of named defaults run in the proxies that inherit them;
		// HAProxy refuses one section feeding both sides.
		if prev, ok := l.ruledDefaultsUse[base]; ok && prev != capab {
			c.l.diags.global(SevAlert, c.pos, "parsing [%s:%d]: frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at %s:%d).",
				c.pos.File, c.pos.Line, base.Pos.File, base.Pos.Line)
		}
		l.ruledDefaultsUse[base] = capab
	}
	if capab&CapBE != 0 && base.Name != "" && len(base.ReqCaptures)+len(base.ResCaptures) > 0 {
		// HAProxy 2.6's text, its typo included.
		c.l.diags.global(SevAlert, c.pos, "parsing [%s:%d]: backend or defaults sections cannot inherit from a defaults section defining capptures (defaults section at %s:%d).",
			c.pos.File, c.pos.Line, base.Pos.File, base.Pos.Line)
	}
	p := inherit(base, kind, name, c.pos, capab)
	p.From = base.Name
	l.checkDuplicate(c, p)
	l.cfg.Proxies = append(l.cfg.Proxies, p)
	l.proxy = p
}

func hasRules(p *Proxy) bool {
	for _, rs := range p.Rules {
		if len(rs) > 0 {
			return true
		}
	}
	return false
}

func (l *loader) findDefaults(name string) *Proxy {
	for i := len(l.cfg.Defaults) - 1; i >= 0; i-- {
		if l.cfg.Defaults[i].Name == name {
			return l.cfg.Defaults[i]
		}
	}
	return nil
}

// checkDuplicate applies HAProxy's rule: two proxies clash when they share a
// name and a capability (a frontend and a backend may share a name).
func (l *loader) checkDuplicate(c *ctx, p *Proxy) {
	for _, o := range l.cfg.Proxies {
		if o.Name == p.Name && o.Cap&p.Cap&(CapFE|CapBE) != 0 {
			l.diags.global(SevAlert, c.pos, "Parsing [%s:%d]: %s '%s' has the same name as %s '%s' declared at %s:%d.",
				c.pos.File, c.pos.Line, p.Kind, p.Name, o.Kind, o.Name, o.Pos.File, o.Pos.Line)
			return
		}
	}
}

// newDefaults is HAProxy's built-in starting point for every proxy.
func newDefaults(pos Pos, name string) *Proxy {
	return &Proxy{
		Kind: "defaults", Name: name, Pos: pos, Cap: CapDefaults | CapFE | CapBE,
		Retries:       3,
		Balance:       Balance{Algo: "roundrobin", Draws: 2},
		HashType:      HashType{Method: "map-based", Function: "sdbm"},
		DefaultServer: defaultServerParams(),
		Rules:         map[string][]*Rule{},
		Options:       map[string]*Option{},
	}
}

// inherit starts a new section from a defaults section: a copy of every
// setting, as HAProxy does (a later defaults section replaces, never merges).
func inherit(base *Proxy, kind, name string, pos Pos, capab Cap) *Proxy {
	p := *base
	p.Kind, p.Name, p.Pos, p.Cap, p.From = kind, name, pos, capab, ""
	p.Binds, p.Servers, p.UseBackends, p.MonitorFail = nil, nil, nil, nil
	p.UseServers, p.PersistRules = nil, nil
	p.ACLs = append([]*ACL(nil), base.ACLs...)
	p.Directives = append([]*Directive(nil), base.Directives...)
	p.ErrorDecls = append([]httperr.Decl(nil), base.ErrorDecls...)
	p.Logs = append([]LogTarget(nil), base.Logs...)
	p.ReqCaptures = append([]CaptureSlot(nil), base.ReqCaptures...)
	p.ResCaptures = append([]CaptureSlot(nil), base.ResCaptures...)
	p.Rules = make(map[string][]*Rule, len(base.Rules))
	for k, v := range base.Rules {
		p.Rules[k] = append([]*Rule(nil), v...)
	}
	p.Options = make(map[string]*Option, len(base.Options))
	for k, v := range base.Options {
		o := *v
		p.Options[k] = &o
	}
	p.DefaultServer.Other = cloneMap(base.DefaultServer.Other)
	if base.DefaultBackend != nil {
		db := *base.DefaultBackend
		p.DefaultBackend = &db
	}
	return &p
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// otherHeader opens a section Sluice keeps as plain directives.
func (l *loader) otherHeader(c *ctx, s section, kind string) {
	switch s {
	case secProgram, secLogForward, secFcgiApp, secMailers, secRing:
		c.alertf("'%s' sections are not supported by Sluice.", kind)
		l.sec = secNone
		return
	}
	if !l.needName(c, kind) {
		l.sec = secNone
		return
	}
	l.other = &Section{Pos: c.pos, Kind: kind, Name: c.arg(1)}
	switch s {
	case secResolvers:
		l.cfg.Resolvers = append(l.cfg.Resolvers, l.other)
	case secPeers:
		l.cfg.Peers = append(l.cfg.Peers, l.other)
	default:
		l.cfg.Others = append(l.cfg.Others, l.other)
		if s == secCache {
			c.alertf("'cache' sections are not supported yet by Sluice.")
		}
	}
}

// otherLine records a line of a resolvers, peers or cache section after
// checking its keyword.
func (l *loader) otherLine(c *ctx) {
	if l.other == nil {
		return
	}
	var t table
	switch l.sec {
	case secResolvers:
		t = resolversKeywords
	case secPeers:
		t = peersKeywords
	case secCache:
		t = cacheKeywords
	default:
		return
	}
	name := c.arg(0)
	if t[name] == nil {
		c.alertf("unknown keyword '%s' in '%s' section%s", name, l.other.Kind, didYouMean(name, t.names()))
		return
	}
	l.other.Directives = append(l.other.Directives, &Directive{Pos: c.pos, Keyword: name, Args: c.args(1)})
}
