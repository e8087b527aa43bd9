package logfmt

import (
	"net/netip"
	"strconv"
	"testing"
)

// allocFormats cover every kind of node: addresses, dates, timers,
// counters, names with flags, samples re-encoded in place, request parts
// and captures.
var allocFormats = []struct {
	mode Mode
	fmt  string
}{
	{TCP, TCPLog},
	{TCP, `%ci:%cp %fi:%fp %bi:%bp %si:%sp %{+X}ci %{+X}cp %{+X}Ts %{+X}ms %{+Q}b %{+E}H %T %Tl %Ts %ms %Td %Tu %U %rt %lc %pid %ID %tsc %[src] %{+Q,+E}[src,lower]`},
	{HTTP, HTTPLog},
	{HTTP, CLFLog},
	{HTTP, HTTPSLog},
	{HTTP, `%HM %HU %HP %HPO %HQ %HV %trg %trl %{+Q}hrl %{+E}r`},
}

func allocFields() *Fields {
	fl := httpFields()
	fl.Client = netip.MustParseAddrPort("[2001:db8::1]:443")
	fl.Sample = func(dst []byte, e *Expr) ([]byte, bool) {
		if e.Index%2 == 1 {
			return append(dst, `quoted "value"`...), true
		}
		return strconv.AppendInt(dst, int64(e.Index), 10), true
	}
	return fl
}

func TestAppendAllocs(t *testing.T) {
	fl := allocFields()
	for _, af := range allocFormats {
		f, _, err := Compile(af.fmt, af.mode)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 0, 4096)
		allocs := testing.AllocsPerRun(200, func() {
			buf = f.Append(buf[:0], fl)
		})
		if allocs != 0 {
			t.Errorf("%q: %v allocations per line", af.fmt, allocs)
		}
		conn := testing.AllocsPerRun(200, func() {
			buf = AppendConnect(buf[:0], fl, HTTP)
		})
		if conn != 0 {
			t.Errorf("AppendConnect: %v allocations", conn)
		}
	}
}

func BenchmarkAppendTCPLog(b *testing.B) {
	f, _, _ := Compile(TCPLog, TCP)
	fl := tcpFields()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], fl)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendHTTPLog(b *testing.B) {
	f, _, _ := Compile(HTTPLog, HTTP)
	fl := httpFields()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0], fl)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkCompileHTTPSLog(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Compile(HTTPSLog, HTTP); err != nil {
			b.Fatal(err)
		}
	}
}
