package logsink

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseTargetGood(t *testing.T) {
	cases := []struct {
		line string
		want Target
	}{
		{"127.0.0.1:514 local0", Target{Addr: "127.0.0.1:514", MaxLen: 1024, Facility: 16, Level: 7}},
		{"127.0.0.1:514 len 2048 format raw local0 info", Target{Addr: "127.0.0.1:514", MaxLen: 2048, Format: FormatRaw, Facility: 16, Level: 6}},
		{"stdout format short daemon", Target{Addr: "stdout", MaxLen: 1024, Format: FormatShort, Facility: 3, Level: 7}},
		{"stderr format raw daemon notice", Target{Addr: "stderr", MaxLen: 1024, Format: FormatRaw, Facility: 3, Level: 5}},
		{"127.0.0.1 local0 notice notice", Target{Addr: "127.0.0.1", MaxLen: 1024, Facility: 16, Level: 5, MinLevel: 5}},
		{"127.0.0.1 len 80 format rfc5424 sample 1:2 local0 info debug", Target{Addr: "127.0.0.1", MaxLen: 80, Format: FormatRFC5424,
			Sample: []SampleRange{{1, 1}}, SampleSize: 2, Facility: 16, Level: 6, MinLevel: 7}},
		{"127.0.0.1 sample 4,1-2:5 local0", Target{Addr: "127.0.0.1", MaxLen: 1024, Sample: []SampleRange{{1, 2}, {4, 4}}, SampleSize: 5, Facility: 16, Level: 7}},
		// atoi() semantics for len, as in HAProxy: "100x" is 100.
		{"127.0.0.1 len 100x local0", Target{Addr: "127.0.0.1", MaxLen: 100, Facility: 16, Level: 7}},
	}
	for _, c := range cases {
		got, err := ParseTarget(strings.Fields(c.line))
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.line, got, c.want)
		}
	}
}

// Addresses haproxy 2.6.12 accepts ("haproxy -c" on "log <addr> local0").
func TestParseTargetAddresses(t *testing.T) {
	for addr, want := range map[string]destination{
		"127.0.0.1":              {kind: kindUDP, udp: ap("127.0.0.1:514")},
		"127.0.0.1:":             {kind: kindUDP, udp: ap("127.0.0.1:514")},
		"127.0.0.1:0":            {kind: kindUDP, udp: ap("127.0.0.1:514")},
		"127.0.0.1:65535":        {kind: kindUDP, udp: ap("127.0.0.1:65535")},
		"127.0.0.1:5514x":        {kind: kindUDP, udp: ap("127.0.0.1:5514")},
		"udp@127.0.0.1:5514":     {kind: kindUDP, udp: ap("127.0.0.1:5514")},
		"udp4@127.0.0.1:5514":    {kind: kindUDP, udp: ap("127.0.0.1:5514")},
		"ipv4@127.0.0.1":         {kind: kindUDP, udp: ap("127.0.0.1:514")},
		"[::1]:5514":             {kind: kindUDP, udp: ap("[::1]:5514")},
		"[::1]":                  {kind: kindUDP, udp: ap("[::1]:514")},
		"::1:5514":               {kind: kindUDP, udp: ap("[::1]:5514")},
		"::1:":                   {kind: kindUDP, udp: ap("[::1]:514")},
		"ipv6@::1:514":           {kind: kindUDP, udp: ap("[::1]:514")},
		"udp@[::1]:514":          {kind: kindUDP, udp: ap("[::1]:514")},
		"localhost:5514":         {kind: kindUDP, udp: ap("127.0.0.1:5514")},
		"/tmp/lx/x.sock":         {kind: kindUnix, path: "/tmp/lx/x.sock"},
		"unix@/tmp/lx/nope.sock": {kind: kindUnix, path: "/tmp/lx/nope.sock"},
		"uxdg@/tmp/x":            {kind: kindUnix, path: "/tmp/x"},
		"abns@foo":               {kind: kindUnix, path: "@foo"},
		"stdout":                 {kind: kindFD, fd: 1},
		"stderr":                 {kind: kindFD, fd: 2},
		"fd@3":                   {kind: kindFD, fd: 3},
	} {
		if _, err := ParseTarget([]string{addr, "local0"}); err != nil {
			t.Errorf("%q: %v", addr, err)
			continue
		}
		got, _ := resolveAddr(addr)
		if got != want {
			t.Errorf("%q: got %+v want %+v", addr, got, want)
		}
	}
}

