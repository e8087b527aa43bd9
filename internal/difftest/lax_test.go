package difftest

// laxFeatCases check option accept-invalid-http-request and
// accept-invalid-http-response against haproxy: what each lets through
// (8-bit bytes and '#' in the target, odd bytes in field names, version
// tokens, a target's authority other than Host) and how it is forwarded,
// next to a strict frontend and backend that refuse the same bytes.
var laxFeatCases = []featCase{
	{name: "accept-invalid-http-request and -response", cfg: `frontend strict
 bind %BIND
 log-format "strict %ST %b/%s %ts"
 default_backend b
frontend lax
 bind %BIND2
 option accept-invalid-http-request
 log-format "lax %ST %b/%s %ts %{+Q}r"
 use_backend blax if { path_beg /s/ }
 default_backend b
backend b
 server s1 %SRV
backend blax
 option accept-invalid-http-response
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET /a#frag HTTP/1.1\r\nhost: a\r\n\r\n"},
		{raw: "GET /a#frag HTTP/1.1\r\nhost: a\r\n\r\n", to: "2"},
		{raw: "GET /caf\xc3\xa9 HTTP/1.1\r\nhost: a\r\n\r\n", to: "2"},
		{raw: "GET /p HTTP/1.1\r\nhost: a\r\nX-T : v\r\nX(T: w\r\n\r\n"},
		{raw: "GET /p HTTP/1.1\r\nhost: a\r\nX-T : v\r\nX(T: w\r\nX\xffY: z\r\n\r\n", to: "2"},
		{raw: "GET /p HTTP/1.1\r\n X: v\r\nhost: a\r\n\r\n", to: "2"},
		{raw: "GET /p HTTP/1.1\r\nhost: a\r\n: v\r\n\r\n", to: "2"},
		{raw: "POST /p HTTP/1.1\r\nhost: a\r\nContent-Length : 5\r\n\r\nhello\r\n\r\n", reqs: 2, to: "2"},
		{raw: "GET /p HTTP/11\r\nhost: a\r\n\r\n"},
		{raw: "GET /p HTTP/11\r\nhost: a\r\n\r\n", to: "2"},
		{raw: "GET /p HTTP/1.X\r\nhost: a\r\n\r\n", to: "2"},
		{raw: "GET /p FOO\r\nhost: a\r\n\r\n", to: "2"},
		{raw: "GET /p HTTP/1.x\r\nhost: a\r\n\r\n", to: "2"},
		{raw: "GET http://other/x HTTP/1.1\r\nhost: a\r\n\r\n"},
		{raw: "GET http://other/x HTTP/1.1\r\nhost: a\r\n\r\n", to: "2"},
		{raw: "GET /a\x01b HTTP/1.1\r\nhost: a\r\n\r\n", to: "2"},
		{raw: get("/s/laxname")},
		{raw: get("/s/laxname"), to: "2"},
		{raw: get("/s/laxicy")},
		{raw: get("/s/laxicy"), to: "2"},
		{raw: get("/s/laxver"), to: "2"},
		{raw: get("/s/laxver8"), to: "2"},
		{raw: get("/s/laxbadstatus"), to: "2"},
	}},
}

func init() {
	for k, v := range map[string]string{
		"laxname":      "HTTP/1.1 200 OK\r\nX-T : v\r\nX(T: w\r\ncontent-length: 2\r\n\r\nok",
		"laxicy":       "ICY 200 OK\r\ncontent-length: 2\r\n\r\nok",
		"laxver":       "HTTP/11 200 OK\r\ncontent-length: 2\r\n\r\nok",
		"laxver8":      "HTTP/1.X 200 OK\r\ncontent-length: 2\r\n\r\nok",
		"laxbadstatus": "HTTP/1.1 2x0 OK\r\ncontent-length: 2\r\n\r\nok",
	} {
		l7Scripts[k] = v
	}
	featCases = append(featCases, laxFeatCases...)
}

// proxyHeaderFeatCases check option http-use-proxy-header: a request to
// a proxy (absolute target) is authenticated with Proxy-Authorization
// and answered 407 with Proxy-Authenticate; other requests, and every
// request without the option, use Authorization and 401.
var proxyHeaderFeatCases = []featCase{
	{name: "option http-use-proxy-header", cfg: `userlist users
 user alice insecure-password s3cret
frontend f
 bind %BIND
 option http-use-proxy-header
 log-format "%ST %ts %b/%s %{+Q}r"
 http-request auth realm px unless { http_auth(users) }
 default_backend b
frontend plain
 bind %BIND2
 log-format "plain %ST %ts %b/%s"
 http-request auth realm px unless { http_auth(users) }
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: "GET http://x/p HTTP/1.1\r\nhost: x\r\n\r\n"},
		{raw: "GET http://x/p HTTP/1.1\r\nhost: x\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"},
		{raw: "GET http://x/p HTTP/1.1\r\nhost: x\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"},
		{raw: "GET /p HTTP/1.1\r\nhost: x\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"},
		{raw: "GET /p HTTP/1.1\r\nhost: x\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n\r\n"},
		{raw: "GET http://x/p HTTP/1.1\r\nhost: x\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n", to: "2"},
		{raw: "GET http://x/p HTTP/1.1\r\nhost: x\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n\r\n", to: "2"},
	}},
}

