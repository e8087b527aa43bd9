package config

import (
	"errors"
	"strings"

	"sluice/internal/tlsterm"
)

// tlsWord parses one TLS word of a bind line into b.TLS. It reports its
// own alerts and returns false to stop reading the line, as HAProxy stops
// at a fatal keyword error.
type tlsWord func(c *ctx, b *BindParams, word, arg string) bool

// tlsBindWords are the bind keywords tlsterm implements; bindParams holds
// their argument counts and statuses.
var tlsBindWords = map[string]tlsWord{}

func addTLSBindParams() {
	add := func(name string, nargs int, st Status, f tlsWord) {
		bindParams[name] = bindParam{nargs, st, nil}
		tlsBindWords[name] = f
	}
	add("ssl", 0, Supported, func(c *ctx, b *BindParams, _, _ string) bool {
		b.SSL = true
		b.TLS.Settings.ApplyDefaults(&c.g().SSLBindDefaults)
		return true
	})
	add("crt", 1, Supported, parseBindCrt)
	add("ca-file", 1, Supported, func(c *ctx, b *BindParams, _, arg string) bool {
		pool, err := tlsterm.LoadCAFile(withBase(c.g().CABase, arg))
		if err != nil {
			return c.bindAlert(err)
		}
		b.TLS.Settings.ClientCAs = pool
		return true
	})
	add("verify", 1, Supported, func(c *ctx, b *BindParams, _, arg string) bool {
		v, err := tlsterm.ParseVerify(arg)
		if err != nil {
			return c.bindAlert(err)
		}
		b.TLS.Settings.Verify = v
		return true
	})
	add("alpn", 1, Supported, func(c *ctx, b *BindParams, _, arg string) bool {
		protos, err := tlsterm.ParseALPN(arg)
		if err != nil {
			return c.bindAlert(err)
		}
		b.TLS.Settings.ALPN = protos
		return true
	})
	str := func(set func(s *tlsterm.Settings, v string)) tlsWord {
		return func(c *ctx, b *BindParams, _, arg string) bool {
			set(&b.TLS.Settings, arg)
			return true
		}
	}
	add("ciphers", 1, Supported, str(func(s *tlsterm.Settings, v string) { s.Ciphers = v }))
	add("ciphersuites", 1, Supported, str(func(s *tlsterm.Settings, v string) { s.Ciphersuites = v }))
	add("curves", 1, Supported, str(func(s *tlsterm.Settings, v string) { s.Curves = v }))
	add("ecdhe", 1, Supported, str(func(s *tlsterm.Settings, v string) { s.ECDHE = v }))
	for _, n := range []string{"ssl-min-ver", "ssl-max-ver"} {
		add(n, 1, Supported, func(c *ctx, b *BindParams, w, arg string) bool {
			return c.bindAlert(b.TLS.Settings.Methods.SetMinMax(w, arg))
		})
	}
	for _, v := range []string{"sslv3", "tlsv10", "tlsv11", "tlsv12", "tlsv13"} {
		for _, n := range []string{"no-" + v, "force-" + v} {
			add(n, 0, Supported, func(c *ctx, b *BindParams, w, _ string) bool {
				_, err := b.TLS.Settings.Methods.ApplyOption(w)
				if err != nil {
					err = errors.New("'" + w + "' : " + err.Error())
				}
				return c.bindAlert(err)
			})
		}
	}
	add("strict-sni", 0, Supported, func(c *ctx, b *BindParams, _, _ string) bool {
		b.TLS.Settings.StrictSNI = true
		return true
	})
	add("no-tls-tickets", 0, Supported, func(c *ctx, b *BindParams, _, _ string) bool {
		b.TLS.Settings.NoTLSTickets = true
		return true
	})
	// crypto/tls orders cipher suites itself; Sluice never accepts early
	// data, so clients simply do a full handshake.
	add("prefer-client-ciphers", 0, NoEffect, func(*ctx, *BindParams, string, string) bool { return true })
	add("allow-0rtt", 0, NoEffect, func(*ctx, *BindParams, string, string) bool { return true })
}

