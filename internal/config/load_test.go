package config

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// load writes src to a file named t.cfg in a temp dir and loads it.
func load(t *testing.T, src string) (*Config, Diags) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "t.cfg")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load([]string{p}, Options{NoResolve: true, LookupEnv: func(k string) (string, bool) {
		v, ok := map[string]string{"PORT": "8081", "NAME": "web"}[k]
		return v, ok
	}})
}

// hasMsg reports whether a diagnostic of severity sev at line contains sub.
func hasMsg(ds Diags, sev Severity, line int, sub string) bool {
	for _, d := range ds {
		if d.Sev == sev && (line == 0 || d.Pos.Line == line) && strings.Contains(d.Msg, sub) {
			return true
		}
	}
	return false
}

const timeouts = "defaults\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n"

func TestLoadDiagnostics(t *testing.T) {
	cases := []struct {
		name string
		src  string
		sev  Severity
		line int
		want string
	}{
		{"unknown keyword with suggestion", timeouts + "frontend f\n bind :1\n balanse x\n", SevAlert, 7, "unknown keyword 'balanse' in 'frontend' section; did you mean 'balance' maybe ?"},
		{"unknown keyword no suggestion", timeouts + "frontend f\n bind :1\n foo\n", SevAlert, 7, "unknown keyword 'foo' in 'frontend' section"},
		{"out of section", "foo bar\n", SevAlert, 1, "unknown keyword 'foo' out of section."},
		{"bad time", "defaults\n timeout client 10x\n", SevAlert, 2, "unexpected character 'x' in 'timeout client'"},
		{"bad timeout name", "defaults\n timeout clientt 1s\n", SevAlert, 2, "'timeout' supports 'client'"},
		{"misspelled option", "defaults\n option dontlognul\n", SevAlert, 2, "unknown option 'dontlognul'; did you mean 'dontlognull' maybe ?"},
		{"unknown mode", "defaults\n mode foo\n", SevAlert, 2, "unknown proxy mode 'foo'."},
		{"bad balance", "defaults\n balance foo\n", SevAlert, 2, "balance only supports"},
		{"balance hash alone", "defaults\n balance hash\n", SevAlert, 2, "balance hash requires a sample expression."},
		{"balance hash two words", "defaults\n balance hash src x\n", SevAlert, 2, "balance hash takes no other argument (got 'x')."},
		{"balance hash unknown fetch", timeouts + "backend b\n balance hash srcc\n", SevAlert, 5, "t.cfg:5]: failed to parse 'balance hash' expression 'srcc' in : unknown fetch method 'srcc'."},
		{"balance hash response fetch", timeouts + "backend b\n mode http\n balance hash res.hdr(x)\n", SevAlert, 5, "t.cfg:5]: error detected while parsing 'balance hash' expression 'res.hdr(x)' which requires information from HTTP response headers, which is not available here."},
		{"nbproc gone", "global\n nbproc 2\n", SevAlert, 2, "nbproc is not supported any more"},
		{"nbthread range", "global\n nbthread 0\n", SevAlert, 2, "'nbthread' value must be between 1 and 64 (was 0)"},
		{"duplicate frontend", timeouts + "frontend f\n bind :1\nfrontend f\n bind :2\n", SevAlert, 7, "frontend 'f' has the same name as frontend 'f' declared at"},
		{"undefined acl", timeouts + "frontend f\n bind :1\n use_backend b if nope\nbackend b\n", SevAlert, 7, "no such ACL : 'nope'"},
		{"acl after use", timeouts + "frontend f\n bind :1\n use_backend b if a\n acl a src 1.2.3.4\nbackend b\n", SevAlert, 7, "no such ACL : 'a'"},
		{"unknown fetch", timeouts + "frontend f\n bind :1\n acl a pathh /x\n", SevAlert, 7, "unknown fetch method 'pathh' in ACL expression 'pathh'"},
		{"acl in anonymous defaults", timeouts + " acl a src 1.2.3.4\n", SevAlert, 5, "'acl' not allowed in anonymous 'defaults' section."},
		{"missing from", "frontend f from nope\n bind :1\n", SevAlert, 1, "defaults section 'nope' not found for frontend 'f'."},
		{"balance in frontend warns", timeouts + "frontend f\n bind :1\n balance roundrobin\n", SevWarning, 7, "'balance' ignored because frontend 'f' has no backend capability."},
		{"server in frontend is fatal", timeouts + "frontend f\n bind :1\n server s 127.0.0.1:1\n", SevAlert, 7, "'server' not allowed because frontend 'f' has no backend capability."},
		{"missing timeouts", "frontend f\n bind :1\n", SevWarning, 1, "missing timeouts for frontend 'f'."},
		{"no bind warning", timeouts + "frontend f\n", SevWarning, 5, "frontend 'f' has no 'bind' directive."},
		{"pending keyword refused", timeouts + "listen l\n bind :1\n backlog 10\n", SevAlert, 7, "'backlog' is not supported yet by Sluice."},
		{"unsupported keyword refused", "global\n lua-load /x.lua\n", SevAlert, 2, "'lua-load' is not supported by Sluice."},
		{"no-effect keyword warns", "global\n tune.ssl.default-dh-param 2048\n", SevWarning, 2, "'tune.ssl.default-dh-param' has no effect in Sluice"},
		{"tune.bufsize above the buffers warns", "global\n tune.bufsize 32768\n", SevWarning, 2, "'tune.bufsize 32768' is above Sluice's 16384-byte buffers"},
		{"invalid before pending", timeouts + "backend b\n server s1 127.0.0.1:80 weight 300\n", SevAlert, 6, "'server b/s1' : weight of server s1 is not within 0 and 256 (300).."},
		{"duplicate server", timeouts + "backend b\n server s1 127.0.0.1:80\n server s1 127.0.0.1:81\n", SevAlert, 7, "another server named 's1' was already defined at line 6"},
		{"bad port", timeouts + "frontend f\n bind 127.0.0.1:99999\n", SevAlert, 6, "invalid port '99999'"},
		{"bad bind param", timeouts + "frontend f\n bind :1 nmae x\n", SevAlert, 6, "unknown keyword 'nmae'.; did you mean 'name' maybe ?"},
		{"http-request action typo", timeouts + "frontend f\n bind :1\n http-request sett-header a b\n", SevAlert, 7, "but got 'sett-header'"},
		{"http-request arg count", timeouts + "frontend f\n bind :1\n http-request set-header X\n", SevAlert, 7, "expects exactly 2 arguments"},
		{"tcp-request family", timeouts + "frontend f\n bind :1\n tcp-request foo\n", SevAlert, 7, "'tcp-request' expects 'inspect-delay', 'connection', or 'content'"},
		{"regex RE2 only", timeouts + "frontend f\n bind :1\n acl a path_reg (?<=x)y\n", SevAlert, 7, "RE2 syntax"},
		{"listen from ruled defaults", "defaults d\n http-request deny\nlisten l from d\n bind :1\n", SevAlert, 3, "a listen section cannot inherit from a defaults section defining TCP/HTTP rules."},
		{"http fe tcp be", "defaults\n mode http\n" + timeouts[9:] + "frontend f\n bind :1\n default_backend b\nbackend b\n mode tcp\n", SevAlert, 0, "tries to use incompatible tcp backend 'b'"},
		{"unknown default_backend", timeouts + "frontend f\n bind :1\n default_backend nope\n", SevAlert, 0, "Proxy 'f': unable to find required default_backend: 'nope'."},
		{"use-server without a condition", timeouts + "backend b\n use-server s1\n server s1 127.0.0.1:80\n", SevAlert, 6, "'use-server' requires either 'if' or 'unless' followed by a condition."},
		{"use-server unknown server", timeouts + "backend b\n use-server nope if TRUE\n server s1 127.0.0.1:80\n", SevAlert, 0, "backend 'b' : unable to find server 'nope' referenced in a 'use-server' rule."},
		{"use-server bad log-format", timeouts + "backend b\n use-server %[nosuch] if TRUE\n server s1 127.0.0.1:80\n", SevAlert, 0, "use-server rule failed to parse log-format '%[nosuch]' : failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'."},
		{"force-persist in defaults", timeouts + " force-persist if TRUE\n", SevAlert, 5, "'force-persist' not allowed in 'defaults' section."},
		{"ignore-persist without a condition", timeouts + "backend b\n ignore-persist\n", SevAlert, 6, "'ignore-persist' requires either 'if' or 'unless' followed by a condition."},
		{"force-persist in a frontend warns", timeouts + "frontend f\n bind :1\n force-persist if TRUE\n", SevWarning, 7, "'force-persist' ignored because frontend 'f' has no backend capability."},
		{"unevaluable fetch in a rule", timeouts + "frontend f\n bind :1\n acl n be_sess_rate(b) gt 0\n use_backend b if n\nbackend b\n", SevAlert, 8, "acl 'n' : fetch method 'be_sess_rate' is not supported yet by Sluice."},
		{"response condition on the request", "defaults\n mode http\n" + timeouts[9:] + "frontend f\n bind :1\n http-response set-header X y if { path_beg / } || { status 200 }\n", SevWarning, 8, "anonymous acl will never match because it uses keyword 'path_beg' which is incompatible with 'frontend http-response header rule'"},
		{"response condition on a named request acl", "defaults\n mode http\n" + timeouts[9:] + "backend b\n acl h req.hdr(host) -m found\n http-after-response set-header X y unless h\n", SevWarning, 8, "acl 'h' will never match because it only involves keywords that are incompatible with 'backend http-response header rule'"},
		{"unevaluable anonymous acl", timeouts + "frontend f\n bind :1\n tcp-request content reject if { src,json x }\n", SevAlert, 7, "acl '{ src ... }' : converter 'json' is not supported yet by Sluice."},
		{"predefined http acl in tcp", timeouts + "frontend f\n bind :1\n tcp-request content reject if METH_GET\n", SevAlert, 7, "acl 'METH_GET' : predefined ACL 'METH_GET' is not supported yet by Sluice."},
		{"http variable in tcp log-format", timeouts + "frontend f\n bind :1\n log stdout local0\n log-format \"%ci %r\"\n", SevAlert, 0, "t.cfg:8]: failed to parse log-format : format variable 'r' is reserved for HTTP mode."},
		{"unevaluable fetch in log-format", timeouts + "frontend f\n bind :1\n log stdout local0\n log-format \"%[be_sess_rate(b)]\"\n", SevAlert, 8, "log-format : fetch method 'be_sess_rate' is not supported yet by Sluice."},
		{"nbsrv of an unknown backend", timeouts + "frontend f\n bind :1\n acl a nbsrv(nope) gt 0\n", SevAlert, 0, "t.cfg:7]: unable to find backend 'nope' referenced in arg 1 of ACL keyword 'nbsrv' in proxy 'f'."},
		{"http option in tcp", timeouts + "listen l\n bind :1\n option http-pretend-keepalive\n", SevWarning, 0, "'option http-pretend-keepalive' ignored for proxy 'l' as it requires HTTP mode."},
		{"backend option in a frontend", timeouts + "frontend f\n bind :1\n option redispatch\n", SevWarning, 7, "'redispatch' ignored because frontend 'f' has no backend capability."},
		{"forwardfor in tcp", timeouts + "listen l\n bind :1\n option forwardfor\n", SevWarning, 0, "'option forwardfor' ignored for proxy 'l' as it requires HTTP mode."},
		{"empty if", timeouts + "frontend f\n bind :1\n http-request deny if\n", SevWarning, 7, "'http-request deny' rule has no condition after 'if': it never applies (HAProxy accepts it so)."},
		{"request headers in an http log-format", timeouts + "frontend f\n mode http\n bind :1\n log stdout local0\n log-format \"%[req.hdr(host)]\"\n", SevAlert, 0, "failed to parse log-format : sample fetch <req.hdr(host)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here."},
		{"empty unless", timeouts + "frontend f\n bind :1\n http-request deny unless\n", SevWarning, 7, "has no condition after 'unless': it always applies"},
		{"h1-case-adjust one word", "global\n h1-case-adjust x-a\n", SevAlert, 2, "'h1-case-adjust' expects <from> and <to> as argument."},
		{"h1-case-adjust three words", "global\n h1-case-adjust x-a X-A z\n", SevAlert, 2, "'h1-case-adjust' cannot handle unexpected argument 'z'."},
		{"h1-case-adjust other name", "global\n h1-case-adjust x-a X-B\n", SevAlert, 2, "<from> and <to> must not differ execpt the case"},
		{"h1-case-adjust non-ASCII fold", "global\n h1-case-adjust x-k x-\u212a\n", SevAlert, 2, "<from> and <to> must not differ execpt the case"},
		{"h1-case-adjust twice", "global\n h1-case-adjust x-a X-A\n h1-case-adjust x-a X-a\n", SevAlert, 3, "duplicate entry 'x-a'"},
		{"h1-case-adjust-file alone", "global\n h1-case-adjust-file\n", SevAlert, 2, "'h1-case-adjust-file' expects <file> as argument."},
		{"h1-case-adjust-file missing", "global\n h1-case-adjust-file /nonexistent/case\n", SevAlert, 2, "h1-headers-case-adjust-file '/nonexistent/case': failed to open file."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := load(t, tc.src)
			if !hasMsg(ds, tc.sev, tc.line, tc.want) {
				t.Errorf("want %s at line %d containing %q; got:\n%s", tc.sev, tc.line, tc.want, ds)
			}
		})
	}
}

