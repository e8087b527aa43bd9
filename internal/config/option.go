package config

import (
	"net/netip"
	"strconv"
	"strings"

	"sluice/internal/logsink"
)

// optionDef is a row of the `option` table.
type optionDef struct {
	status Status
	// caps: where the option means something (warnings elsewhere).
	caps Cap
	// httpOnly options are ignored with HAProxy's warning in tcp proxies.
	httpOnly bool
	maxArgs  int
	doc      string
}

var optionTable = map[string]optionDef{
	"tcplog":                       {Supported, dFL, false, 0, "HAProxy's TCP log line for each stream"},
	"dontlognull":                  {Supported, dFL, false, 0, "do not log connections the client sent nothing on"},
	"redispatch":                   {Supported, dBL, false, 1, "retry on another server when connecting fails"},
	"allbackups":                   {Supported, dBL, false, 0, "use every backup server at once"},
	"tcp-check":                    {Supported, dBL, false, 0, "health checks by a tcp-check script"},
	"httpchk":                      {Supported, dBL, false, 3, "HTTP health checks"},
	"redis-check":                  {Supported, dBL, false, 0, "Redis health checks"},
	"mysql-check":                  {Supported, dBL, false, 4, "MySQL health checks"},
	"pgsql-check":                  {Supported, dBL, false, 2, "PostgreSQL health checks"},
	"smtpchk":                      {Supported, dBL, false, 2, "SMTP health checks"},
	"ldap-check":                   {Supported, dBL, false, 0, "LDAP health checks"},
	"ssl-hello-chk":                {Supported, dBL, false, 0, "SSL hello health checks"},
	"spop-check":                   {Unsupported, dBL, false, 0, "SPOP health checks"},
	"external-check":               {Unsupported, dBL, false, 0, "external checks"},
	"log-health-checks":            {Supported, dBL, false, 0, "log every check result"},
	"httplog":                      {Supported, dFL, false, 1, "HTTP log lines"},
	"httpslog":                     {Supported, dFL, false, 0, "HTTPS log lines"},
	"dontlog-normal":               {Supported, dFL, false, 0, "log only streams with an error, a retry or a 5xx"},
	"log-separate-errors":          {Supported, dFL, false, 0, "log streams with an error, a retry or a 5xx at level err"},
	"logasap":                      {Supported, dFL, false, 0, "log at server connect (tcp) or response headers (http)"},
	"forwardfor":                   {Supported, dFBL, true, 5, "X-Forwarded-For with the client's address"},
	"originalto":                   {Supported, dFBL, true, 5, "X-Original-To with the address the client connected to"},
	"http-keep-alive":              {Supported, dFBL, true, 0, "HTTP keep-alive"},
	"http-server-close":            {Supported, dFBL, true, 0, "close server side after each response"},
	"httpclose":                    {Supported, dFBL, true, 0, "close both sides after each response"},
	"http-buffer-request":          {Supported, dFBL, true, 0, "wait for the request body"},
	"http-ignore-probes":           {Supported, dFL, true, 0, "a connection that sends nothing and closes or times out gets no 408 and no log line (browsers' pre-connects)"},
	"http-no-delay":                {NoEffect, dFBL, true, 0, "latency tuning"},
	"http-pretend-keepalive":       {Supported, dBL, true, 0, "with http-server-close or httpclose, requests go to the server without Connection: close, as if the connection stayed open"},
	"http-use-proxy-header":        {Supported, dFL, true, 0, "Proxy-Connection header"},
	"http-restrict-req-hdr-names":  {Pending, dFBL, true, 1, "header name filtering"},
	"accept-invalid-http-request":  {Supported, dFL, true, 0, "relax request parsing"},
	"accept-invalid-http-response": {Supported, dBL, true, 0, "relax response parsing"},
	"h1-case-adjust-bogus-client":  {Supported, dFL, true, 0, "header case for picky clients"},
	"h1-case-adjust-bogus-server":  {Supported, dBL, true, 0, "header case for picky servers"},
	"checkcache":                   {Pending, dBL, true, 0, "cacheable response checks"},
	"persist":                      {Supported, dBL, false, 0, "a persistence cookie or use-server rule may name a server that is down"},
	"prefer-last-server":           {Supported, dBL, false, 0, "reuse the last server"},
	"abortonclose":                 {Supported, dBL, false, 0, "drop aborted queued requests"},
	"independent-streams":          {Pending, dFBL, false, 0, "separate read/write timeouts"},
	"clitcpka":                     {Supported, dFL, false, 0, "TCP keep-alive probes on client connections (off by default)"},
	"srvtcpka":                     {Supported, dBL, false, 0, "TCP keep-alive probes on server connections (off by default)"},
	"tcpka":                        {Supported, dFBL, false, 0, "TCP keep-alive probes on both sides"},
	"nolinger":                     {Pending, dFBL, false, 0, "reset instead of close"},
	"splice-auto":                  {NoEffect, dFBL, false, 0, "Sluice splices whenever it can"},
	"splice-request":               {NoEffect, dFBL, false, 0, "Sluice splices whenever it can"},
	"splice-response":              {NoEffect, dFBL, false, 0, "Sluice splices whenever it can"},
	"tcp-smart-accept":             {NoEffect, dFL, false, 0, "TCP tuning"},
	"tcp-smart-connect":            {NoEffect, dBL, false, 0, "TCP tuning"},
	"contstats":                    {NoEffect, dFBL, false, 0, "stats tuning"},
	"socket-stats":                 {NoEffect, dFL, false, 0, "stats tuning"},
	"transparent":                  {Unsupported, dBL, false, 0, "transparent proxying"},
	"http_proxy":                   {Unsupported, dFBL, true, 0, "forward proxying"},
	"disable-h2-upgrade":           {Pending, dFL, true, 0, "HTTP/2 upgrade"},
	"idle-close-on-response":       {Pending, dFL, true, 0, "close idle on response"},
}

