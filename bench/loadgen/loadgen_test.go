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
