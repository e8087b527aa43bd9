package logfmt

import (
	"net/netip"
	"testing"
	"time"
)

var cet = time.FixedZone("CET", 3600)

// tcpFields reproduces the tcplog example of the manual (section 8.2.2).
func tcpFields() *Fields {
	return &Fields{
		Client:        netip.MustParseAddrPort("10.0.1.2:33313"),
		Frontend:      netip.MustParseAddrPort("10.0.0.1:8080"),
		BackendSource: netip.MustParseAddrPort("10.0.0.1:41000"),
		Server:        netip.MustParseAddrPort("10.0.2.5:80"),
		FrontendName:  "fnt", BackendName: "bck", ServerName: "srv1",
		AcceptDate: time.Date(2009, 2, 6, 12, 12, 51, 443_999_000, cet),
		Idle:       NotReached,
		Close:      5007 * time.Millisecond,
		BytesOut:   212, BytesIn: 48,
		Retries: 3, PID: 14387, Hostname: "lb1",
	}
}

// httpFields reproduces the httplog example of the manual (section 8.2.3).
func httpFields() *Fields {
	return &Fields{
		Client:       netip.MustParseAddrPort("10.0.1.2:33317"),
		Frontend:     netip.MustParseAddrPort("10.0.0.1:80"),
		Server:       netip.MustParseAddrPort("10.0.2.5:80"),
		FrontendName: "http-in", BackendName: "static", ServerName: "srv1",
		AcceptDate: time.Date(2009, 2, 6, 12, 14, 14, 655_000_000, time.UTC),
		Request:    10 * time.Millisecond, Queue: 10 * time.Millisecond,
		Connect: 40 * time.Millisecond, Data: 109 * time.Millisecond, Close: 109 * time.Millisecond,
		Status: 200, BytesOut: 2750,
		ActConn: 1, FeConn: 1, BeConn: 1, SrvConn: 1,
		ReqCaptures:  []Capture{{Value: "1wt.eu", OK: true}},
		RespCaptures: []Capture{{}},
		RequestLine:  "GET /index.html HTTP/1.1",
		BackendHTTP:  true,
	}
}

type renderCase struct {
	name string
	mode Mode
	fmt  string
	base func() *Fields
	set  func(*Fields)
	want string
}

