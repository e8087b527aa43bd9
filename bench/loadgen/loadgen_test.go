package loadgen

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// startBackend runs a backend for one test; the scenarios then talk to it
// directly, with this process standing in for the proxy being measured.
func startBackend(t *testing.T) Options {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := NewBackend(ln)
	t.Cleanup(b.Close)
	return Options{
		Addr: b.Addr().String(), Conns: 2, Duration: 100 * time.Millisecond,
		Warmup: 10 * time.Millisecond, Size: 64, PID: os.Getpid(), Label: "self",
	}
}

func TestScenarios(t *testing.T) {
	opt := startBackend(t)
	check := func(r Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", r.Scenario, err)
		}
		if r.Errors != 0 || r.Secs <= 0 || (r.Ops <= 0 && r.Bytes <= 0) || r.Rate <= 0 {
			t.Fatalf("%s: implausible result %+v", r.Scenario, r)
		}
	}
	check(Exchange(opt))
	check(Connect(opt))
	for _, m := range []Mode{ModeDownload, ModeUpload, ModeBoth} {
		r, err := Bulk(opt, m)
		check(r, err)
		if r.CPUPerGB <= 0 && r.ProxyCPU > 0 {
			t.Errorf("%s: CPU per GB %v with CPU %v", r.Scenario, r.CPUPerGB, r.ProxyCPU)
		}
	}
}

func TestIdleCountsDescriptors(t *testing.T) {
	opt := startBackend(t)
	opt.Conns = 50
	var held Result
	r, err := Idle(opt, func(r Result) { held = r })
	if err != nil {
		t.Fatal(err)
	}
	// This process is both ends here: a client and a backend socket per
	// connection, and nothing else.
	if r.FDsPerConn < 1.9 || r.FDsPerConn > 2.1 || r.Errors != 0 {
		t.Fatalf("idle through no proxy: %+v, want 2 descriptors per connection", r)
	}
	if held.Conns != r.Conns {
		t.Errorf("hold saw %+v", held)
	}
}

func TestProcReaders(t *testing.T) {
	pid := os.Getpid()
	if _, err := ProcCPU(pid); err != nil {
		t.Error(err)
	}
	if rss, err := ProcRSS(pid); err != nil || rss <= 0 {
		t.Errorf("rss %d, %v", rss, err)
	}
	if n, err := ProcFDs(pid); err != nil || n < 3 {
		t.Errorf("fds %d, %v", n, err)
	}
}

