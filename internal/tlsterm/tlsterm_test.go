package tlsterm

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

var origin = Origin{Proxy: "fe", Bind: "127.0.0.1:443", File: "t.cfg", Line: 7}

// certDir writes certificates named by CN into a directory, in the given
// file names.
func writeCert(t *testing.T, dir, file string, o testkit.CertOptions) string {
	t.Helper()
	return testkit.WriteFile(t, dir, file, testkit.GenCert(t, o).PEM())
}

func mustLoad(t *testing.T, paths ...string) []*Cert {
	t.Helper()
	var out []*Cert
	for _, p := range paths {
		cs, err := LoadCrt(p)
		if err != nil {
			t.Fatalf("LoadCrt(%s): %v", p, err)
		}
		out = append(out, cs...)
	}
	return out
}

func mustBuild(t *testing.T, s *Settings) *tls.Config {
	t.Helper()
	cfg, warns, err := Build(s, origin)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	for _, w := range warns {
		t.Logf("warning: %s", w)
	}
	return cfg
}

// result is one server-side handshake's outcome.
type result struct {
	state tls.ConnectionState
	err   error
}

// serve accepts connections on 127.0.0.1 and runs Handshake on each.
func serve(t *testing.T, cfg *tls.Config, timeout time.Duration) (string, chan result) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan result, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tc, err := Handshake(c, cfg, timeout)
			r := result{err: err}
			if err != nil {
				c.Close()
			} else {
				r.state = tc.ConnectionState()
				tc.Close()
			}
			select {
			case ch <- r:
			default: // nobody reads the results of this server
			}
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), ch
}

type clientOpts struct {
	sni      string
	min, max uint16
	alpn     []string
	cert     *tls.Certificate
	suites   []uint16
}