func init() {
	featCases = append(featCases, proxyHeaderFeatCases...)
}

// setAddrFeatCases check set-src, set-src-port, set-dst and set-dst-port:
// in an http request they last for that request (the next one on the
// connection starts from the connection's addresses again), in a
// tcp-request connection rule for the whole connection, in mode tcp for
// the stream; logs, src ACLs and option forwardfor see the new values.
var setAddrFeatCases = []featCase{
	{name: "set-src, set-dst and their ports", cfg: `frontend f
 bind %BIND
 option forwardfor
 log-format "%ci:%cp %fi:%fp %{+Q}r %[src] %[dst_port]"
 http-request set-src hdr(x-real) if { hdr(x-real) -m found }
 http-request set-src-port int(77) if { hdr(x-port) -m found }
 http-request set-dst str(10.9.8.7) if { hdr(x-dst) -m found }
 http-request set-dst-port hdr(x-dport) if { hdr(x-dport) -m found }
 http-request deny if { src 10.0.0.0/8 }
 default_backend b
backend b
 server s1 %SRV
frontend c
 bind %BIND2
 log-format "conn %ci:%cp %fi:%fp %{+Q}r"
 tcp-request connection set-src ipv4(192.0.2.1)
 tcp-request connection set-dst-port int(8080)
 default_backend b
listen t
 mode tcp
 bind %BIND3
 log-format "tcp %ci:%cp %fi:%fp %b/%s"
 tcp-request content set-src ipv6(2001:db8::1)
 tcp-request content set-src-port int(70000)
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a", "x-real: 1.2.3.4", "x-port: 1") + get("/b") + get("/c", "x-real: ::1", "x-dst: 1", "x-dport: 99") + get("/d", "x-real: garbage") + get("/e", "x-dport: 70000"), reqs: 5},
		{raw: get("/f", "x-real: 10.1.1.1")},
		{raw: get("/a") + get("/b"), reqs: 2, to: "2"},
		{raw: get("/a"), to: "3"},
	}, mask: []string{`:\d{5}\b`, `:PORT`, ` \d{5}$`, ` PORT`}},
}

func init() {
	featCases = append(featCases, setAddrFeatCases...)
}

// emptyCondFeatCases check conditions HAProxy accepts with nothing in
// them: 'if' alone never holds, 'unless' alone always does, and a stray
// 'or' or '!' is passed over.
var emptyCondFeatCases = []featCase{
	{name: "empty and ragged conditions", cfg: `frontend f
 bind %BIND
 log-format "%ST %b/%s"
 http-request deny if
 http-request set-header x-a 1 if or TRUE
 http-request set-header x-b 1 if FALSE or
 http-request set-header x-c 1 if TRUE or or FALSE
 http-request set-header x-d 1 if !
 use_backend nowhere if
 default_backend b
backend b
 server s1 %SRV
backend nowhere
 server s1 %DEAD
frontend u
 bind %BIND2
 log-format "u %ST %b/%s"
 http-request deny unless
 default_backend b
`, conns: []l7Case{
		{raw: get("/a")},
		{raw: get("/a"), to: "2"},
	}},
}

func init() {
	featCases = append(featCases, emptyCondFeatCases...)
}