// Error texts printed by haproxy 2.6.12 after "parsing [f:l] : log : ".
var parseErrorCases = map[string]string{
	"127.0.0.1:5514":                      "expects <address> and <facility>  as arguments",
	"127.0.0.1 foo":                       "unknown log facility 'foo'",
	"127.0.0.1 16":                        "unknown log facility '16'",
	"127.0.0.1 LOCAL0":                    "unknown log facility 'LOCAL0'",
	"127.0.0.1 local0 foo":                "unknown optional log level 'foo'",
	"127.0.0.1 local0 6":                  "unknown optional log level '6'",
	"127.0.0.1 local0 info foo":           "unknown optional minimum log level 'foo'",
	"127.0.0.1 local0 info info x":        "cannot handle unexpected argument 'x'",
	"127.0.0.1 len 10 local0":             "invalid log length '10', must be between 80 and 65535",
	"127.0.0.1 len abc local0":            "invalid log length 'abc', must be between 80 and 65535",
	"127.0.0.1 len 65536 local0":          "invalid log length '65536', must be between 80 and 65535",
	"127.0.0.1 len":                       "invalid log length '', must be between 80 and 65535",
	"127.0.0.1 len 100":                   "unknown log facility ''",
	"127.0.0.1 format foo local0":         "unknown log format 'foo'",
	"127.0.0.1 format":                    "unknown log format ''",
	"127.0.0.1 format raw len 100 local0": "unknown log facility 'len'",
	"127.0.0.1 sample 1:x local0":         "wrong sample size 'x' for sample range '1'",
	"127.0.0.1 sample 1:3x local0":        "wrong sample size '3x' for sample range '1'",
	"127.0.0.1 sample 1:0 local0":         "wrong sample size '0' for sample range '1'",
	"127.0.0.1 sample 1 local0":           "Missing sample size",
	"127.0.0.1 sample 2-1:4 local0":       "wrong sample range '2-1'",
	"127.0.0.1 sample 1-:2 local0":        "wrong sample range '1-'",
	"127.0.0.1 sample 1-2-3:4 local0":     "wrong sample range '1-2-3'",
	"127.0.0.1 sample 1,,2:3 local0":      "wrong sample range ',2'",
	"127.0.0.1 sample 0:4 local0":         "wrong sample range '0'",
	"127.0.0.1 sample a:4 local0":         "wrong sample range 'a'",
	"127.0.0.1 sample :4 local0":          "no sampling ranges given",
	"127.0.0.1 sample 1-3:2 local0":       "sample size 2 should be greater or equal to 3 the maximum of the high ranges limits",
	"127.0.0.1 sample 1,3:2 local0":       "sample size 2 should be greater or equal to 3 the maximum of the high ranges limits",
	"127.0.0.1 sample 1-2,2-3:4 local0":   "ranges are overlapping",
	"300.1.1.1 local0":                    "invalid address: '300.1.1.1' in '300.1.1.1'",
	"127.0.0.1:99999 local0":              "invalid port '99999'",
	"127.0.0.1:65536 local0":              "invalid port '65536'",
	"127.0.0.1:abc local0":                "invalid character 'a' in port number 'abc' in '127.0.0.1:abc'",
	"127.0.0.1:514-515 local0":            "port range not permitted here in '127.0.0.1:514-515'",
	"127.0.0.1:+5 local0":                 "port offset not permitted here in '127.0.0.1:+5'",
	"127.0.0.1:-5 local0":                 "port offset not permitted here in '127.0.0.1:-5'",
	"foo.invalid local0":                  "invalid address: 'foo.invalid' in 'foo.invalid'",
	"foo@127.0.0.1 local0":                "invalid address: 'foo@127.0.0.1' in 'foo@127.0.0.1'",
	"relative.sock local0":                "invalid address: 'relative.sock' in 'relative.sock'",
	"./relative.sock local0":              "invalid address: './relative.sock' in './relative.sock'",
	"udp@/tmp/lx/x local0":                "invalid address: '/tmp/lx/x' in 'udp@/tmp/lx/x'",
	"::1 local0":                          "invalid address: ':' in '::1'",
	"ipv6@::1 local0":                     "invalid address: ':' in 'ipv6@::1'",
	"udp6@::1 local0":                     "invalid address: ':' in 'udp6@::1'",
	"udp4@[::1]:514 local0":               "invalid address: '[::1]' in 'udp4@[::1]:514'",
	"ipv4@::1: local0":                    "invalid address: '::1' in 'ipv4@::1:'",
	"udp6@127.0.0.1 local0":               "invalid address: '127.0.0.1' in 'udp6@127.0.0.1'",
	"ipv6@127.0.0.1 local0":               "invalid address: '127.0.0.1' in 'ipv6@127.0.0.1'",
	"[::1 local0":                         "invalid address: '[:' in '[::1'",
	"[::1]x local0":                       "invalid address: '[::1]x' in '[::1]x'",
	"[fe80::1%lo]:514 local0":             "invalid address: '[fe80::1%lo]' in '[fe80::1%lo]:514'",
	"fd@x local0":                         "file descriptor 'x' is not a valid integer in 'fd@x'",
	"fd@ local0":                          "file descriptor '' is not a valid integer in 'fd@'",
	"fd@-1 local0":                        "file descriptor '-1' is not a valid integer in 'fd@-1'",
	// Valid in HAProxy but not supported here (ring buffers, TCP syslog).
	"ring@foo local0":          "'ring@foo': ring buffers and stream log servers are not supported",
	"tcp@127.0.0.1:514 local0": "'tcp@127.0.0.1:514': ring buffers and stream log servers are not supported",
}

func TestParseTargetErrors(t *testing.T) {
	for line, want := range parseErrorCases {
		_, err := ParseTarget(strings.Fields(line))
		if err == nil {
			t.Errorf("%q: accepted", line)
		} else if err.Error() != want {
			t.Errorf("%q:\n got %q\nwant %q", line, err, want)
		}
	}
	for _, words := range [][]string{nil, {}, {"127.0.0.1"}, {"", "local0"}, {"127.0.0.1", ""}} {
		if _, err := ParseTarget(words); !errors.Is(err, ErrExpectsAddressFacility) {
			t.Errorf("%q: err = %v", words, err)
		}
	}
}

func TestTargetString(t *testing.T) {
	line := "127.0.0.1 len 80 format rfc5424 sample 1-2,4:5 local0 info err"
	if got := mustParse(t, strings.Fields(line)...).String(); got != line {
		t.Errorf("got %q", got)
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
