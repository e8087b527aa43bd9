package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// l7Line loads one line in a frontend (or, prefixed "B:", in its backend)
// of an http proxy pair.
func l7Line(t *testing.T, line string) Diags {
	t.Helper()
	fe, be := line, ""
	if b, ok := strings.CutPrefix(line, "B:"); ok {
		fe, be = "", b
	}
	_, ds := load(t, "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n"+
		"frontend fe\n bind :1\n"+fe+"\n default_backend be\nbackend be\n"+be+"\n server s 127.0.0.1:1\n")
	return ds
}

// TestL7FeatureDiagnostics checks the texts Sluice gives for the Layer 7
// features' keywords against the ones haproxy 2.6.12 gives (recorded from
// `haproxy -c`); "" means haproxy accepts the line.
func TestL7FeatureDiagnostics(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		// Captures.
		{" capture request header Host len 10", ""},
		{" capture request header", "'capture request' expects 'header' <header_name> 'len' <len>."},
		{" capture request header Host len", "'capture request' expects 'header' <header_name> 'len' <len>."},
		{" capture request header Host len 10 extra", "'capture request' cannot handle unexpected argument 'extra'."},
		{" capture request header Host size 10", "'capture request' expects 'header' <header_name> 'len' <len>."},
		{" capture foo", "'capture' expects 'cookie' or 'request header' or 'response header'."},
		{" capture response header X len abc", ""},
		{" capture cookie X", "'capture' expects 'cookie' <cookie_name> 'len' <len>."},
		{"B: capture request header Host len 10", "'capture' ignored because backend 'be' has no frontend capability."},
		{" declare capture request len 10", ""},
		{" declare", "'declare' needs a second keyword that specify the type of declaration ('capture')"},
		{" declare foo", "unknown declaration type 'foo' (supports 'capture')"},
		{" declare capture foo", "'declare capture' requires a direction ('request' or 'response')"},
		{" declare capture request size 3", "'declare capture' requires a capture length ('len')"},
		{" declare capture request len", "'declare capture': 'len' requires a numeric value that represents the capture length"},
		{" declare capture request len abc", "'declare capture': cannot parse the length 'len'."},
		{" declare capture request len 0", "length must be > 0"},
		{"B: declare capture request len 10", "'declare' only available in frontend or listen section"},
		{" http-request capture req.hdr(host) len 10", ""},
		{" http-request capture req.hdr(host) len 0", "while parsing 'http-request capture' rule : length must be > 0."},
		{" http-request capture req.hdr(host)", "while parsing 'http-request capture' rule : expects <expression> [ 'len' <length> | id <idx> ]."},
		{" http-request capture req.hdr(host) foo 1", "while parsing 'http-request capture' rule : expects 'len' or 'id', found 'foo'."},
		{" http-request capture nosuchfetch len 3", "while parsing 'http-request capture' rule : unknown fetch method 'nosuchfetch'."},
		{" http-request capture res.hdr(x) len 3", "while parsing 'http-request capture' rule : fetch method 'res.hdr(x)' extracts information from 'HTTP response headers', none of which is available here."},
		{" http-request capture req.hdr(host) id 1x", "while parsing 'http-request capture' rule : cannot parse id '1x'."},
		{" http-request capture req.hdr(host) id 0", "Proxy 'fe': unable to find capture id '0' referenced by http-request capture rule."},
		{" http-request capture req.hdr(host) len 10 foo", "'http-request capture' expects either 'if' or 'unless' followed by a condition but found 'foo'."},
		{" http-response capture res.hdr(x) id 0", "Proxy 'fe': unable to find capture id '0' referenced by http-response capture rule."},
		{" http-response capture res.hdr(x) len 5", "while parsing 'http-response capture' rule : expects 'id', found 'len'."},
		{" http-response capture res.hdr(x)", "while parsing 'http-response capture' rule : expects <expression> id <idx>."},
		{" http-response capture req.hdr(x) id 0", "fetch method 'req.hdr(x)' extracts information from 'HTTP request headers', none of which is available here."},
		{" http-response capture status id -1", ""},
		{"B: http-request capture req.hdr(host) len 10", "while parsing 'http-request capture' rule : proxy 'be' has no frontend capability."},
		{"B: http-request capture req.hdr(host) id 10", ""},
		{"B: http-response capture res.hdr(x) id 10", ""},
		// Variables.
		{" http-request set-var(txn.x) str(a)", ""},
		{" http-request set-var(x) str(a)", "while parsing 'http-request set-var(x)' rule : invalid variable name 'x'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'."},
		{" http-request set-var(txn.a-b) str(a)", "while parsing 'http-request set-var(txn.a-b)' rule : invalid syntax at char '-b)'."},
		{" http-request set-var(txn.x", "incomplete argument after action 'set-var(txn.x'. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'."},
		{" http-request set-var txn.x str(a)", "invalid or incomplete action 'set-var'."},
		{" http-request set-var() str(a)", "Empty variable name cannot be accepted."},
		{" http-request set-var(txn.x)", "while parsing 'http-request set-var(txn.x)' rule : missing fetch method."},
		{" http-request set-var(txn.x) nosuch", "unknown fetch method 'nosuch'."},
		{" http-request set-var(txn.x,ifbogus) str(a)", `unknown condition "ifbogus".`},
		{" http-request set-var(txn.x) status", "fetch method 'set-var(txn.x)' extracts information from 'HTTP response', none of which is available here."},
		{" http-response set-var(txn.x) path", "fetch method 'set-var(txn.x)' extracts information from 'HTTP request headers', none of which is available here."},
		{" http-request set-var-fmt(txn.x) %[nosuch]", "failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'."},
		{" http-request set-var-fmt(txn.x)", ""},
		{" http-request unset-var(txn.x,ifexists)", `unset-var does not expect parameters after the variable name. Only "set-var" and "set-var-fmt" manage conditions.`},
		{" http-request unset-var(txn.x) foo", "'http-request unset-var(txn.x)' expects either 'if' or 'unless' followed by a condition but found 'foo'."},
		{" http-request set-header X %[var(bad)]", "invalid args in fetch method 'var' : invalid variable name 'bad'."},
		{" http-request set-header X %[var()]", "invalid args in fetch method 'var' : Empty variable name cannot be accepted."},
		{" http-response set-header X %[path]", "sample fetch <path]> may not be reliably used here because it needs 'HTTP request headers' which is not available here."},
		{" tcp-request connection set-var(sess.x) req.len", "fetch method 'set-var(sess.x)' extracts information from 'request buffer', none of which is available here"},
		{" tcp-request connection set-var(sess.x) req.hdr(host)", "extracts information from 'HTTP request headers', none of which is available here"},
		{" tcp-request content set-var(x) src", "invalid variable name 'x'."},
		{" tcp-request content set-var(txn.x) src foo", "'tcp-request content set-var(txn.x)' only accepts 'if' or 'unless', in frontend 'fe' (got 'foo')"},
		{" tcp-request content set-var(sess.x) src", ""},
		// HAProxy runs content rules for each request of an http proxy,
		// with its head parsed; so does Sluice.
		{" tcp-request content set-var(txn.x) src", ""},
		{" tcp-request content set-var(req.x) req.hdr(host)", ""},
		{" tcp-request content set-var-fmt(res.x) %[path]", ""},
		{" tcp-request content unset-var(txn.x)", ""},
		{"B: tcp-request content set-var(txn.x) path", ""},
		// Unique ids.
		{" unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid", ""},
		{" unique-id-format", "unique-id-format expects an argument."},
		{" unique-id-format a b", "unique-id-format expects only one argument, don't forget to escape spaces!"},
		{" unique-id-format %[nosuch]", "Parsing [" /* global form */},
		{" unique-id-format %[res.hdr(x)]", "failed to parse unique-id : sample fetch <res.hdr(x)]> may not be reliably used here because it needs 'HTTP response headers' which is not available here."},
		{" unique-id-header", "unique-id-header expects an argument."},
		{" unique-id-header a b", ""},
		{"B: unique-id-format %ci", ""},
		// Monitoring.
		{" monitor-uri /m", ""},
		{" monitor-uri", "'monitor-uri' expects an URI."},
		{" monitor-uri /a /b", "'monitor-uri' cannot handle unexpected argument '/b'."},
		{" monitor fail", "'monitor fail' requires either 'if' or 'unless' followed by a condition."},
		{" monitor fail if", ""},
		{" monitor foo if TRUE", "'monitor' only supports 'fail'."},
		{" monitor fail if nosuchacl", "error detected while parsing a 'monitor fail' condition : no such ACL : 'nosuchacl'."},
		{"B: monitor-uri /x", "'monitor-uri' ignored because backend 'be' has no frontend capability."},
		// Replies, tarpit and set-timeout.
		{" http-request return status abc", "while parsing 'http-request return' rule : Unexpected status code '0'."},
		{" http-request return content-type text/plain", "content-type 'text/plain' ignored by the http reply because neither errorfile nor payload defined."},
		{" http-request return string a string b", "unexpected 'string' argument, 'string' already defined."},
		{" http-request return lf-string x", "a content type must be defined with a log-format payload."},
		{" http-request return content-type text/plain lf-string %[nosuch]", "failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'."},
		{" http-request return status 201 default-errorfiles", "status code '201' not handled by default with 'default-errorfiles' argument.."},
		{" http-request return status 200 errorfiles nosuch", "Proxy 'fe': unknown http-errors section 'nosuch' referenced by an http reply ."},
		{" http-request return hdr X", "'hdr' expects <name> and <value> as arguments."},
		{" http-request return hdr content-length 3", "header 'content-length' always ignored by the http reply."},
		{" http-request return status 204 string a content-type text/plain", "No body expected for 204 responses."},
		{" http-request return deny_status 404", "'http-request return' expects either 'if' or 'unless' followed by a condition but found 'deny_status'."},
		{"B: http-response return status 404 content-type text/plain lf-string %[status] hdr X %[var(txn.p)]", ""},
		{"B: http-response return content-type text/plain lf-string %[path]", "error detected in backend 'be' while parsing 'http-response return' rule : sample fetch <path]> may not be reliably used here because it needs 'HTTP request headers' which is not available here."},
		{" http-response return deny_status 404", "'http-response return' expects either 'if' or 'unless' followed by a condition but found 'deny_status'."},
		{" http-response return status 600", "while parsing 'http-response return' rule : Unexpected status code '600'."},
		{" http-request deny\n http-request set-header X y", "t.cfg:9]: previous 'http-request' action is final and has no condition attached, further entries are NOOP."},
		{"B: http-response return\n http-response deny", "previous 'http-response' action is final and has no condition attached, further entries are NOOP."},
		{" http-after-response allow\n http-after-response allow", "previous 'http-after-response' action is final"},
		{" http-request deny if TRUE\n http-request deny", ""},
		{" http-request set-header X y\n http-request deny", ""},
		{" http-request reject foo", "t.cfg:8]: 'http-request reject' expects either 'if' or 'unless' followed by a condition but found 'foo'."},
		{" http-request silent-drop if TRUE", ""},
		{"B: http-response silent-drop x", "'http-response silent-drop' expects either 'if' or 'unless' followed by a condition but found 'x'."},
		{" http-request auth realm", "error detected in frontend 'fe' while parsing 'http-request auth' rule : missing realm value.\n."},
		{" http-request auth foo", "'http-request auth' expects either 'if' or 'unless' followed by a condition but found 'foo'."},
		{" http-request auth realm a b", "'http-request auth' expects either 'if' or 'unless' followed by a condition but found 'b'."},
		{" http-request auth realm \"a b\" if TRUE", ""},
		{" http-request set-log-level", "error detected in frontend 'fe' while parsing 'http-request set-log-level' rule : expects exactly 1 argument (log level name or 'silent')."},
		{" http-request set-log-level foo", "expects exactly 1 argument (log level name or 'silent')."},
		{" http-request set-log-level err x", "'http-request set-log-level' expects either 'if' or 'unless' followed by a condition but found 'x'."},
		{"B: http-response set-log-level silent if TRUE", ""},
		{" tcp-request content set-log-level bogus", "t.cfg:8] : expects exactly 1 argument (log level name or 'silent')"},
		{" tcp-request content set-log-level err", ""},
		{"B: tcp-request content set-log-level silent if { path /x }", ""},
		{" http-after-response set-log-level err", "'http-after-response' expects"},
		{" http-request deny status 99", "while parsing 'http-request deny' rule : Unexpected status code '99'."},
		{" http-request tarpit", ""},
		{" http-request tarpit deny_status 404", ""},
		{" http-request tarpit string", "while parsing 'http-request tarpit' rule : 'string' expects <str> as argument."},
		{" http-request set-timeout server 5s", "while parsing 'http-request set-timeout' rule : proxy 'fe' has no backend capability."},
		{"B: http-request set-timeout client 5s", "'set-timeout' rule supports 'server'/'tunnel' (got 'client')."},
		{"B: http-request set-timeout server 5x", "unexpected character 'x' in rule 'set-timeout server'."},
		{"B: http-request set-timeout server 0", "null value is not valid for a 'set-timeout server' rule."},
		{"B: http-request set-timeout server req.hdr(x-t)", ""},
		{"B: http-request set-timeout tunnel 1h", ""},
		{" option originalto except foo", "'option originalto except' expects <address>[/mask] as argument."},
		{" option originalto if-none", "'option originalto' only supports optional values: 'except' and 'header'."},
		{" option originalto header", "'option originalto header' expects <header_name> as argument."},
		{" option originalto except 10.0.0.1/255.0.0.0 header X-Dst", ""},
		{" option forwardfor bogus", "'option forwardfor' only supports optional values: 'except', 'header' and 'if-none'."},
		{" redirect", "while parsing redirect rule : redirection type expected ('prefix', 'location', or 'scheme')."},
		{" redirect prefix", "while parsing redirect rule : missing argument for 'prefix'."},
		{" redirect prefix /x code 400", "'code': unsupported HTTP code '400' (must be one of 301, 302, 303, 307 or 308)."},
		{" redirect prefix /x bogus", "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was 'bogus')."},
		{" redirect location %[nosuch]", ""},
		{" redirect prefix /x if", ""},
		{" redirect code 301 prefix /x drop-query append-slash set-cookie A=b clear-cookie C ignore-empty if TRUE", ""},
		{" http-request redirect prefix /x set-cookie", "while parsing 'http-request redirect' rule : missing argument for 'set-cookie'."},
		{" http-request redirect", "while parsing 'http-request redirect' rule : redirection type expected ('prefix', 'location', or 'scheme')."},
		{" redirect prefix /x\n http-request deny", "a 'http-request' rule placed after a 'redirect' rule will still be processed before."},
		{" use_backend be if TRUE\n redirect prefix /x", "a 'redirect' rule placed after a 'use_backend' rule will still be processed before."},
		{" tcp-request content accept\n tcp-request connection accept", "a 'tcp-request' rule placed after a 'tcp-request content' rule will still be processed before."},
		{" tcp-request session accept\n tcp-request connection accept", "a 'tcp-request' rule placed after a 'tcp-request session' rule will still be processed before."},
		{" http-request deny if FALSE\n tcp-request content accept", "a 'tcp-request' rule placed after an 'http-request' rule will still be processed before."},
		{" monitor fail if FALSE\n tcp-request session accept", "a 'tcp-request' rule placed after a 'monitor fail' rule will still be processed before."},
		{" redirect prefix /x if FALSE\n monitor fail if FALSE", "a 'monitor fail' rule placed after a 'redirect' rule will still be processed before."},
		{" use_backend be if TRUE\n http-request deny if FALSE", "a 'http-request' rule placed after a 'use_backend' rule will still be processed before."},
		{"B: http-request deny if FALSE\n tcp-request content accept", "a 'tcp-request' rule placed after an 'http-request' rule will still be processed before."},
		{"B: http-request set-timeout server 5s 6s", "'http-request set-timeout' expects either 'if' or 'unless' followed by a condition but found '6s'."},
	} {
		ds := l7Line(t, tc.line)
		if tc.want == "" {
			for _, d := range ds {
				if d.Sev == SevAlert {
					t.Errorf("%q: unexpected alert %q", tc.line, d.Msg)
				}
			}
			continue
		}
		found := false
		for _, d := range ds {
			found = found || strings.Contains(d.Msg, tc.want)
		}
		if !found {
			t.Errorf("%q: want %q, got %v", tc.line, tc.want, ds)
		}
	}
}

