package sample

import (
	"crypto/tls"
	"testing"
)

func TestTLSFetches(t *testing.T) {
	st := &tls.ConnectionState{
		Version:            tls.VersionTLS12,
		CipherSuite:        tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		ServerName:         "www.example.com",
		NegotiatedProtocol: "http/1.1",
	}
	tls13 := &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_256_GCM_SHA384}
	for _, tc := range []struct {
		fetch string
		st    *tls.ConnectionState
		want  string // "" with found=false
		found bool
	}{
		{"ssl_fc", nil, "0", true},
		{"ssl_fc", st, "1", true},
		{"ssl_fc_has_sni", st, "1", true},
		{"ssl_fc_has_sni", tls13, "0", true},
		{"ssl_fc_has_sni", nil, "", false},
		{"ssl_fc_sni", st, "www.example.com", true},
		{"ssl_fc_sni", tls13, "", false},
		{"ssl_fc_sni", nil, "", false},
		{"ssl_fc_protocol", st, "TLSv1.2", true},
		{"ssl_fc_protocol", tls13, "TLSv1.3", true},
		{"ssl_fc_protocol", nil, "", false},
		{"ssl_fc_cipher", st, "ECDHE-RSA-AES128-GCM-SHA256", true},
		{"ssl_fc_cipher", tls13, "TLS_AES_256_GCM_SHA384", true},
		{"ssl_fc_alpn", st, "http/1.1", true},
		{"ssl_fc_alpn", tls13, "", false},
		{"ssl_fc_use_keysize", st, "128", true},
		{"ssl_fc_is_resumed", st, "0", true},
		{"ssl_c_used", st, "0", true},
	} {
		c := &Ctx{TLS: tc.st}
		v, found, _ := evalExpr(t, c, tc.fetch, "", "")
		if found != tc.found {
			t.Errorf("%s (%v): found=%v", tc.fetch, tc.st != nil, found)
			continue
		}
		if found {
			if got := string(v.AsString(nil)); got != tc.want {
				t.Errorf("%s: %q, want %q", tc.fetch, got, tc.want)
			}
		}
	}
	// Steady state: no allocation.
	c := &Ctx{TLS: st}
	e, err := Compile("ssl_fc_cipher", "", ",lower")
	if err != nil {
		t.Fatal(err)
	}
	var v Value
	n := testing.AllocsPerRun(100, func() { e.Eval(c, &v) })
	if n != 0 {
		t.Errorf("ssl_fc_cipher,lower: %v allocations", n)
	}
}

// TestTLSErrorFetches: the httpslog error codes are 0 on a connection
// Sluice logs; the TLS ones are absent on a plain connection, where
// ssl_fc_is_resumed is still found (false), as in HAProxy.
func TestTLSErrorFetches(t *testing.T) {
	plain := &Ctx{}
	if v, found, _ := evalExpr(t, plain, "fc_err", "", ""); !found || v.Int != 0 {
		t.Errorf("fc_err on plain: %v %v", v, found)
	}
	for _, f := range []string{"ssl_fc_err", "ssl_c_err", "ssl_c_ca_err"} {
		if _, found, _ := evalExpr(t, plain, f, "", ""); found {
			t.Errorf("%s found on a plain connection", f)
		}
	}
	if v, found, _ := evalExpr(t, plain, "ssl_fc_is_resumed", "", ""); !found || v.Int != 0 {
		t.Errorf("ssl_fc_is_resumed on plain: %v %v", v, found)
	}
}
