package tlsterm

import (
	"strings"
	"testing"
)

// FuzzCiphers: any cipher string evaluates without panicking; a result
// without error names suites crypto/tls has, each once, and '!' keeps a
// suite out whatever follows.
func FuzzCiphers(f *testing.F) {
	for _, s := range []string{"HIGH:!aNULL:!MD5", "ECDHE+AESGCM:ECDHE+CHACHA20", "DEFAULT:@STRENGTH", "!ALL:+RSA",
		"ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384", "-", "!", ":::", "AES256-SHA;AES128-SHA, RC4"} {
		f.Add(s)
	}
	known := map[uint16]bool{}
	for _, s := range suites {
		known[s.id] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseCiphers(s)
		if err != nil {
			if len(r.ids) != 0 {
				t.Fatalf("%q: error %v with suites %v", s, err, r.ids)
			}
			return
		}
		seen := map[uint16]bool{}
		for _, id := range r.ids {
			if !known[id] || seen[id] {
				t.Fatalf("%q: suite %#x unknown or twice in %v", s, id, r.ids)
			}
			seen[id] = true
		}
		if _, err := parseCiphers(s + ":!ALL"); err == nil {
			t.Fatalf("%q:!ALL left suites", s)
		}
	})
}

// FuzzCurvesAndALPN: curve lists and ALPN lists parse or fail cleanly; an
// accepted ALPN list has no empty or over-long name.
func FuzzCurvesAndALPN(f *testing.F) {
	for _, s := range []string{"X25519:P-256", "prime256v1:secp384r1", "X448", "", ":", "h2,http/1.1", ",,", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parseCurves(s)
		protos, err := ParseALPN(s)
		if err != nil {
			return
		}
		for _, p := range protos {
			if p == "" || len(p) > 255 {
				t.Fatalf("%q: accepted protocol %q", s, p)
			}
		}
	})
}
