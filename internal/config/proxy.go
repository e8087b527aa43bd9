package config

import (
	"fmt"
	"strings"
	"time"
)

const (
	dFBL = CapDefaults | CapFE | CapBE // defaults, frontend, backend, listen
	dFL  = CapDefaults | CapFE         // defaults, frontend, listen
	dBL  = CapDefaults | CapBE         // defaults, backend, listen
	fBL  = CapFE | CapBE               // frontend, backend, listen (not defaults)
	fL   = CapFE                       // frontend, listen
	bL   = CapBE                       // backend, listen
)

// pk builds a proxy keyword row.
func pk(name string, caps Cap, st Status, parse func(c *ctx), doc string) *keyword {
	return &keyword{name: name, caps: caps, status: st, parse: parse, doc: doc}
}

// generic records a validated directive with at least min arguments.
func generic(min int) func(c *ctx) {
	return func(c *ctx) {
		if c.nargs() < min {
			c.alertf("'%s' expects %d argument(s).", c.arg(0), min)
			return
		}
		c.directive(c.arg(0), 1)
	}
}

var proxyKeywords = table{}

func init() {
	proxyKeywords.add(
		pk("mode", dFBL, Supported, parseMode, "tcp or http"),
		pk("bind", fL, Supported, parseBind, "listening addresses and their parameters"),
		pk("maxconn", dFL, Supported, parseProxyMaxconn, "concurrent connections of a frontend"),
		pk("backlog", dFL, Pending, generic(1), "listen backlog"),
		pk("timeout", dFBL, Supported, parseTimeout, "timeouts (see the timeout table)"),
		pk("option", dFBL, Supported, parseOption, "options (see the option table)"),
		pk("log", dFBL, Supported, parseProxyLog, "log targets of this proxy, or 'log global'"),
		pk("log-format", dFL, Supported, parseLogFormat, "custom log line written when a stream ends"),
		pk("log-format-sd", dFL, Pending, parseLogFormat, "RFC5424 structured data"),
		pk("log-tag", dFBL, Supported, generic(1), "syslog tag for this proxy"),
		pk("error-log-format", dFL, Pending, parseLogFormat, "log format for connection errors"),
		pk("default_backend", dFL, Supported, parseDefaultBackend, "backend used when no use_backend rule matches"),
		pk("use_backend", fL, Supported, parseUseBackend, "switch to a backend when a condition matches; a log-format name (`be_%[req.hdr(host),lower,map(f)]`) is resolved per stream, an unknown one falls back to `default_backend`"),
		pk("acl", dFBL, Supported, parseACL, "named condition"),
		pk("server", bL, Supported, parseServer, "a server: address and parameters"),
		pk("default-server", dBL, Supported, parseDefaultServer, "defaults for following server lines"),
		pk("server-template", bL, Pending, generic(3), "servers from DNS (resolvers)"),
		pk("balance", dBL, Supported, parseBalance, "server selection algorithm"),
		pk("hash-type", dBL, Supported, parseHashType, "hashing for hash-based balancing"),
		pk("hash-balance-factor", dBL, Pending, generic(1), "bounded-load consistent hashing"),
		pk("retries", dBL, Supported, parseRetries, "connection attempts before giving up"),
		pk("fullconn", dBL, Supported, parseFullconn, "dynamic maxconn reference for minconn"),
		pk("dispatch", bL, Supported, parseDispatch, "single server address for a backend without servers"),
		pk("id", fBL, Supported, generic(1), "numeric proxy id"),
		pk("description", fBL, Supported, generic(0), "free text"),
		pk("disabled", dFBL, Supported, func(c *ctx) { c.proxy.Disabled = true }, "start the proxy disabled"),
		pk("enabled", dFBL, Supported, func(c *ctx) { c.proxy.Disabled = false }, "start the proxy enabled"),
		pk("grace", dFBL, Unsupported, generic(1), "removed in HAProxy 2.6"),
		pk("tcp-request", dFBL, Supported, parseTCPRequest, "Layer 4 rules (see the rule table)"),
		pk("tcp-response", dBL, Pending, parseTCPResponse, "Layer 4 response rules"),
		pk("http-request", dFBL, Supported, parseHTTPRule, "Layer 7 request rules"),
		pk("http-response", dFBL, Supported, parseHTTPRule, "Layer 7 response rules"),
		pk("http-after-response", dFBL, Supported, parseHTTPRule, "rules on every response, generated ones included"),
		pk("redirect", fBL, Supported, parseRedirect, "legacy redirect rule, run after the http-request rules"),
		pk("http-check", dBL, Supported, parseHTTPCheck, "HTTP health-check script"),
		pk("tcp-check", dBL, Supported, parseTCPCheck, "TCP health-check script"),
		pk("external-check", dBL, Unsupported, generic(0), "external check programs"),
		pk("cookie", dBL, Supported, parseCookie, "cookie persistence: insert, rewrite, prefix"),
		pk("capture", dFL, Supported, parseCapture, "header and cookie captures for the log (%hr, %hs, %CC, %CS)"),
		pk("declare", dFBL, Supported, parseDeclare, "capture slots for capture rules"),
		pk("errorfile", dFBL, Supported, parseErrorfile, "replace an HAProxy error page with a file's raw response"),
		pk("errorfiles", dFBL, Supported, parseErrorfiles, "error pages from an http-errors section"),
		pk("http-error", dFBL, Supported, parseHTTPError, "error page as a reply (status, content-type, string/file, lf-string/lf-file, hdr)"),
		pk("errorloc", dFBL, Supported, parseErrorloc, "error page as a 302 redirect"),
		pk("errorloc302", dFBL, Supported, parseErrorloc, "error page as a 302 redirect"),
		pk("errorloc303", dFBL, Supported, parseErrorloc, "error page as a 303 redirect"),
		pk("monitor-uri", dFL, Supported, parseMonitorURI, "URI answered 200 (or 503 on monitor fail) for load-balancer probes, not logged"),
		pk("monitor", fL, Supported, parseMonitor, "monitor fail condition for monitor-uri"),
		pk("unique-id-format", dFBL, Supported, parseUniqueIDFormat, "request ids (%ID, unique-id) in frontends; a backend ignores it"),
		pk("unique-id-header", dFBL, Supported, parseUniqueIDHeader, "header carrying the request id to the server"),
		pk("http-reuse", dBL, Supported, parseHTTPReuse, "server connection reuse: never, safe, aggressive, always"),
		pk("stick-table", fBL, Unsupported, generic(2), "stick tables"),
		pk("stick", dBL, Unsupported, generic(2), "stickiness rules"),
		pk("stats", dFBL, Unsupported, generic(1), "stats page"),
		pk("compression", dFBL, Unsupported, generic(1), "response compression"),
		pk("filter", fBL, Unsupported, generic(1), "filters"),
		pk("use-server", bL, Supported, parseUseServer, "send to a server when a condition matches, ahead of the persistence cookie and the balancer; a log-format name (`%[req.hdr(x-srv)]`) is resolved per request"),
		pk("force-persist", bL, Supported, parsePersistRule, "when the condition matches, a persistence cookie or use-server rule may name a server that is down or in maintenance"),
		pk("ignore-persist", bL, Supported, parsePersistRule, "when the condition matches, the persistence cookie is not followed (nor inserted)"),
		pk("persist", dBL, Unsupported, generic(1), "rdp-cookie persistence"),
		pk("rate-limit", dFL, Unsupported, generic(2), "session rate limiting"),
		pk("retry-on", dBL, Pending, generic(1), "Layer 7 retries"),
		pk("load-server-state-from-file", dBL, Unsupported, generic(1), "server state file"),
		pk("server-state-file-name", dBL, Unsupported, generic(0), "server state file"),
		pk("email-alert", dBL, Unsupported, generic(1), "mail alerts"),
		pk("use-fcgi-app", bL, Unsupported, generic(1), "FastCGI"),
		pk("max-keep-alive-queue", dBL, NoEffect, generic(1), "HAProxy queue tuning"),
		pk("source", dBL, Unsupported, generic(1), "source address binding for servers"),
		pk("bind-process", dFBL, NoEffect, generic(0), "process binding (removed in 2.5)"),
	)
	for _, k := range []string{"http-request", "http-response", "http-after-response", "tcp-request", "acl", "tcp-response"} {
		proxyKeywords[k].namedDefaults = true
	}
	proxyKeywords["http-check"].caps = dBL
}