// Rules written in the order HAProxy processes them draw no warning; one
// written after a later kind names the first later kind present, as
// haproxy's warnif_misplaced_* checks do (each case was run through
// haproxy -c).
func TestMisplacedRuleWarnings(t *testing.T) {
	inOrder := " tcp-request connection accept\n tcp-request session accept\n tcp-request content accept\n" +
		" monitor fail if FALSE\n http-request deny if FALSE\n redirect prefix /x if FALSE\n use_backend be if FALSE"
	for _, d := range l7Line(t, inOrder) {
		if strings.Contains(d.Msg, "placed after") {
			t.Errorf("rules in processing order: %s", d.Msg)
		}
	}
	// After use_backend, redirect and http-request rules, a tcp-request
	// rule names the first of them in processing order, once.
	var got []string
	for _, d := range l7Line(t, " use_backend be if FALSE\n redirect prefix /x if FALSE\n http-request deny if FALSE\n tcp-request content accept") {
		if strings.Contains(d.Msg, "placed after") {
			_, msg, _ := strings.Cut(d.Msg, "] : ")
			got = append(got, fmt.Sprintf("%d: %s", d.Pos.Line, msg))
		}
	}
	want := []string{
		"9: a 'redirect' rule placed after a 'use_backend' rule will still be processed before.",
		"10: a 'http-request' rule placed after a 'redirect' rule will still be processed before.",
		"11: a 'tcp-request' rule placed after an 'http-request' rule will still be processed before.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings\n got %q\nwant %q", got, want)
	}
}

