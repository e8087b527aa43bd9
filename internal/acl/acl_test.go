package acl

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sluice/internal/sample"
	"sluice/internal/testkit"
)

func ctx() *sample.Ctx {
	return &sample.Ctx{
		Src:          netip.MustParseAddrPort("10.1.2.3:40000"),
		Dst:          netip.MustParseAddrPort("127.0.0.1:5432"),
		FrontendName: "fe_db",
		Final:        true,
	}
}

// spec parses "criterion [flags] patterns" the way the config hands it over.
func spec(line string) Spec {
	w := strings.Fields(line)
	s := Spec{Criterion: w[0]}
	comma := strings.IndexByte(s.Criterion, ',')
	if i := strings.IndexByte(s.Criterion, '('); i > 0 && (comma < 0 || i < comma) {
		j := strings.IndexByte(s.Criterion, ')')
		s.Args = s.Criterion[i+1 : j]
		s.Converter = s.Criterion[j+1:]
		s.Criterion = s.Criterion[:i]
	} else if comma > 0 {
		s.Criterion, s.Converter = s.Criterion[:comma], s.Criterion[comma:]
	}
	rest := w[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		if rest[0] == "-m" || rest[0] == "-f" {
			s.Flags = append(s.Flags, rest[0], rest[1])
			rest = rest[2:]
			continue
		}
		s.Flags = append(s.Flags, rest[0])
		rest = rest[1:]
	}
	s.Patterns = rest
	return s
}

func TestExprEval(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Test
	}{
		{"src 10.0.0.0/8", Pass},
		{"src 10.1.2.3", Pass},
		{"src 192.168.0.0/16 10.1.0.0/255.255.0.0", Pass},
		{"src 192.168.0.0/16", Fail},
		{"src ::ffff:10.1.2.3", Pass}, // an IPv4 client against a mapped IPv6 pattern
		{"src ::1", Fail},
		{"src_port 1024:65535", Pass},
		{"src_port :1023", Fail},
		{"dst_port 5432", Pass},
		{"dst_port eq 5432", Pass},
		{"dst_port gt 5432", Fail},
		{"dst_port ge 5432", Pass},
		{"dst_port lt 5433", Pass},
		{"dst_port le 5431", Fail},
		{"dst_port gt 100 lt 6000", Pass}, // the second operator applies to 6000
		{"dst 127.0.0.0/8", Pass},
		{"fe_name fe_db", Pass},
		{"fe_name FE_DB", Fail},
		{"fe_name -i FE_DB", Pass},
		{"fe_name -m beg fe_", Pass},
		{"fe_name -m end _db", Pass},
		{"fe_name -m sub e_d", Pass},
		{"fe_name -m reg ^fe_[a-z]+$", Pass},
		{"fe_name -m reg -i ^FE_", Pass}, // every flag precedes the patterns
		{"fe_name -m len 5", Pass},
		{"fe_name -m len gt 5", Fail},
		{"fe_name -m found", Pass},
		{"be_name -m found", Fail},
		{"always_true", Pass},
		{"always_false", Fail},
		{"src,ipmask(16) 10.1.0.0", Pass},
		{"src -m str 10.1.2.3", Pass},
		{"fe_name,upper FE_DB", Pass},
		{"fe_name,length 5", Pass},
		{"str(a/b/c) -m dir b", Pass},
		{"str(a/bc/c) -m dir b", Fail},
		{"str(www.example.com) -m dom example", Pass},
		{"str(www.example.com) -m dom exam", Fail},
		{"str(abc),hex 616263", Pass},
		{"int(7) 7", Pass},
		{"int(7) -m bool", Pass},
		{"int(0) -m bool", Fail},
	} {
		e, err := Compile(spec(tc.line), Options{NoResolve: true})
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if got := e.Eval(ctx()); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.line, got, tc.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"src 10.0.0.300", "is not a valid IPv4 or IPv6 address"},
		{"src_port abc", "is not a number"},
		{"fe_name -m reg (a", "regex '(a' is invalid"},
		{"fe_name -m reg (?=x)", "RE2"},
		{"nosuchfetch x", "unknown fetch method 'nosuchfetch'"},
		{"fe_name,nosuchconv x", "unknown converter 'nosuchconv'"},
		{"src -m bool x", "does not take patterns"},
		{"req.payload(0) x", "expects at least 2"},
		{"req.payload(a,b) x", "is not an integer"},
		{"str(x) -f /nonexistent/file", "failed to open pattern file </nonexistent/file>"},
	} {
		_, err := Compile(spec(tc.line), Options{NoResolve: true})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.line, err, tc.want)
		}
	}
	for _, line := range []string{"http_auth_type basic", "be_sess_rate(be) 1", "src,json y", "sc_http_req_rate(0) 1"} {
		_, err := Compile(spec(line), Options{NoResolve: true})
		if !errors.Is(err, ErrNotSupported) {
			t.Errorf("%s: err = %v, want ErrNotSupported", line, err)
		}
	}
}

func TestPatternFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "nets.lst")
	os.WriteFile(f, []byte("# trusted networks\n\n  192.168.0.0/16  \n10.1.0.0/16\r\n"), 0o644)
	e, err := Compile(spec("src -f "+f), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Eval(ctx()); got != Pass {
		t.Fatalf("got %d", got)
	}
	os.WriteFile(f, []byte("10.2.0.0/16\nnot-an-address!\n"), 0o644)
	if _, err := Compile(spec("src -f "+f), Options{NoResolve: true}); err == nil || !strings.Contains(err.Error(), "in pattern file") {
		t.Fatalf("err = %v", err)
	}
}

// Payload fetches wait (Miss) while more data could change the answer,
// and decide once the inspection is final.
func TestPayloadMayChange(t *testing.T) {
	c := ctx()
	c.Final = false
	lenGT := mustCompile(t, "req.len gt 3")
	pay := mustCompile(t, "req.payload(0,4) -m bin 50494e47") // "PING"
	wait := mustCompile(t, "wait_end")
	if lenGT.Eval(c) != Miss || pay.Eval(c) != Miss || wait.Eval(c) != Miss {
		t.Fatal("empty buffer should wait")
	}
	c.Payload = []byte("PIN")
	if pay.Eval(c) != Miss {
		t.Fatal("short payload should wait")
	}
	c.Payload = []byte("PING\r\n")
	if lenGT.Eval(c) != Pass || pay.Eval(c) != Pass {
		t.Fatal("complete payload should pass")
	}
	c.Payload = []byte("PONG")
	if pay.Eval(c) != Fail {
		t.Fatal("a fixed window that does not match fails at once")
	}
	c.Payload, c.Final = nil, true
	if lenGT.Eval(c) != Fail || wait.Eval(c) != Pass {
		t.Fatal("final evaluation should decide")
	}
}

