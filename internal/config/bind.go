package config

import (
	"strconv"

	"sluice/internal/netaddr"
)

// bindParam is one keyword after a bind address.
type bindParam struct {
	nargs  int
	status Status
	apply  func(b *BindParams, arg string) error
}

func bindOther(name string) func(b *BindParams, a string) error {
	return func(b *BindParams, a string) error {
		if b.Other == nil {
			b.Other = map[string]string{}
		}
		b.Other[name] = a
		return nil
	}
}

var bindParams = map[string]bindParam{
	"name": {1, Supported, bindOther("name")},
	"maxconn": {1, Supported, func(b *BindParams, a string) error {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			return errf("'maxconn' : invalid value %s, must be >= 0", a)
		}
		b.Maxconn = n
		return nil
	}},
	"v4v6":         {0, Supported, func(b *BindParams, _ string) error { b.V4V6 = true; return nil }},
	"v6only":       {0, Supported, func(b *BindParams, _ string) error { b.V6Only = true; return nil }},
	"defer-accept": {0, Supported, func(b *BindParams, _ string) error { b.DeferAccept = true; return nil }},
	"backlog":      {1, Supported, bindOther("backlog")},
	"mode":         {1, Supported, bindOther("mode")},
	"uid":          {1, Supported, bindOther("uid")},
	"gid":          {1, Supported, bindOther("gid")},
	"user":         {1, Supported, bindOther("user")},
	"group":        {1, Supported, bindOther("group")},
	"id":           {1, Supported, bindOther("id")},
	"accept-proxy": {0, Supported, func(b *BindParams, _ string) error { b.AcceptProxy = true; return nil }},
	"tfo":          {0, NoEffect, bindOther("tfo")},
	"process":      {1, NoEffect, bindOther("process")},
	"thread":       {1, NoEffect, bindOther("thread")},
	"nice":         {1, NoEffect, bindOther("nice")},
	"transparent":  {0, Unsupported, bindOther("transparent")},
	"interface":    {1, Unsupported, bindOther("interface")},
	"namespace":    {1, Unsupported, bindOther("namespace")},
	"mss":          {1, Unsupported, bindOther("mss")},
	"tcp-ut":       {1, Unsupported, bindOther("tcp-ut")},
	"proto":        {1, Unsupported, bindOther("proto")},
}

func init() {
	for _, n := range []string{"crl-file", "crt-list", "npn", "ca-sign-file", "ca-sign-pass",
		"ca-verify-file", "crt-ignore-err", "ca-ignore-err", "sigalgs", "client-sigalgs"} {
		bindParams[n] = bindParam{1, Pending, bindOther(n)}
	}
	for _, n := range []string{"generate-certificates", "no-ca-names", "quic-force-retry"} {
		bindParams[n] = bindParam{0, Pending, bindOther(n)}
	}
	addTLSBindParams()
}

func parseBind(c *ctx) {
	p := c.proxy
	if c.nargs() < 1 {
		c.alertf("'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.")
		return
	}
	addrs, err := netaddr.ParseBind(c.expandAddr(c.arg(1)))
	if err != nil {
		c.alertf("'bind %s' : %v", c.arg(1), err)
		return
	}
	for _, a := range addrs {
		if a.Kind == netaddr.KindFD {
			if err := checkListeningFD(a.FD); err != nil {
				c.alertf("'bind' : cannot use file descriptor '%d' : %s.", a.FD, capitalize(err.Error()))
				return
			}
		}
	}
	var params BindParams
	var pending []string
	words := c.args(2)
	for i := 0; i < len(words); i++ {
		w := words[i]
		bp, ok := bindParams[w]
		if !ok {
			c.alertf("'bind %s' unknown keyword '%s'.%s", c.arg(1), w, didYouMean(w, sortedKeys(bindParams)))
			return
		}
		arg := ""
		if bp.nargs > 0 {
			if i+1 >= len(words) {
				c.alertf("'bind %s' : missing value for '%s' option.", c.arg(1), w)
				return
			}
			i++
			arg = words[i]
		}
		if tf := tlsBindWords[w]; tf != nil {
			if params.TLS == nil {
				params.TLS = &BindTLS{Addr: c.arg(1)}
			}
			if !tf(c, &params, w, arg) {
				// The line is still a listener (no "has no 'bind'"
				// warning follows), but its TLS is not built.
				params.TLS.broken = true
				break
			}
		} else if err := bp.apply(&params, arg); err != nil {
			c.alertf("'bind %s' : %v", c.arg(1), err)
			return
		}
		switch bp.status {
		case Pending, Unsupported:
			pending = append(pending, w)
		case NoEffect:
			c.warnf("'bind %s' : '%s' has no effect in Sluice; it is accepted and ignored.", c.arg(1), w)
		}
	}
	for _, w := range pending {
		not := "not supported yet"
		if bindParams[w].status == Unsupported {
			not = "not supported"
		}
		c.alertf("'bind %s' : '%s' is %s by Sluice.", c.arg(1), w, not)
		c.refused()
	}
	for _, a := range addrs {
		p.Binds = append(p.Binds, &Bind{Pos: c.pos, Addr: a, Name: params.Other["name"], Params: params})
	}
}