func TestCaptureSlotsInOrder(t *testing.T) {
	c, ds := load(t, "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n"+
		"frontend fe\n bind :1\n capture request header Host len 5\n http-request capture path len 7\n declare capture request len 3\n"+
		" capture response header X len 2\n http-response capture status id 0\n default_backend be\nbackend be\n server s 127.0.0.1:1\n")
	for _, d := range ds {
		if d.Sev == SevAlert {
			t.Fatal(d.Msg)
		}
	}
	fe := c.Proxies[0]
	want := []CaptureSlot{{Header: "Host", Len: 5}, {Len: 7}, {Len: 3}}
	if len(fe.ReqCaptures) != 3 || len(fe.ResCaptures) != 1 {
		t.Fatalf("slots: %+v %+v", fe.ReqCaptures, fe.ResCaptures)
	}
	for i, w := range want {
		if got := fe.ReqCaptures[i]; got.Header != w.Header || got.Len != w.Len {
			t.Errorf("request slot %d: %+v, want %+v", i, got, w)
		}
	}
	r := fe.Rules["http-request"][0]
	if r.Slot != 1 || r.SlotLen != 7 || r.SlotByID {
		t.Errorf("capture rule: slot %d len %d byID %v", r.Slot, r.SlotLen, r.SlotByID)
	}
}

