package difftest

import (
	"strconv"
	"strings"
)

// postCL is a request with a Content-Length body.
func postCL(path, body string, hdrs ...string) string {
	return "POST " + path + " HTTP/1.1\r\nhost: a\r\ncontent-length: " + strconv.Itoa(len(body)) + "\r\n" + joinHdrs(hdrs) + "\r\n" + body
}

// bodyShow answers with what the body fetches see.
const bodyShow = ` http-request return status 200 content-type text/plain lf-string "len=%[req.body_len] size=%[req.body_size] p=%[req.body_param(a)] b=%[req.body]" if { path /show }
`

// bodyFeatCases check option http-buffer-request, http-request
// wait-for-body and the req.body fetches against haproxy: what the
// fetches see (de-chunked, capped by the buffer), routing on the body,
// the 408 when the body does not come in time, and the 100 Continue
// Sluice sends itself when it waits for a body.
var bodyFeatCases = []featCase{
	{name: "body: option http-buffer-request in the frontend", cfg: `frontend f
 bind %BIND
 option http-buffer-request
 log-format "%ST %b/%s %ts %U %B {%[var(txn.l)]}"
 http-request set-var(txn.l) req.body_len
` + bodyShow + ` use_backend b2 if { req.body -m sub foo }
 use_backend b2 if { req.body_param(user) -m str admin }
 default_backend b
backend b
 server s1 %SRV
backend b2
 http-request set-header x-b2 yes
 server s1 %SRV
`, conns: []l7Case{
		{raw: postCL("/show", "a=1&b=2")},
		{raw: postCL("/show", "zzz&b=1")},
		{raw: postCL("/show", "b=1&a")},
		{raw: postCL("/show", "A=9&x=1;a=5&a=6")},
		{raw: get("/show")},
		{raw: "POST /show HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n3\r\na=1\r\n4\r\n&b=2\r\n0\r\nx-t: y\r\n\r\n"},
		{raw: postCL("/fwd", "it is foo")},
		{raw: postCL("/fwd", "user=bob&user=admin")},
		{raw: postCL("/fwd", "user=bob")},
		{raw: postCL("/show", "a=1&b=2", "expect: 100-continue"), reqs: 1},
		{raw: postCL("/fwd", "plain", "Expect: 100-continue")},
		{raw: "POST /show HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\na=1&"},
		{raw: postCL("/show", strings.Repeat("x", 100000))},
		{raw: postCL("/fwd", strings.Repeat("y", 40000))},
	}, mask: []string{`b=x{1000,}`, `b=LONG`}},
	{name: "body: wait-for-body, and the option in a backend", cfg: `frontend f
 bind %BIND
 log-format "%ST %b/%s %ts %U %B"
 http-request wait-for-body time 500ms at-least 5 if { path_beg /w }
` + bodyShow + ` http-request return status 200 content-type text/plain lf-string "w len=%[req.body_len]" if { path /w }
 default_backend b
backend b
 option http-buffer-request
 timeout http-request 700ms
 http-request return status 200 content-type text/plain lf-string "be len=%[req.body_len] size=%[req.body_size]" if { path /be }
 server s1 %SRV
`, conns: []l7Case{
		{raw: "POST /w HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\na=1&"},
		{raw: "POST /w HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\na=1&b="},
		{raw: postCL("/w", "a=1&b=2")},
		{raw: postCL("/be", "a=1&b=2")},
		{raw: "POST /be HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\na=1&"},
		{raw: "POST /show HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\na=1&", reqs: -1},
	}},
}

func init() {
	featCases = append(featCases, bodyFeatCases...)
}

// resBodyFeatCases check the response body fetches in http-response
// rules: what came of the body with the head, de-chunked.
var resBodyFeatCases = []featCase{
	{name: "body: res.body, res.body_len, res.body_size", cfg: `frontend f
 bind %BIND
 log-format "%ST %b/%s"
 http-response set-header x-len %[res.body_len]
 http-response set-header x-size %[res.body_size]
 http-response set-header x-body %[res.body]
 http-response deny if { res.body -m sub req=2 }
 http-response deny if { res.body -m sub until }
 default_backend b
backend b
 server s1 %SRV
`, conns: []l7Case{
		{raw: get("/a")},
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: get("/s/chunked")},
		{raw: get("/s/noclen")},
		{raw: get("/s/noclen") + get("/c"), reqs: 2},
	}},
}

func init() {
	featCases = append(featCases, resBodyFeatCases...)
}