// dial handshakes as a client and returns the server certificate's CN.
func dial(addr string, o clientOpts) (string, tls.ConnectionState, error) {
	cfg := &tls.Config{ServerName: o.sni, InsecureSkipVerify: true, MinVersion: o.min, MaxVersion: o.max, NextProtos: o.alpn, CipherSuites: o.suites}
	if o.cert != nil {
		// Sent even when the server's CA list does not name its issuer.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return o.cert, nil }
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(&d, "tcp", addr, cfg)
	if err != nil {
		return "", tls.ConnectionState{}, err
	}
	defer c.Close()
	st := c.ConnectionState()
	// TLS 1.3 servers check the client certificate after the client's
	// handshake returns: read to see the outcome.
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	var b [1]byte
	if _, err := c.Read(b[:]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && err.Error() != "EOF" {
		return "", st, err
	}
	return st.PeerCertificates[0].Subject.CommonName, st, nil
}

func TestSNISelection(t *testing.T) {
	dir := t.TempDir()
	def := writeCert(t, dir, "0-default.pem", testkit.CertOptions{CN: "default.test"})
	ex := writeCert(t, dir, "1-exact.pem", testkit.CertOptions{CN: "exact-cn.test", DNS: []string{"www.example.com", "Mixed.Example.org"}})
	wild := writeCert(t, dir, "2-wild.pem", testkit.CertOptions{CN: "wild.test", DNS: []string{"*.example.com"}})
	cnOnly := writeCert(t, dir, "3-cn.pem", testkit.CertOptions{CN: "cn-only.test"})
	s := &Settings{Certs: mustLoad(t, def, ex, wild, cnOnly)}
	addr, _ := serve(t, mustBuild(t, s), time.Second)
	for _, tc := range []struct{ sni, want string }{
		{"", "default.test"},
		{"www.example.com", "exact-cn.test"}, // exact beats the wildcard
		{"WWW.Example.COM", "exact-cn.test"}, // case-insensitive
		{"mixed.example.org", "exact-cn.test"},
		{"api.example.com", "wild.test"},
		{"a.b.example.com", "default.test"}, // a wildcard is one label
		{"example.com", "default.test"},
		{"exact-cn.test", "exact-cn.test"}, // CN counts even with SANs
		{"cn-only.test", "cn-only.test"},
		{"nothing.test", "default.test"},
	} {
		got, _, err := dial(addr, clientOpts{sni: tc.sni})
		if err != nil {
			t.Errorf("sni %q: %v", tc.sni, err)
			continue
		}
		if got != tc.want {
			t.Errorf("sni %q: got certificate %s, want %s", tc.sni, got, tc.want)
		}
	}
}

func TestStrictSNI(t *testing.T) {
	dir := t.TempDir()
	a := writeCert(t, dir, "a.pem", testkit.CertOptions{CN: "a.test"})
	s := &Settings{Certs: mustLoad(t, a), StrictSNI: true}
	addr, res := serve(t, mustBuild(t, s), time.Second)
	if got, _, err := dial(addr, clientOpts{sni: "a.test"}); err != nil || got != "a.test" {
		t.Fatalf("matching SNI: %s %v", got, err)
	}
	<-res
	for _, sni := range []string{"", "b.test"} {
		if _, _, err := dial(addr, clientOpts{sni: sni}); err == nil {
			t.Errorf("strict-sni accepted SNI %q", sni)
		}
		r := <-res
		var he *HandshakeError
		if !errors.As(r.err, &he) || !errors.Is(r.err, ErrNoCertificate) || he.Reason != ReasonHandshake {
			t.Errorf("strict-sni SNI %q: server error %v", sni, r.err)
		}
	}
}

func TestECDSAPreferredForSameName(t *testing.T) {
	dir := t.TempDir()
	rsaCert := writeCert(t, dir, "a-rsa.pem", testkit.CertOptions{CN: "rsa", DNS: []string{"x.test"}, RSA: true})
	ecCert := writeCert(t, dir, "b-ec.pem", testkit.CertOptions{CN: "ec", DNS: []string{"x.test"}})
	s := &Settings{Certs: mustLoad(t, rsaCert, ecCert)}
	addr, _ := serve(t, mustBuild(t, s), time.Second)
	if got, _, err := dial(addr, clientOpts{sni: "x.test"}); err != nil || got != "ec" {
		t.Errorf("got %s %v, want the ECDSA certificate", got, err)
	}
	// A TLS 1.2 client offering only RSA suites gets the RSA one.
	got, _, err := dial(addr, clientOpts{sni: "x.test", max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}})
	if err != nil || got != "rsa" {
		t.Errorf("RSA-only client: got %s %v, want the RSA certificate", got, err)
	}
}

func TestKeyInSeparateFile(t *testing.T) {
	dir := t.TempDir()
	c := testkit.GenCert(t, testkit.CertOptions{CN: "sep.test"})
	p := testkit.WriteFile(t, dir, "sep.pem", c.CertPEM)
	if _, err := LoadCrt(p); err == nil || err.Error() != "No Private Key found in '"+p+".key'." {
		t.Fatalf("without key: %v", err)
	}
	testkit.WriteFile(t, dir, "sep.pem.key", c.KeyPEM)
	cs := mustLoad(t, p)
	if cs[0].Names[0] != "sep.test" {
		t.Fatalf("names %v", cs[0].Names)
	}
	// Key before certificate, chain after the leaf.
	ca := testkit.GenCert(t, testkit.CertOptions{CN: "ca", IsCA: true})
	leaf := testkit.GenCert(t, testkit.CertOptions{CN: "leaf.test", CA: ca})
	p2 := testkit.WriteFile(t, dir, "chain.pem", slices.Concat(leaf.KeyPEM, leaf.CertPEM, ca.CertPEM))
	cs = mustLoad(t, p2)
	if len(cs[0].TLS.Certificate) != 2 || cs[0].TLS.Leaf.Subject.CommonName != "leaf.test" {
		t.Fatalf("chain: %d certs, leaf %s", len(cs[0].TLS.Certificate), cs[0].TLS.Leaf.Subject.CommonName)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	a := testkit.GenCert(t, testkit.CertOptions{CN: "a"})
	b := testkit.GenCert(t, testkit.CertOptions{CN: "b"})
	missing := filepath.Join(dir, "missing.pem")
	garbage := testkit.WriteFile(t, dir, "garbage.pem", []byte("garbage\n"))
	mismatch := testkit.WriteFile(t, dir, "mismatch.pem", slices.Concat(a.CertPEM, b.KeyPEM))
	badkey := testkit.WriteFile(t, dir, "badkey.pem", a.CertPEM)
	testkit.WriteFile(t, dir, "badkey.pem.key", []byte("junk\n"))
	keyonly := testkit.WriteFile(t, dir, "keyonly.pem", a.KeyPEM)
	ocsp := testkit.WriteFile(t, dir, "ocsp.pem", a.PEM())
	testkit.WriteFile(t, dir, "ocsp.pem.ocsp", nil)
	for _, tc := range []struct{ path, want string }{
		{missing, "unable to stat SSL certificate from file '" + missing + "' : No such file or directory."},
		{garbage, "unable to load certificate from file '" + garbage + "'."},
		{keyonly, "unable to load certificate from file '" + keyonly + "'."},
		{mismatch, "inconsistencies between private key and certificate loaded '" + mismatch + "'."},
		{badkey, "\n  unable to load private key from file '" + badkey + ".key'.\n   '" + badkey + ".key' is present but cannot be read or parsed'."},
		{ocsp, "'" + ocsp + ".ocsp' is present and activates OCSP stapling, which is not supported yet by Sluice"},
	} {
		_, err := LoadCrt(tc.path)
		if err == nil || err.Error() != tc.want {
			t.Errorf("LoadCrt(%s):\n got %v\nwant %s", filepath.Base(tc.path), err, tc.want)
		}
	}
}

func TestDirectoryOrder(t *testing.T) {
	dir := t.TempDir()
	// Created out of order: loading is in byte order of the names.
	writeCert(t, dir, "b.pem", testkit.CertOptions{CN: "b"})
	writeCert(t, dir, "B.pem", testkit.CertOptions{CN: "B"})
	writeCert(t, dir, "a.crt", testkit.CertOptions{CN: "a"})
	c := testkit.GenCert(t, testkit.CertOptions{CN: "c"})
	testkit.WriteFile(t, dir, "c", c.CertPEM)
	testkit.WriteFile(t, dir, "c.key", c.KeyPEM) // companion, not a certificate
	for _, skip := range []string{".hidden.pem", "x.issuer", "x.sctl", "x.ocsp"} {
		testkit.WriteFile(t, dir, skip, []byte("not a certificate"))
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	cs := mustLoad(t, dir)
	var got []string
	for _, c := range cs {
		got = append(got, c.TLS.Leaf.Subject.CommonName)
	}
	if want := []string{"B", "a", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	s := &Settings{Certs: cs}
	addr, _ := serve(t, mustBuild(t, s), time.Second)
	if cn, _, err := dial(addr, clientOpts{}); err != nil || cn != "B" {
		t.Errorf("default certificate %s %v, want the first loaded (B)", cn, err)
	}
}

func TestVersionsEnforced(t *testing.T) {
	dir := t.TempDir()
	certs := mustLoad(t, writeCert(t, dir, "a.pem", testkit.CertOptions{CN: "a"}))
	versions := []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}
	for _, tc := range []struct {
		name string
		m    Methods
		ok   []bool // per TLS 1.0 .. 1.3
	}{
		{"default", Methods{}, []bool{false, false, true, true}},
		{"min 1.0", Methods{Min: TLSv10}, []bool{true, true, true, true}},
		{"max 1.2", Methods{Max: TLSv12}, []bool{false, false, true, false}},
		{"max 1.1 alone", Methods{Max: TLSv11}, []bool{false, true, false, false}},
		{"force 1.3", Methods{Min: TLSv13, Max: TLSv13}, []bool{false, false, false, true}},
		{"no-tlsv13", Methods{No: 1 << TLSv13}, []bool{false, false, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Settings{Certs: certs, Methods: tc.m}
			addr, _ := serve(t, mustBuild(t, s), time.Second)
			for i, v := range versions {
				_, st, err := dial(addr, clientOpts{min: v, max: v})
				if (err == nil) != tc.ok[i] {
					t.Errorf("%s: handshake err=%v, want ok=%v", VersionName(v), err, tc.ok[i])
				}
				if err == nil && st.Version != v {
					t.Errorf("negotiated %x", st.Version)
				}
			}
		})
	}
}

func TestVersionWarnings(t *testing.T) {
	for _, tc := range []struct {
		m        Methods
		min, max Version
		warn     string
		ok       bool
	}{
		{Methods{}, TLSv12, TLSv13, "", true},
		{Methods{Max: TLSv11}, TLSv11, TLSv11, "Ambiguous configuration for bind '127.0.0.1:443' at [t.cfg:7]: the ssl-min-ver value is not configured and the ssl-max-ver value is lower than the default ssl-min-ver value (TLSv1.2). Setting the ssl-min-ver to TLSv1.1. Use 'ssl-min-ver' to fix this.", true},
		{Methods{Min: TLSv10, No: 1 << TLSv11}, TLSv10, TLSv13, "no-sslv3/no-tlsv1x are ignored for bind '127.0.0.1:443' at [t.cfg:7]. Use only 'ssl-min-ver' and 'ssl-max-ver' to fix.", true},
		{Methods{Min: TLSv13, Max: TLSv12}, 0, 0, "", false},
		{Methods{No: 1<<TLSv12 | 1<<TLSv13}, 0, 0, "", false},
	} {
		min, max, warns, ok := tc.m.versions(origin)
		if min != tc.min || max != tc.max || ok != tc.ok {
			t.Errorf("%+v: got %v-%v ok=%v", tc.m, min, max, ok)
		}
		if tc.warn == "" && len(warns) > 0 || tc.warn != "" && (len(warns) != 1 || warns[0] != "Proxy 'fe': "+tc.warn) {
			t.Errorf("%+v: warnings %q", tc.m, warns)
		}
	}
}

func TestBuildMessages(t *testing.T) {
	dir := t.TempDir()
	certs := mustLoad(t, writeCert(t, dir, "a.pem", testkit.CertOptions{CN: "a"}))
	at := " for bind '127.0.0.1:443' at [t.cfg:7]"
	for _, tc := range []struct {
		name  string
		s     Settings
		alert string
		warn  string
	}{
		{"no crt", Settings{}, "Proxy 'fe': no SSL certificate specified" + at + " (use 'crt').", ""},
		{"all off", Settings{Certs: certs, Methods: Methods{Min: TLSv13, Max: TLSv12}}, "Proxy 'fe': all SSL/TLS versions are disabled" + at + ".", ""},
		{"bad ciphers", Settings{Certs: certs, Ciphers: "FOO"}, "Proxy 'fe': unable to set SSL cipher list to 'FOO'" + at + " (no cipher suite of crypto/tls matches).", ""},
		{"dhe only", Settings{Certs: certs, Ciphers: "DHE-RSA-AES128-GCM-SHA256"}, "Proxy 'fe': unable to set SSL cipher list to 'DHE-RSA-AES128-GCM-SHA256'" + at + " (no cipher suite of crypto/tls matches).", ""},
		{"some ciphers lacking", Settings{Certs: certs, Ciphers: "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:!aNULL"}, "", "Proxy 'fe': ciphers DHE-RSA-AES128-GCM-SHA256 in 'ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:!aNULL'" + at + " are not implemented by crypto/tls: Sluice does not offer them."},
		{"unknown cipher", Settings{Certs: certs, Ciphers: "HIGH:FOO"}, "", "Proxy 'fe': unknown cipher names FOO in 'HIGH:FOO'" + at + " are ignored."},
		{"bad suites", Settings{Certs: certs, Ciphersuites: "FOO"}, "Proxy 'fe': unable to set TLS 1.3 cipher suites to 'FOO'" + at + ".", ""},
		{"suites as go", Settings{Certs: certs, Ciphersuites: "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"}, "", ""},
		{"suites differ", Settings{Certs: certs, Ciphersuites: "TLS_AES_128_GCM_SHA256"}, "", "Proxy 'fe': ciphersuites 'TLS_AES_128_GCM_SHA256'" + at + " is not honoured: crypto/tls does not let a server choose its TLS 1.3 cipher suites and always offers TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256."},
		{"bad curves", Settings{Certs: certs, Curves: "X25519:FOO"}, "Proxy 'fe': unable to set SSL curves list to 'X25519:FOO'" + at + ".", ""},
		{"bad ecdhe", Settings{Certs: certs, ECDHE: "FOO"}, "Proxy 'fe': unable to set elliptic named curve to 'FOO'" + at + ".", ""},
		{"x448", Settings{Certs: certs, Curves: "X448:P-256"}, "", "Proxy 'fe': curves X448 in 'X448:P-256'" + at + " are not implemented by crypto/tls: Sluice does not offer them."},
		{"verify no ca", Settings{Certs: certs, Verify: VerifyRequired}, "Proxy 'fe': verify is enabled but no CA file specified" + at + ".", ""},
		{"alpn h2 tcp", Settings{Certs: certs, ALPN: []string{"h2", "http/1.1"}}, "", ""},
		{"alpn h2", Settings{Certs: certs, ALPN: []string{"h2", "http/1.1"}, NoH2: true}, "", "Proxy 'fe': Sluice does not speak HTTP/2 yet and will not advertise 'h2' in ALPN" + at + "."},
	} {
		cfg, warns, err := Build(&tc.s, origin)
		if tc.alert != "" {
			if err == nil || err.Error() != tc.alert {
				t.Errorf("%s: alert\n got %v\nwant %s", tc.name, err, tc.alert)
			}
			continue
		}
		if err != nil || cfg == nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if got := strings.Join(warns, "\n"); got != tc.warn {
			t.Errorf("%s: warnings\n got %q\nwant %q", tc.name, got, tc.warn)
		}
	}
}

func TestCipherStrings(t *testing.T) {
	names := func(ids []uint16) []string {
		var out []string
		for _, id := range ids {
			out = append(out, CipherName(id))
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
		{"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-GCM-SHA256"},
		{"kEECDH+aRSA+AESGCM", "ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384"},
		{"HIGH:!kRSA:!CBC:!aECDSA", "ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305"},
		{"CHACHA20:-aECDSA", "ECDHE-RSA-CHACHA20-POLY1305"},
		{"!CHACHA20:CHACHA20:AES256+AESGCM+kRSA", "AES256-GCM-SHA384"}, // '!' is for good
		{"-CHACHA20:CHACHA20+aRSA", "ECDHE-RSA-CHACHA20-POLY1305"},     // '-' is not
		{"ECDHE+AES128+SHA1 @STRENGTH", "ECDHE-ECDSA-AES128-SHA ECDHE-RSA-AES128-SHA"},
	} {
		r, err := parseCiphers(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := strings.Join(names(r.ids), " "); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}

func TestALPN(t *testing.T) {
	dir := t.TempDir()
	s := &Settings{Certs: mustLoad(t, writeCert(t, dir, "a.pem", testkit.CertOptions{CN: "a"})), ALPN: []string{"h2", "http/1.1", "x-test"}, NoH2: true}
	addr, _ := serve(t, mustBuild(t, s), time.Second)
	for _, tc := range []struct {
		offer []string
		want  string
	}{
		{[]string{"h2", "http/1.1"}, "http/1.1"}, // h2 not advertised
		{[]string{"x-test"}, "x-test"},
		{[]string{"h2"}, ""},     // no overlap: no ALPN, no refusal (OpenSSL NOACK)
		{[]string{"spdy/3"}, ""}, // same
		{nil, ""},
	} {
		_, st, err := dial(addr, clientOpts{alpn: tc.offer})
		if err != nil || st.NegotiatedProtocol != tc.want {
			t.Errorf("offer %v: got %q %v, want %q", tc.offer, st.NegotiatedProtocol, err, tc.want)
		}
	}
}

func TestClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.GenCert(t, testkit.CertOptions{CN: "client-ca", IsCA: true})
	caPath := testkit.WriteFile(t, dir, "ca.pem", ca.CertPEM)
	pool, err := LoadCAFile(caPath)
	if err != nil {
		t.Fatal(err)
	}
	good := testkit.GenCert(t, testkit.CertOptions{CN: "good", CA: ca, ClientAuth: true})
	bad := testkit.GenCert(t, testkit.CertOptions{CN: "bad", ClientAuth: true})
	pair := func(c *testkit.Cert) *tls.Certificate {
		return &tls.Certificate{Certificate: [][]byte{c.Leaf.Raw}, PrivateKey: c.Key, Leaf: c.Leaf}
	}
	certs := mustLoad(t, writeCert(t, dir, "srv.pem", testkit.CertOptions{CN: "srv"}))
	for _, v := range []Verify{VerifyOptional, VerifyRequired} {
		s := &Settings{Certs: certs, Verify: v, ClientCAs: pool}
		addr, res := serve(t, mustBuild(t, s), time.Second)
		if _, _, err := dial(addr, clientOpts{cert: pair(good)}); err != nil {
			t.Errorf("verify %d, good client: %v", v, err)
		}
		if r := <-res; r.err != nil || len(r.state.PeerCertificates) != 1 {
			t.Errorf("verify %d, good client: server %v", v, r.err)
		}
		dial(addr, clientOpts{cert: pair(bad)})
		if r := <-res; r.err == nil || r.err.(*HandshakeError).Reason != ReasonCertFail {
			t.Errorf("verify %d, untrusted client: server %v", v, r.err)
		}
		dial(addr, clientOpts{})
		r := <-res
		if (r.err == nil) != (v == VerifyOptional) {
			t.Errorf("verify %d, no client certificate: server %v", v, r.err)
		}
	}
	if _, err := LoadCAFile(filepath.Join(dir, "none.pem")); err == nil {
		t.Error("missing ca-file loaded")
	}
}

func TestHandshakeReasons(t *testing.T) {
	dir := t.TempDir()
	s := &Settings{Certs: mustLoad(t, writeCert(t, dir, "a.pem", testkit.CertOptions{CN: "a"}))}
	addr, res := serve(t, mustBuild(t, s), 200*time.Millisecond)
	raw := func(send []byte, wait bool) Reason {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if send != nil {
			c.Write(send)
		}
		if !wait {
			c.Close()
		}
		r := <-res
		c.Close()
		var he *HandshakeError
		if !errors.As(r.err, &he) {
			t.Fatalf("error %v", r.err)
		}
		return he.Reason
	}
	if got := raw(nil, false); got != ReasonEmpty {
		t.Errorf("immediate close: %v", got)
	}
	if got := raw([]byte("GET / HTTP/1.0\r\n\r\n"), true); got != ReasonHandshake {
		t.Errorf("plain HTTP: %v", got)
	}
	hello := testkit.ClientHello(t, "a")
	if got := raw(hello[:10], false); got != ReasonHandshake {
		t.Errorf("truncated hello then close: %v", got)
	}
	if got := raw(nil, true); got != ReasonTimeout {
		t.Errorf("silent client: %v", got)
	}
	if ReasonTimeout.String() != "Timeout during SSL handshake" || ReasonHandshake.String() != "SSL handshake failure" {
		t.Error("reason texts")
	}
}

func TestGetCertificateAllocs(t *testing.T) {
	dir := t.TempDir()
	s := &Settings{Certs: mustLoad(t,
		writeCert(t, dir, "a.pem", testkit.CertOptions{CN: "a.test"}),
		writeCert(t, dir, "w.pem", testkit.CertOptions{CN: "w", DNS: []string{"*.example.com"}}))}
	cfg := mustBuild(t, s)
	for _, name := range []string{"a.test", "x.example.com", "none.test", ""} {
		hello := &tls.ClientHelloInfo{ServerName: name}
		n := testing.AllocsPerRun(100, func() {
			if _, err := cfg.GetCertificate(hello); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("GetCertificate(%q): %v allocations", name, n)
		}
	}
}

func TestDefaultsMerge(t *testing.T) {
	var d Defaults
	if err := d.ParseDefaultOptions([]string{"ssl-min-ver", "TLSv1.1", "no-tls-tickets", "no-tlsv13"}); err != nil {
		t.Fatal(err)
	}
	s := Settings{Ciphers: "AESGCM", Methods: Methods{Max: TLSv12}}
	d.Ciphers, d.Curves = "HIGH", "X25519"
	s.ApplyDefaults(&d)
	if s.Ciphers != "AESGCM" || s.Curves != "X25519" || !s.NoTLSTickets || s.Methods != (Methods{Min: TLSv11, Max: TLSv12, No: 1 << TLSv13}) {
		t.Errorf("merged %+v", s)
	}
	for _, tc := range []struct{ words, want string }{
		{"bogus", "unknown option 'bogus' on global statement 'ssl-default-bind-options'."},
		{"ssl-min-ver TLSv9", "'TLSv9' : unknown ssl/tls version on global statement 'ssl-default-bind-options'."},
		{"ssl-min-ver", "'ssl-min-ver' : missing the ssl/tls version on global statement 'ssl-default-bind-options'."},
	} {
		var d Defaults
		err := d.ParseDefaultOptions(strings.Fields(tc.words))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v", tc.words, err)
		}
	}
}
