package config

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"sluice/internal/netaddr"
)

func defaultServerParams() ServerParams {
	return ServerParams{Weight: 1, Rise: 2, Fall: 3, Inter: 2 * time.Second}
}

// serverParam is one keyword after a server's address.
type serverParam struct {
	nargs  int
	status Status
	apply  func(p *ServerParams, arg string) error
}

func setInt(dst func(p *ServerParams) *int, lo, hi int) func(p *ServerParams, a string) error {
	return func(p *ServerParams, a string) error {
		n, err := strconv.Atoi(a)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("expects an integer between %d and %d (got '%s')", lo, hi, a)
		}
		*dst(p) = n
		return nil
	}
}

func setTime(dst func(p *ServerParams) *time.Duration) func(p *ServerParams, a string) error {
	return func(p *ServerParams, a string) error {
		d, err := ParseTime(a)
		if err != nil {
			return err
		}
		if d <= 0 {
			return fmt.Errorf("must be > 0")
		}
		*dst(p) = d
		return nil
	}
}

func setBool(f func(p *ServerParams)) func(p *ServerParams, a string) error {
	return func(p *ServerParams, _ string) error { f(p); return nil }
}

// oneOf takes one of the words given, HAProxy's keyword choices.
func oneOf(dst func(p *ServerParams) *string, words ...string) func(p *ServerParams, a string) error {
	return func(p *ServerParams, a string) error {
		for _, w := range words {
			if a == w {
				*dst(p) = a
				return nil
			}
		}
		return fmt.Errorf("expects %s (got '%s')", quoteList(words, "or"), a)
	}
}

// other records a parameter whose behaviour is built elsewhere.
func other(name string) func(p *ServerParams, a string) error {
	return func(p *ServerParams, a string) error {
		if p.Other == nil {
			p.Other = map[string]string{}
		}
		p.Other[name] = a
		return nil
	}
}

var serverParams = map[string]serverParam{
	"weight":    {1, Supported, setInt(func(p *ServerParams) *int { return &p.Weight }, 0, 256)},
	"backup":    {0, Supported, setBool(func(p *ServerParams) { p.Backup = true })},
	"no-backup": {0, Supported, setBool(func(p *ServerParams) { p.Backup = false })},
	"disabled":  {0, Supported, setBool(func(p *ServerParams) { p.Disabled = true })},
	"enabled":   {0, Supported, setBool(func(p *ServerParams) { p.Disabled = false })},
	"id":        {1, Supported, setInt(func(p *ServerParams) *int { return &p.ID }, 1, 1<<31-1)},
	"maxconn":   {1, Supported, setInt(func(p *ServerParams) *int { return &p.Maxconn }, 0, 1<<31-1)},
	"maxqueue":  {1, Supported, setInt(func(p *ServerParams) *int { return &p.Maxqueue }, 0, 1<<31-1)},
	"minconn":   {1, Supported, setInt(func(p *ServerParams) *int { return &p.Minconn }, 0, 1<<31-1)},
	"check":     {0, Supported, setBool(func(p *ServerParams) { p.Check = true })},
	"no-check":  {0, Supported, setBool(func(p *ServerParams) { p.Check = false })},
	"inter":     {1, Supported, setTime(func(p *ServerParams) *time.Duration { return &p.Inter })},
	"fastinter": {1, Supported, setTime(func(p *ServerParams) *time.Duration { return &p.FastInter })},
	"downinter": {1, Supported, setTime(func(p *ServerParams) *time.Duration { return &p.DownInter })},
	"rise":      {1, Supported, setInt(func(p *ServerParams) *int { return &p.Rise }, 1, 1<<31-1)},
	"fall":      {1, Supported, setInt(func(p *ServerParams) *int { return &p.Fall }, 1, 1<<31-1)},
	"port":      {1, Supported, setInt(func(p *ServerParams) *int { return &p.Port }, 1, 65535)},
	"addr":      {1, Supported, func(p *ServerParams, a string) error { p.Addr = a; return nil }},
	"slowstart": {1, Supported, setTime(func(p *ServerParams) *time.Duration { return &p.Slowstart })},
	"cookie":    {1, Supported, func(p *ServerParams, a string) error { p.Cookie = a; return nil }},

	"check-send-proxy":    {0, Supported, setBool(func(p *ServerParams) { p.CheckSendProxy = true })},
	"no-check-send-proxy": {0, Supported, setBool(func(p *ServerParams) { p.CheckSendProxy = false })},
	"agent-check":         {0, Supported, setBool(func(p *ServerParams) { p.Agent = true })},
	"no-agent-check":      {0, Supported, setBool(func(p *ServerParams) { p.Agent = false })},
	"agent-port":          {1, Supported, setInt(func(p *ServerParams) *int { return &p.AgentPort }, 1, 65535)},
	"agent-addr":          {1, Supported, func(p *ServerParams, a string) error { p.AgentAddr = a; return nil }},
	"agent-inter":         {1, Supported, setTime(func(p *ServerParams) *time.Duration { return &p.AgentInter })},
	"agent-send":          {1, Supported, func(p *ServerParams, a string) error { p.AgentSend = a; return nil }},
	"error-limit":         {1, Supported, setInt(func(p *ServerParams) *int { return &p.ErrorLimit }, 1, 1<<31-1)},
	"observe":             {1, Supported, oneOf(func(p *ServerParams) *string { return &p.Observe }, "none", "layer4", "layer7")},
	"on-error":            {1, Supported, oneOf(func(p *ServerParams) *string { return &p.OnError }, "fastinter", "fail-check", "sudden-death", "mark-down")},
	"on-marked-down":      {1, Supported, oneOf(func(p *ServerParams) *string { return &p.OnMarkedDown }, "shutdown-sessions")},
	"on-marked-up":        {1, Supported, oneOf(func(p *ServerParams) *string { return &p.OnMarkedUp }, "shutdown-backup-sessions")},

	"send-proxy":       {0, Supported, setBool(func(p *ServerParams) { p.SendProxy = 1 })},
	"send-proxy-v2":    {0, Supported, setBool(func(p *ServerParams) { p.SendProxy = 2 })},
	"no-send-proxy":    {0, Supported, setBool(func(p *ServerParams) { p.SendProxy = 0 })},
	"no-send-proxy-v2": {0, Supported, setBool(func(p *ServerParams) { p.SendProxy = 0 })},
	"tfo":              {0, NoEffect, other("tfo")},
}