func parseMode(c *ctx) {
	switch c.arg(1) {
	case "tcp":
		c.proxy.Mode = ModeTCP
	case "http":
		c.proxy.Mode = ModeHTTP
		c.proxy.ModePos = c.pos
	case "health":
		c.alertf("'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.")
	case "":
		c.alertf("'mode' requires an argument.")
	default:
		c.alertf("unknown proxy mode '%s'.", c.arg(1))
	}
}

// proxyInt parses a proxy keyword taking one integer. HAProxy reads these
// with atol, so trailing junk is ignored; Sluice keeps that for
// compatibility.
func proxyInt(msg string, dst func(p *Proxy) *int) func(c *ctx) {
	return func(c *ctx) {
		if c.nargs() < 1 {
			c.alertf("%s", msg)
			return
		}
		n, _ := atoi(c.arg(1))
		*dst(c.proxy) = n
	}
}

var (
	parseProxyMaxconn = proxyInt("'maxconn' expects an integer argument.", func(p *Proxy) *int { return &p.Maxconn })
	parseRetries      = proxyInt("'retries' expects an integer argument (dispatch counts for one).", func(p *Proxy) *int { return &p.Retries })
	parseFullconn     = proxyInt("'fullconn' expects an integer argument.", func(p *Proxy) *int { return &p.Fullconn })
)

