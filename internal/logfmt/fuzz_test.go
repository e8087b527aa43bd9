package logfmt

import (
	"strings"
	"testing"
)

// FuzzCompile checks that any string compiles or fails without panicking,
// and that whatever compiles renders in both modes without panicking,
// with and without samples.
func FuzzCompile(f *testing.F) {
	for _, tc := range compileCases {
		f.Add(tc.fmt, tc.mode == HTTP)
	}
	for _, tc := range renderCases {
		f.Add(tc.fmt, tc.mode == HTTP)
	}
	f.Add("%{+Q,-M,+X,+E}o%[a(b),c(\"d)\",'e'),f]%%%-%{}", true)
	f.Fuzz(func(t *testing.T, s string, http bool) {
		mode := TCP
		if http {
			mode = HTTP
		}
		for _, uid := range []bool{false, true} {
			fm, _, err := CompileWith(s, Options{Mode: mode, UniqueID: uid})
			if err != nil {
				if err.Error() == "" {
					t.Fatalf("%q: empty error text", s)
				}
				continue
			}
			if fm.String() != s {
				t.Fatalf("String() = %q, want %q", fm.String(), s)
			}
			for _, e := range fm.Exprs() {
				if e.Text == "" || !strings.Contains(s, e.Text) {
					t.Fatalf("%q: expression text %q", s, e.Text)
				}
			}
			fm.Append(nil, tcpFields())
			fm.Append([]byte("x"), sampleFields())
			fm.Append(nil, httpFields())
			fm.Append(nil, &Fields{})
		}
	})
}
