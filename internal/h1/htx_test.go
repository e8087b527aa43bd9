package h1

import "testing"

// The sizes are what haproxy 2.6 logged as %U and %B for these messages
// (internal/difftest's byte-count case sends them through it).
func TestHTXSize(t *testing.T) {
	for _, c := range []struct {
		msg  string
		resp bool
		want int64
	}{
		{"GET / HTTP/1.1\r\nhost: a\r\n\r\n", false, 38},
		{"GET /3 HTTP/1.1\r\nhost: a\r\nConnection: close\r\n\r\n", false, 39},
		{"GET / HTTP/1.0\r\n\r\n", false, 33},
		{"GET /probe HTTP/1.1\r\nhost: probe\r\n\r\n", false, 47},
		{"POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n", false, 73},
		{"POST /c HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n", false, 64},
		{"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\n", true, 50},
		{"HTTP/1.1 204 No Content\r\n\r\n", true, 42},
		// Left out of what goes to the client, still counted.
		{"HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n", true, 57},
		{"HTTP/1.1 204 No Content\r\ntransfer-encoding: chunked\r\n\r\n", true, 66},
		{"HTTP/1.1 200\r\ncontent-length: 2\r\n\r\n", true, 47},
		{"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\ncontent-length: 2\r\n\r\n", true, 60},
		{"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", true, 51},
	} {
		var h Head
		var err error
		if c.resp {
			_, err = ParseResponse([]byte(c.msg), &h, false, Limits{})
		} else {
			_, err = ParseRequest([]byte(c.msg), &h, Limits{})
		}
		if err != nil {
			t.Fatalf("%q: %v", c.msg, err)
		}
		if got := h.HTXSize(); got != c.want {
			t.Errorf("%q: HTX size %d, want %d", c.msg, got, c.want)
		}
	}
}

func TestCleanConnLen(t *testing.T) {
	for v, want := range map[string]int{
		"close":              0,
		"keep-alive, close":  0,
		"close, X-Foo":       len("X-Foo"),
		"X-A, close ,X-B":    len("X-A,X-B"),
		"X-A, X-B":           len("X-A, X-B"),
		"X-A , close":        len("X-A "),
		"Upgrade":            len("Upgrade"),
		"keep-alive,Upgrade": len("Upgrade"),
	} {
		if got := cleanConnLen([]byte(v)); got != want {
			t.Errorf("%q: %d, want %d", v, got, want)
		}
	}
}

// The replies' sizes as haproxy logged them (%B): its 503 and 403 pages,
// a return and a redirect.
func TestReplyHTXSize(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want int64
	}{
		{"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n" +
			"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n", 217},
		{"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello", 76},
		{"HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /there\r\ncache-control: no-cache\r\n\r\n", 87},
		{"HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok", 49},
	} {
		if got := ReplyHTXSize([]byte(c.msg)); got != c.want {
			t.Errorf("%q: %d, want %d", c.msg, got, c.want)
		}
	}
}
