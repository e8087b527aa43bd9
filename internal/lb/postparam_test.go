package lb

import (
	"bytes"
	"testing"
)

// TestPostParamKey: the body's parameter is found and hashed as
// get_server_ph_post() does, its first byte deciding whether the body
// is url-encoded.
func TestPostParamKey(t *testing.T) {
	f := KeyFunc{Func: SDBM}
	for _, tc := range []struct {
		body string
		ok   bool
		want string
	}{
		{"user=alice&x=1", true, "alice"},
		{"x=1&user=bob", true, "bob"},
		{"xuser=1&user=c", true, "c"},
		{"user=", true, ""},
		{"user=&x", true, ""},
		{"user= spaced", true, ""},
		{"user==odd", false, ""},
		{"nothing=here", false, ""},
		{"user", false, ""},
		{"", false, ""},
	} {
		k, ok := PostParamKey([]byte(tc.body), "user", f)
		if ok != tc.ok || ok && k != f.hash([]byte(tc.want)) {
			t.Errorf("%q: key %d ok %v, want the hash of %q, ok %v", tc.body, k, ok, tc.want, tc.ok)
		}
	}
}

// FuzzPostParamKey: any body is read without panicking, and a key is
// found only in a body holding "name=".
func FuzzPostParamKey(f *testing.F) {
	f.Add([]byte("a=1&user=x"), "user")
	f.Add([]byte("user=\x00"), "user")
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		_, ok := PostParamKey(body, name, KeyFunc{Func: CRC32})
		if ok && !bytes.Contains(body, []byte(name+"=")) {
			t.Fatalf("%q: found %q without %q=", body, name, name)
		}
	})
}
