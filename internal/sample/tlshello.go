package sample

// The TLS ClientHello fetches read the first record a client sends, as
// HAProxy's smp_fetch_ssl_hello_type and smp_fetch_ssl_hello_sni do, so
// TLS can be routed by server name without being terminated (RFC 8446
// §4.1.2 ClientHello, RFC 6066 §3 server_name).

// fetchSSLHelloType is the handshake type of the first TLS record: 1 for
// a ClientHello. It waits until the whole handshake message is buffered.
func fetchSSLHelloType(c *Ctx, _ []Arg, v *Value) bool {
	d := c.Payload
	if len(d) == 0 {
		c.waitMore()
		return false
	}
	if !(d[0] >= 0x14 && d[0] <= 0x17 || d[0] == 0xff) {
		return false
	}
	if len(d) < 9 {
		c.waitMore()
		return false
	}
	if int(d[1])<<16|int(d[2]) < 0x030000 { // SSLv3 record layer or later
		return false
	}
	if int(d[3])<<8|int(d[4]) < 4 { // room for the handshake type and length
		return false
	}
	hsLen := int(d[6])<<16 | int(d[7])<<8 | int(d[8])
	if len(d) < hsLen+9 {
		c.waitMore()
		return false
	}
	return setInt(v, int64(d[5]))
}

// fetchSSLSNI is the host name in a ClientHello's server_name extension.
func fetchSSLSNI(c *Ctx, _ []Arg, v *Value) bool {
	name, st := clientHelloSNI(c.Payload)
	switch st {
	case helloShort:
		c.waitMore()
		return false
	case helloFound:
		return setBytes(v, Str, name)
	}
	return false
}

type helloState int

const (
	helloNot helloState = iota
	helloShort
	helloFound
)

func clientHelloSNI(d []byte) ([]byte, helloState) {
	if len(d) == 0 {
		return nil, helloShort
	}
	if d[0] != 0x16 { // handshake record
		return nil, helloNot
	}
	if len(d) < 3 {
		return nil, helloShort
	}
	if d[1] < 3 {
		return nil, helloNot
	}
	if len(d) < 5 {
		return nil, helloShort
	}
	// The smallest handshake that can carry an extension.
	const minHello = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2
	if int(d[3])<<8|int(d[4]) < 1+3+minHello {
		return nil, helloNot
	}
	d = d[5:]
	if len(d) < 1 {
		return nil, helloShort
	}
	if d[0] != 1 { // ClientHello
		return nil, helloNot
	}
	if len(d) < 4 {
		return nil, helloShort
	}
	hsLen := int(d[1])<<16 | int(d[2])<<8 | int(d[3])
	if hsLen < minHello {
		return nil, helloNot
	}
	if len(d)-4 < hsLen {
		return nil, helloShort
	}
	return helloSNI(d[4 : 4+hsLen])
}

// helloSNI walks a complete ClientHello body to the server_name extension.
func helloSNI(d []byte) ([]byte, helloState) {
	if d[0] < 3 || d[1] < 1 { // TLS 1.0 or later
		return nil, helloNot
	}
	sid := int(d[34])
	if sid > 32 || sid > len(d)-35 {
		return nil, helloNot
	}
	d = d[35+sid:]
	if len(d) < 4 {
		return nil, helloNot
	}
	ciphers := int(d[0])<<8 | int(d[1])
	if ciphers < 2 || ciphers > len(d)-2 {
		return nil, helloNot
	}
	d = d[2+ciphers:]
	if len(d) < 2 || d[0] < 1 || int(d[0]) > len(d)-1 {
		return nil, helloNot
	}
	d = d[1+int(d[0]):]
	if len(d) < 2 {
		return nil, helloNot
	}
	extLen := int(d[0])<<8 | int(d[1])
	if extLen > len(d)-2 {
		return nil, helloNot
	}
	d = d[2 : 2+extLen]
	for len(d) >= 4 {
		typ, n := int(d[0])<<8|int(d[1]), int(d[2])<<8|int(d[3])
		if n > len(d)-4 {
			return nil, helloNot
		}
		if typ == 0 { // server_name
			e := d[4 : 4+n]
			if len(e) < 5 {
				return nil, helloNot
			}
			list := int(e[0])<<8 | int(e[1])
			if list < 4 || list > len(e)-2 {
				return nil, helloNot
			}
			nameLen := int(e[3])<<8 | int(e[4])
			if e[2] == 0 && nameLen <= len(e)-5 { // host_name
				return e[5 : 5+nameLen], helloFound
			}
		}
		d = d[4+n:]
	}
	return nil, helloNot
}