var renderCases = []renderCase{
	{name: "tcplog manual", fmt: TCPLog, base: tcpFields,
		want: "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0"},
	{name: "tcplog 2.6 quirk: no request date adds one to Tw", fmt: TCPLog, base: tcpFields,
		set:  func(f *Fields) { f.Request, f.Connect, f.Close = NotReached, time.Millisecond, 2*time.Millisecond },
		want: "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 1/1/2 212 -- 0/0/0/0/3 0/0"},
	{name: "tcplog no server", fmt: TCPLog, base: tcpFields,
		set: func(f *Fields) {
			f.ServerName, f.Queue, f.Connect, f.Close, f.BytesOut = "", NotReached, NotReached, 0, 0
			f.Cause, f.Phase, f.ActConn, f.FeConn, f.Retries = CauseServerAbort, PhaseConnect, 1, 1, 0
		},
		want: "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/<NOSRV> -1/-1/0 0 SC 1/1/0/0/0 0/0"},
	{name: "tcplog redispatch, queues, logasap, tls", fmt: TCPLog, base: tcpFields,
		set: func(f *Fields) {
			f.Redispatched, f.LogASAP, f.FrontendSSL, f.SrvQueue, f.BackendQueue = true, true, true, 2, 5
		},
		want: "10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt~ bck/srv1 0/0/+5007 +212 -- 0/0/0/0/+3 2/5"},
	{name: "addresses", fmt: "%ci:%cp %fi:%fp %bi:%bp %si:%sp", base: tcpFields,
		want: "10.0.1.2:33313 10.0.0.1:8080 10.0.0.1:41000 10.0.2.5:80"},
	{name: "addresses hex", fmt: "%{+X}ci:%{+X}cp %{+X}si:%{+X}sp", base: tcpFields,
		want: "0A000102:8221 0A000205:0050"},
	{name: "addresses quoted", fmt: "%{+Q}ci:%{+Q}cp", base: tcpFields, want: `"10.0.1.2":33313`},
	{name: "unknown addresses", fmt: "%bi:%bp %{+Q}si:%{+Q}sp %{-M}si|", base: tcpFields,
		set:  func(f *Fields) { f.BackendSource, f.Server = netip.AddrPort{}, netip.AddrPort{} },
		want: `-:- "":"" |`},
	{name: "ipv6", fmt: "%ci:%cp %fi %si %{+X}ci", base: tcpFields,
		set: func(f *Fields) {
			f.Client = netip.MustParseAddrPort("[2001:db8::1%eth0]:443")
			f.Frontend = netip.MustParseAddrPort("[::ffff:10.0.0.1]:80")
			f.Server = netip.MustParseAddrPort("[::10.0.2.5]:80")
		},
		want: "2001:db8::1:443 ::ffff:10.0.0.1 ::10.0.2.5 20010DB8000000000000000000000001"},
	{name: "unix listener", fmt: "%ci:%cp %fi:%fp", base: tcpFields,
		set:  func(f *Fields) { f.UnixListener, f.ListenerID = true, 3 },
		want: "unix:3 unix:3"},
	{name: "hex on a unix address stops the line", fmt: "a %{+X}ci b", base: tcpFields,
		set: func(f *Fields) { f.UnixListener = true }, want: "a "},
	{name: "dates", fmt: "%t|%T|%Tl|%Ts|%ms|%{+X}Ts|%{+X}ms", base: tcpFields,
		want: "06/Feb/2009:12:12:51.443|06/Feb/2009:11:12:51 +0000|06/Feb/2009:12:12:51 +0100|1233918771|443|498C1B33|1BB"},
	{name: "date padding", fmt: "%t %Tl", base: tcpFields,
		set: func(f *Fields) {
			f.AcceptDate = time.Date(803, 1, 2, 3, 4, 5, 6_000_000, time.FixedZone("", -(9*3600+30*60)))
		},
		want: "02/Jan/0803:03:04:05.006 02/Jan/0803:03:04:05 -0930"},
	{name: "timers tcp", fmt: "%Th %Tw %Tc %Td %Tt %Tu", base: tcpFields,
		set: func(f *Fields) {
			f.Handshake, f.Queue, f.Connect = 2*time.Millisecond, 3*time.Millisecond, 10*time.Millisecond
		},
		want: "2 3 7 4997 5007 5007"},
	{name: "counters", fmt: "%ac/%fc/%bc/%sc/%rc %sq/%bq %B %U %ST %pid %{+X}pid %rt %{+X}rt %lc %{+X}lc", base: tcpFields,
		set: func(f *Fields) {
			f.ActConn, f.FeConn, f.BeConn, f.SrvConn, f.ReqCounter, f.LogCount = 7, 6, 5, 4, 70000, 11
		},
		want: "7/6/5/4/3 0/0 212 48 0 14387 3833 70000 11170 11 000B"},
	{name: "names and flags", fmt: `%f %{+Q}f %{+E}H %{+Q}b %{+Q}ft %{+Q}s %ID %{+Q}ID %{-M}ID| %sslc %sslv`, base: tcpFields,
		set:  func(f *Fields) { f.FrontendName, f.Hostname = `a"b`, `x]y\z` },
		want: `a"b "a"b" x\]y\\z "bck" "a"b" "srv1" - "" | - -`},
	{name: "%o changes the default flags", fmt: `%{+Q}o%b %{-Q}o%b %{-M}o%ID| %{+M}o%ID`, base: tcpFields,
		want: `"bck" bck | -`},
	{name: "spaces merge, leading spaces drop, trailing one stays", fmt: "  %b   %s\t%s  x  %hr %hs %hr y  ", base: tcpFields,
		want: "bck srv1\tsrv1 x y "},
	{name: "empty values still separate", fmt: "%{-M}o%ID %ID %ID|", base: tcpFields, want: "  |"},
	{name: "percent literals", fmt: "100%% %-x %%ci", base: tcpFields, want: "100% -x %ci"},
	{name: "only spaces render nothing", fmt: "   ", base: tcpFields, want: ""},
	{name: "httplog manual", mode: HTTP, fmt: HTTPLog, base: httpFields,
		want: `10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"`},
	{name: "httplog bad request, no captures", mode: HTTP, fmt: HTTPLog, base: httpFields,
		set: func(f *Fields) {
			f.RequestLine, f.ReqCaptures, f.RespCaptures, f.Status, f.BytesOut = "", nil, nil, 400, 0
			f.Request, f.Queue, f.Connect, f.Data, f.Close, f.ServerName = NotReached, NotReached, NotReached, NotReached, 0, ""
			f.Cause, f.Phase, f.BeConn, f.SrvConn = CauseProxy, PhaseRequest, 0, 0
		},
		want: `10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>"`},
	{name: "clf", mode: HTTP, fmt: CLFLog, base: httpFields,
		want: `10.0.1.2 - - [06/Feb/2009:12:14:14 +0000] "GET /index.html HTTP/1.1" 200 2750 "" "" 33317 655 "http-in" "static" "srv1" 10 0 30 69 109 ---- 1 1 1 1 0 0 0 "" "" "1wt.eu" ""`},
	{name: "clf unquoted", mode: HTTP, fmt: "%hrl %hsl %tsc", base: httpFields,
		set: func(f *Fields) { f.ReqCookie, f.RespCookie = CookieValid, SetCookieNone }, want: "1wt.eu - --VN"},
	{name: "request parts", mode: HTTP, fmt: "%HM|%HU|%HP|%HPO|%HQ|%HV", base: httpFields,
		set:  func(f *Fields) { f.RequestLine = "GET  http://u@h:8/a/b?c=d#e  HTTP/1.1" },
		want: "GET|http://u@h:8/a/b?c=d#23e|http://u@h:8/a/b|/a/b|?c=d#23e|HTTP/1.1"},
	{name: "request parts HTTP/0.9 and bad", mode: HTTP, fmt: "%HM|%HU|%HPO|%HQ|%HV|%{+Q}HV", base: httpFields,
		set: func(f *Fields) { f.RequestLine = "GET /x" }, want: `GET|/x|/x||HTTP/0.9|"HTTP/0.9"`},
	{name: "request without uri", mode: HTTP, fmt: "%HM|%HU|%HP|%HPO|%HQ|%HV", base: httpFields,
		set: func(f *Fields) { f.RequestLine = "GET" }, want: "<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>||<BADREQ>"},
	{name: "request encoding", mode: HTTP, fmt: `%r %{+E}r %{+Q,+E}r`, base: httpFields,
		set:  func(f *Fields) { f.RequestLine = "GET /\"a\\b]#\x01\xe9 HTTP/1.1" },
		want: `GET /#22a\b]#23#01#E9 HTTP/1.1 GET /#22a\\b\]#23#01#E9 HTTP/1.1 "GET /#22a\\b\]#23#01#E9 HTTP/1.1"`},
	{name: "captures", mode: HTTP, fmt: `%hr %{+Q}hr %hrl %{+Q}hrl %hs`, base: httpFields,
		set: func(f *Fields) {
			f.ReqCaptures = []Capture{{Value: "a|b{c}", OK: true}, {}, {Value: "", OK: true}, {Value: "\"#\x7f", OK: true}}
		},
		want: `{a#7Cb#7Bc#7D|||#22#23#7F} "{a#7Cb#7Bc#7D|||#22#23#7F}" a#7Cb#7Bc#7D -  #22#23#7F "a#7Cb#7Bc#7D" "" "" "#22#23#7F" {}`},
	{name: "http timers", mode: HTTP, fmt: "%Th %Ti %TR %Tq %Tw %Tc %Tr %Td %Ta %Tt %Tu", base: httpFields,
		set: func(f *Fields) {
			f.Handshake, f.Idle = 3*time.Millisecond, 100*time.Millisecond
			f.Request, f.Queue, f.Connect, f.Data, f.Close = 110*time.Millisecond, 111*time.Millisecond, 115*time.Millisecond, 140*time.Millisecond, 200*time.Millisecond
		},
		want: "3 100 7 110 1 4 25 60 97 200 100"},
	{name: "request dates", mode: HTTP, fmt: "%tr|%trg|%trl", base: httpFields,
		set:  func(f *Fields) { f.Idle, f.Handshake = 1500*time.Millisecond, 500*time.Millisecond },
		want: "06/Feb/2009:12:14:16.655|06/Feb/2009:12:14:16 +0000|06/Feb/2009:12:14:16 +0000"},
	{name: "cookies", mode: HTTP, fmt: "%CC %CS %{+Q}CC", base: httpFields,
		set: func(f *Fields) { f.ClientCookie = "SRV=a" }, want: `SRV=a - "SRV=a"`},
}

