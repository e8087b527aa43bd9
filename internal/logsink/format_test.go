package logsink

import (
	"testing"
	"time"
)

// The expectations below are datagrams and stdout/stderr lines captured from
// haproxy 2.6.12 (-db, global "log" lines, "log-tag mytag", option tcplog,
// UDP receivers on 127.0.0.1, see the package report). Only the clock is
// ours: each case's instant is the one HAProxy printed, so the bytes are
// HAProxy's unchanged.

const (
	tcpMsg  = "127.0.0.1:42838 [23/Nov/2026:10:55:52.416] l l/s 1/-1/1001 0 cC 1/1/0/0/2 0/0"
	downMsg = `Server l/s is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.`
)

type captured struct {
	name  string
	words []string // the "log" line, address replaced by the test's receiver
	opt   Options  // tag, hostname, pid of the haproxy run
	clock string   // the instant HAProxy stamped (its microseconds, its zone)
	level int
	msg   string
	want  string
}

var runUTC = Options{Tag: "mytag", PID: 3811}

// Run 1: TZ=UTC, no log-send-hostname, a tcplog line at info.
var capturedUTC = []captured{
	{"default", []string{"local0", "info"}, runUTC, "2026-11-23T10:55:53.418875+00:00", LevelInfo, tcpMsg,
		"<134>Nov 23 10:55:53 mytag[3811]: " + tcpMsg + "\n"},
	{"rfc5424", []string{"format", "rfc5424", "local1"}, runUTC, "2026-11-23T10:55:53.418875+00:00", LevelInfo, tcpMsg,
		"<142>1 2026-11-23T10:55:53.418875+00:00 - mytag 3811 - - " + tcpMsg + "\n"},
	{"short", []string{"format", "short", "local2"}, runUTC, "2026-11-23T10:55:53.418875+00:00", LevelInfo, tcpMsg,
		"<6>" + tcpMsg + "\n"},
	{"raw", []string{"format", "raw", "local3"}, runUTC, "2026-11-23T10:55:53.418875+00:00", LevelInfo, tcpMsg,
		tcpMsg + "\n"},
	{"iso", []string{"format", "iso", "local4"}, runUTC, "2026-11-23T10:55:53.418967+00:00", LevelInfo, tcpMsg,
		"2026-11-23T10:55:53.418967+00:00 " + tcpMsg + "\n"},
	{"timed", []string{"format", "timed", "local5"}, runUTC, "2026-11-23T10:55:53.418970+00:00", LevelInfo, tcpMsg,
		"<6>2026-11-23T10:55:53.418970+00:00 " + tcpMsg + "\n"},
	{"priority", []string{"format", "priority", "local6"}, runUTC, "2026-11-23T10:55:53.418970+00:00", LevelInfo, tcpMsg,
		"<182>" + tcpMsg + "\n"},
	{"local", []string{"format", "local", "local7"}, runUTC, "2026-11-23T10:55:53.418970+00:00", LevelInfo, tcpMsg,
		"<190>Nov 23 10:55:53 mytag[3811]: " + tcpMsg + "\n"},
}

var runNY = Options{Tag: "mytag", Hostname: "myhost", PID: 5076}