func TestValidConfigHasNoAlerts(t *testing.T) {
	cfg, ds := load(t, `global
    log stdout format raw local0 info
    maxconn 4096
    nbthread 2
    log-tag sluice
    hard-stop-after 30s
defaults named
    mode tcp
    timeout client 30s
    timeout connect 5s
    timeout server 30s
frontend "${NAME}"
    bind 127.0.0.1:"${PORT}",127.0.0.1:9000-9002 name front maxconn 10
    bind ipv6@::1:9100 v6only
    maxconn 100
    acl local src 127.0.0.1
`)
	if ds.HasAlerts() || ds.HasWarnings() {
		t.Fatalf("unexpected messages:\n%s", ds)
	}
	fe := cfg.Frontends()
	if len(fe) != 1 || fe[0].Name != "web" || fe[0].From != "named" {
		t.Fatalf("frontend = %+v", fe)
	}
	if got := len(fe[0].Binds); got != 3 {
		t.Fatalf("binds = %d, want 3 (two from the comma list, one ipv6)", got)
	}
	b := fe[0].Binds[0]
	if b.Addr.PortLo != 8081 || b.Name != "front" || b.Params.Maxconn != 10 {
		t.Errorf("first bind = %+v", b)
	}
	if r := fe[0].Binds[1].Addr; r.PortLo != 9000 || r.PortHi != 9002 {
		t.Errorf("range bind = %+v", r)
	}
	if !fe[0].Binds[2].Params.V6Only {
		t.Errorf("v6only not set")
	}
	if fe[0].Timeouts.Client != 30*time.Second || fe[0].Maxconn != 100 {
		t.Errorf("inherited timeouts/maxconn wrong: %+v", fe[0].Timeouts)
	}
	g := cfg.Global
	if g.Maxconn != 4096 || g.Nbthread != 2 || g.LogTag != "sluice" || g.HardStopAfter != 30*time.Second || len(g.Logs) != 1 {
		t.Errorf("global = %+v", g)
	}
	if !cfg.HasListener() {
		t.Error("HasListener = false")
	}
}

