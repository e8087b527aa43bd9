package tlsterm

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
)

// Origin names a bind line in messages the way HAProxy's post-parse checks
// do: "Proxy 'fe': ... for bind '127.0.0.1:443' at [file:line]."
type Origin struct {
	Proxy string
	// Bind is the address argument of the line as written.
	Bind string
	File string
	Line int
}

func (o Origin) msg(format string, a ...any) string {
	return fmt.Sprintf("Proxy '%s': ", o.Proxy) + fmt.Sprintf(format, a...)
}

func (o Origin) at() string { return fmt.Sprintf("bind '%s' at [%s:%d]", o.Bind, o.File, o.Line) }

// Build makes the server configuration of a bind line. Warnings are
// complete messages in HAProxy's shape; the error joins one alert per
// problem (errors.Join), each also a complete message.
func Build(s *Settings, o Origin) (*tls.Config, []string, error) {
	var warns []string
	var alerts []error
	alert := func(format string, a ...any) { alerts = append(alerts, errors.New(o.msg(format, a...))) }
	warn := func(format string, a ...any) { warns = append(warns, o.msg(format, a...)) }

	if len(s.Certs) == 0 {
		alert("no SSL certificate specified for %s (use 'crt').", o.at())
	}
	min, max, vwarns, ok := s.Methods.versions(o)
	warns = append(warns, vwarns...)
	if !ok {
		alert("all SSL/TLS versions are disabled for %s.", o.at())
	}
	cfg := &tls.Config{
		MinVersion:             versionWire[min],
		MaxVersion:             versionWire[max],
		SessionTicketsDisabled: s.NoTLSTickets,
	}
	if s.Ciphers == "" {
		cfg.CipherSuites = defaultSuites()
	} else if r, err := parseCiphers(s.Ciphers); err != nil {
		alert("unable to set SSL cipher list to '%s' for %s (no cipher suite of crypto/tls matches).", s.Ciphers, o.at())
	} else {
		cfg.CipherSuites = r.ids
		if len(r.lacking) > 0 {
			warn("ciphers %s in '%s' for %s are not implemented by crypto/tls: Sluice does not offer them.", strings.Join(r.lacking, ", "), s.Ciphers, o.at())
		}
		if len(r.unknown) > 0 {
			warn("unknown cipher names %s in '%s' for %s are ignored.", strings.Join(r.unknown, ", "), s.Ciphers, o.at())
		}
	}
	if s.Ciphersuites != "" {
		valid, same := checkCiphersuites(s.Ciphersuites)
		switch {
		case !valid:
			alert("unable to set TLS 1.3 cipher suites to '%s' for %s.", s.Ciphersuites, o.at())
		case !same:
			warn("ciphersuites '%s' for %s is not honoured: crypto/tls does not let a server choose its TLS 1.3 cipher suites and always offers TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256.", s.Ciphersuites, o.at())
		}
	}
	curves, what := s.Curves, "SSL curves list"
	if curves == "" && s.ECDHE != "" {
		curves, what = s.ECDHE, "elliptic named curve"
	}
	if curves != "" {
		ids, lacking, err := parseCurves(curves)
		switch {
		case err != nil:
			alert("unable to set %s to '%s' for %s.", what, curves, o.at())
		case len(ids) == 0:
			alert("unable to set %s to '%s' for %s (crypto/tls implements none of them: X25519, P-256, P-384 and P-521 only).", what, curves, o.at())
		default:
			cfg.CurvePreferences = ids
			if len(lacking) > 0 {
				warn("curves %s in '%s' for %s are not implemented by crypto/tls: Sluice does not offer them.", strings.Join(lacking, ", "), curves, o.at())
			}
		}
	}
	switch s.Verify {
	case VerifyOptional, VerifyRequired:
		if s.ClientCAs == nil {
			alert("verify is enabled but no CA file specified for %s.", o.at())
		}
		cfg.ClientCAs = s.ClientCAs
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		if s.Verify == VerifyRequired {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	protos := make([]string, 0, len(s.ALPN))
	for _, p := range s.ALPN {
		if p == "h2" && s.NoH2 {
			warn("Sluice does not speak HTTP/2 yet and will not advertise 'h2' in ALPN for %s.", o.at())
			continue
		}
		protos = append(protos, p)
	}
	if len(alerts) > 0 {
		return nil, warns, errors.Join(alerts...)
	}
	idx := newSNIIndex(s.Certs, s.StrictSNI)
	cfg.GetCertificate = idx.getCertificate
	if len(protos) > 0 {
		noALPN := cfg.Clone()
		cfg.NextProtos = protos
		cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			if len(h.SupportedProtos) == 0 || overlaps(h.SupportedProtos, protos) {
				return nil, nil
			}
			// OpenSSL's ALPN callback answers SSL_TLSEXT_ERR_NOACK here:
			// the handshake goes on without ALPN, where crypto/tls would
			// refuse it (no_application_protocol).
			return noALPN, nil
		}
	}
	return cfg, warns, nil
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// versions computes the enabled range as HAProxy's ssl_sock_prepare_ctx,
// with its warnings. SSLv3 is never enabled: neither crypto/tls nor the
// reference's OpenSSL build has it.
func (m Methods) versions(o Origin) (min, max Version, warns []string, ok bool) {
	flags := m.No
	if m.No != 0 && (m.Min != VersionUnset || m.Max != VersionUnset) {
		warns = append(warns, o.msg("no-sslv3/no-tlsv1x are ignored for %s. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.", o.at()))
		flags = 0
	}
	lo, hi := m.Min, m.Max
	if lo == VersionUnset {
		if hi == VersionUnset || hi >= DefaultMinVersion {
			lo = DefaultMinVersion
		} else {
			warns = append(warns, o.msg("Ambiguous configuration for %s: the ssl-min-ver value is not configured and the ssl-max-ver value is lower than the default ssl-min-ver value (%s). Setting the ssl-min-ver to %s. Use 'ssl-min-ver' to fix this.", o.at(), DefaultMinVersion, hi))
			lo = hi
		}
	}
	for v := SSLv3; v <= TLSv13; v++ {
		if v < lo || (hi != VersionUnset && v > hi) {
			flags |= 1 << v
		}
	}
	flags |= 1 << SSLv3
	hole := VersionUnset
	for v := TLSv10; v <= TLSv13; v++ {
		if flags&(1<<v) == 0 {
			if min == VersionUnset {
				min, max = v, v
				continue
			}
			if hole != VersionUnset {
				warns = append(warns, o.msg("SSL/TLS versions range not contiguous for %s. Hole find for %s. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.", o.at(), hole))
				hole = VersionUnset
			}
			max = v
		} else if min != VersionUnset {
			hole = v
		}
	}
	return min, max, warns, min != VersionUnset
}