// Run 2: TZ=America/New_York, "log-send-hostname myhost", a server DOWN
// alert; exercises hostname, offsets, len, level filter and minlevel.
var capturedNY = []captured{
	{"default+host", []string{"local0", "info"}, runNY, "2026-11-23T05:56:12.853180-05:00", LevelAlert, downMsg,
		"<129>Nov 23 05:56:12 myhost mytag[5076]: " + downMsg + "\n"},
	{"rfc5424+host", []string{"format", "rfc5424", "local1"}, runNY, "2026-11-23T05:56:12.853180-05:00", LevelAlert, downMsg,
		"<137>1 2026-11-23T05:56:12.853180-05:00 myhost mytag 5076 - - " + downMsg + "\n"},
	{"len80", []string{"len", "80", "local2"}, runNY, "2026-11-23T05:56:12.853180-05:00", LevelAlert, downMsg,
		"<145>Nov 23 05:56:12 myhost mytag[5076]: Server l/s is DOWN, reason: Layer4 conn\n"},
	{"timed minlevel", []string{"format", "timed", "local5", "debug", "warning"}, runNY, "2026-11-23T05:56:12.853222-05:00", LevelAlert, downMsg,
		"<4>2026-11-23T05:56:12.853222-05:00 " + downMsg + "\n"},
	{"priority minlevel", []string{"format", "priority", "local6", "info", "err"}, runNY, "2026-11-23T05:56:12.853222-05:00", LevelAlert, downMsg,
		"<179>" + downMsg + "\n"},
	{"local ignores host", []string{"format", "local", "local7"}, runNY, "2026-11-23T05:56:12.853222-05:00", LevelAlert, downMsg,
		"<185>Nov 23 05:56:12 mytag[5076]: " + downMsg + "\n"},
	{"stop warning", []string{"len", "80", "local2"}, runNY, "2026-11-23T05:56:15.110097-05:00", LevelWarning,
		"Proxy l stopped (cumulated conns: FE: 1, BE: 1).\n", // send_log() messages end in LF
		"<148>Nov 23 05:56:15 myhost mytag[5076]: Proxy l stopped (cumulated conns: FE: 1\n"},
}

var runPlain = Options{Tag: "haproxy", PID: 6675}

// Run 3: TZ=UTC, default tag, no hostname: explicit rfc3164 says "localhost".
var capturedPlain = []captured{
	{"rfc3164 localhost", []string{"format", "rfc3164", "local0", "info"}, runPlain, "2026-11-23T10:57:35.753752+00:00", LevelAlert, downMsg,
		"<129>Nov 23 10:57:35 localhost haproxy[6675]: " + downMsg + "\n"},
}

