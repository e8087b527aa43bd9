package tlsterm

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// TestOracleHAProxy runs HAProxy 2.6 (mode tcp, `bind ... ssl crt DIR`)
// and tlsterm on the same certificates and bind words, and checks that a
// crypto/tls client sees the same thing from both: which certificate each
// server name gets, which versions are accepted, which ALPN protocol and
// cipher suite are chosen.
func TestOracleHAProxy(t *testing.T) {
	hap := testkit.HAProxyPath()
	if hap == "" {
		t.Skip("no haproxy")
	}
	dir := t.TempDir()
	crt := filepath.Join(dir, "crt")
	if err := os.Mkdir(crt, 0o700); err != nil {
		t.Fatal(err)
	}
	w := func(name string, o testkit.CertOptions) {
		c := testkit.GenCert(t, o)
		if strings.HasSuffix(name, "+key") { // key in FILE.key
			name = strings.TrimSuffix(name, "+key")
			testkit.WriteFile(t, crt, name, c.CertPEM)
			testkit.WriteFile(t, crt, name+".key", c.KeyPEM)
			return
		}
		testkit.WriteFile(t, crt, name, c.PEM())
	}
	// Byte order of names decides the default and ties: "Z" < "a".
	w("Zdefault.pem", testkit.CertOptions{CN: "default", RSA: true})
	w("a-www.pem", testkit.CertOptions{CN: "www", DNS: []string{"www.example.test", "Example.test"}, RSA: true})
	w("b-wild.pem+key", testkit.CertOptions{CN: "wild", DNS: []string{"*.example.test"}, RSA: true})
	w("c-deep.pem", testkit.CertOptions{CN: "deep", DNS: []string{"*.a.example.test"}, RSA: true})
	w("d-dup-rsa.pem", testkit.CertOptions{CN: "dup-rsa", DNS: []string{"dup.test"}, RSA: true})
	w("e-dup-ec.pem", testkit.CertOptions{CN: "dup-ec", DNS: []string{"dup.test"}})
	w("f-first.pem", testkit.CertOptions{CN: "first", DNS: []string{"same.test"}, RSA: true})
	w("g-second.pem", testkit.CertOptions{CN: "second", DNS: []string{"same.test"}, RSA: true})
	w("h-cn.pem", testkit.CertOptions{CN: "cn-only.test", RSA: true})
	testkit.WriteFile(t, crt, ".hidden.pem", []byte("ignored"))

	binds := []string{
		"ssl crt " + crt,
		"ssl crt " + crt + " strict-sni",
		"ssl crt " + crt + " ssl-min-ver TLSv1.0 ssl-max-ver TLSv1.2 alpn h2,http/1.1 ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:AES128-GCM-SHA256",
		"ssl crt " + crt + " ssl-max-ver TLSv1.1",
		"ssl crt " + crt + " no-tlsv13 curves P-384",
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n")
	fmt.Fprintf(&cfg, "frontend fe\n")
	hapAddrs := make([]string, len(binds))
	for i, b := range binds {
		hapAddrs[i] = testkit.FreeAddr(t)
		fmt.Fprintf(&cfg, "    bind %s %s\n", hapAddrs[i], b)
	}
	fmt.Fprintf(&cfg, "    default_backend be\nbackend be\n    server s1 %s\n", testkit.FreeAddr(t))
	cfgPath := testkit.WriteFile(t, dir, "h.cfg", []byte(cfg.String()))
	cmd := exec.Command(hap, "-db", "-f", cfgPath)
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for _, a := range hapAddrs {
		waitListening(t, a, &stderr)
	}

	// The same words through Sluice's side.
	sluiceAddrs := make([]string, len(binds))
	for i, b := range binds {
		s := settingsFromWords(t, strings.Fields(b))
		addr, _ := serve(t, mustBuild(t, s), 5*time.Second)
		sluiceAddrs[i] = addr
	}

	type probe struct {
		bind int
		o    clientOpts
	}
	var probes []probe
	for _, sni := range []string{"", "www.example.test", "WWW.EXAMPLE.TEST", "example.test", "x.example.test",
		"y.a.example.test", "x.y.a.example.test", "a.b.example.test", "dup.test", "same.test", "cn-only.test",
		"unknown.test", "www", "*.example.test"} {
		probes = append(probes, probe{0, clientOpts{sni: sni}}, probe{1, clientOpts{sni: sni}})
	}
	// An RSA-only TLS 1.2 client gets the RSA certificate of a shared name.
	probes = append(probes, probe{0, clientOpts{sni: "dup.test", max: tls.VersionTLS12,
		suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}})
	// TLS 1.0 and 1.1 are left out: the reference's OpenSSL runs at
	// security level 2 (Debian's openssl.cnf), which fails those
	// handshakes whatever ssl-min-ver says; crypto/tls honours the range.
	for b := 2; b < len(binds); b++ {
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			probes = append(probes, probe{b, clientOpts{sni: "www.example.test", min: v, max: v}})
		}
	}
	for _, alpn := range [][]string{{"h2", "http/1.1"}, {"http/1.1"}, {"x-other"}, {"http/1.1", "h2"}} {
		probes = append(probes, probe{2, clientOpts{alpn: alpn}})
	}
	// Which suites a `ciphers` list allows, one offered suite at a time
	// (crypto/tls picks among several by its own preference, OpenSSL by
	// the list's order: the chosen suite is only compared here).
	for _, id := range []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305} {
		for _, b := range []int{0, 2} {
			probes = append(probes, probe{b, clientOpts{max: tls.VersionTLS12, suites: []uint16{id}}})
		}
	}

	for _, p := range probes {
		want := observe(hapAddrs[p.bind], p.o)
		got := observe(sluiceAddrs[p.bind], p.o)
		if got != want {
			t.Errorf("bind %q, client %+v:\nhaproxy: %s\nsluice:  %s", binds[p.bind], p.o, want, got)
		}
	}
}

