package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"sluice/internal/config"
	"sluice/internal/h1"
)

// An http-response return replaces the server's response: its log-format
// parts no longer see that response, the client connection stays open,
// and the log shows LH.
func TestHTTPResponseReturn(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ts %s"
 http-request set-var(txn.p) path
 default_backend be
backend be
 http-response return status 404 content-type text/plain lf-string "[%[status]|%[res.hdr(server)]|%[var(txn.p)]]" hdr X-P %[var(txn.p)] if { var(txn.p) -m str /r }
 server s %[echo]
`)
	resp := rawHTTP(t, addr, "GET /r HTTP/1.1\r\nHost: a\r\n\r\nGET /n HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	want := "HTTP/1.1 404 Not Found\r\nx-p: /r\r\ncontent-length: 6\r\ncontent-type: text/plain\r\n\r\n[||/r]HTTP/1.1 200 OK\r\n"
	if !strings.HasPrefix(resp, want) || !strings.Contains(resp, "GET /n\n") {
		t.Errorf("responses:\n%q\nwant them to start with\n%q", resp, want)
	}
	for _, want := range []string{"404 LH s", "200 -- s"} {
		if got := logMsg(rx.next(t)); got != want {
			t.Errorf("log %q, want %q", got, want)
		}
	}
}

// http-error pages with log-format parts are rendered per response; once
// the request went to a server, its samples are gone, as in HAProxy.
func TestHTTPErrorLogFormat(t *testing.T) {
	addr, _ := startL7(t, `frontend fe
 bind %[bind]
 http-error status 403 content-type text/plain lf-string "no %[path]" hdr X-Why %[req.hdr(x-why)] hdr X-None %[req.hdr(nope)]
 http-request deny if { path_beg /d }
 default_backend be
backend be
 http-error status 503 content-type text/plain lf-string "[%[path]|%b]"
 retries 0
 server s 127.0.0.1:1
`)
	resp := rawHTTP(t, addr, "GET /d/1 HTTP/1.1\r\nHost: a\r\nX-Why: w\r\nConnection: close\r\n\r\n")
	if want := "HTTP/1.1 403 Forbidden\r\nx-why: w\r\ncontent-length: 7\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nno /d/1"; resp != want {
		t.Errorf("deny:\n got %q\nwant %q", resp, want)
	}
	// No server answered: the request never left, its samples remain.
	resp = rawHTTP(t, addr, "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(resp, "HTTP/1.1 503 Service Unavailable\r\n") || !strings.HasSuffix(resp, "\r\n\r\n[/x|be]") {
		t.Errorf("503: %q", resp)
	}
}

// http-request reject closes without a word; silent-drop leaves the
// client with neither a response nor a FIN. Both log PR with status -1;
// http-response silent-drop keeps the server's status and no Tr.
func TestHTTPRejectAndSilentDrop(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %ts %s %TR %Tr"
 http-request set-var(txn.p) path
 http-request reject if { path /rej }
 http-request silent-drop if { path /sd }
 http-response silent-drop if { var(txn.p) -m str /rsd }
 default_backend be
backend be
 server s %[echo]
`)
	for _, tc := range []struct{ path, end, log string }{
		{"/rej", "EOF", "-1 PR <NOSRV> -1 -1"},
		{"/sd", "silence", "-1 PR <NOSRV> -1 -1"},
		{"/rsd", "silence", "200 PR s 0 -1"},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET "+tc.path+" HTTP/1.1\r\nHost: a\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, err := c.Read(make([]byte, 100))
		end := "silence" // a timeout, or a reset where TCP_REPAIR is not allowed
		if errors.Is(err, io.EOF) {
			end = "EOF"
		}
		c.Close()
		if n != 0 || end != tc.end {
			t.Errorf("%s: read %d bytes, then %v; want nothing, then %s", tc.path, n, err, tc.end)
		}
		if got := logMsg(rx.next(t)); got != tc.log {
			t.Errorf("%s: log %q, want %q", tc.path, got, tc.log)
		}
	}
}

