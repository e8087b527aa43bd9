package sample

import "sluice/internal/tlsterm"

// The TLS session fetches read Ctx.TLS, the client connection's state
// after the bind's handshake (nil on a plain connection). Names and
// values are HAProxy's: protocol and cipher names as OpenSSL reports them.
func init() {
	// ssl_fc is always found: false on a plain connection.
	eval("ssl_fc", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setBool(v, c.TLS != nil) })
	eval("ssl_fc_has_sni", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.TLS != nil && setBool(v, c.TLS.ServerName != "")
	})
	eval("ssl_fc_sni", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.TLS != nil && c.TLS.ServerName != "" && setStr(c, v, c.TLS.ServerName)
	})
	eval("ssl_fc_protocol", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.TLS != nil && setName(c, v, tlsterm.VersionName(c.TLS.Version))
	})
	eval("ssl_fc_cipher", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.TLS != nil && setName(c, v, tlsterm.CipherName(c.TLS.CipherSuite))
	})
	eval("ssl_fc_alpn", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.TLS != nil && c.TLS.NegotiatedProtocol != "" && setStr(c, v, c.TLS.NegotiatedProtocol)
	})
	// Found on a plain connection too (false), as HAProxy's.
	eval("ssl_fc_is_resumed", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return setBool(v, c.TLS != nil && c.TLS.DidResume)
	})
	// The error codes option httpslog logs. Sluice logs only connections
	// whose handshake succeeded, and a client certificate that fails
	// verification fails it, so they are 0: on the connection (fc_err),
	// and on a TLS one the TLS and certificate errors.
	eval("fc_err", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setInt(v, 0) })
	eval("ssl_fc_err ssl_c_err ssl_c_ca_err", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.TLS != nil && setInt(v, 0)
	})
	eval("ssl_fc_has_crt ssl_c_used", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.TLS != nil && setBool(v, len(c.TLS.PeerCertificates) > 0)
	})
	eval("ssl_fc_use_keysize ssl_fc_alg_keysize", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.TLS != nil && setInt(v, int64(tlsterm.CipherBits(c.TLS.CipherSuite)))
	})
}

// setName returns a protocol or cipher name, copied into the context's
// scratch space since converters may rewrite a sample in place; "" is no
// sample.
func setName(c *Ctx, v *Value, s string) bool {
	return s != "" && setStr(c, v, s)
}