// observe describes what a client sees of a handshake: the certificate's
// CN, version, suite and ALPN, or that it failed.
func observe(addr string, o clientOpts) string {
	cfg := &tls.Config{ServerName: o.sni, InsecureSkipVerify: true, MinVersion: o.min, MaxVersion: o.max, NextProtos: o.alpn, CipherSuites: o.suites}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(&d, "tcp", addr, cfg)
	if err != nil {
		return "handshake failed"
	}
	defer c.Close()
	st := c.ConnectionState()
	cipher := "-"
	if len(o.suites) == 1 {
		cipher = CipherName(st.CipherSuite)
	}
	return fmt.Sprintf("cert=%s version=%s cipher=%s alpn=%q", st.PeerCertificates[0].Subject.CommonName, VersionName(st.Version), cipher, st.NegotiatedProtocol)
}

// settingsFromWords reads bind words the way the configuration does, for
// the few this test uses.
func settingsFromWords(t *testing.T, words []string) *Settings {
	t.Helper()
	s := &Settings{}
	for i := 0; i < len(words); i++ {
		var err error
		switch w := words[i]; w {
		case "ssl":
		case "crt":
			i++
			var cs []*Cert
			cs, err = LoadCrt(words[i])
			s.Certs = append(s.Certs, cs...)
		case "strict-sni":
			s.StrictSNI = true
		case "ssl-min-ver", "ssl-max-ver":
			i++
			err = s.Methods.SetMinMax(w, words[i])
		case "alpn":
			i++
			s.ALPN, err = ParseALPN(words[i])
		case "ciphers":
			i++
			s.Ciphers = words[i]
		case "curves":
			i++
			s.Curves = words[i]
		default:
			_, err = s.Methods.ApplyOption(w)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func waitListening(t *testing.T, addr string, stderr *testkit.SyncBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("haproxy does not listen on %s:\n%s", addr, stderr.String())
}
