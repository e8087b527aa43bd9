package tlsterm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// Version is an SSL/TLS protocol version as HAProxy's configuration names
// it; the zero value means "not set".
type Version uint8

// Versions in order, as HAProxy's methodVersions table.
const (
	VersionUnset Version = iota
	SSLv3
	TLSv10
	TLSv11
	TLSv12
	TLSv13
)

var versionNames = [...]string{"", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"}

var versionWire = [...]uint16{0, tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// String returns HAProxy's name for the version ("TLSv1.2").
func (v Version) String() string { return versionNames[v] }

// ParseVersion reads an ssl-min-ver / ssl-max-ver argument.
func ParseVersion(s string) (Version, bool) {
	for i, n := range versionNames {
		if i > 0 && n == s {
			return Version(i), true
		}
	}
	return VersionUnset, false
}

// DefaultMinVersion is HAProxy 2.6's ssl-min-ver when none is configured.
const DefaultMinVersion = TLSv12

// ErrSSLv3 refuses SSLv3, which crypto/tls does not implement.
var ErrSSLv3 = errors.New("SSLv3 is not supported by Sluice: crypto/tls implements TLS 1.0 to TLS 1.3 only")

// Methods are the version words of a bind line or of
// ssl-default-bind-options: ssl-min-ver, ssl-max-ver, no-*, force-*.
type Methods struct {
	Min, Max Version
	// No has bit 1<<v set for each no-sslv3 / no-tlsv1x word.
	No uint8
}

// ApplyOption applies one version word that takes no argument (no-tlsv12,
// force-tlsv13 ...). It reports false when the word is not one of them.
func (m *Methods) ApplyOption(word string) (bool, error) {
	var v Version
	var force bool
	switch {
	case strings.HasPrefix(word, "no-"):
		v = optionVersion(word[3:])
	case strings.HasPrefix(word, "force-"):
		v, force = optionVersion(word[6:]), true
	}
	if v == VersionUnset {
		return false, nil
	}
	if force {
		if v == SSLv3 {
			return true, ErrSSLv3
		}
		m.Min, m.Max = v, v
		return true, nil
	}
	m.No |= 1 << v
	return true, nil
}

func optionVersion(s string) Version {
	switch s {
	case "sslv3":
		return SSLv3
	case "tlsv10":
		return TLSv10
	case "tlsv11":
		return TLSv11
	case "tlsv12":
		return TLSv12
	case "tlsv13":
		return TLSv13
	}
	return VersionUnset
}

// SetMinMax applies "ssl-min-ver V" or "ssl-max-ver V", with HAProxy's
// error texts.
func (m *Methods) SetMinMax(keyword, arg string) error {
	if arg == "" {
		return fmt.Errorf("'%s' : missing the ssl/tls version", keyword)
	}
	v, ok := ParseVersion(arg)
	if !ok {
		return fmt.Errorf("'%s' : unknown ssl/tls version", arg)
	}
	if v == SSLv3 {
		return fmt.Errorf("'%s %s' : %w", keyword, arg, ErrSSLv3)
	}
	if keyword == "ssl-max-ver" {
		m.Max = v
	} else {
		m.Min = v
	}
	return nil
}

// Verify is the client certificate policy of a bind line.
type Verify uint8

// Client certificate policies (bind "verify").
const (
	VerifyNone Verify = iota
	VerifyOptional
	VerifyRequired
)

// ParseVerify reads a bind line's verify argument, with HAProxy's text.
func ParseVerify(s string) (Verify, error) {
	switch s {
	case "none":
		return VerifyNone, nil
	case "optional":
		return VerifyOptional, nil
	case "required":
		return VerifyRequired, nil
	}
	return VerifyNone, fmt.Errorf("'verify' : unknown verify method '%s', only 'none', 'optional', and 'required' are supported", s)
}

// ParseALPN splits an alpn argument, with HAProxy's checks.
func ParseALPN(s string) ([]string, error) {
	if s == "" {
		return nil, errors.New("'alpn' : missing the comma-delimited ALPN protocol suite")
	}
	protos := strings.Split(s, ",")
	for _, p := range protos {
		if len(p) > 255 {
			return nil, errors.New("'alpn' : ALPN protocol name too long")
		}
		if p == "" {
			return nil, errors.New("'alpn' : empty protocol name in the ALPN protocol suite")
		}
	}
	return protos, nil
}

// Settings are the TLS words of one bind line after the global
// ssl-default-bind-* defaults were applied.
type Settings struct {
	// Certs are the certificates of the crt words, in load order; the
	// first is the default.
	Certs     []*Cert
	StrictSNI bool
	Methods   Methods
	// Ciphers, Ciphersuites, Curves and ECDHE are OpenSSL strings; empty
	// means unset.
	Ciphers      string
	Ciphersuites string
	Curves       string
	ECDHE        string
	// ALPN lists the protocols to advertise, in preference order.
	ALPN   []string
	Verify Verify
	// ClientCAs verify client certificates (ca-file); nil when unset.
	ClientCAs    *x509.CertPool
	NoTLSTickets bool
	// NoH2 leaves h2 out of ALPN with a warning: set for mode http, where
	// Sluice would have to speak HTTP/2 itself. In mode tcp the bytes are
	// only forwarded, so h2 is advertised as configured.
	NoH2 bool
}

// Defaults are global ssl-default-bind-* settings.
type Defaults struct {
	Ciphers, Ciphersuites, Curves string
	Methods                       Methods
	NoTLSTickets                  bool
	PreferClientCiphers           bool
}

// ApplyDefaults merges global defaults into s when a bind line's `ssl`
// word is read, as HAProxy's bind_parse_ssl: strings the line already set
// are kept, version flags add up, min and max fill in when unset.
func (s *Settings) ApplyDefaults(d *Defaults) {
	if s.Ciphers == "" {
		s.Ciphers = d.Ciphers
	}
	if s.Ciphersuites == "" {
		s.Ciphersuites = d.Ciphersuites
	}
	if s.Curves == "" {
		s.Curves = d.Curves
	}
	s.NoTLSTickets = s.NoTLSTickets || d.NoTLSTickets
	s.Methods.No |= d.Methods.No
	if s.Methods.Min == VersionUnset {
		s.Methods.Min = d.Methods.Min
	}
	if s.Methods.Max == VersionUnset {
		s.Methods.Max = d.Methods.Max
	}
}

// ParseDefaultOptions reads the words of ssl-default-bind-options into d,
// with HAProxy's error texts.
func (d *Defaults) ParseDefaultOptions(words []string) error {
	const stmt = "ssl-default-bind-options"
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch w {
		case "no-tls-tickets":
			d.NoTLSTickets = true
			continue
		case "prefer-client-ciphers":
			d.PreferClientCiphers = true
			continue
		case "ssl-min-ver", "ssl-max-ver":
			arg := ""
			if i+1 < len(words) {
				arg = words[i+1]
				i++
			}
			if err := d.Methods.SetMinMax(w, arg); err != nil {
				return fmt.Errorf("%w on global statement '%s'.", err, stmt)
			}
			continue
		}
		ok, err := d.Methods.ApplyOption(w)
		if err != nil {
			return fmt.Errorf("'%s' : %w on global statement '%s'.", w, err, stmt)
		}
		if !ok {
			return fmt.Errorf("unknown option '%s' on global statement '%s'.", w, stmt)
		}
	}
	return nil
}