func optionNames() []string { return sortedKeys(optionTable) }

// checkHTTPOptions refuses the HTTP-only options Sluice does not run yet
// in an http proxy, once its mode is final (a tcp proxy ignores them with
// HAProxy's warning). An option a defaults section gives several proxies
// is refused once, at its line.
func (l *loader) checkHTTPOptions(p *Proxy, seen map[Pos]bool) {
	if p.Mode != ModeHTTP {
		return
	}
	for _, name := range sortedKeys(p.Options) {
		o := p.Options[name]
		def := optionTable[name]
		if o.Disabled || !def.httpOnly || def.status == Supported || seen[o.Pos] {
			continue
		}
		if p.Cap&def.caps&(CapFE|CapBE) == 0 {
			continue // HAProxy ignores it on this side
		}
		seen[o.Pos] = true
		word := "not supported yet"
		if def.status == Unsupported {
			word = "not supported"
		}
		if def.status == NoEffect {
			l.diags.parsing(SevWarning, o.Pos, "'option %s' has no effect in Sluice; it is accepted and ignored.", name)
			continue
		}
		l.diags.parsing(SevAlert, o.Pos, "'option %s' is %s by Sluice.", name, word)
		l.diags[len(l.diags)-1].Refusal = true
	}
}

func parseOption(c *ctx) {
	name := c.arg(1)
	def, ok := optionTable[name]
	if name == "" || !ok {
		c.alertf("unknown option '%s'%s", name, didYouMean(name, optionNames()))
		return
	}
	args := c.args(2)
	if (c.no || c.def) && len(args) > 0 {
		prefix := "no"
		if c.def {
			prefix = "default"
		}
		c.alertf("'%s option %s' does not expect any argument.", prefix, name)
		return
	}
	if len(args) > def.maxArgs && name != "httpchk" {
		c.alertf("'option %s' cannot handle unexpected argument '%s'.", name, args[def.maxArgs])
		return
	}
	if !optionArgsOK(c, name, args) {
		return
	}
	p := c.proxy
	if p.Cap&CapDefaults == 0 && p.Cap&def.caps&(CapFE|CapBE) == 0 {
		what := "frontend"
		if def.caps&CapFE == 0 {
			what = "backend"
		}
		c.warnf("'%s' ignored because %s '%s' has no %s capability.", name, p.Kind, p.Name, what)
		return
	}
	// The HTTP connection modes exclude each other: the last one set wins.
	if !c.no {
		switch name {
		case "http-keep-alive", "http-server-close", "httpclose":
			for _, o := range []string{"http-keep-alive", "http-server-close", "httpclose"} {
				delete(p.Options, o)
			}
		case "tcp-check", "httpchk", "redis-check", "mysql-check", "pgsql-check", "smtpchk", "ldap-check", "ssl-hello-chk":
			// One check family per backend: the last one set wins.
			for _, o := range []string{"tcp-check", "httpchk", "redis-check", "mysql-check", "pgsql-check", "smtpchk", "ldap-check", "ssl-hello-chk"} {
				delete(p.Options, o)
			}
		case "tcplog", "httplog", "httpslog":
			for _, o := range []string{"tcplog", "httplog", "httpslog"} {
				delete(p.Options, o)
			}
		}
	}
	if c.def {
		delete(p.Options, name)
		return
	}
	p.Options[name] = &Option{Pos: c.pos, Name: name, Disabled: c.no, Args: args}
	// HTTP-only options need no refusal of their own: in a tcp proxy
	// HAProxy ignores them with a warning (see checkModeDependent), and an
	// http proxy is refused as a whole until the HTTP engine exists.
	if !c.no && !def.httpOnly {
		c.judge("option "+name, def.status)
	}
}