func init() {
	pending1 := []string{"track", "init-addr", "resolvers", "resolve-prefer",
		"resolve-opts", "resolve-net", "proxy-v2-options", "alpn", "ca-file", "crl-file", "crt", "ciphers",
		"ciphersuites", "sni", "verify", "verifyhost", "ssl-min-ver", "ssl-max-ver", "check-alpn",
		"check-proto", "check-sni", "pool-max-conn", "pool-low-conn", "pool-purge-delay", "max-reuse",
		"proto", "ws", "redir", "npn", "log-proto"}
	for _, n := range pending1 {
		serverParams[n] = serverParam{1, Pending, other(n)}
	}
	pending0 := []string{"check-ssl", "ssl", "send-proxy-v2-ssl",
		"send-proxy-v2-ssl-cn", "allow-0rtt", "no-ssl-reuse", "ssl-reuse", "no-tls-tickets",
		"tls-tickets", "no-verifyhost", "force-sslv3", "force-tlsv10", "force-tlsv11", "force-tlsv12",
		"force-tlsv13", "no-sslv3", "no-tlsv10", "no-tlsv11", "no-tlsv12", "no-tlsv13", "stick", "non-stick"}
	for _, n := range pending0 {
		serverParams[n] = serverParam{0, Pending, other(n)}
	}
	for _, n := range []string{"no-check-ssl", "no-ssl"} {
		serverParams[n] = serverParam{0, Supported, other(n)}
	}
	for _, n := range []string{"source", "namespace", "usesrc", "check-via-socks4", "socks4", "shard"} {
		serverParams[n] = serverParam{1, Unsupported, other(n)}
	}
	serverParams["check-via-socks4"] = serverParam{0, Unsupported, other("check-via-socks4")}
}

func serverParamNames() []string { return sortedKeys(serverParams) }