func parseTimeout(c *ctx) {
	name := c.arg(1)
	t := &c.proxy.Timeouts
	dst := map[string]*durationField{
		"client": {&t.Client, dFL}, "server": {&t.Server, dBL}, "connect": {&t.Connect, dBL},
		"check": {&t.Check, dBL}, "queue": {&t.Queue, dBL}, "http-keep-alive": {&t.HTTPKeepAlive, dFBL},
		"http-request": {&t.HTTPRequest, dFBL}, "tunnel": {&t.Tunnel, dBL}, "tarpit": {&t.Tarpit, dFBL},
		"client-fin": {&t.ClientFin, dFL}, "server-fin": {&t.ServerFin, dBL},
	}[name]
	if dst == nil {
		c.alertf("'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '%s')", name)
		return
	}
	if c.arg(2) == "" {
		c.alertf("'timeout %s' expects an integer value (in milliseconds)", name)
		return
	}
	v, err := ParseTime(c.arg(2))
	if err != nil {
		c.alertf("%v in 'timeout %s'", err, name)
		return
	}
	if c.proxy.Cap&CapDefaults == 0 && c.proxy.Cap&dst.caps == 0 {
		what := "frontend"
		if dst.caps&CapFE == 0 {
			what = "backend"
		}
		c.warnf("'timeout %s' will be ignored because %s '%s' has no %s capability", name, c.proxy.Kind, c.proxy.Name, what)
		if name == "connect" {
			// HAProxy keeps it all the same: a frontend's tarpit
			// lasts its timeout connect when timeout tarpit is unset.
			*dst.d = v
		}
		return
	}
	*dst.d = v
}

type durationField struct {
	d    *time.Duration
	caps Cap
}

func parseDefaultBackend(c *ctx) {
	if c.nargs() != 1 {
		c.alertf("'default_backend' expects a backend name.")
		return
	}
	c.proxy.DefaultBackend = &BackendRef{Pos: c.pos, Name: c.arg(1), Dynamic: strings.Contains(c.arg(1), "%[")}
	if c.proxy.DefaultBackend.Dynamic {
		c.judge("default_backend %[...]", Pending)
	}
}

