package lb

import (
	"net/netip"
	"strings"
	"testing"
)

func seq(b Balancer, n int) string {
	var out []string
	for i := 0; i < n; i++ {
		s := b.Pick(0)
		if s == nil {
			out = append(out, "-")
			continue
		}
		out = append(out, s.Name)
	}
	return strings.Join(out, " ")
}

func mustNew(t testing.TB, a Algo, spec string, opt Options) (Balancer, []*Server) {
	srv := mkServers(spec)
	b, err := New(a, srv, opt)
	if err != nil {
		t.Fatal(err)
	}
	return b, srv
}

func TestSequences(t *testing.T) {
	cases := []struct {
		name string
		algo Algo
		spec string
		n    int
		want string
	}{
		// roundrobin sequences verified against haproxy 2.6.12 (see diff test)
		{"rr equal", RoundRobin, "s1:1,s2:1", 4, "s1 s2 s1 s2"},
		{"rr 10/20", RoundRobin, "s1:10,s2:20", 6, "s2 s2 s1 s2 s2 s1"},
		{"rr weight0", RoundRobin, "s1:1,s2:0,s3:1", 4, "s1 s3 s1 s3"},
		{"rr backup only first", RoundRobin, "s1:0,b1:1b,b2:1b", 3, "b1 b1 b1"},
		{"static-rr 1/2", StaticRR, "s1:1,s2:2", 6, "s1 s2 s2 s1 s2 s2"},
		{"static-rr equal", StaticRR, "s1:3,s2:3,s3:3", 4, "s1 s2 s3 s1"},
		{"first", First, "s1:1,s2:1", 3, "s1 s1 s1"},
		{"leastconn idle rr", LeastConn, "s1:1,s2:1,s3:1", 3, "s1 s1 s1"},
		{"none usable", RoundRobin, "s1:0", 2, "- -"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, _ := mustNew(t, c.algo, c.spec, Options{})
			if got := seq(b, c.n); got != c.want {
				t.Fatalf("got %q want %q", got, c.want)
			}
		})
	}
}

func TestAllBackups(t *testing.T) {
	b, _ := mustNew(t, RoundRobin, "s1:0,b1:1b,b2:1b", Options{AllBackups: true})
	if got := seq(b, 4); got != "b1 b2 b1 b2" {
		t.Fatal(got)
	}
}

func TestLeastConnTakeDrop(t *testing.T) {
	b, srv := mustNew(t, LeastConn, "s1:1,s2:1,s3:1", Options{})
	var got []string
	for i := 0; i < 4; i++ {
		s := b.Pick(0)
		b.Take(s)
		got = append(got, s.Name)
	}
	if g := strings.Join(got, " "); g != "s1 s2 s3 s1" {
		t.Fatal(g)
	}
	b.Drop(srv[1]) // s2 back to 0 conns
	if s := b.Pick(0); s != srv[1] {
		t.Fatalf("want s2, got %s", s.Name)
	}
	srv[2].MaxConn = 1 // s3 full
	b.SetUp(srv[1], false)
	b.Drop(srv[0])
	b.Drop(srv[0])
	if s := b.Pick(0); s != srv[0] {
		t.Fatalf("want s1, got %s", s.Name)
	}
}

func TestFirstMaxConn(t *testing.T) {
	b, srv := mustNew(t, First, "s1:1,s2:1,s3:1", Options{})
	srv[0].MaxConn, srv[1].MaxConn = 1, 1
	var got []string
	for i := 0; i < 3; i++ {
		s := b.Pick(0)
		b.Take(s)
		got = append(got, s.Name)
	}
	if g := strings.Join(got, " "); g != "s1 s2 s3" {
		t.Fatal(g)
	}
	b.SetWeight(srv[2], 0)
	if s := b.Pick(0); s != nil {
		t.Fatalf("all full, got %s", s.Name)
	}
}

func TestRoundRobinDownUpWeight(t *testing.T) {
	b, srv := mustNew(t, RoundRobin, "s1:1,s2:1,s3:1,b1:1b", Options{})
	b.SetUp(srv[1], false)
	if got := seq(b, 4); strings.Contains(got, "s2") {
		t.Fatalf("down server picked: %s", got)
	}
	b.SetUp(srv[0], false)
	b.SetUp(srv[2], false)
	if got := seq(b, 2); got != "b1 b1" {
		t.Fatal(got)
	}
	b.SetUp(srv[1], true)
	if got := seq(b, 2); got != "s2 s2" {
		t.Fatal(got)
	}
	b.SetUp(srv[0], true)
	if err := b.SetWeight(srv[0], 3); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for i := 0; i < 400; i++ {
		counts[b.Pick(0).Name]++
	}
	if counts["s1"] != 300 || counts["s2"] != 100 {
		t.Fatalf("want 3:1, got %v", counts)
	}
	if err := b.SetWeight(srv[1], 0); err != nil || seq(b, 2) != "s1 s1" {
		t.Fatal("weight 0 server picked")
	}
}