// parseServerParams applies words to p, reporting problems in HAProxy's
// "[file:line] : 'server be/name' : ..." shape. It returns the statuses met.
func (c *ctx) parseServerParams(label string, words []string, p *ServerParams) []string {
	var pending []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		sp, ok := serverParams[w]
		if !ok {
			c.placeAlertf("'%s' : unknown keyword '%s'%s", label, w, didYouMean(w, serverParamNames()))
			return nil
		}
		arg := ""
		if sp.nargs > 0 {
			if i+1 >= len(words) {
				c.placeAlertf("'%s' : '%s' expects an argument.", label, w)
				return nil
			}
			i++
			arg = words[i]
		}
		if w == "weight" {
			// HAProxy's own wording, double dot included.
			if n, err := strconv.Atoi(arg); err == nil && (n < 0 || n > 256) {
				c.placeAlertf("'%s' : weight of server %s is not within 0 and 256 (%d)..", label, label[strings.LastIndexByte(label, '/')+1:], n)
				return nil
			}
		}
		if err := sp.apply(p, arg); err != nil {
			c.placeAlertf("'%s' : %s in '%s' argument.", label, err, w)
			return nil
		}
		switch sp.status {
		case Pending, Unsupported:
			pending = append(pending, w)
		case NoEffect:
			c.warnf("'%s' : '%s' has no effect in Sluice; it is accepted and ignored.", label, w)
		}
	}
	return pending
}

func parseServer(c *ctx) {
	p := c.proxy
	if c.nargs() < 2 {
		c.placeAlertf("'server' expects <name> and <addr>[:<port>] as arguments.")
		return
	}
	name := c.arg(1)
	for _, s := range p.Servers {
		if s.Name == name {
			c.alertf("%s '%s', another server named '%s' was already defined at line %d, please use distinct names.", p.Kind, p.Name, name, s.Pos.Line)
			return
		}
	}
	label := "server " + p.Name + "/" + name
	addr, ok := c.serverAddr(c.arg(2), label)
	if !ok {
		return
	}
	// The relay dials TCP addresses: fixed, the client's destination
	// (0.0.0.0), or its destination port shifted (:+N). Sockets of other
	// families are refused until it handles them.
	if addr.Kind != netaddr.KindIPv4 && addr.Kind != netaddr.KindIPv6 && addr.Kind != netaddr.KindUnspec {
		c.placeAlertf("'%s' : server address '%s' (not a TCP address) is not supported yet by Sluice.", label, c.arg(2))
		c.refused()
		return
	}
	s := &Server{Pos: c.pos, Name: name, Addr: addr, Params: p.DefaultServer}
	s.Params.Other = cloneMap(p.DefaultServer.Other)
	pending := c.parseServerParams(label, c.args(3), &s.Params)
	if c.alerts > 0 {
		return
	}
	if id := s.Params.ID; id > 0 {
		for _, o := range p.Servers {
			if o.Params.ID == id {
				c.placeAlertf("'%s' : 'id' : custom id %d already used at %s:%d ('server %s').", label, id, o.Pos.File, o.Pos.Line, o.Name)
				return
			}
		}
	}
	if s.Params.Agent && s.Params.AgentPort == 0 {
		c.placeAlertf("'%s' : server %s does not have agent port. Agent check has been disabled.", label, name)
		return
	}
	if s.Params.Observe == "layer7" && p.Mode != ModeHTTP {
		// haproxy alerts and goes on without it; Sluice refuses.
		c.placeAlertf("'%s' : 'layer7' can only be used in http proxies..", label)
		return
	}
	p.Servers = append(p.Servers, s)
	c.refusePending(label, pending)
}

// refusePending turns parameters Sluice cannot honour yet into one alert.
func (c *ctx) refusePending(label string, names []string) {
	for _, n := range names {
		st := serverParams[n].status
		if st == Pending {
			c.placeAlertf("'%s' : '%s' is not supported yet by Sluice.", label, n)
		} else {
			c.placeAlertf("'%s' : '%s' is not supported by Sluice.", label, n)
		}
		c.refused()
	}
}

func parseDefaultServer(c *ctx) {
	p := c.proxy
	pending := c.parseServerParams("default-server", c.args(1), &p.DefaultServer)
	if c.alerts == 0 {
		c.refusePending("default-server", pending)
	}
}

// serverAddr parses and, unless disabled, resolves a server address.
func (c *ctx) serverAddr(s, label string) (netaddr.ServerAddr, bool) {
	a, err := netaddr.ParseServer(c.expandAddr(s))
	if err != nil {
		c.placeAlertf("'%s' : %v", label, err)
		return a, false
	}
	if a.Host != "" && !a.IP.IsValid() && a.Kind != netaddr.KindUnix && !c.l.opt.NoResolve {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Resolve(ctx); err != nil {
			c.placeAlertf("'%s' : %v", label, err)
			return a, false
		}
	}
	return a, true
}