func parseUseBackend(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("'use_backend' expects a backend name.")
		return
	}
	ref := &BackendRef{Pos: c.pos, Name: c.arg(1), Dynamic: strings.Contains(c.arg(1), "%[")}
	if c.nargs() > 1 {
		cond, ok := c.parseCond(2, "switching rule")
		if !ok {
			return
		}
		ref.Cond = cond
		c.warnCondConflicts(cond, "use_backend")
	}
	c.proxy.UseBackends = append(c.proxy.UseBackends, ref)
}

// parseUseServer reads `use-server <server> if|unless <cond>`: HAProxy
// requires the condition.
func parseUseServer(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("'use-server' expects a server name.")
		return
	}
	if k := c.arg(2); k != "if" && k != "unless" {
		c.alertf("'use-server' requires either 'if' or 'unless' followed by a condition.")
		return
	}
	cond, ok := c.parseCond(2, "'use-server' rule")
	if !ok {
		return
	}
	c.proxy.UseServers = append(c.proxy.UseServers, &ServerRule{Pos: c.pos, Name: c.arg(1),
		Dynamic: strings.Contains(c.arg(1), "%["), Cond: cond})
}

// parsePersistRule reads `force-persist|ignore-persist if|unless <cond>`.
func parsePersistRule(c *ctx) {
	if k := c.arg(1); k != "if" && k != "unless" {
		c.alertf("'%s' requires either 'if' or 'unless' followed by a condition.", c.arg(0))
		return
	}
	cond, ok := c.parseCond(1, fmt.Sprintf("a '%s' rule", c.arg(0)))
	if !ok {
		return
	}
	c.proxy.PersistRules = append(c.proxy.PersistRules, &PersistRule{Pos: c.pos, Force: c.arg(0) == "force-persist", Cond: cond})
}

func parseHashType(c *ctx) {
	h := HashType{Method: c.arg(1), Function: "sdbm"}
	switch h.Method {
	case "map-based", "consistent":
	default:
		c.alertf("'hash-type' expects 'map-based' or 'consistent' (got '%s').", h.Method)
		return
	}
	for _, a := range c.args(2) {
		switch a {
		case "sdbm", "djb2", "wt6", "crc32", "none":
			h.Function, h.FunctionSet = a, true
		case "avalanche":
			h.Avalanche = true
		default:
			c.alertf("'hash-type' : unknown hash function or modifier '%s'.", a)
			return
		}
	}
	c.proxy.HashType = h
}

func parseDispatch(c *ctx) {
	a, ok := c.serverAddr(c.arg(1), "dispatch")
	if ok {
		c.proxy.Dispatch = &a
	}
}

func parseProxyLog(c *ctx) {
	p := c.proxy
	if c.no {
		p.Logs, p.NoLog = nil, true
		return
	}
	if c.arg(1) == "global" {
		p.Logs = append(p.Logs, LogTarget{Pos: c.pos, Global: true})
		return
	}
	parseLogTarget(c, &p.Logs)
}

func parseLogFormat(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("%s expects an argument.", c.arg(0))
		return
	}
	if c.nargs() > 1 {
		c.alertf("%s expects only one argument, don't forget to escape spaces!", c.arg(0))
		return
	}
	c.proxy.LogFormat, c.proxy.LogFormatPos = c.arg(1), c.pos
}

func parseHTTPReuse(c *ctx) {
	switch c.arg(1) {
	case "never", "safe", "aggressive", "always":
		c.directive("http-reuse", 1)
	default:
		c.alertf("'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'")
	}
}

func parseCookie(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("'cookie' expects <cookie_name> as argument.")
		return
	}
	c.proxy.Cookie = c.directive("cookie", 1)
	c.validateCookie()
}
