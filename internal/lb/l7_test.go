package lb

import "testing"

// keyOf hashes with sdbm and no avalanche so that the expected inputs can
// be written as strings.
var plain = KeyFunc{SDBM, false}

func sdbm(s string) uint32 { return HashSDBM([]byte(s)) }

func TestURIKey(t *testing.T) {
	for _, c := range []struct {
		uri  string
		o    URIOptions
		want string
	}{
		{"/a/b/c?x=1", URIOptions{}, "/a/b/c"},
		{"/a/b/c?x=1", URIOptions{Whole: true}, "/a/b/c?x=1"},
		{"/a/b/c?x=1", URIOptions{Len: 4}, "/a/b"},
		{"/a/b/c?x=1", URIOptions{Len: 400}, "/a/b/c"},
		{"/a/b/c?x=1", URIOptions{Depth: 1}, "/a"},
		{"/a/b/c?x=1", URIOptions{Depth: 2}, "/a/b"},
		{"/a/b/c?x=1", URIOptions{Depth: 3}, "/a/b/c"},
		{"/a?b/c", URIOptions{Depth: 1, Whole: true}, "/a?b"},
		{"/a?b/c/d", URIOptions{Depth: 2, Whole: true}, "/a?b/c"},
		{"http://h:1/p/q?z", URIOptions{}, "http://h:1/p/q"},
		{"http://h:1/p/q?z", URIOptions{Depth: 3}, "http://h:1/p"},
		{"http://h:1/p/q?z", URIOptions{PathOnly: true}, "/p/q"},
		{"http://u@h:1/p/q?z", URIOptions{PathOnly: true, Whole: true}, "/p/q?z"},
		{"http://h:1", URIOptions{PathOnly: true}, ""},
		{"h:443", URIOptions{PathOnly: true}, ""},
		{"*", URIOptions{PathOnly: true}, ""},
		{"*", URIOptions{}, "*"},
		{"/x?y", URIOptions{PathOnly: true}, "/x"},
		{"1ttp://h/p", URIOptions{PathOnly: true}, ""},
		{"svn+ssh://h/p", URIOptions{PathOnly: true}, "/p"},
		{"", URIOptions{}, ""},
	} {
		if got := URIKey([]byte(c.uri), c.o, plain); got != sdbm(c.want) {
			t.Errorf("URIKey(%q, %+v) = %#x, want hash of %q", c.uri, c.o, got, c.want)
		}
	}
}

func TestURLParamKey(t *testing.T) {
	for _, c := range []struct {
		uri, name string
		want      string
		ok        bool
	}{
		{"/p?id=42", "id", "42", true},
		{"/p?a=1&id=42&id=7", "id", "42", true},
		{"/p?xid=1&id=2", "id", "2", true},
		{"/p?id=", "id", "", true},
		{"/p?id", "id", "", false},
		{"/p?ID=1", "id", "", false},
		{"/p?idx=1", "id", "", false},
		{"/p", "id", "", false},
		{"/p?a=id=3", "id", "", false},
		{"/p?&id=5#f", "id", "5#f", true},
		{"/p/id=3", "id", "", false},
	} {
		got, ok := URLParamKey([]byte(c.uri), c.name, plain)
		if ok != c.ok || (ok && got != sdbm(c.want)) {
			t.Errorf("URLParamKey(%q, %q) = %#x, %v; want hash of %q, %v", c.uri, c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestHdrKey(t *testing.T) {
	for _, c := range []struct {
		value  string
		domain bool
		want   string
		ok     bool
	}{
		{"abc", false, "abc", true},
		{"  abc , def", false, "abc", true},
		{"\"a,b\" ,c", false, "\"a,b\"", true},
		{"\"a\\\",b\",c", false, "\"a\\\",b\"", true},
		{"", false, "", false},
		{"  ", false, "", false},
		{" ,abc", false, "", false},
		{"haproxy.1wt.eu", true, "1wt", true},
		{"www.site5.example.org", true, "example", true},
		{"example.org", true, "example", true},
		{"a.b", true, "a", true},
		{"localhost", true, "localhost", true},
		{"host.example.com:8080, x", true, "example", true},
		{"www.example.org.", true, "org", true},
		{".org", true, ".org", true}, // the first byte is never looked at
	} {
		got, ok := HdrKey([]byte(c.value), c.domain, plain)
		if ok != c.ok || (ok && got != sdbm(c.want)) {
			t.Errorf("HdrKey(%q, %v) = %#x, %v; want hash of %q, %v", c.value, c.domain, got, ok, c.want, c.ok)
		}
	}
}

func TestKeyFuncAvalanche(t *testing.T) {
	f := KeyFunc{DJB2, true}
	if got := URIKey([]byte("/a"), URIOptions{}, f); got != FullHash(HashDJB2([]byte("/a"))) {
		t.Fatalf("avalanche not applied: %#x", got)
	}
}

func TestL7KeysNoAlloc(t *testing.T) {
	uri := []byte("http://h/a/b/c?q=1&id=42")
	hdr := []byte(" www.example.org, x")
	n := testing.AllocsPerRun(100, func() {
		URIKey(uri, URIOptions{PathOnly: true, Depth: 2}, KeyFunc{WT6, true})
		URLParamKey(uri, "id", KeyFunc{CRC32, false})
		HdrKey(hdr, true, plain)
	})
	if n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

// TestPickNextMap checks the round robin fallback of a map-based hash:
// static-rr's sequence over the same map, skipping full servers.
func TestPickNextMap(t *testing.T) {
	b, _ := New(Hash, mkServers("s1:1,s2:2,s3:1"), Options{})
	hb := b.(Hashed)
	var seq string
	for i := 0; i < 8; i++ {
		seq += hb.PickNext().Name + " "
	}
	if seq != "s1 s2 s2 s3 s1 s2 s2 s3 " {
		t.Fatalf("sequence %q", seq)
	}
}

// TestPickNextCHash walks the ring in key order, wraps, and skips full
// servers; a server going down forgets the last position if it held it.
func TestPickNextCHash(t *testing.T) {
	srv := mkServers("s1:1,s2:1,s3:1")
	b, _ := New(Hash, srv, Options{HashType: Consistent})
	hb := b.(Hashed)
	c := b.(*chash)
	n := len(c.act)
	if n != 48 {
		t.Fatalf("ring has %d nodes", n)
	}
	for i := 0; i < n+3; i++ {
		got := hb.PickNext()
		if want := srv[c.act[i%n].idx]; got != want {
			t.Fatalf("step %d: %v, want %v", i, got.Name, want.Name)
		}
	}
	// fill s1 and s2: only s3 is returned
	for _, s := range srv[:2] {
		s.MaxConn = 1
		b.Take(s)
	}
	for i := 0; i < 5; i++ {
		if got := hb.PickNext(); got != srv[2] {
			t.Fatalf("full servers not skipped: %v", got.Name)
		}
	}
	srv[2].MaxConn = 1
	b.Take(srv[2])
	if got := hb.PickNext(); got != nil {
		t.Fatalf("all full: %v", got.Name)
	}
	if c.hasLast {
		t.Fatal("last kept after an empty walk")
	}
}

func BenchmarkURIKey(b *testing.B) {
	uri := []byte("/static/img/product/12345/large.jpg?v=3")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		URIKey(uri, URIOptions{Depth: 3}, KeyFunc{SDBM, true})
	}
}