func TestAppend(t *testing.T) {
	for _, tc := range renderCases {
		f, _, err := Compile(tc.fmt, tc.mode)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		fl := tc.base()
		if tc.set != nil {
			tc.set(fl)
		}
		if got := string(f.Append(nil, fl)); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// sampleValues stands in for the sample engine: fetch name to value.
var sampleValues = map[string]string{
	"src": "10.0.1.2", "empty": "", "nul": "a\x00b", "nul0": "\x00", "v1": `a"b\c]d`, "v2": "x]y",
	"hi": "\xe9\n", "ctl": "a\tb\x01c\x7f%", "q": `"\`,
}

func sampleFields() *Fields {
	fl := tcpFields()
	fl.Sample = func(dst []byte, e *Expr) ([]byte, bool) {
		v, ok := sampleValues[e.Text]
		return append(dst, v...), ok
	}
	return fl
}

func TestAppendSamples(t *testing.T) {
	for _, tc := range []struct {
		fmt, want string
		uniqueID  bool
	}{
		{fmt: "%[src] %{+Q}[src] %[nope] %{+Q}[nope] %{-M}[nope]|", want: `10.0.1.2 "10.0.1.2" - "" |`},
		{fmt: "%[empty] %{+Q}[empty] %[nul] %[nul0]", want: `- "" a -`},
		{fmt: "%{+E}[v1] %{+E,+Q}[v2] %[hi]", want: `a\"b\\c\]d "x\]y" ` + "\xe9\n"},
		{fmt: "%[ctl] %[nope]|", uniqueID: true, want: "a\tb%01c%7F% |"},
		{fmt: "%{+E}[q]", uniqueID: true, want: `\"\\`},
	} {
		f, _, err := CompileWith(tc.fmt, Options{Mode: TCP, UniqueID: tc.uniqueID})
		if err != nil {
			t.Fatalf("%q: %v", tc.fmt, err)
		}
		if got := string(f.Append(nil, sampleFields())); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.fmt, got, tc.want)
		}
		// A prefix already in the buffer must survive the re-encoding.
		if got := string(f.Append([]byte("pfx:"), sampleFields())); got != "pfx:"+tc.want {
			t.Errorf("%q after a prefix: %q", tc.fmt, got)
		}
	}
	f, _, _ := Compile("%[src]", TCP)
	if got := string(f.Append(nil, tcpFields())); got != "-" {
		t.Errorf("nil Sample: %q", got)
	}
}

func TestAppendConnect(t *testing.T) {
	fl := tcpFields()
	fl.FrontendName = "l"
	for _, tc := range []struct {
		set  func(*Fields)
		mode Mode
		want string
	}{
		{func(*Fields) {}, TCP, "Connect from 10.0.1.2:33313 to 10.0.0.1:8080 (l/TCP)"},
		{func(f *Fields) { f.Frontend = netip.AddrPort{} }, HTTP, "Connect from 10.0.1.2:33313 to undetermined address:0 (l/HTTP)"},
		{func(f *Fields) { f.Client, f.ListenerID = netip.AddrPort{}, 2 }, TCP, "Connect from unknown source to listener 2 (l/TCP)"},
		{func(f *Fields) { f.UnixListener = true }, HTTP, "Connect to unix:2 (l/HTTP)"},
	} {
		tc.set(fl)
		if got := string(AppendConnect(nil, fl, tc.mode)); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