func TestWriteTable(t *testing.T) {
	in := `not json
{"proxy":"haproxy","scenario":"exchange","ops":10,"rate":1000,"proxy_cpu_s":1,"cpu_us_per_op":10,"errors":0}
{"proxy":"sluice","scenario":"exchange","ops":10,"rate":500,"proxy_cpu_s":1,"cpu_us_per_op":20,"errors":0}
{"proxy":"sluice","scenario":"exchange","ops":10,"rate":700,"proxy_cpu_s":1,"cpu_us_per_op":30,"errors":2,"first_error":"reset"}
`
	rs, err := ReadResults(strings.NewReader(in))
	if err != nil || len(rs) != 3 {
		t.Fatalf("%d results, %v", len(rs), err)
	}
	var out bytes.Buffer
	WriteTable(&out, rs, "haproxy", "sluice")
	for _, want := range []string{
		"| exchange | exchanges/s | 1000 | 600 (med. of 2) | 0.60 | higher |",
		"| exchange | proxy CPU µs per exchange | 10.00 | 25.00 (med. of 2) | 2.50 | lower |",
		"warning: sluice exchange: 2 errors (first: reset)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

// startHTTPBackend runs the Go HTTP backend for one test; the scenarios
// talk to it directly, this process standing in for the proxy.
func startHTTPBackend(t *testing.T) Options {
	t.Helper()
	opt := startBackend(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := NewHTTPBackend(ln)
	t.Cleanup(b.Close)
	opt.Addr = b.Addr().String()
	return opt
}

func TestHTTPScenarios(t *testing.T) {
	opt := startHTTPBackend(t)
	check := func(r Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", r.Scenario, err)
		}
		if r.Errors != 0 || r.Secs <= 0 || r.Ops <= 0 || r.Rate <= 0 {
			t.Fatalf("%s: implausible result %+v", r.Scenario, r)
		}
	}
	check(HTTPKeepAlive(opt))
	check(HTTPClose(opt))
	r, err := HTTPLatency(opt, 1000)
	check(r, err)
	if r.P50 <= 0 || r.P99 < r.P50 || r.P999 < r.P99 || r.MaxLat < r.P999 || r.TargetRate != 1000 {
		t.Errorf("latency percentiles out of order: %+v", r)
	}
	// No request leaves before it is due: at 1000/s the window sees its
	// length's worth, plus what a stall just before it held back (200ms
	// allowed here) and one in flight per connection. Unpaced, the
	// backend would answer thousands.
	if max := int64(1000*(r.Secs+0.2)) + int64(opt.Conns); r.Ops > max {
		t.Errorf("latency sent %d requests in %.3fs at 1000/s (at most %d): not paced", r.Ops, r.Secs, max)
	}
	opt.Conns = 50
	r, err = HTTPIdle(opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.FDsPerConn < 1.9 || r.FDsPerConn > 2.1 || r.Errors != 0 {
		t.Fatalf("http idle through no proxy: %+v, want 2 descriptors per connection", r)
	}
}

func TestParseResponseHead(t *testing.T) {
	for _, c := range []struct {
		head           string
		status, length int
		err            bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n", 200, 6, false},
		{"HTTP/1.1 200 OK\r\nserver: x\r\ncontent-length:  12 \r\n", 200, 12, false},
		{"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 107\r\n", 503, 107, false},
		{"HTTP/1.1 204 No Content\r\n", 204, 0, false},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", 0, 0, true},
		{"HTTP/1.1 2x0 OK\r\n", 0, 0, true},
		{"ICY 200 OK\r\n", 0, 0, true},
	} {
		s, l, err := parseResponseHead([]byte(c.head))
		if s != c.status || l != c.length || (err != nil) != c.err {
			t.Errorf("%q: %d %d %v", c.head, s, l, err)
		}
	}
	if !wantsClose([]byte("GET / HTTP/1.1\r\nHost: a\r\nCONNECTION:  Close\r\n")) ||
		wantsClose([]byte("GET / HTTP/1.1\r\nX-Connection: close\r\n")) {
		t.Error("wantsClose")
	}
}

// A keep-alive round trip allocates nothing: the tool's own garbage would
// otherwise cost CPU on the machine it shares with the proxy.
func TestRoundTripAllocs(t *testing.T) {
	opt := startHTTPBackend(t)
	conns, err := dialHTTP(opt.Addr, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(tcpConns(conns))
	req := []byte(RequestKeepAlive)
	if a := testing.AllocsPerRun(200, func() {
		if err := conns[0].roundTrip(req); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%v allocations per round trip", a)
	}
}

func TestWriteTableCandidates(t *testing.T) {
	in := `{"proxy":"haproxy","scenario":"http-latency","target_rate":5000,"rate":5000,"p99_us":200,"errors":0}
{"proxy":"sluice","scenario":"http-latency","target_rate":5000,"rate":4990,"p99_us":300,"errors":0}
{"proxy":"nginx","scenario":"http-latency","target_rate":5000,"rate":5001,"p99_us":100,"errors":0}
`
	rs, _ := ReadResults(strings.NewReader(in))
	var out bytes.Buffer
	WriteTable(&out, rs, "haproxy", "sluice", "nginx", "absent")
	for _, want := range []string{
		"| scenario | metric | haproxy | sluice | nginx | sluice/haproxy | nginx/haproxy | better |",
		"| http-latency | latency p99 µs | 200 | 300 | 100 | 1.50 | 0.50 | lower |",
		"| http-latency | target requests/s | 5000 | 5000 | 5000 | 1.00 | 1.00 | (context) |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}