// optionArgsOK validates the arguments of options that take some.
func optionArgsOK(c *ctx, name string, args []string) bool {
	switch name {
	case "httplog":
		if len(args) == 1 && args[0] != "clf" {
			c.alertf("'option httplog' only supports the 'clf' argument (got '%s').", args[0])
			return false
		}
	case "forwardfor", "originalto":
		for i := 0; i < len(args); i++ {
			switch args[i] {
			case "except":
				if i+1 >= len(args) || args[i+1] == "" {
					c.alertf("'option %s except' expects <address>[/mask] as argument.", name)
					return false
				}
				if _, ok := ParseNet(args[i+1]); !ok {
					c.alertf("'option %s except' expects <address>[/mask] as argument.", name)
					return false
				}
				i++
			case "header":
				if i+1 >= len(args) || args[i+1] == "" {
					c.alertf("'option %s header' expects <header_name> as argument.", name)
					return false
				}
				i++
			case "if-none":
				if name == "forwardfor" {
					break
				}
				fallthrough
			default:
				if name == "forwardfor" {
					c.alertf("'option %s' only supports optional values: 'except', 'header' and 'if-none'.", name)
				} else {
					c.alertf("'option %s' only supports optional values: 'except' and 'header'.", name)
				}
				return false
			}
		}
	case "httpchk":
		if len(args) > 3 {
			c.alertf("'option httpchk' expects at most 3 arguments.")
			return false
		}
	case "pgsql-check":
		if len(args) != 2 || args[0] != "user" {
			c.alertf("'option pgsql-check' expects 'user <username>' as argument.")
			return false
		}
	case "mysql-check":
		if len(args) > 0 && (args[0] != "user" || len(args) < 2 || (len(args) > 2 && args[2] != "post-41" && args[2] != "pre-41")) {
			c.alertf("'option mysql-check' only supports optional values: 'user' and 'post-41'.")
			return false
		}
	case "redispatch":
		if len(args) == 1 {
			if _, clean := atoi(args[0]); !clean {
				c.alertf("'option redispatch' expects an integer interval (got '%s').", args[0])
				return false
			}
		}
	}
	return true
}

// parseLogTarget parses a `log` target line into dst.
func parseLogTarget(c *ctx, dst *[]LogTarget) {
	t, err := logsink.ParseTarget(c.args(1))
	if err != nil {
		c.alertf("%v", strings.TrimSuffix(err.Error(), "."))
		return
	}
	*dst = append(*dst, LogTarget{Pos: c.pos, Target: t})
}

// ParseNet reads an `except` network as HAProxy's str2net and str62net do:
// an address, address/length, or an IPv4 address with a dotted mask
// (contiguous: Sluice refuses the others).
func ParseNet(s string) (netip.Prefix, bool) {
	addr, mask, hasMask := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	if !hasMask {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	if n, err := strconv.Atoi(mask); err == nil {
		p, err := a.Prefix(n)
		return p, err == nil && n >= 0 && n <= a.BitLen()
	}
	m, err := netip.ParseAddr(mask)
	if err != nil || !a.Is4() || !m.Is4() {
		return netip.Prefix{}, false
	}
	b := m.As4()
	u := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for bits < 32 && u&(1<<(31-bits)) != 0 {
		bits++
	}
	if bits < 32 && u<<bits != 0 {
		return netip.Prefix{}, false
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}
