package difftest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The Layer 7 feature differential runs small mode http configurations
// (captures, variables, unique ids, monitor-uri, tarpit, redirects...)
// through haproxy and Sluice, sends each the same raw requests, and
// compares every byte the client got, every byte the backend got, and the
// log lines both wrote (a log-format of the case's choosing, so that
// timers and ports stay out of it, or option httplog with those fields
// masked).

// featCase is one configuration and the connections sent to it.
type featCase struct {
	name string
	// cfg holds the proxies; %BIND is the frontend's address (%BIND2 a
	// second one's, %BIND3 a third), %SRV the backend's, %FILES the corpus's fixture
	// directory. The global section logs to a UDP receiver and the
	// defaults section sets mode http, log global, option dontlognull (the
	// readiness probe's empty connection logs nothing) and short timeouts.
	cfg string
	// conns are sent one after the other, each on its own connection.
	conns []l7Case
	// mask rewrites both proxies' log lines before they are compared
	// (pairs of regexp and replacement).
	mask []string
	// known, when set, is why Sluice may differ; differences are logged.
	known string
}

var featCases = []featCase{
	{name: "captures in option httplog", cfg: `frontend f
 bind %BIND
 option httplog
 capture request header Host len 5
 capture request header User-Agent len 40
 capture request header X-Missing len 10
 http-request capture req.hdr(x-a) len 4
 declare capture response len 6
 capture response header X-Resp len 8
 http-response capture res.hdr(location) id 0
 http-request set-header X-Cap0 %[capture.req.hdr(0)]
 http-request set-header X-Cap3 %[capture.req.hdr(3)]
 http-request set-header Host changed
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /s/caphdrs HTTP/1.1\r\nHost: example.com\r\nUser-Agent: a|b{c}\"d#e\xe9\x01\r\nx-a: abcdefgh\r\nHOST2: second.org\r\n\r\n"},
		{raw: "GET /s/caphdrs HTTP/1.1\r\nHost: a\r\nx-a: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n"},
		{raw: "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", noProbe: true},
	}, mask: httplogMask},
	{name: "capture variables and fetches in log-format", cfg: `frontend f
 bind %BIND
 log-format "%ST %hr %hs | %hrl | %hsl | %{+Q}hr %{+Q}hrl %{+Q}hsl | %[capture.req.hdr(0)] %[capture.res.hdr(0)] %[capture.req.hdr(1)]"
 capture request header X-A len 5
 capture request header X-B len 5
 capture response header X-Resp len 8
 http-request deny if { path /deny }
 default_backend b
backend b
 http-response capture res.hdr(x-resp),upper id 0 if { status 200 }
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /s/caphdrs HTTP/1.1\r\nHost: e\r\nX-A: first\r\nX-A: second\r\nx-b: \r\n\r\nGET /y HTTP/1.1\r\nHost: e\r\n\r\n", reqs: 2},
		{raw: "GET /deny HTTP/1.1\r\nHost: e\r\nX-A: dd\r\n\r\n"},
	}},
	{name: "variables: scopes, conditions, formats and var()", cfg: `frontend f
 bind %BIND
 log-format "%ST t=%[var(txn.host)] r=%[var(req.p)] s=%[var(res.s)] ss=%[var(sess.n)] d=%[var(txn.none,dflt)] f=%[var(txn.fmt)] c=%[var(txn.cnt)] m=%[var(txn.m)]"
 tcp-request content set-var(sess.src) src
 http-request set-var(txn.host) req.hdr(host),lower
 http-request set-var(req.p) path
 http-request set-var(res.s) str(nope)
 http-request set-var(sess.n) req.hdr(x-n) if { req.hdr(x-n) -m found }
 http-request set-var(txn.cnt,ifnotexists) int(5)
 http-request set-var(txn.cnt,ifnotexists) int(6)
 http-request set-var(txn.cnt,ifgt) int(3)
 http-request set-var(txn.cnt,ifgt) int(9)
 http-request set-var(txn.cnt,iflt) int(1)
 http-request set-var(txn.m) method
 http-request set-var-fmt(txn.fmt) "%[var(txn.host)]-%[var(req.p)]-%b-%[var(res.s)]"
 http-request set-var(txn.e,ifnotempty) req.hdr(x-empty)
 http-request set-var(txn.f,ifempty) req.hdr(x-empty)
 http-request set-var(txn.g,ifset) str(g)
 http-request set-var(txn.g,ifexists) str(g2)
 http-request set-var(txn.h) str(h)
 http-request unset-var(txn.h)
 http-request set-var(txn.h,ifexists) str(h2)
 http-request set-header X-Vars "%[var(txn.host)]|%[var(req.p)]|%[var(txn.cnt)]|%[var(txn.e,unset)]|%[var(txn.f,unset)]|%[var(txn.g,unset)]|%[var(txn.h,unset)]|%[var(sess.n)]|%[var(sess.src)]"
 http-request set-header X-Conv %[str(abc),set-var(txn.conv),upper]-%[var(txn.conv)]
 default_backend b
backend b
 http-request set-header X-BE %[var(txn.fmt)]
 http-response set-var(res.s) status
 http-response set-header X-S "%[var(res.s)]|%[var(req.p)]|%[var(txn.host)]|%[var(sess.n)]"
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /a/b?q HTTP/1.1\r\nHost: ExAmple\r\nX-Empty:\r\nX-N: 42\r\n\r\nGET /c HTTP/1.1\r\nHost: second\r\nX-Empty: v\r\n\r\n", reqs: 2},
		{raw: "POST /p HTTP/1.1\r\nHost: h\r\ncontent-length: 0\r\n\r\n"},
	}, mask: []string{`=127\.0\.0\.1\b`, `=SRC`, `\|127\.0\.0\.1`, `|SRC`}},
	{name: "variables in tcp mode", cfg: `listen l
 bind %BIND
 mode tcp
 log-format "t=%[var(txn.a)] s=%[var(sess.b)] c=%[var(sess.c)] r=%[var(req.d)] x=%[var(txn.x)] l=%[var(txn.len)]"
 tcp-request connection set-var(sess.c) str(conn)
 tcp-request connection set-var(txn.x) str(never)
 tcp-request session set-var(sess.b) str(sess)
 tcp-request inspect-delay 1s
 tcp-request content set-var(txn.a) str(content)
 tcp-request content set-var(req.d) str(dropped)
 tcp-request content set-var(txn.len) req.len
 tcp-request content set-var-fmt(sess.f) "%ci-%[var(sess.c)]"
 tcp-request content accept if { req.len gt 0 }
 server s1 %SRV
`, conns: []l7Case{{raw: "GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n", noProbe: true}}},
	{name: "tcp-request content rules per request in http", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %TR %b %s %{+Q}r %hr U=%U n=%[var(txn.n)] s=%[var(sess.s)] r=%[var(req.r)] len=%[var(txn.len)] b=%[var(txn.b)] ID=%ID"
 capture request header Host len 5
 unique-id-format "%[var(txn.n)]-id"
 tcp-request content set-var-fmt(txn.n) "%[var(txn.n)]x"
 tcp-request content set-var-fmt(sess.s) "%[var(sess.s)]y"
 tcp-request content set-var(req.r) str(r)
 tcp-request content set-var(txn.len) req.len
 tcp-request content set-var(txn.pl) req.payload(0,3)
 tcp-request content set-log-level err if { path /err }
 tcp-request content set-log-level silent if { path /silent }
 tcp-request content reject if { path /rej }
 tcp-request content accept if { path /acc }
 tcp-request content set-var-fmt(txn.n) "%[var(txn.n)]z"
 http-request set-header X-N "%[var(txn.n)]|%[var(req.r)]|%[var(sess.s)]|%[var(txn.len)]|%[var(txn.pl)]"
 default_backend b
backend b
 tcp-request content set-var-fmt(txn.b) "%[var(txn.b)]b-%[var(txn.n)]"
 tcp-request content reject if { path /brej }
 http-request set-header X-B %[var(txn.b)]
 server s1 %SRV
listen l
 bind %BIND2
 log-format "%ST n=%[var(txn.n)]"
 tcp-request content set-var-fmt(txn.n) "%[var(txn.n)]x"
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a") + get("/err") + get("/silent") + get("/acc"), reqs: 4},
		{raw: get("/a") + get("/rej")},
		{raw: get("/a") + get("/brej")},
		{raw: "POST /rej HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc", noProbe: true},
		{raw: get("/a") + get("/b"), reqs: 2, to: "2"},
	}},
	{name: "req.len in http-request rules", cfg: `frontend f
 bind %BIND
 log-format "%ST len=%[var(txn.len)]"
 http-request set-var(txn.len) req.len
 http-request set-header X-Len %[req.len]
 http-request set-header X-Len2 %[req.len]
 default_backend b
backend b
 http-request set-header X-BLen %[req.len]
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a")},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\n0123456789"},
		{raw: "POST /c HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"},
	}},
	{name: "req variables in the log of a request dropped unanswered", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts r=%[var(req.r)]"
 http-request set-var(req.r) str(r)
 http-request reject if { path /rej }
 http-request deny if { path /deny }
 http-request return status 200 if { path /ret }
 default_backend b
backend b
 http-request reject if { path /brej }
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/rej"), noProbe: true},
		{raw: get("/brej"), noProbe: true},
		{raw: get("/deny")},
		{raw: get("/ret")},
		{raw: get("/a")},
	}},
	{name: "unique-id generated on first use", cfg: `frontend f
 bind %BIND
 log-format "%ST id=%ID rt=%rt u=%[unique-id]"
 unique-id-format "%b-%s-%rt-%[req.hdr(x-in)]-%{+Q}[req.hdr(x-in)]-%ci-%f"
 unique-id-header X-ID
 option forwardfor
 http-request set-header X-Early %[unique-id] if { path /early }
 http-request deny if { path /deny }
 default_backend b
backend b
 http-request set-header X-BE %[unique-id] if { path /be }
 server s1 %SRV
frontend f2
 bind %BIND2
 log-format "%ST id=%ID u=%[unique-id]"
 unique-id-header X-ID
 default_backend b
`, conns: []l7Case{
		{raw: "GET /x HTTP/1.1\r\nHost: e\r\nX-In: a b\x7f\r\nX-ID: client\r\n\r\nGET /early HTTP/1.1\r\nHost: e\r\n\r\n", reqs: 2},
		{raw: "GET /be HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n"},
		{raw: "GET /deny HTTP/1.1\r\nHost: e\r\nX-In: d\r\n\r\n"},
		{raw: "GET /x HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n", to: "2"},
	}},
	{name: "unique-id in tcp mode", cfg: `listen l
 bind %BIND
 mode tcp
 log-format "id=%ID rt=%rt"
 unique-id-format "%rt-%f-%b-%s"
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /x HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n", noProbe: true},
		{raw: "GET /x HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n", noProbe: true},
	}},
	{name: "monitor-uri and monitor fail", cfg: `frontend f
 bind %BIND
 option httplog
 monitor-uri /mon
 monitor fail if { req.hdr(x-fail) -m found }
 http-request deny if { path /mon }
 default_backend b
frontend f2
 bind %BIND2
 option httplog
 monitor-uri /health
 monitor fail unless { req.hdr(x-ok) -m found }
 errorfile 200 %FILES/errors/200.http
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /mon HTTP/1.1\r\nHost: e\r\n\r\nGET /mon HTTP/1.1\r\nHost: e\r\nX-Fail: 1\r\n\r\nGET /x HTTP/1.1\r\nHost: e\r\n\r\n", reqs: 3},
		{raw: "GET /mon?x=1 HTTP/1.1\r\nHost: e\r\n\r\n"},
		{raw: "GET /MON HTTP/1.1\r\nHost: e\r\n\r\n"},
		{raw: "GET http://e/mon HTTP/1.1\r\nHost: e\r\n\r\n"},
		{raw: "HEAD /mon HTTP/1.0\r\n\r\n", head: true},
		{raw: "GET /mon HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{raw: "POST /mon HTTP/1.1\r\nHost: e\r\ncontent-length: 3\r\n\r\nabcGET /y HTTP/1.1\r\nHost: e\r\n\r\n", reqs: 2},
		{raw: "POST /mon HTTP/1.1\r\nHost: e\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{raw: "GET /health HTTP/1.1\r\nHost: e\r\n\r\n", to: "2"},
		{raw: "GET /health HTTP/1.1\r\nHost: e\r\nX-OK: 1\r\n\r\n", to: "2"},
	}, mask: httplogMask},
	{name: "connection counts in the log line: the request is out of %bc and %sc", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %ac %fc %bc %sc %rc"
 http-request deny if { path /deny }
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: get("/deny")},
		{raw: get("/s/503")},
		{raw: get("/c", "Connection: close")},
	}},
	{name: "dontlog-normal and log-separate-errors", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %s %rc"
 option dontlog-normal
 http-request deny if { path /deny }
 http-request return status 200 if { path /ret }
 http-request return status 503 if { path /ret503 }
 http-request redirect location /x if { path /redir }
 default_backend b
frontend f2
 bind %BIND2
 log-format "%ST %ts %s %rc"
 option log-separate-errors
 http-request deny if { path /deny }
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /ok HTTP/1.1\r\nHost: e\r\n\r\nGET /deny HTTP/1.1\r\nHost: e\r\n\r\n", reqs: 2},
		{raw: "GET /s/503 HTTP/1.1\r\nHost: e\r\n\r\n"},
		{raw: "GET /s/404 HTTP/1.1\r\nHost: e\r\n\r\n"},
		{raw: "GET /ret HTTP/1.1\r\nHost: e\r\n\r\nGET /ret503 HTTP/1.1\r\nHost: e\r\n\r\nGET /redir HTTP/1.1\r\nHost: e\r\n\r\n", reqs: 3},
		{raw: "GET /s/hang HTTP/1.1\r\nHost: e\r\n\r\n"},
		{raw: "GET /ok HTTP/1.1\r\nHost: e\r\n\r\nGET /deny HTTP/1.1\r\nHost: e\r\n\r\n", reqs: 2, to: "2"},
		{raw: "GET /s/503 HTTP/1.1\r\nHost: e\r\n\r\n", to: "2"},
	}},
	// A tarpit's 300ms show as ~300 whatever a loaded machine adds (up to
	// 599ms): a tarpit held for its timeout, not for none or for the
	// client's.
	{name: "tarpit", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %TR %Tq %Tc %Tr %Tw %Ta %s"
 timeout tarpit 300ms
 http-request tarpit if { path /t }
 http-request tarpit deny_status 429 if { path /t429 }
 http-request tarpit status 404 content-type text/plain string "slow\n" hdr X-T yes if { path /tstr }
 default_backend b
frontend f2
 bind %BIND2
 log-format "%ST %ts %Tw %s"
 timeout connect 300ms
 http-request tarpit
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /t HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n", reqs: 2},
		{raw: "GET /t429 HTTP/1.1\r\nHost: h\r\n\r\n"},
		{raw: "GET /tstr HTTP/1.1\r\nHost: h\r\n\r\n"},
		{raw: "HEAD /t HTTP/1.0\r\n\r\n", head: true},
		{raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", to: "2"},
	}, mask: []string{`-- [\d ]+ s1$`, `-- TIMERS s1`, ` (29\d|[3-5]\d\d) `, ` ~300 `, ` (29\d|[3-5]\d\d) `, ` ~300 `, ` (29\d|[3-5]\d\d)$`, ` ~300`}},
	{name: "return and deny payloads", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts"
 http-request deny hdr X y if { path /d1 }
 http-request deny status 404 if { path /d2 }
 http-request deny deny_status 404 if { path /d3 }
 http-request return status 200 hdr X %[req.hdr(nope)] hdr Y "a b" if { path /r1 }
 http-request return status 200 content-type text/plain lf-string "[%[req.hdr(nope)]|%[req.hdr(x-in)]|%ci]" if { path /r2 }
 http-request return status 201 content-type text/plain lf-file %FILES/reply-lf.txt hdr X-U %[req.hdr(x-in)] if { path /r3 }
 http-request return status 503 errorfile %FILES/errors/503.http if { path /r4 }
 http-request return status 200 errorfiles myerrs if { path /r5 }
 http-request return status 403 errorfiles myerrs if { path /r6 }
 http-request return status 429 default-errorfiles if { path /r7 }
 http-request return content-type text/plain file %FILES/reply-lf.txt if { path /r8 }
 default_backend b
backend b
 server s1 %SRV
http-errors myerrs
 errorfile 200 %FILES/errors/200.http
`, conns: []l7Case{
		{raw: "GET /d1 HTTP/1.1\r\nHost: h\r\n\r\nGET /d2 HTTP/1.1\r\nHost: h\r\n\r\nGET /d3 HTTP/1.1\r\nHost: h\r\n\r\n", reqs: 3},
		{raw: "GET /r1 HTTP/1.1\r\nHost: h\r\nX-In: a\x7fb\r\n\r\nGET /r2 HTTP/1.1\r\nHost: h\r\nX-In: a\x7fb\r\n\r\n", reqs: 2},
		{raw: "GET /r3 HTTP/1.1\r\nHost: h\r\nX-In: v\r\n\r\n"},
		{raw: "HEAD /r3 HTTP/1.1\r\nHost: h\r\n\r\n", head: true},
		{raw: "GET /r4 HTTP/1.1\r\nHost: h\r\n\r\nGET /r5 HTTP/1.1\r\nHost: h\r\n\r\n", reqs: 2},
		{raw: "GET /r6 HTTP/1.1\r\nHost: h\r\n\r\nGET /r7 HTTP/1.1\r\nHost: h\r\n\r\nGET /r8 HTTP/1.1\r\nHost: h\r\n\r\n", reqs: 3},
	}},
	{name: "http-response return", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %b %s"
 http-request set-var(txn.p) path
 http-request set-var(txn.in) req.hdr(x-in)
 http-response return status 200 content-type text/plain string "fe\n" hdr X-Fe yes if { var(txn.p) -m str /fe }
 default_backend b
frontend f2
 bind %BIND2
 option httplog
 http-request set-var(txn.p) path
 default_backend b
backend b
 http-response return if { var(txn.p) -m str /empty }
 http-response return status 404 content-type text/plain lf-string "[%[status]|%[var(txn.in)]|%[res.hdr(content-type)]]" hdr X-Path %[var(txn.p)] if { var(txn.p) -m beg /lf }
 http-response return status 503 errorfile %FILES/errors/503.http if { var(txn.p) -m str /ef }
 http-response return status 429 default-errorfiles if { var(txn.p) -m str /def }
 http-response return status 200 errorfiles myerrs if { var(txn.p) -m str /sec }
 http-response set-header X-After yes
 server s1 %SRV
http-errors myerrs
 errorfile 200 %FILES/errors/200.http
`, conns: []l7Case{
		{raw: get("/fe") + get("/x"), reqs: 2},
		{raw: get("/empty")},
		{raw: "GET /lf HTTP/1.1\r\nHost: h\r\nX-In: v\r\n\r\n"},
		{raw: "HEAD /lf HTTP/1.1\r\nHost: h\r\n\r\n", head: true},
		{raw: get("/ef")},
		{raw: get("/def")},
		{raw: get("/sec")},
		{raw: "GET /lf/1.0 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{raw: "POST /fe HTTP/1.1\r\nHost: h\r\ncontent-length: 3\r\n\r\nabc"},
		{raw: get("/empty"), to: "2"},
	}, mask: httplogMask},
	{name: "http-error with log-format payloads and headers", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts"
 http-error status 403 content-type text/plain lf-string "denied %[path] [%[req.hdr(x-in)]|%[status]]" hdr X-Why "%[req.hdr(x-why)]" hdr X-Fixed yes
 http-error status 503 content-type text/plain lf-file %FILES/reply-lf.txt hdr X-B %b
 http-request deny if { path_beg /deny }
 use_backend none if { path /none }
 default_backend b
frontend f2
 bind %BIND2
 log-format "%ST %ts"
 http-error status 502 hdr X-Err "%[req.hdr(host)]" hdr X-Empty "%[req.hdr(nope)]"
 default_backend b
backend b
 http-error status 504 content-type text/html lf-string "<p>%[path]</p>"
 server s1 %SRV
backend none
 retries 0
 server s1 %DEAD
`, conns: []l7Case{
		{raw: "GET /deny/a HTTP/1.1\r\nHost: h\r\nX-In: v\r\nX-Why: because\r\n\r\nGET /deny HTTP/1.1\r\nHost: h\r\n\r\n", reqs: 2},
		{raw: "HEAD /deny HTTP/1.1\r\nHost: h\r\n\r\n", head: true},
		{raw: "GET /deny HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{raw: "GET /none HTTP/1.1\r\nHost: h\r\nX-In: w\r\nConnection: close\r\n\r\n"},
		{raw: get("/s/hang")},
		{raw: get("/s/badstatus"), to: "2"},
	}},
	{name: "reject and silent-drop", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %b %s %TR %Tr %HP"
 http-request set-var(txn.p) path
 http-request reject if { path /rej }
 http-request silent-drop if { path /sd }
 http-response silent-drop if { var(txn.p) -m str /rsd }
 default_backend b
frontend f2
 bind %BIND2
 option httplog
 default_backend b
backend b
 http-request reject if { path /berej }
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/ok") + get("/rej") + get("/after"), reqs: 3},
		{raw: "POST /rej HTTP/1.1\r\nHost: h\r\ncontent-length: 3\r\n\r\nabc"},
		{raw: get("/sd")},
		{raw: get("/rsd")},
		{raw: get("/berej")},
		{raw: get("/berej"), to: "2"},
	}, mask: append([]string{`-- b s1 0 \d+`, `-- b s1 0 TR`}, httplogMask...)},
	{name: "http-request auth and userlists", cfg: `userlist users
 group admins users bob
 group ops
 user alice insecure-password s3cret groups ops
 user bob password $6$rounds=1000$abcdefgh$4vx5kGeIzjvGCYUXMG/mCp/.D3/wUQecSBQUYNqqqXrpj9Epe5pvjBimdvAeuTAxBLO1IZHFsqxHXL5Tm1Dh3.
 user carol password $5$saltsalt$zOFVkp0Kz29x0a6a4dSx8FZisA8Iwb0KzzvoRDFTN/8 groups ops,admins
 user dave password $1$saltsalt$bIQc.PIdGyyoVvhKbQOAT/
frontend f
 bind %BIND
 log-format "%ST %ts %b %s"
 acl ok http_auth(users)
 acl admin http_auth_group(users) admins
 http-request auth realm "Sluice zone" if { path_beg /a } !ok
 http-request auth if { path_beg /adm } !admin
 http-request set-header X-User %[http_auth_group(users)] if ok
 default_backend b
frontend f2
 bind %BIND2
 log-format "%ST %ts %b %s"
 http-error status 401 content-type text/plain string "who?" hdr WWW-Authenticate "Negotiate" hdr X-A y
 default_backend b2
backend b
 server s1 %SRV
backend b2
 http-request auth unless { http_auth_group(users) ops }
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a") + get("/a", "Authorization: Basic YWxpY2U6czNjcmV0") + get("/a", "Authorization: Basic YWxpY2U6d3Jvbmc="), reqs: 3},
		{raw: get("/a", "Authorization: Basic Ym9iOnB3Ng==") + get("/a", "Authorization: Basic Y2Fyb2w6cHc1") + get("/a", "Authorization: basic ZGF2ZTpwdzE="), reqs: 3},
		{raw: get("/a", "Authorization: Bas ZGF2ZTpwdzE=") + get("/a", "Authorization: Basic   ZGF2ZTpwdzE=") + get("/a", "Authorization: Bearer ZGF2ZTpwdzE=") + get("/a", "Authorization: Basic Ym9iOnB3Njp4"), reqs: 4},
		{raw: get("/a", "Authorization: Basic bm91c2VyOng=") + get("/a", "Authorization: Basic ZGF2ZTpwdzE") + get("/a", "Authorization: Basic ZGF2ZTpwdzE=, x"), reqs: 3},
		{raw: get("/adm", "Authorization: Basic YWxpY2U6czNjcmV0") + get("/adm", "Authorization: Basic Y2Fyb2w6cHc1") + get("/adm", "Authorization: Basic Ym9iOnB3Ng=="), reqs: 3},
		{raw: "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n", head: true},
		{raw: "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{raw: "GET /a HTTP/1.0\r\n\r\n"},
		{raw: get("/x") + get("/x", "Authorization: Basic Y2Fyb2w6cHc1"), reqs: 2, to: "2"},
	}},
	{name: "capture cookie", cfg: `frontend f
 bind %BIND
 option httplog
 capture cookie SESS len 12
 http-request deny if { path /deny }
 http-response del-header set-cookie
 default_backend b
frontend f2
 bind %BIND2
 log-format "%ST [%CC] [%CS] %{+Q}CC"
 capture cookie 'SESSx="' foo 100
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/s/setcookie", "Cookie: $Version=1; other=2; SESSIONID = abc,def ; SESS=x", "Cookie: SESS=second") + get("/x", "Cookie: a, SESS=0123456789abcdef") + get("/deny", "Cookie: SESS=1"), reqs: 3},
		{raw: get("/x", "Cookie: nosess", "Cookie: SES=1; SESS"), reqs: 1},
		{raw: get("/s/setcookie", "Cookie: SESSx=\"q;r\"") + get("/x"), reqs: 2, to: "2"},
	}, mask: httplogMask},
	{name: "set-log-level", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %{+Q}r"
 http-request set-log-level err if { path /err }
 http-request set-log-level silent if { path /silent }
 http-request set-log-level debug if { path /debug }
 http-request deny if { path /silent }
 default_backend b
frontend f2
 bind %BIND2
 log-format "%ST %ts %{+Q}r"
 option log-separate-errors
 http-request set-log-level notice if { path_beg /n }
 http-request deny if { path /n/deny }
 default_backend b
backend b
 http-response set-log-level alert if { status 404 }
 server s1 %SRV
listen t
 bind %BIND3
 mode tcp
 log-format "tcp %ts"
 tcp-request inspect-delay 1s
 tcp-request content set-log-level warning if { req.len gt 0 }
 tcp-request content accept if { req.len gt 0 }
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/err") + get("/ok") + get("/silent") + get("/debug") + get("/s/404"), reqs: 5},
		{raw: get("/n/1") + get("/n/deny") + get("/s/503") + get("/n/s/404"), reqs: 4, to: "2"},
		{raw: "GET /t HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n", noProbe: true, to: "3"},
	}},
	{name: "set-timeout server", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %Ta"
 default_backend b
backend b
 http-request set-timeout server 300ms if { req.hdr(x-t) -m found } !{ req.hdr(x-t) -m int gt 0 }
 http-request set-timeout server req.hdr(x-t) if { req.hdr(x-t) -m int gt 0 }
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /s/hang HTTP/1.1\r\nHost: h\r\nX-T: yes\r\n\r\n"},
		{raw: "GET /s/hang HTTP/1.1\r\nHost: h\r\nX-T: 500\r\n\r\n"},
		{raw: "GET /s/hang HTTP/1.1\r\nHost: h\r\n\r\n"},
	}, mask: []string{`-- \d+$`, `-- T`, ` (29\d|3[0-4]\d)$`, ` ~300`, ` (49\d|5[0-4]\d)$`, ` ~500`, ` (99\d|10[0-4]\d)$`, ` ~1000`}},
	{name: "option originalto", cfg: `frontend f
 bind %BIND
 log-format "%ST %b"
 option originalto
 option forwardfor
 use_backend b2 if { path /b2 }
 default_backend b
frontend f2
 bind %BIND2
 log-format "%ST %b"
 option originalto except 127.0.0.1/255.0.0.0 header X-Dst
 default_backend b
backend b
 server s1 %SRV
backend b2
 option originalto header X-Be-Dst
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET / HTTP/1.1\r\nHost: h\r\nX-Original-To: 1.2.3.4\r\n\r\n"},
		{raw: "GET /b2 HTTP/1.1\r\nHost: h\r\n\r\n"},
		{raw: "GET / HTTP/1.1\r\nHost: h\r\n\r\n", to: "2"},
	}},
	{name: "redirects, legacy and http-request", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %b"
 redirect prefix /legacy code 301 if { path_beg /a }
 http-request allow if { path_beg /allow }
 http-request set-header X-Seen yes
 http-request redirect location %[req.hdr(x-loc)] if { path /empty }
 http-request redirect location %[req.hdr(x-loc)] ignore-empty if { path /ie }
 http-request redirect scheme https if { path /noh }
 http-request redirect prefix / append-slash if { path_beg /as }
 http-request redirect prefix /p drop-query append-slash if { path_beg /dq }
 http-request redirect scheme https append-slash if { path_beg /sc }
 http-request redirect location /loc?a=b append-slash drop-query if { path_beg /lo }
 http-request redirect prefix /p clear-cookie A= set-cookie B if { path_beg /ck }
 http-request redirect prefix /p clear-cookie C if { path_beg /cc }
 redirect location /l/%[req.hdr(host)] set-cookie S=1 if { path /lit }
 redirect prefix /allowed if { path_beg /allow }
 redirect prefix /x if
 default_backend b
backend b
 redirect scheme https code 308 if { path /be }
 redirect code 303 prefix / drop-query if { path /be303 }
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a/b?x=1") + get("/empty") + get("/ie") + get("/as?x=1") + get("/as/") + get("/dq?z=1"), reqs: 6},
		{raw: get("/sc?q") + get("/lo?z") + get("/ck") + get("/cc") + get("/lit") + get("/allow/me") + get("/be") + get("/be303?q=1") + get("/y"), reqs: 9},
		{raw: "GET /noh HTTP/1.0\r\n\r\n"},
		{raw: "GET /as HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{raw: "GET http://h:8080/sc?q HTTP/1.1\r\nHost: h:8080\r\n\r\n"},
	}},
	{name: "http-response conditions on the request's headers never match", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %b %s"
 acl p path_beg /
 http-response set-header X-Path yes if { path_beg / }
 http-response set-header X-Method yes if METH_GET
 http-response set-header X-Named yes if p
 http-response set-header X-Not yes if !p
 http-response set-header X-Unless yes unless { req.hdr(host) -m found }
 http-response set-header X-Or yes if { url_param(a) -m found } || { status 200 }
 http-response set-header X-Hdr yes if { hdr(host) -m found }
 http-response set-header X-Urlp yes if HTTP_URL_SLASH
 default_backend b
backend b
 http-response set-header X-Be yes if { query -m found }
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/x?a=1")},
		{raw: "POST /y HTTP/1.1\r\nHost: h\r\ncontent-length: 2\r\n\r\nab"},
	}},
	{name: "server refuses: 503, the client connection stays open, the log names the server", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %b/%s %rc %B %U"
 default_backend b
frontend f2
 bind %BIND2
 option httplog
 default_backend b
backend b
 retries 1
 server s1 %DEAD
`, conns: []l7Case{
		{raw: get("/a")},
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"},
		{raw: "POST /c HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"},
		{raw: "POST /part HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nabc", noProbe: true},
		{raw: get("/a"), to: "2"},
	}, mask: httplogMask},
	{name: "byte counts: %B and %U", cfg: `frontend f
 bind %BIND
 log-format "%ST %ts %B %U %r"
 http-request deny if { path /deny }
 http-request return status 200 content-type text/plain string hello if { path /return }
 http-request redirect location /there if { path /redir }
 http-request set-header X-Added twelve if { path /rw }
 http-request del-header x-gone if { path /rw }
 http-response set-header X-Resp-Added yes
 http-request tarpit if { path /tarpit }
 default_backend b
frontend f2
 bind %BIND2
 option httplog
 log-format "%ST %ts %B %U %r"
 default_backend b
backend b
 timeout tarpit 10ms
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/") + get("/2", "X-Long: "+strings.Repeat("v", 40)) + get("/3", "Connection: close"), reqs: 3},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello" + "POST /c HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: v\r\n\r\n", reqs: 2},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\nhello"},
		{raw: "POST /c2 HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
		{raw: "POST /s/100 HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\nconnection: keep-alive, x-a\r\n\r\nhi"},
		{raw: get("/s/chunked") + get("/s/204") + get("/s/304") + get("/s/noreason") + get("/s/fold") + get("/s/103"), reqs: 6},
		{raw: "HEAD /s/headcl HTTP/1.1\r\nhost: a\r\n\r\n", head: true},
		// A 1xx's and a 204's Content-Length and Transfer-Encoding are
		// left out of what goes to the client, but count in %B.
		{raw: get("/s/204body")},
		{raw: get("/s/204te")},
		{raw: get("/s/1xxcl")},
		{raw: get("/s/noclen")},
		{raw: get("/s/http10")},
		{raw: get("/deny") + get("/return") + get("/redir") + get("/rw", "X-Gone: abc", "Connection: keep-alive"), reqs: 4},
		{raw: "POST /deny HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"},
		{raw: get("/tarpit")},
		{raw: "GET / HTTP/1.0\r\n\r\n"},
		{raw: get("/s/closenow")},
		{raw: get("/", "Host: b")},
		{raw: get("/s/hang")},
		{raw: "GET /s/upgrade HTTP/1.1\r\nhost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", noProbe: true},
		{raw: get("/") + get("/2"), reqs: 2, to: "2"},
	}},
}