func TestFormatsMatchHAProxyOverUDP(t *testing.T) {
	rcv := newUDPReceiver(t)
	all := append(append(append([]captured{}, capturedUTC...), capturedNY...), capturedPlain...)
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			opt := c.opt
			opt.Now = fixedClock(mustTime(t, c.clock))
			s := mustOpen(t, []Target{mustParse(t, append([]string{rcv.addr()}, c.words...)...)}, opt)
			s.Log(c.level, []byte(c.msg))
			if got := rcv.next(); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// Captured on a unix datagram socket ("log /tmp/lx/x.sock ...").
func TestFormatsMatchHAProxyOverUnix(t *testing.T) {
	conn, path := newUnixReceiver(t)
	cases := []captured{
		{"default", []string{"local0"}, runUTC, "2026-11-23T10:55:53.418875+00:00", LevelInfo, tcpMsg,
			"<134>Nov 23 10:55:53 mytag[3811]: " + tcpMsg + "\n"},
		{"len80 rfc5424", []string{"len", "80", "format", "rfc5424", "local0"}, runPlain, "2026-11-23T10:57:35.753843+00:00", LevelAlert, downMsg,
			"<129>1 2026-11-23T10:57:35.753843+00:00 - haproxy 6675 - - Server l/s is DOWN, r\n"},
	}
	for i, addr := range []string{path, "unix@" + path} {
		c := cases[i]
		opt := c.opt
		opt.Now = fixedClock(mustTime(t, c.clock))
		s := mustOpen(t, []Target{mustParse(t, append([]string{addr}, c.words...)...)}, opt)
		s.Log(c.level, []byte(c.msg))
		if got := recvDatagram(t, conn); got != c.want {
			t.Errorf("%s: got  %q\nwant %q", c.name, got, c.want)
		}
	}
}

// Captured on haproxy's stdout and stderr: fd targets count the LF in "len".
func TestFormatsMatchHAProxyOnFD(t *testing.T) {
	cases := []captured{
		{"stdout rfc5424", []string{"format", "rfc5424", "local1"}, runUTC, "2026-11-23T10:55:53.419019+00:00", LevelInfo, tcpMsg,
			"<142>1 2026-11-23T10:55:53.419019+00:00 - mytag 3811 - - " + tcpMsg + "\n"},
		{"stderr default", []string{"local2"}, runUTC, "2026-11-23T10:55:53.419019+00:00", LevelInfo, tcpMsg,
			"<150>Nov 23 10:55:53 mytag[3811]: " + tcpMsg + "\n"},
		{"stdout len80", []string{"len", "80", "local3"}, runPlain, "2026-11-23T10:57:35.753752+00:00", LevelAlert, downMsg,
			"<153>Nov 23 10:57:35 haproxy[6675]: Server l/s is DOWN, reason: Layer4 connecti\n"},
		{"stderr len80 raw", []string{"len", "80", "format", "raw", "local3"}, runPlain, "2026-11-23T10:57:35.753752+00:00", LevelAlert, downMsg,
			`Server l/s is DOWN, reason: Layer4 connection problem, info: "Connection refuse` + "\n"},
	}
	for _, c := range cases {
		addr, r := newPipeTarget(t)
		opt := c.opt
		opt.Now = fixedClock(mustTime(t, c.clock))
		s := mustOpen(t, []Target{mustParse(t, append([]string{addr}, c.words...)...)}, opt)
		s.Log(c.level, []byte(c.msg))
		if got := readLine(t, r); got != c.want {
			t.Errorf("%s: got  %q\nwant %q", c.name, got, c.want)
		}
	}
}

// Not captured (the oracle's clock could not be moved): days below 10 are
// space-padded, from HAProxy's "%s %2d %02d:%02d:%02d" in build_log_header().
func TestLegacyDatePadsDay(t *testing.T) {
	h := header{format: FormatLocal, facility: 16, pid: "1"}
	now := time.Date(2026, time.March, 5, 7, 8, 9, 0, time.UTC)
	got := string(h.appendHeader(nil, LevelInfo, now, "haproxy"))
	if want := "<134>Mar  5 07:08:09 haproxy[1]: "; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

// HAProxy omits "tag[pid]: " when the tag is empty and uses "-" in rfc5424.
func TestEmptyTag(t *testing.T) {
	now := time.Date(2026, time.March, 5, 7, 8, 9, 0, time.UTC)
	local := header{format: FormatLocal, facility: 16, pid: "1"}
	if got := string(local.appendHeader(nil, LevelInfo, now, "")); got != "<134>Mar  5 07:08:09 " {
		t.Errorf("local: %q", got)
	}
	r5424 := header{format: FormatRFC5424, facility: 16, pid: "1"}
	if got := string(r5424.appendHeader(nil, LevelInfo, now, "")); got != "<134>1 2026-03-05T07:08:09.000000+00:00 - - 1 - - " {
		t.Errorf("rfc5424: %q", got)
	}
}

func TestParseFormatFacilityLevel(t *testing.T) {
	for i, name := range []string{"rfc3164", "rfc5424", "short", "raw", "iso", "timed", "priority", "local"} {
		f, err := ParseFormat(name)
		if err != nil || f != Format(i+1) || f.String() != name {
			t.Errorf("ParseFormat(%q) = %v, %v", name, f, err)
		}
	}
	if _, err := ParseFormat("RFC3164"); err == nil || err.Error() != "unknown log format 'RFC3164'" {
		t.Errorf("ParseFormat(RFC3164) err = %v", err)
	}
	for name, want := range map[string]int{"kern": 0, "auth2": 10, "audit": 13, "cron2": 15, "local0": 16, "local7": 23} {
		if got, err := ParseFacility(name); err != nil || got != want {
			t.Errorf("ParseFacility(%q) = %d, %v", name, got, err)
		}
	}
	for _, bad := range []string{"16", "LOCAL0", "local8", ""} {
		if _, err := ParseFacility(bad); err == nil || err.Error() != "unknown log facility '"+bad+"'" {
			t.Errorf("ParseFacility(%q) err = %v", bad, err)
		}
	}
	for name, want := range map[string]int{"emerg": 0, "err": 3, "warning": 4, "info": 6, "debug": 7} {
		if got, err := ParseLevel(name); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %d, %v", name, got, err)
		}
	}
	for _, bad := range []string{"6", "INFO", "error", "warn"} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) accepted", bad)
		}
	}
}