func parseBindCrt(c *ctx, b *BindParams, _, arg string) bool {
	certs, err := tlsterm.LoadCrt(withBase(c.g().CrtBase, arg))
	if err != nil {
		return c.bindAlert(err)
	}
	b.TLS.Settings.Certs = append(b.TLS.Settings.Certs, certs...)
	return true
}

// withBase applies crt-base / ca-base to a relative path, as HAProxy
// does: base + "/" + path.
func withBase(base, path string) string {
	if base == "" || strings.HasPrefix(path, "/") {
		return path
	}
	return base + "/" + path
}

// bindAlert reports a bind keyword's error in HAProxy's shape, "'bind
// <addr>' in section '<kind>' : <msg>". Refusals of what crypto/tls cannot
// do (SSLv3, OCSP files) are marked so. It returns whether err was nil.
func (c *ctx) bindAlert(err error) bool {
	if err == nil {
		return true
	}
	c.alertf("'bind %s' in section '%s' : %s", c.arg(1), sectionNames[c.l.sec], err.Error())
	if errors.Is(err, tlsterm.ErrSSLv3) || errors.Is(err, tlsterm.ErrNotSupported) {
		c.refused()
	}
	return false
}

// checkBindTLS builds the TLS configuration of every `ssl` bind line of
// p, reporting HAProxy's post-parse alerts and warnings for it.
func (l *loader) checkBindTLS(p *Proxy) {
	built := map[*BindTLS]bool{}
	for _, b := range p.Binds {
		t := b.Params.TLS
		if !b.Params.SSL || t == nil || t.broken || built[t] {
			continue
		}
		built[t] = true
		s := t.Settings // h2 is only dropped where Sluice would have to speak it
		s.NoH2 = p.Mode == ModeHTTP
		cfg, warns, err := tlsterm.Build(&s, tlsterm.Origin{Proxy: p.Name, Bind: t.Addr, File: b.Pos.File, Line: b.Pos.Line})
		for _, w := range warns {
			l.diags.global(SevWarning, b.Pos, "%s", w)
		}
		for _, e := range unwrapAll(err) {
			if e != nil {
				l.diags.global(SevAlert, b.Pos, "%s", e.Error())
			}
		}
		t.Config = cfg
	}
}

// Global ssl-default-bind-* keywords.

func parseSSLDefaultBindString(c *ctx) {
	if c.nargs() < 1 {
		what := "a cipher suite"
		if c.arg(0) == "ssl-default-bind-curves" {
			what = "a curves suite"
		}
		c.alertf("global statement '%s' expects %s as an argument.", c.arg(0), what)
		return
	}
	d := &c.g().SSLBindDefaults
	switch c.arg(0) {
	case "ssl-default-bind-ciphers":
		d.Ciphers = c.arg(1)
	case "ssl-default-bind-ciphersuites":
		d.Ciphersuites = c.arg(1)
	case "ssl-default-bind-curves":
		d.Curves = c.arg(1)
	}
}

func parseSSLDefaultBindOptions(c *ctx) {
	if err := c.g().SSLBindDefaults.ParseDefaultOptions(c.args(1)); err != nil {
		c.alertf("%s", err.Error())
		if errors.Is(err, tlsterm.ErrSSLv3) {
			c.refused()
		}
		return
	}
	if c.g().SSLBindDefaults.PreferClientCiphers {
		c.warnf("'ssl-default-bind-options prefer-client-ciphers' has no effect in Sluice: crypto/tls orders cipher suites itself.")
	}
}

func parseBaseDir(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("'%s' expects a directory path as an argument.", c.arg(0))
		return
	}
	if c.arg(0) == "crt-base" {
		c.g().CrtBase = c.arg(1)
	} else {
		c.g().CABase = c.arg(1)
	}
}
