package netaddr

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

var (
	v4loop = netip.MustParseAddr("127.0.0.1")
	v6loop = netip.MustParseAddr("::1")
	any4   = netip.IPv4Unspecified()
	any6   = netip.IPv6Unspecified()
)

// bindGood lists bind words that haproxy -c accepts and what they parse to.
var bindGood = []struct {
	in   string
	want []BindAddr
}{
	{"127.0.0.1:8080", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 8080, PortHi: 8080}}},
	{":8080", []BindAddr{{Kind: KindIPv4, IP: any4, Wildcard: true, PortLo: 8080, PortHi: 8080}}},
	{"*:8080", []BindAddr{{Kind: KindIPv4, IP: any4, Wildcard: true, PortLo: 8080, PortHi: 8080}}},
	{"0.0.0.0:8080", []BindAddr{{Kind: KindIPv4, IP: any4, Wildcard: true, Host: "0.0.0.0", PortLo: 8080, PortHi: 8080}}},
	{":65535", []BindAddr{{Kind: KindIPv4, IP: any4, Wildcard: true, PortLo: 65535, PortHi: 65535}}},
	// IPv6: the port is always after the last colon.
	{":::8080", []BindAddr{{Kind: KindIPv6, IP: any6, Wildcard: true, Host: "::", PortLo: 8080, PortHi: 8080}}},
	{"::1:8080", []BindAddr{{Kind: KindIPv6, IP: v6loop, Host: "::1", PortLo: 8080, PortHi: 8080}}},
	{"[::1]:8080", []BindAddr{{Kind: KindIPv6, IP: v6loop, Host: "::1", PortLo: 8080, PortHi: 8080}}},
	{"[127.0.0.1]:8080", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 8080, PortHi: 8080}}},
	{"::ffff:127.0.0.1:8080", []BindAddr{{Kind: KindIPv6, IP: netip.MustParseAddr("::ffff:127.0.0.1"), Host: "::ffff:127.0.0.1", PortLo: 8080, PortHi: 8080}}},
	{"ipv6@::1:8080", []BindAddr{{Kind: KindIPv6, IP: v6loop, Host: "::1", PortLo: 8080, PortHi: 8080}}},
	{"ipv6@:8080", []BindAddr{{Kind: KindIPv6, IP: any6, Wildcard: true, PortLo: 8080, PortHi: 8080}}},
	{"ipv6@*:8080", []BindAddr{{Kind: KindIPv6, IP: any6, Wildcard: true, PortLo: 8080, PortHi: 8080}}},
	{"ipv4@*:8080", []BindAddr{{Kind: KindIPv4, IP: any4, Wildcard: true, PortLo: 8080, PortHi: 8080}}},
	{"ipv4@[127.0.0.1]:80", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 80, PortHi: 80}}},
	{"ip@::1:8080", []BindAddr{{Kind: KindIPv6, IP: v6loop, Host: "::1", PortLo: 8080, PortHi: 8080}}},
	{"tcp@127.0.0.1:8080", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 8080, PortHi: 8080}}},
	{"tcp4@127.0.0.1:80", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 80, PortHi: 80}}},
	{"tcp6@::1:8080", []BindAddr{{Kind: KindIPv6, IP: v6loop, Host: "::1", PortLo: 8080, PortHi: 8080}}},
	{"stream+ipv4@127.0.0.1:80", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 80, PortHi: 80}}},
	// Ports: ranges, and atoi() leniency that haproxy -c accepts.
	{"127.0.0.1:39100-39102", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 39100, PortHi: 39102}}},
	{"127.0.0.1:80-80", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 80, PortHi: 80}}},
	{"127.0.0.1:8a", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 8, PortHi: 8}}},
	{"127.0.0.1:080", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 80, PortHi: 80}}},
	{"127.0.0.1:80-+90", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 80, PortHi: 90}}},
	// inet_aton() forms accepted through getaddrinfo().
	{"127.1:8080", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.1", PortLo: 8080, PortHi: 8080}}},
	{"0x7f.1:8080", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "0x7f.1", PortLo: 8080, PortHi: 8080}}},
	{"0177.0.0.1:8080", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "0177.0.0.1", PortLo: 8080, PortHi: 8080}}},
	{"1.2.3:80", []BindAddr{{Kind: KindIPv4, IP: netip.MustParseAddr("1.2.0.3"), Host: "1.2.3", PortLo: 80, PortHi: 80}}},
	// Hostnames are resolved later (BindAddr.Resolve).
	{"localhost:8080", []BindAddr{{Kind: KindUnspec, Host: "localhost", PortLo: 8080, PortHi: 8080}}},
	{"ipv4@localhost:80", []BindAddr{{Kind: KindIPv4, Host: "localhost", PortLo: 80, PortHi: 80}}},
	// Non-IP families.
	{"/tmp/hx/s.sock", []BindAddr{{Kind: KindUnix, Path: "/tmp/hx/s.sock"}}},
	{"unix@rel.sock", []BindAddr{{Kind: KindUnix, Path: "rel.sock"}}},
	{"unix@/tmp/a.sock:80", []BindAddr{{Kind: KindUnix, Path: "/tmp/a.sock:80"}}},
	{"uxst@/tmp/q.sock", []BindAddr{{Kind: KindUnix, Path: "/tmp/q.sock"}}},
	{"stream+unix@/tmp/q", []BindAddr{{Kind: KindUnix, Path: "/tmp/q"}}},
	{"unix@", []BindAddr{{Kind: KindUnix}}},
	{"abns@foo", []BindAddr{{Kind: KindABNS, Path: "foo"}}},
	{"fd@3", []BindAddr{{Kind: KindFD, FD: 3}}},
	{"fd@03", []BindAddr{{Kind: KindFD, FD: 3}}},
	{"fd@+3", []BindAddr{{Kind: KindFD, FD: 3}}},
	{"sockpair@3", []BindAddr{{Kind: KindSockPair, FD: 3}}},
	{"/" + strings.Repeat("a", 96), []BindAddr{{Kind: KindUnix, Path: "/" + strings.Repeat("a", 96)}}},
	{"abns@" + strings.Repeat("a", 107), []BindAddr{{Kind: KindABNS, Path: strings.Repeat("a", 107)}}},
	// Lists: a single trailing comma is ignored.
	{"127.0.0.1:8080,127.0.0.1:8081", []BindAddr{
		{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 8080, PortHi: 8080, Raw: "127.0.0.1:8080"},
		{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 8081, PortHi: 8081, Raw: "127.0.0.1:8081"},
	}},
	{"127.0.0.1:8080,", []BindAddr{{Kind: KindIPv4, IP: v4loop, Host: "127.0.0.1", PortLo: 8080, PortHi: 8080, Raw: "127.0.0.1:8080"}}},
	{":80,:81-83,/tmp/z.sock", []BindAddr{
		{Kind: KindIPv4, IP: any4, Wildcard: true, PortLo: 80, PortHi: 80, Raw: ":80"},
		{Kind: KindIPv4, IP: any4, Wildcard: true, PortLo: 81, PortHi: 83, Raw: ":81-83"},
		{Kind: KindUnix, Path: "/tmp/z.sock", Raw: "/tmp/z.sock"},
	}},
}