// TestRoundRobinAvoid: a redispatch passes over the server that failed
// and its turn counts as used (HAProxy's srvtoavoid), so the turns go on
// after it as they would have; the avoided server is still taken when it
// is the only one.
func TestRoundRobinAvoid(t *testing.T) {
	b, srv := mustNew(t, RoundRobin, "s1:1,s2:1,s3:1", Options{})
	av := b.(Avoider)
	if got := seq(b, 3); got != "s1 s2 s3" {
		t.Fatal(got)
	}
	if got := av.PickAvoid(0, srv[0]); got != srv[1] {
		t.Fatalf("avoiding s1 picked %v", got)
	}
	if got := seq(b, 4); got != "s3 s1 s2 s3" {
		t.Fatalf("after avoiding s1: %s", got)
	}
	one, only := mustNew(t, RoundRobin, "s1:1,b1:1b", Options{})
	if got := one.(Avoider).PickAvoid(0, only[0]); got != only[0] {
		t.Fatalf("the only active server, avoided, gave %v", got)
	}
	if got := seq(one, 2); got != "s1 s1" {
		t.Fatal(got)
	}
}

func TestStaticWeight(t *testing.T) {
	b, srv := mustNew(t, StaticRR, "s1:1,s2:1", Options{})
	if err := b.SetWeight(srv[0], 5); err != ErrStaticWeight {
		t.Fatal(err)
	}
	b.SetWeight(srv[0], 0)
	if got := seq(b, 2); got != "s2 s2" {
		t.Fatal(got)
	}
	b.SetWeight(srv[0], 1)
	if got := seq(b, 2); !strings.Contains(got, "s1") {
		t.Fatal(got)
	}
}

func TestConsistentStability(t *testing.T) {
	b, srv := mustNew(t, Hash, "s1:1,s2:1,s3:1,s4:1", Options{HashType: Consistent})
	before := make([]*Server, 1000)
	for i := range before {
		before[i] = b.Pick(FullHash(uint32(i)))
	}
	b.SetUp(srv[2], false)
	for i := range before {
		got := b.Pick(FullHash(uint32(i)))
		if got == srv[2] || (before[i] != srv[2] && got != before[i]) {
			t.Fatalf("key %d moved from %s to %s", i, before[i].Name, got.Name)
		}
	}
}

func TestRandomDraws(t *testing.T) {
	vals := []uint32{1, 0x80000000}
	k := 0
	rnd := func() uint32 { k++; return vals[k%2] }
	b, srv := mustNew(t, Random, "s1:1,s2:1", Options{Rand: rnd, Draws: 2})
	a, c := b.(*randomLB).lookup(vals[1]), b.(*randomLB).lookup(vals[0])
	if a == c {
		t.Skip("both draws hit the same server")
	}
	b.Take(srv[a])
	if s := b.Pick(0); s != srv[c] {
		t.Fatalf("random(2) should prefer the idle server")
	}
}

func TestHashFunctions(t *testing.T) {
	in := []byte("hello")
	if HashCRC32(in) != 0x3610a686 {
		t.Fatal("crc32")
	}
	if HashDJB2(in) != 0x0f923099 { // 5381*33^5+... known djb2("hello")
		t.Fatalf("djb2 %#x", HashDJB2(in))
	}
	if HashSDBM([]byte("a")) != 97 || HashSDBM([]byte("ab")) != 97*65599+98 {
		t.Fatal("sdbm")
	}
	if GenHash(SDBM, in, true) != FullHash(HashSDBM(in)) {
		t.Fatal("avalanche")
	}
	if SourceHash(netip.MustParseAddr("10.1.2.3"), false) != 0x0a010203 {
		t.Fatal("source")
	}
	// A v4v6 listener's IPv4 client is ::ffff:10.1.2.3 to HAProxy: the XOR
	// of its words (the differential traffic test checks this with haproxy).
	if SourceHash(netip.MustParseAddr("::ffff:10.1.2.3"), false) != 0x0000ffff^0x0a010203 {
		t.Fatal("source mapped")
	}
	_ = HashWT6(in)
}

func TestPickAllocs(t *testing.T) {
	for _, a := range []Algo{RoundRobin, StaticRR, LeastConn, First, Hash, Random} {
		for _, ht := range []HashType{MapBased, Consistent} {
			b, _ := mustNew(t, a, "s1:10,s2:20,s3:5,b1:1b", Options{HashType: ht})
			var k uint32
			n := testing.AllocsPerRun(1000, func() {
				k += 0x9e3779b9
				if s := b.Pick(k); s != nil {
					b.Take(s)
					b.Drop(s)
				}
			})
			if n != 0 {
				t.Errorf("algo %d: %v allocs per Pick", a, n)
			}
		}
	}
}

func BenchmarkPick(b *testing.B) {
	for _, c := range []struct {
		name string
		algo Algo
		ht   HashType
	}{{"roundrobin", RoundRobin, 0}, {"static-rr", StaticRR, 0}, {"leastconn", LeastConn, 0},
		{"first", First, 0}, {"source-map", Hash, MapBased}, {"source-chash", Hash, Consistent},
		{"random", Random, 0}} {
		b.Run(c.name, func(b *testing.B) {
			bal, _ := mustNew(b, c.algo, "s1:10,s2:20,s3:5,s4:1,s5:7,s6:3,s7:9,s8:2", Options{HashType: c.ht})
			b.ReportAllocs()
			var k uint32
			for b.Loop() {
				k += 0x9e3779b9
				bal.Pick(k)
			}
		})
	}
}