// httplogMask hides what varies between two runs of option httplog: the
// client's port, the dates, the timers and the connection counts.
var httplogMask = []string{
	`^(<\d+>) \S+:\d+ \[[^\]]+\] `, `$1 CLIENT [DATE] `,
	` -?\d+/-?\d+/-?\d+/-?\d+/\+?-?\d+ (-?\d+) (\+?\d+) `, ` T $1 $2 `,
	` \d+/\d+/\d+/\d+/(\+?\d+) `, ` CONNS/$1 `,
}

func TestL7FeatureDifferential(t *testing.T) {
	hap := haproxyPath()
	if hap == "" {
		t.Skip("haproxy not installed")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	only := os.Getenv("L7FEAT_ONLY")
	for _, fc := range featCases {
		if only != "" && !strings.Contains(fc.name, only) {
			continue
		}
		t.Run(fc.name, func(t *testing.T) {
			var res [2][]l7Result
			var logs [2][]string
			for i, bin := range []string{hap, sluiceBin} {
				res[i], logs[i] = runFeatCase(t, bin, fc)
			}
			var diffs []string
			for j := range fc.conns {
				if a, b := res[0][j].String(), res[1][j].String(); a != b {
					diffs = append(diffs, fmt.Sprintf("connection %d: %q\nhaproxy:\n%ssluice:\n%s", j+1, fc.conns[j].raw, a, b))
				}
			}
			for _, m := range [][]string{logs[0], logs[1]} {
				for k := range m {
					for p := 0; p+1 < len(fc.mask); p += 2 {
						m[k] = regexp.MustCompile(fc.mask[p]).ReplaceAllString(m[k], fc.mask[p+1])
					}
				}
			}
			if a, b := strings.Join(logs[0], "\n"), strings.Join(logs[1], "\n"); a != b {
				diffs = append(diffs, fmt.Sprintf("log lines differ\nhaproxy:\n%s\nsluice:\n%s", a, b))
			}
			switch {
			case len(diffs) > 0 && fc.known != "":
				t.Logf("known difference (%s):\n%s", fc.known, strings.Join(diffs, "\n"))
			case len(diffs) > 0:
				t.Error(strings.Join(diffs, "\n"))
			case fc.known != "":
				t.Errorf("listed as a known difference (%s) but sluice now behaves as haproxy", fc.known)
			case testing.Verbose():
				t.Logf("same; logs:\n%s", strings.Join(logs[0], "\n"))
			}
		})
	}
}

// runFeatCase runs one case through one binary: the results of each
// connection and the log lines written, in order.
func runFeatCase(t *testing.T, bin string, fc featCase) ([]l7Result, []string) {
	t.Helper()
	fp := startFeatProxy(t, bin, fc.cfg)
	defer fp.stop()
	be, rx, bind, bind2, bind3 := fp.be, fp.rx, fp.bind[0], fp.bind[1], fp.bind[2]
	var res []l7Result
	var logs []string
	for _, c := range fc.conns {
		addr := bind
		switch c.to {
		case "2":
			addr = bind2
		case "3":
			addr = bind3
		}
		res = append(res, runL7Case(addr, be, c))
		// A proxy logs after it answered: the lines of one connection
		// are gathered before the next starts, so that they keep their
		// order.
		logs = append(logs, settleLogs(rx, 250*time.Millisecond)...)
	}
	return res, append(logs, settleLogs(rx, 700*time.Millisecond)...)
}

// featProxy is a proxy started on a feature case's configuration, with
// its backend and log receiver.
type featProxy struct {
	be   *l7Backend
	rx   *syslogUDP
	bind [3]string
	stop func()
}

// startFeatProxy runs bin on the proxies of cfg (see featCase.cfg),
// after the common global and defaults sections, and waits until it
// listens and the readiness probe's traces are gone.
func startFeatProxy(t *testing.T, bin, cfg string) *featProxy {
	t.Helper()
	fp := &featProxy{be: newL7Backend(t), rx: newSyslog(t)}
	for i := range fp.bind {
		fp.bind[i] = freeAddr(t)
	}
	cfg = "global\n log " + fp.rx.pc.LocalAddr().String() + " local0 info\n" +
		"defaults\n mode http\n log global\n option dontlognull\n timeout connect 1s\n timeout client 2s\n timeout server 1s\n timeout http-request 1s\n http-reuse never\n" +
		strings.NewReplacer("%BIND2", fp.bind[1], "%BIND3", fp.bind[2], "%BIND", fp.bind[0], "%SRV", fp.be.ln.Addr().String(), "%FILES", filesDir(t),
			"%DEAD", deadAddr).Replace(cfg)
	fp.stop, _ = proxyRun(t, bin, cfg, fp.bind[0])
	// The readiness probe's line, if any, and its backend connection (a
	// tcp proxy relays it) are left out.
	settleLogs(fp.rx, 700*time.Millisecond)
	fp.be.reset()
	return fp
}

// deadAddr is where no server listens: the discard port, which no test
// binds. A port found free a moment earlier (freeAddr) could be taken
// meanwhile by a listener of a test running in parallel, which would
// then answer, or hang, in the dead server's place.
const deadAddr = "127.0.0.1:9"

// filesDir is the absolute path of the corpus's fixture files.
func filesDir(t *testing.T) string {
	d, err := filepath.Abs(filepath.Join(testdataDir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func dialTCP(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, time.Second) }

func waitListening(addr string) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := dialTCP(addr); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// settleLogs returns the log messages received until none came for a
// while, without their syslog header.
func settleLogs(rx *syslogUDP, quiet time.Duration) []string {
	var out []string
	for {
		select {
		case l := <-rx.lines:
			// Keep the priority (facility and level), drop the date,
			// host and tag.
			pri, _, _ := strings.Cut(l, ">")
			if _, msg, ok := strings.Cut(l, "]: "); ok {
				l = pri + "> " + msg
			}
			out = append(out, strings.TrimRight(l, "\n"))
		case <-time.After(quiet):
			return out
		}
	}
}