// http-request auth answers HAProxy's 401 page with the realm (the
// proxy's name by default); http_auth and http_auth_group check
// insecure and crypt(3) passwords and groups.
func TestHTTPRequestAuth(t *testing.T) {
	addr, rx := startL7(t, `userlist L
 group admins users bob
 user alice insecure-password s3cret
 user bob password $5$saltsalt$zOFVkp0Kz29x0a6a4dSx8FZisA8Iwb0KzzvoRDFTN/8
frontend fe
 bind %[bind]
 log-format "%ST %ts"
 http-request auth realm "R 1" if { path /a } !{ http_auth(L) }
 http-request auth if { path /adm } !{ http_auth_group(L) admins }
 default_backend be
backend be
 server s %[echo]
`)
	const page = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n" +
		"www-authenticate: Basic realm=\"%s\"\r\nconnection: close\r\n\r\n" +
		"<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"
	for _, tc := range []struct{ path, auth, want, log string }{
		{"/a", "", fmt.Sprintf(page, "R 1"), "401 LR"},
		{"/a", "YWxpY2U6d3Jvbmc=", fmt.Sprintf(page, "R 1"), "401 LR"}, // alice:wrong
		{"/a", "YWxpY2U6czNjcmV0", "HTTP/1.1 200 OK", "200 --"},        // alice:s3cret
		{"/adm", "YWxpY2U6czNjcmV0", fmt.Sprintf(page, "fe"), "401 LR"},
		{"/adm", "Ym9iOnB3NQ==", "HTTP/1.1 200 OK", "200 --"}, // bob:pw5
	} {
		req := "GET " + tc.path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
		if tc.auth != "" {
			req += "Authorization: Basic " + tc.auth + "\r\n"
		}
		if resp := rawHTTP(t, addr, req+"\r\n"); !strings.HasPrefix(resp, tc.want) {
			t.Errorf("%s %s:\n got %q\nwant %q", tc.path, tc.auth, resp, tc.want)
		}
		if got := logMsg(rx.next(t)); got != tc.log {
			t.Errorf("%s %s: log %q, want %q", tc.path, tc.auth, got, tc.log)
		}
	}
}

// capture cookie logs the first request cookie and the first Set-Cookie
// whose "name=value" starts with the name, cut to the length, and drops
// the blanks around '=' in the headers forwarded.
func TestCaptureCookie(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%ST %CC %CS"
 capture cookie SID len 8
 http-request deny if { path /deny }
 default_backend be
backend be
 http-response add-header Set-Cookie "SIDE=12345678910; Path=/"
 server s %[echo]
`)
	resp := rawHTTP(t, addr, "GET /a HTTP/1.1\r\nHost: a\r\nCookie: x=1; SID = abcdefgh ; y\r\n\r\nGET /deny HTTP/1.1\r\nHost: a\r\nCookie: SID=d\r\nConnection: close\r\n\r\n")
	if !strings.Contains(resp, "cookie: x=1; SID=abcdefgh ; y\n") {
		t.Errorf("the server did not get the cookie without blanks around '=':\n%s", resp)
	}
	for _, want := range []string{"200 SID=abcd SIDE=123", "403 SID=d -"} {
		if got := logMsg(rx.next(t)); got != want {
			t.Errorf("log %q, want %q", got, want)
		}
	}
}

// FuzzCookieWalk: the cookie walker of capture cookie stays inside the
// header and moves forward, whatever the header holds.
func FuzzCookieWalk(f *testing.F) {
	f.Add("a=1; b = \"q;v\" ; $c=2, d", true)
	f.Add("SID = x ; Path=/", false)
	f.Add("=;=,\"", true)
	f.Fuzz(func(t *testing.T, v string, list bool) {
		b := []byte(v)
		last := -1
		walkCookies(b, list, func(c cookieSpan) bool {
			if !(last < c.att && c.att <= c.attEnd && c.attEnd <= c.eq && c.eq < c.vb+1 && c.vb <= c.ve && c.ve <= c.next && c.next <= len(b)) {
				t.Fatalf("%q: bad span %+v after %d", v, c, last)
			}
			last = c.next
			return true
		})
		tx := &httpTxn{}
		fields := []h1.Field{{Name: []byte("cookie"), Value: b}}
		stripCookieBlanks(tx, fields, "cookie", list)
		if len(fields[0].Value) > len(b) {
			t.Fatalf("%q grew to %q", v, fields[0].Value)
		}
		captureCookie(tx, fields, "cookie", &config.CookieCapture{Name: "a", Len: 3}, list)
	})
}

// set-log-level sets the syslog level of the request's log line, or
// drops it (silent); each request of a connection starts afresh.
func TestSetLogLevel(t *testing.T) {
	addr, rx := startL7(t, `frontend fe
 bind %[bind]
 log-format "%HP"
 http-request set-log-level err if { path /err }
 http-request set-log-level silent if { path /silent }
 default_backend be
backend be
 http-request set-var(txn.p) path
 http-response set-log-level notice if { var(txn.p) -m str /notice } { res.hdr(server) echo }
 server s %[echo]
`)
	rawHTTP(t, addr, "GET /err HTTP/1.1\r\nHost: a\r\n\r\nGET /silent HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /notice HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	for _, want := range []string{"<131>", "<134>", "<133>"} {
		if got := rx.next(t); !strings.HasPrefix(got, want) {
			t.Errorf("log %q, want priority %s", got, want)
		}
	}
}