func TestParseBindGood(t *testing.T) {
	for _, tt := range bindGood {
		got, err := ParseBind(tt.in)
		if err != nil {
			t.Errorf("ParseBind(%q): %v", tt.in, err)
			continue
		}
		if len(tt.want) == 1 && tt.want[0].Raw == "" {
			tt.want[0].Raw = tt.in
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseBind(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			continue
		}
		for _, a := range got {
			back, err := ParseBind(a.String())
			if err != nil || len(back) != 1 {
				t.Errorf("ParseBind(%q.String() = %q): %v %v", tt.in, a.String(), back, err)
				continue
			}
			back[0].Raw, back[0].Host, a.Raw, a.Host = "", "", "", ""
			if !reflect.DeepEqual(back[0], a) {
				t.Errorf("round trip of %q via %q: got %+v want %+v", tt.in, got[0].String(), back[0], a)
			}
		}
	}
}

var (
	longPath = "/tmp/" + strings.Repeat("a", 93)
	longABNS = "abns@" + strings.Repeat("a", 108)
)

// bindErrors pairs bad bind words with what `haproxy -c` (2.6.12) printed
// after "parsing [t.cfg:7] : 'bind' : " for them, verbatim.
var bindErrors = []struct{ in, want string }{
	// haproxy: 'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.
	{"", "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments."},
	{"127.0.0.1:99999", "invalid port '99999'"},
	{"127.0.0.1", "missing port specification in '127.0.0.1'"},
	{":80-70", "invalid port range '80-70'"},
	{":0", "invalid port '0'"},
	{":65536", "invalid port '65536'"},
	{"127.0.0.1:abc", "invalid character 'a' in port number 'abc' in '127.0.0.1:abc'"},
	{"127.0.0.1:80-", "invalid port ''"},
	{"127.0.0.1:-80", "port offset not permitted here in '127.0.0.1:-80'"},
	{"127.0.0.1:+80", "port offset not permitted here in '127.0.0.1:+80'"},
	{"127.0.0.1:80-abc", "invalid port 'abc'"},
	{"127.0.0.1:80-8a", "invalid port range '80-8'"},
	{"127.0.0.1:0-5", "invalid port '0'"},
	{"127.0.0.1:5-0", "invalid port '0'"},
	{"127.0.0.1:65535-65536", "invalid port '65536'"},
	{"127.0.0.1:80--5", "invalid port '-5'"},
	{"127.0.0.1:", "missing port specification in '127.0.0.1:'"},
	{"ipv4@127.0.0.1", "missing port specification in 'ipv4@127.0.0.1'"},
	{"[::1]", "missing port specification in '[::1]'"},
	{"[::1]8080", "missing port specification in '[::1]8080'"},
	{"::", "missing port specification in '::'"},
	{":", "missing port specification in ':'"},
	{"[::1:8080", "invalid address: '[::1' in '[::1:8080'"},
	{"::1]:80", "invalid address: '::1]' in '::1]:80'"},
	{"[::1]]:80", "invalid address: '[::1]]' in '[::1]]:80'"},
	{"[]:80", "invalid address: '[]' in '[]:80'"},
	{"[*]:80", "invalid address: '[*]' in '[*]:80'"},
	{"::8080", "invalid address: ':' in '::8080'"},
	{"1.2.3.4:80:90", "invalid address: '1.2.3.4:80' in '1.2.3.4:80:90'"},
	{"ipv4@::1:8080", "invalid address: '::1' in 'ipv4@::1:8080'"},
	{"tcp4@::1:80", "invalid address: '::1' in 'tcp4@::1:80'"},
	{"ipv6@127.0.0.1:8080", "invalid address: '127.0.0.1' in 'ipv6@127.0.0.1:8080'"},
	{"256.1.1.1:80", "invalid address: '256.1.1.1' in '256.1.1.1:80'"},
	{"fe80::1%lo:8080", "invalid address: 'fe80::1%lo' in 'fe80::1%lo:8080'"},
	{"foo@1.2.3.4:80", "invalid address: 'foo@1.2.3.4' in 'foo@1.2.3.4:80'"},
	{"IPV4@127.0.0.1:80", "invalid address: 'IPV4@127.0.0.1' in 'IPV4@127.0.0.1:80'"},
	{"ip4@127.0.0.1:80", "invalid address: 'ip4@127.0.0.1' in 'ip4@127.0.0.1:80'"},
	{"stream+stream+ipv4@127.0.0.1:80", "invalid address: 'stream+ipv4@127.0.0.1' in 'stream+stream+ipv4@127.0.0.1:80'"},
	{"fd@abc", "file descriptor 'abc' is not a valid integer in 'fd@abc'"},
	{"fd@", "file descriptor '' is not a valid integer in 'fd@'"},
	{"fd@-1", "file descriptor '-1' is not a valid integer in 'fd@-1'"},
	{"fd@3x", "file descriptor '3x' is not a valid integer in 'fd@3x'"},
	{",127.0.0.1:8080", "'' resolves to an empty address (environment variable missing?)"},
	{"127.0.0.1:8080,,", "'' resolves to an empty address (environment variable missing?)"},
	{"udp@127.0.0.1:8080", "dgram-type address not acceptable in 'udp@127.0.0.1:8080'"},
	{"udp4@127.0.0.1:80", "dgram-type address not acceptable in 'udp4@127.0.0.1:80'"},
	{"udp6@::1:80", "dgram-type address not acceptable in 'udp6@::1:80'"},
	{"dgram+ipv4@127.0.0.1:80", "dgram-type address not acceptable in 'dgram+ipv4@127.0.0.1:80'"},
	{"uxdg@/tmp/hx/q.sock", "dgram-type address not acceptable in 'uxdg@/tmp/hx/q.sock'"},
	{"dgram+unix@/tmp/hx/q", "dgram-type address not acceptable in 'dgram+unix@/tmp/hx/q'"},
	{"quic4@127.0.0.1:80", "unsupported stream protocol for datagram family 2 address 'quic4@127.0.0.1:80'; QUIC is not compiled in if this is what you were looking for."},
	{"quic6@::1:80", "unsupported stream protocol for datagram family 10 address 'quic6@::1:80'; QUIC is not compiled in if this is what you were looking for."},
	{longPath, "socket path '" + longPath + "' too long (max 97)"},
	{longABNS, "socket path '" + longABNS + "' too long (max 107)"},
}

func TestParseBindErrors(t *testing.T) {
	for _, tt := range bindErrors {
		got, err := ParseBind(tt.in)
		if err == nil {
			t.Errorf("ParseBind(%q) = %+v, want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseBind(%q) error\n got %q\nwant %q", tt.in, err.Error(), tt.want)
		}
	}
}

// serverGood lists server addresses that haproxy -c parses and their result.
var serverGood = []struct {
	in   string
	want ServerAddr
}{
	{"127.0.0.1:80", ServerAddr{Kind: KindIPv4, Host: "127.0.0.1", IP: v4loop, Port: 80}},
	{"127.0.0.1", ServerAddr{Kind: KindIPv4, Host: "127.0.0.1", IP: v4loop, PortMode: PortNone}},
	{"127.0.0.1:", ServerAddr{Kind: KindIPv4, Host: "127.0.0.1", IP: v4loop, PortMode: PortNone}},
	{"127.0.0.1:0", ServerAddr{Kind: KindIPv4, Host: "127.0.0.1", IP: v4loop, PortMode: PortNone}},
	{"127.0.0.1:+5", ServerAddr{Kind: KindIPv4, Host: "127.0.0.1", IP: v4loop, PortMode: PortOffset, Offset: 5}},
	{"127.0.0.1:-5", ServerAddr{Kind: KindIPv4, Host: "127.0.0.1", IP: v4loop, PortMode: PortOffset, Offset: -5}},
	{"127.0.0.1:+", ServerAddr{Kind: KindIPv4, Host: "127.0.0.1", IP: v4loop, PortMode: PortOffset}},
	{"0.0.0.0", ServerAddr{Kind: KindIPv4, Host: "0.0.0.0", IP: any4, PortMode: PortNone, UseClientDst: true}},
	{"*", ServerAddr{Kind: KindIPv4, IP: any4, PortMode: PortNone, UseClientDst: true}},
	{"*:80", ServerAddr{Kind: KindIPv4, IP: any4, Port: 80, UseClientDst: true}},
	{":80", ServerAddr{Kind: KindIPv4, IP: any4, Port: 80, UseClientDst: true}},
	{"ipv4@", ServerAddr{Kind: KindIPv4, IP: any4, PortMode: PortNone, UseClientDst: true}},
	{"ipv6@", ServerAddr{Kind: KindIPv6, IP: any6, PortMode: PortNone, UseClientDst: true}},
	{":::80", ServerAddr{Kind: KindIPv6, Host: "::", IP: any6, Port: 80, UseClientDst: true}},
	{"::1:80", ServerAddr{Kind: KindIPv6, Host: "::1", IP: v6loop, Port: 80}},
	{"[::1]:80", ServerAddr{Kind: KindIPv6, Host: "::1", IP: v6loop, Port: 80}},
	{"[::1]", ServerAddr{Kind: KindIPv6, Host: "::1", IP: v6loop, PortMode: PortNone}},
	{"0x7f.1:80", ServerAddr{Kind: KindIPv4, Host: "0x7f.1", IP: v4loop, Port: 80}},
	{"tcp@127.0.0.1:80", ServerAddr{Kind: KindIPv4, Host: "127.0.0.1", IP: v4loop, Port: 80}},
	{"localhost:80", ServerAddr{Kind: KindUnspec, Host: "localhost", Port: 80}},
	{"ipv4@localhost:80", ServerAddr{Kind: KindIPv4, Host: "localhost", Port: 80}},
	{"/tmp/b.sock", ServerAddr{Kind: KindUnix, Path: "/tmp/b.sock", PortMode: PortNone}},
	{"unix@/tmp/b.sock", ServerAddr{Kind: KindUnix, Path: "/tmp/b.sock", PortMode: PortNone}},
	{"uxst@/tmp/x", ServerAddr{Kind: KindUnix, Path: "/tmp/x", PortMode: PortNone}},
	{"abns@foo", ServerAddr{Kind: KindABNS, Path: "foo", PortMode: PortNone}},
	{"sockpair@3", ServerAddr{Kind: KindSockPair, FD: 3, PortMode: PortNone}},
	// Accepted by the parser, rejected at resolution (see TestResolve):
	// the port is after the last colon, so "::1" is host ":" port 1.
	{"::1", ServerAddr{Kind: KindUnspec, Host: ":", Port: 1}},
	{"::", ServerAddr{Kind: KindUnspec, Host: ":", PortMode: PortNone}},
	{"256.1.1.1:80", ServerAddr{Kind: KindUnspec, Host: "256.1.1.1", Port: 80}},
	{"127.0.0.1:8080,127.0.0.2:80", ServerAddr{Kind: KindUnspec, Host: "127.0.0.1:8080,127.0.0.2", Port: 80}},
}

func TestParseServerGood(t *testing.T) {
	for _, tt := range serverGood {
		got, err := ParseServer(tt.in)
		if err != nil {
			t.Errorf("ParseServer(%q): %v", tt.in, err)
			continue
		}
		tt.want.Raw = tt.in
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseServer(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			continue
		}
		if got.Host == ":" || strings.Contains(got.Host, ",") {
			continue // not representable by a canonical form
		}
		back, err := ParseServer(got.String())
		if err != nil {
			t.Errorf("ParseServer(%q.String() = %q): %v", tt.in, got.String(), err)
			continue
		}
		back.Raw, back.Host, got.Raw, got.Host = "", "", "", ""
		if !reflect.DeepEqual(back, got) {
			t.Errorf("round trip of %q via %q: got %+v want %+v", tt.in, tt.want.String(), back, got)
		}
	}
}

// TestParseServerErrors checks the messages against what `haproxy -c` printed
// after "[t.cfg:10] : 'server be/s1' : " for the same address.
func TestParseServerErrors(t *testing.T) {
	long := longPath
	tests := []struct{ in, want string }{
		// haproxy: [t.cfg:10] : 'server' expects <name> and <addr>[:<port>] as arguments.
		{"", "'server' expects <name> and <addr>[:<port>] as arguments."},
		{"1.2.3.4:abc", "invalid character 'a' in port number 'abc' in '1.2.3.4:abc'"},
		{"127.0.0.1:99999", "invalid port '99999'"},
		{"127.0.0.1:80-90", "port range not permitted here in '127.0.0.1:80-90'"},
		{"sockpair@x", "file descriptor 'x' is not a valid integer in 'sockpair@x'"},
		{"fd@x", "file descriptor 'x' is not a valid integer in 'fd@x'"},
		{"fd@3", "a file descriptor is not acceptable here in 'fd@3'"},
		{"udp@127.0.0.1:80", "dgram-type address not acceptable in 'udp@127.0.0.1:80'"},
		{"uxdg@/tmp/x", "dgram-type address not acceptable in 'uxdg@/tmp/x'"},
		{"quic4@127.0.0.1:80", "unsupported stream protocol for datagram family 2 address 'quic4@127.0.0.1:80'; QUIC is not compiled in if this is what you were looking for."},
		{long, "socket path '" + long + "' too long (max 97)"},
	}
	for _, tt := range tests {
		got, err := ParseServer(tt.in)
		if err == nil {
			t.Errorf("ParseServer(%q) = %+v, want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseServer(%q) error\n got %q\nwant %q", tt.in, err.Error(), tt.want)
		}
	}
}

func TestNumericHelpers(t *testing.T) {
	for in, want := range map[string]int{"80": 80, "8a": 8, "": 0, "abc": 0, "+90": 90, "-5": -5,
		" 7": 7, "99999999999": 1215752191, "99999999999999999999": -1} {
		if got := atoi(in); got != want {
			t.Errorf("atoi(%q) = %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]string{"127.1": "127.0.0.1", "0x7f000001": "127.0.0.1",
		"10.0x10.010": "10.16.0.8", "0": "0.0.0.0", "1.2.3.4": "1.2.3.4"} {
		if got, ok := inetAton(in); !ok || got.String() != want {
			t.Errorf("inetAton(%q) = %v %v, want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1.", "1..2", "08", "0x", "256.1.1.1", "1.2.3.4.5", "1.256.1", "4294967296", "a.b"} {
		if got, ok := inetAton(in); ok {
			t.Errorf("inetAton(%q) = %v, want failure", in, got)
		}
	}
	for in, want := range map[string]bool{"localhost": true, "a-b_c.example.": true, "256.1.1.1": false,
		":": false, "a b": false, strings.Repeat("a", 63): true, strings.Repeat("a", 64): false, "": false} {
		if got := validHostname(in); got != want {
			t.Errorf("validHostname(%q) = %v, want %v", in, got, want)
		}
	}
}
