package tlsterm

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"strings"
)

// sniIndex picks a bind line's certificate for a ClientHello, as HAProxy's
// ssl_sock_switchctx_cbk: exact names first, then wildcards, then the
// default certificate unless strict-sni.
type sniIndex struct {
	exact map[string][]*tls.Certificate
	// wild is keyed by what follows the '*' of "*.example.com":
	// ".example.com", so the lookup key is the SNI from its first dot.
	wild      map[string][]*tls.Certificate
	def       *tls.Certificate
	strictSNI bool
}

// ErrNoCertificate is the handshake error when strict-sni finds no
// certificate for the client's server name (or it sent none).
var ErrNoCertificate = errors.New("strict-sni: no certificate matches the client's server name")

func newSNIIndex(certs []*Cert, strict bool) *sniIndex {
	x := &sniIndex{exact: map[string][]*tls.Certificate{}, wild: map[string][]*tls.Certificate{}, strictSNI: strict}
	for _, c := range certs {
		tc := &c.TLS
		if x.def == nil {
			x.def = tc
		}
		for _, n := range c.Names {
			m, key := x.exact, n
			if strings.HasPrefix(n, "*.") {
				m, key = x.wild, n[1:]
			} else if strings.HasPrefix(n, "*") {
				continue // "*foo.com": HAProxy files it where no lookup reaches
			}
			if !containsCert(m[key], tc) {
				m[key] = append(m[key], tc)
			}
		}
	}
	return x
}

func containsCert(list []*tls.Certificate, c *tls.Certificate) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// getCertificate is tls.Config.GetCertificate. It allocates nothing unless
// the server name has upper-case letters.
func (x *sniIndex) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		return x.fallback()
	}
	if hasUpper(name) {
		name = strings.ToLower(name)
	}
	if l := x.exact[name]; len(l) > 0 {
		return pick(l, hello), nil
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		if l := x.wild[name[i:]]; len(l) > 0 {
			return pick(l, hello), nil
		}
	}
	return x.fallback()
}

func (x *sniIndex) fallback() (*tls.Certificate, error) {
	if x.strictSNI {
		return nil, ErrNoCertificate
	}
	return x.def, nil
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// pick chooses among certificates for one name as HAProxy does: ECDSA when
// the client can use it, else RSA, else another kind, each time the first
// loaded.
func pick(l []*tls.Certificate, hello *tls.ClientHelloInfo) *tls.Certificate {
	if len(l) == 1 {
		return l[0]
	}
	var ec, rs, other *tls.Certificate
	for _, c := range l {
		switch c.PrivateKey.(type) {
		case *ecdsa.PrivateKey:
			if ec == nil {
				ec = c
			}
		case *rsa.PrivateKey:
			if rs == nil {
				rs = c
			}
		default:
			if other == nil {
				other = c
			}
		}
	}
	for _, c := range []*tls.Certificate{ec, rs, other} {
		if c != nil && hello.SupportsCertificate(c) == nil {
			return c
		}
	}
	for _, c := range []*tls.Certificate{other, ec, rs} {
		if c != nil {
			return c
		}
	}
	return l[0]
}
