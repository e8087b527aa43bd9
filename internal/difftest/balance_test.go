package difftest

// balanceFeatCases check that balance hash <expr> sends each request or
// connection to the server haproxy picks: the sample is hashed as binary
// (an integer as 8 bytes), and a request without one goes round robin. In
// mode tcp the payload is already on its way to the server when one is
// chosen, so req.payload finds nothing there: round robin again.
var balanceFeatCases = []featCase{
	{name: "balance hash: an expression in mode http and in mode tcp", cfg: `frontend f
 bind %BIND
 capture request header x-k len 10
 log-format "%ST %b/%s %hr"
 default_backend b
backend b
 balance hash req.hdr(x-k),lower
 hash-type consistent
 server s1 %SRV
 server s2 %SRV
 server s3 %SRV
 server s4 %SRV
listen t
 mode tcp
 bind %BIND2
 log-format "tcp %b/%s"
 tcp-request inspect-delay 1s
 tcp-request content accept if { req.len ge 12 }
 balance hash req.payload(4,8)
 server s1 %SRV
 server s2 %SRV weight 5
 server s3 %SRV
listen n
 bind %BIND3
 log-format "%ST %b/%s"
 balance hash req.hdr_cnt(x-k)
 server s1 %SRV
 server s2 %SRV
 server s3 %SRV
`, conns: []l7Case{
		{raw: get("/a", "X-K: alpha")},
		{raw: get("/a", "X-K: ALPHA")},
		{raw: get("/a", "X-K: beta")},
		{raw: get("/a", "X-K: gamma")},
		{raw: get("/a", "X-K: delta")},
		{raw: get("/a", "X-K: epsilon")},
		{raw: get("/b")},
		{raw: get("/b")},
		{raw: get("/b")},
		{raw: get("/a", "X-K: beta") + get("/a", "X-K: delta"), reqs: 2},
		{raw: get("/one"), to: "2"},
		{raw: get("/two"), to: "2"},
		{raw: get("/three"), to: "2"},
		{raw: get("/four"), to: "2"},
		{raw: get("/five"), to: "2"},
		{raw: get("/a"), to: "3"},
		{raw: get("/a", "X-K: 1"), to: "3"},
		{raw: get("/a", "X-K: 1", "X-K: 2"), to: "3"},
		{raw: get("/a", "X-K: 1", "X-K: 2", "X-K: 3"), to: "3"},
	}},
}

func init() {
	featCases = append(featCases, balanceFeatCases...)
}

// caseAdjustFeatCases check h1-case-adjust: the names it lists go to
// servers and clients in its case when the proxies ask for it, the
// headers Sluice adds and its own replies included; a name written in
// upper case in the map never matches.
var caseAdjustFeatCases = []featCase{
	{name: "h1-case-adjust with bogus-client and bogus-server", cfg: `global
 h1-case-adjust content-length Content-Length
 h1-case-adjust x-foo X-Foo
 h1-case-adjust x-forwarded-for X-Forwarded-For
 h1-case-adjust host HOST
 h1-case-adjust connection Connection
 h1-case-adjust X-Bar X-BAR
 h1-case-adjust content-type Content-TYPE
 h1-case-adjust x-resp X-RESP
 h1-case-adjust x-trailer X-Trailer
frontend f
 bind %BIND
 log-format "%ST %b/%s"
 option h1-case-adjust-bogus-client
 http-request return status 200 content-type text/plain string hi hdr x-foo y if { path /r }
 http-request deny if { path /d }
 http-response set-header X-Resp 1
 default_backend b
backend b
 option h1-case-adjust-bogus-server
 option forwardfor
 option http-server-close
 server s1 %SRV
listen plain
 bind %BIND2
 log-format "%ST %b/%s"
 http-response set-header X-Resp 1
 server s1 %SRV
`, conns: []l7Case{
		{raw: "POST /x HTTP/1.1\r\nHost: a\r\nX-FOO: 1\r\nContent-Length: 2\r\nx-bar: 2\r\n\r\nhi"},
		{raw: get("/r")},
		{raw: get("/d")},
		{raw: "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Trailer: t\r\nx-other: o\r\n\r\n"},
		{raw: "POST /x HTTP/1.1\r\nHost: a\r\nX-FOO: 1\r\nContent-Length: 2\r\n\r\nhi", to: "2"},
	}},
}