// A new defaults section replaces the previous one rather than merging.
func TestDefaultsReset(t *testing.T) {
	cfg, ds := load(t, "defaults d1\n timeout client 5s\n maxconn 7\ndefaults\nfrontend a\n bind :1\nfrontend b from d1\n bind :2\n")
	if ds.HasAlerts() {
		t.Fatal(ds)
	}
	a, b := cfg.Proxies[0], cfg.Proxies[1]
	if a.Timeouts.Client != 0 || a.Maxconn != 0 {
		t.Errorf("frontend a inherited from a reset defaults: %+v %d", a.Timeouts, a.Maxconn)
	}
	if b.Timeouts.Client != 5*time.Second || b.Maxconn != 7 || b.From != "d1" {
		t.Errorf("frontend b did not take named defaults: %+v", b)
	}
}

func TestNoListener(t *testing.T) {
	cfg, ds := load(t, timeouts+"frontend f\n bind :1\n disabled\n")
	if ds.HasAlerts() || cfg.HasListener() {
		t.Fatalf("a disabled frontend must leave no listener: %v %s", cfg.HasListener(), ds)
	}
}

// Directories contribute *.cfg files in byte order; hidden and other files are skipped.
func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"b.cfg":       "frontend fb\n bind :2\n",
		"a.cfg":       timeouts + "frontend fa\n bind :1\n",
		"B.cfg":       "frontend fB\n bind :3\n",
		".hidden.cfg": "frontend hidden\n bind :4\n",
		"notes.txt":   "not a config\n",
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, ds := Load([]string{dir}, Options{})
	if ds.HasAlerts() {
		t.Fatal(ds)
	}
	var names []string
	for _, p := range cfg.Proxies {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "fB,fa,fb" {
		t.Errorf("proxy order = %s, want fB,fa,fb (C-locale order)", got)
	}
}