func TestParseNet(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1": "127.0.0.1/32", "10.1.2.3/8": "10.0.0.0/8", "10.0.0.1/255.255.0.0": "10.0.0.0/16",
		"::1": "::1/128", "2001:db8::/32": "2001:db8::/32", "10.0.0.0/33": "", "10.0.0.1/255.0.255.0": "", "foo": "",
	} {
		p, ok := ParseNet(in)
		got := ""
		if ok {
			got = p.String()
		}
		if got != want {
			t.Errorf("ParseNet(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTCPVariablesWithLayer7Fetches(t *testing.T) {
	_, ds := load(t, "defaults\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nlisten l\n bind :1\n tcp-request content set-var(txn.h) req.hdr(host)\n tcp-request content set-var-fmt(txn.p) %[path]\n tcp-request content set-var(txn.s) src\n server s 127.0.0.1:1\n")
	for _, line := range []int{7, 8} {
		if !hasMsg(ds, SevAlert, line, "in mode tcp is not supported yet by Sluice") {
			t.Errorf("line %d: %v", line, ds)
		}
	}
	if hasMsg(ds, SevAlert, 9, "") {
		t.Errorf("src is fine in mode tcp: %v", ds)
	}
}

// TestUserlistDiagnostics checks the userlist section's texts against
// haproxy 2.6.12's, and Sluice's own refusal of hashes it cannot verify.
func TestUserlistDiagnostics(t *testing.T) {
	const proxies = "defaults\n mode http\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n" +
		"frontend fe\n bind :1\n acl ok http_auth(L)\n http-request auth if !ok\n default_backend be\nbackend be\n server s 127.0.0.1:1\n"
	for _, tc := range []struct{ lines, want string }{
		{" user a insecure-password x groups g\n group g users b\n user b password $1$saltsalt$bIQc.PIdGyyoVvhKbQOAT/", ""},
		{" user a password $y$j9T$abc$def", "t.cfg:2]: the encrypted password used for user 'a' uses a crypt(3) scheme Sluice cannot verify (it supports $1$, $5$ and $6$): unsupported crypt(3) scheme '$y$'."},
		{" user a password abJnggxhB/yWI", "unsupported crypt(3) scheme 'DES'"},
		{" user a password $6$rounds=10$x$y", "is not a valid crypt(3) hash: no password would match it"},
		{" user a insecure-password x\n user a insecure-password y", "t.cfg:3]: ignoring duplicated user 'a' in userlist 'L'."},
		{" group g\n group g", "t.cfg:3]: ignoring duplicated group 'g' in userlist 'L'."},
		{" user a foo bar", "t.cfg:2]: 'user' only supports 'password', 'insecure-password' and 'groups' options."},
		{" group g members a", "t.cfg:2]: 'group' only supports 'users' option."},
		{" group g/x", "t.cfg:2]: character '/' is not permitted in 'group' name 'g/x'."},
		{" user", "t.cfg:2]: 'user' expects <name> as arguments."},
		{" user a insecure-password x groups nope", "userlist 'L': no such group 'nope' specified in user 'a'"},
		{" group g users a,nobody\n user a insecure-password x", "userlist 'L': no such user 'nobody' specified in group 'g'"},
		{"\nuserlist L", "t.cfg:3]: ignoring duplicated userlist 'L'."},
	} {
		_, ds := load(t, "userlist L\n"+tc.lines+"\n"+proxies)
		found := false
		for _, d := range ds {
			if tc.want == "" && d.Sev == SevAlert {
				t.Errorf("%q: unexpected alert %q", tc.lines, d.Msg)
			}
			found = found || tc.want != "" && strings.Contains(d.Msg, tc.want)
		}
		if tc.want != "" && !found {
			t.Errorf("%q: want %q, got %v", tc.lines, tc.want, ds)
		}
	}
}

// TestL6FetchWarning: as haproxy 2.6.12, a rule of an http proxy whose
// condition reads buffered payload is warned about (the request is in
// HTX form there), whatever the rule family; a set-var expression or a
// condition of a tcp proxy is not.
func TestL6FetchWarning(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{" tcp-request content accept if { req.len gt 0 }", "Proxy 'fe': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:8)."},
		{" acl p req.payload(0,3) -m str GET\n http-request deny if p", "Proxy 'fe': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:9)."},
		{" use_backend be if REQ_CONTENT", "Proxy 'fe': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:8)."},
		{" tcp-request content reject if { req.ssl_sni -m found } || { path /x }", "Proxy 'fe': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:8)."},
		{"B: http-response deny if { res.len gt 0 }", "Proxy 'be': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:11)."},
		{" tcp-request content set-var(txn.l) req.len", ""},
		{" tcp-request content accept if WAIT_END", ""},
	} {
		got := ""
		for _, d := range l7Line(t, tc.line) {
			if d.Sev == SevWarning && strings.Contains(d.Msg, "L6 sample fetches") {
				// The test's file lies in a temporary directory.
				dir := d.Msg[strings.Index(d.Msg, "declared at ")+len("declared at ") : strings.LastIndex(d.Msg, "t.cfg")]
				got += strings.Replace(d.Msg, dir, "", 1)
			}
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.line, got, tc.want)
		}
	}
}

// A negative capture length is refused at load. haproxy 2.6.12 accepts
// it, then copies captured values untruncated into a slot sized for
// nothing: a long header corrupts its heap, a captured cookie crashes it.
// declare capture and http-request capture refuse it in HAProxy too.
func TestNegativeCaptureLength(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{" capture request header X-A len -1", "t.cfg:8] : 'capture request header' : length must be >= 0 (got '-1'); haproxy 2.6 accepts a negative length"},
		{" capture response header X-B len -5x", "'capture response header' : length must be >= 0 (got '-5x'); haproxy 2.6 accepts"},
		{" capture cookie SID len -1", "'capture cookie' : length must be >= 0 (got '-1'); haproxy 2.6 accepts"},
		{" declare capture request len -1", "t.cfg:8] : length must be > 0"},
		{" http-request capture req.hdr(x) len -1", "while parsing 'http-request capture' rule : length must be > 0."},
	} {
		ds := l7Line(t, tc.line)
		if !ds.HasAlerts() || !strings.Contains(ds.String(), tc.want) {
			t.Errorf("%q: want an alert with %q, got %v", tc.line, tc.want, ds)
		}
	}
}