func init() {
	featCases = append(featCases, caseAdjustFeatCases...)
}

// logasapFeatCases check option logasap: an http transaction logs when
// its response comes, a tcp stream when its server connects, with %B,
// %Tt and %Ta marked '+' on every line of the frontend, the lines written
// at the end (denied, no server) included, and no second line.
var logasapFeatCases = []featCase{
	{name: "option logasap in mode http and mode tcp", cfg: `frontend f
 bind %BIND
 option logasap
 capture response header content-length len 8
 log-format "%ST %b/%s T[%Tt %Ta %Td] %B %U %ts %bc/%sc %hs"
 http-request deny if { path /d }
 use_backend dead if { path /dead }
 http-response set-header X-Added yes
 default_backend b
backend b
 server s1 %SRV
backend dead
 server s1 %DEAD
listen t
 mode tcp
 bind %BIND2
 option logasap
 log-format "tcp %b/%s T[%Tt] %B %U %ts %bc/%sc"
 server s1 %SRV
frontend plain
 bind %BIND3
 log-format "%ST %b/%s T[%Tt %Ta %Td] %B %U %ts"
 default_backend b
`, conns: []l7Case{
		{raw: get("/a")},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello"},
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: get("/d")},
		{raw: get("/dead")},
		{raw: get("/a"), to: "2"},
		{raw: get("/a"), to: "3"},
	}, mask: []string{`T\[(\+?)\d+ (\+?)\d+ (-?)\d+\]`, `T[${1}N ${2}N ${3}N]`, `T\[(\+?)\d+\]`, `T[${1}N]`}},
	{name: "option logasap with dontlog-normal and log-separate-errors", cfg: `frontend f
 bind %BIND
 option logasap
 option dontlog-normal
 option log-separate-errors
 log-format "%ST %b/%s %B %ts"
 http-request set-var(txn.p) path
 http-response set-status 503 if { var(txn.p) -m str /e }
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a")},
		{raw: get("/e")},
		{raw: get("/a") + get("/e"), reqs: 2},
	}},
}

func init() {
	featCases = append(featCases, logasapFeatCases...)
}

// postParamFeatCases check balance url_param on POST bodies: a POST whose
// query string lacks the parameter is balanced on its body, as HAProxy
// 2.6 does with or without check_post; a body that is not url-encoded,
// or lacks the parameter, goes round robin.
var postParamFeatCases = []featCase{
	{name: "balance url_param: POST bodies", cfg: `frontend f
 bind %BIND
 log-format "%ST %b/%s %{+Q}r"
 default_backend b
backend b
 balance url_param user check_post
 server s1 %SRV
 server s2 %SRV
 server s3 %SRV
 server s4 %SRV
listen l
 bind %BIND2
 log-format "%ST %b/%s %{+Q}r"
 balance url_param user
 hash-type consistent
 server s1 %SRV
 server s2 %SRV
 server s3 %SRV
`, conns: []l7Case{
		{raw: postCL("/p", "user=alice&x=1")},
		{raw: postCL("/p", "x=1&user=bob")},
		{raw: postCL("/p", "x=1&user=carol&z")},
		{raw: postCL("/p?user=dave", "user=alice")},
		{raw: postCL("/p", "nothing=here")},
		{raw: postCL("/p", "nothing=here")},
		{raw: postCL("/p", "user==odd")},
		{raw: postCL("/p", "user= spaced")},
		{raw: postCL("/p", "user=")},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nuser=\r\n5\r\nerin&\r\n0\r\n\r\n"},
		{raw: get("/g?user=alice")},
		{raw: get("/g")},
		{raw: postCL("/p", "user=alice&x=1"), to: "2"},
		{raw: postCL("/p", "user=frank"), to: "2"},
		{raw: postCL("/p", "user=grace", "expect: 100-continue"), to: "2"},
	}},
}

func init() {
	featCases = append(featCases, postParamFeatCases...)
}