func TestMissingFile(t *testing.T) {
	_, ds := Load([]string{"/nonexistent/x.cfg"}, Options{})
	if !hasMsg(ds, SevAlert, 0, "Could not open configuration file /nonexistent/x.cfg : No such file or directory") {
		t.Errorf("got %s", ds)
	}
}

// Every file starts outside any section, as in HAProxy.
func TestEachFileStartsOutsideSections(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "1.cfg"), []byte(timeouts+"frontend f\n bind :1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "2.cfg"), []byte(" maxconn 5\n"), 0o644)
	_, ds := Load([]string{dir}, Options{})
	if !hasMsg(ds, SevAlert, 1, "unknown keyword 'maxconn' out of section.") {
		t.Errorf("got %s", ds)
	}
}

func TestParseTime(t *testing.T) {
	good := map[string]time.Duration{"10": 10 * time.Millisecond, "10ms": 10 * time.Millisecond, "2s": 2 * time.Second,
		"3m": 3 * time.Minute, "1h": time.Hour, "1d": 24 * time.Hour, "500us": 500 * time.Microsecond}
	for in, want := range good {
		if got, err := ParseTime(in); err != nil || got != want {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "10x", "1.5s", "-1", "10mx", "99999999999"} {
		if _, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) accepted", in)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{"10": 10, "1k": 1024, "2m": 2 << 20, "1g": 1 << 30}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "k", "1t", "1kb"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestSuggest(t *testing.T) {
	names := []string{"balance", "bind", "log", "mode", "option"}
	for in, want := range map[string]string{"balanse": "balance", "bnid": "bind", "foo": "", "xyzzy": "", "mdoe": "mode"} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// -N gives proxies without their own maxconn a default.
func TestDefaultProxyMaxconn(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.cfg")
	os.WriteFile(p, []byte(timeouts+"frontend a\n bind :1\nfrontend b\n bind :2\n maxconn 3\n"), 0o644)
	cfg, ds := Load([]string{p}, Options{DefaultMaxconn: 7})
	if ds.HasAlerts() {
		t.Fatal(ds)
	}
	if a, b := cfg.Proxies[0].Maxconn, cfg.Proxies[1].Maxconn; a != 7 || b != 3 {
		t.Fatalf("maxconn a=%d b=%d, want 7 and 3", a, b)
	}
}

// The tune settings Sluice honours (HTTP head limits) load without the
// no-effect warning, and reach Global.Tune.
func TestTuneHonouredWithoutWarning(t *testing.T) {
	cfg, diags := load(t, "global\n tune.bufsize 8192\n tune.maxrewrite 512\n tune.http.maxhdr 50\n")
	for _, d := range diags {
		t.Errorf("unexpected diagnostic: %v", d)
	}
	if cfg.Global.Tune["tune.bufsize"] != "8192" || cfg.Global.Tune["tune.maxrewrite"] != "512" || cfg.Global.Tune["tune.http.maxhdr"] != "50" {
		t.Errorf("tune settings not recorded: %v", cfg.Global.Tune)
	}
}

// TestH1CaseAdjustFile reads the file as HAProxy's post-parser does.
func TestH1CaseAdjustFile(t *testing.T) {
	for _, tc := range []struct{ content, want string }{
		{"# names\n\n  \ncontent-length Content-Length\r\n  x-a   X-A\n", ""},
		{"x-a X-A\nx-b\n", "h1-headers-case-adjust-file '%s' : expect <to> at line 2."},
		{"x-a X-A # comment\n", "h1-headers-case-adjust-file '%s' : <from> and <to> must not differ execpt the case at line 1."},
		{"x-a X-A\nx-a X-a\n", "h1-headers-case-adjust-file '%s' : duplicate entry 'x-a' at line 2."},
	} {
		path := filepath.Join(t.TempDir(), "case")
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, ds := load(t, "global\n h1-case-adjust host HOST\n h1-case-adjust-file "+path+"\n")
		if tc.want == "" {
			if ds.HasAlerts() {
				t.Fatalf("%q: %s", tc.content, ds)
			}
			want := map[string]string{"host": "HOST", "content-length": "Content-Length", "x-a": "X-A"}
			if !maps.Equal(cfg.Global.H1CaseAdjust, want) {
				t.Fatalf("%q: map %v, want %v", tc.content, cfg.Global.H1CaseAdjust, want)
			}
			continue
		}
		if !hasMsg(ds, SevAlert, 0, fmt.Sprintf(tc.want, path)) {
			t.Errorf("%q: want %q; got:\n%s", tc.content, fmt.Sprintf(tc.want, path), ds)
		}
	}
}