func mustCompile(t *testing.T, line string) *Expr {
	t.Helper()
	e, err := Compile(spec(line), Options{NoResolve: true})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCondLogic(t *testing.T) {
	c := ctx()
	c.Final = false
	yes := &ACL{Name: "yes", Exprs: []*Expr{mustCompile(t, "always_true")}}
	no := &ACL{Name: "no", Exprs: []*Expr{mustCompile(t, "always_false")}}
	miss := &ACL{Name: "miss", Exprs: []*Expr{mustCompile(t, "req.len gt 0")}}
	// Several lines with one name are ORed.
	either := &ACL{Name: "either", Exprs: []*Expr{mustCompile(t, "always_false"), mustCompile(t, "always_true")}}
	for _, tc := range []struct {
		name  string
		cond  Cond
		match bool
		wait  bool
	}{
		{"and", Cond{Suites: [][]Term{{{ACL: yes}, {ACL: no}}}}, false, false},
		{"or", Cond{Suites: [][]Term{{{ACL: no}}, {{ACL: yes}}}}, true, false},
		{"neg", Cond{Suites: [][]Term{{{Neg: true, ACL: no}}}}, true, false},
		{"unless", Cond{Unless: true, Suites: [][]Term{{{ACL: yes}}}}, false, false},
		{"multi-line acl", Cond{Suites: [][]Term{{{ACL: either}}}}, true, false},
		{"miss and pass waits", Cond{Suites: [][]Term{{{ACL: yes}, {ACL: miss}}}}, false, true},
		{"miss and fail fails", Cond{Suites: [][]Term{{{ACL: miss}, {ACL: no}}}}, false, false},
		{"miss or pass passes", Cond{Suites: [][]Term{{{ACL: miss}}, {{ACL: yes}}}}, true, false},
		{"negated miss waits", Cond{Suites: [][]Term{{{Neg: true, ACL: miss}}}}, false, true},
	} {
		m, w := tc.cond.Match(c)
		if m != tc.match || w != tc.wait {
			t.Errorf("%s: match=%v wait=%v, want %v %v", tc.name, m, w, tc.match, tc.wait)
		}
	}
	var none *Cond
	if m, w := none.Match(c); !m || w {
		t.Error("a rule without a condition always applies")
	}
}

func TestPredefined(t *testing.T) {
	c := ctx()
	for name, want := range map[string]Test{"TRUE": Pass, "FALSE": Fail, "LOCALHOST": Fail} {
		a, err := Predefined(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Eval(c); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	c.Src = netip.MustParseAddrPort("127.0.0.1:1")
	a, _ := Predefined("LOCALHOST")
	if a.Eval(c) != Pass {
		t.Error("LOCALHOST should match 127.0.0.1")
	}
	c.Src = netip.MustParseAddrPort("[::1]:1")
	if a.Eval(c) != Pass {
		t.Error("LOCALHOST should match ::1")
	}
	if _, err := Predefined("RDP_COOKIE"); !errors.Is(err, ErrNotSupported) {
		t.Errorf("RDP_COOKIE: %v", err)
	}
}

// A TLS ClientHello captured from crypto/tls routes by SNI.
func TestSSLSNI(t *testing.T) {
	hello := testkit.ClientHello(t, "db.example.com")
	c := ctx()
	c.Final = false
	sni := mustCompile(t, "req.ssl_sni -i DB.example.com")
	typ := mustCompile(t, "req.ssl_hello_type 1")
	c.Payload = hello[:20]
	if sni.Eval(c) != Miss || typ.Eval(c) != Miss {
		t.Fatal("a partial hello should wait")
	}
	c.Payload = hello
	if sni.Eval(c) != Pass || typ.Eval(c) != Pass {
		t.Fatal("full hello should match")
	}
	c.Payload = []byte("GET / HTTP/1.1\r\n\r\n")
	if sni.Eval(c) != Fail {
		t.Fatal("plain text is not a hello")
	}
}

// FuzzCompile: any ACL expression either compiles or is refused with an
// error, and a compiled one evaluates against any payload without panicking.
func FuzzCompile(f *testing.F) {
	hello := []byte("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00")
	f.Add("src", "", "", "", "10.0.0.0/8", hello)
	f.Add("dst_port", "", "", "int", "gt 100 lt 6000", hello)
	f.Add("req.payload", "0,4", "", "bin", "50494e47", hello)
	f.Add("req.payload_lv", "0,1,+2", ",hex", "", "00", hello)
	f.Add("req.ssl_sni", "", ",lower", "end", "example.com", hello)
	f.Add("str", "a/b", "", "dir", "b", hello)
	f.Add("src", "", ",ipmask(255.255.0.0)", "", "10.1.0.0", hello)
	f.Fuzz(func(t *testing.T, crit, args, conv, match, pats string, payload []byte) {
		s := Spec{Criterion: crit, Args: args, Converter: conv, Patterns: strings.Fields(pats)}
		if match != "" {
			s.Flags = []string{"-m", match}
		}
		e, err := Compile(s, Options{NoResolve: true})
		if err != nil {
			return
		}
		c := ctx()
		c.Payload = payload
		e.Eval(c)
		c.Final = false
		e.Eval(c)
	})
}

// Evaluating Layer 4 conditions allocates nothing: they run on every
// connection.
func TestEvalAllocs(t *testing.T) {
	c := ctx()
	c.Payload = []byte("PING\r\n")
	cond := &Cond{Suites: [][]Term{{
		{ACL: &ACL{Exprs: []*Expr{mustCompile(t, "src 192.168.0.0/16 10.0.0.0/8")}}},
		{ACL: &ACL{Exprs: []*Expr{mustCompile(t, "dst_port 5432 6379")}}},
		{ACL: &ACL{Exprs: []*Expr{mustCompile(t, "req.payload(0,4) -m str PING")}}},
		{Neg: true, ACL: &ACL{Exprs: []*Expr{mustCompile(t, "fe_name,lower -m beg admin")}}},
	}}}
	if m, _ := cond.Match(c); !m {
		t.Fatal("condition should match")
	}
	if n := testing.AllocsPerRun(200, func() { cond.Match(c) }); n != 0 {
		t.Fatalf("%v allocations per evaluation", n)
	}
}

func BenchmarkCondL4(b *testing.B) {
	c := ctx()
	e, _ := Compile(spec("src 192.168.0.0/16 10.0.0.0/8"), Options{NoResolve: true})
	p, _ := Compile(spec("dst_port 5432 6379"), Options{NoResolve: true})
	cond := &Cond{Suites: [][]Term{{{ACL: &ACL{Exprs: []*Expr{e}}}, {ACL: &ACL{Exprs: []*Expr{p}}}}}}
	b.ReportAllocs()
	for b.Loop() {
		cond.Match(c)
	}
}
