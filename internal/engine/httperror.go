package engine

import (
	"strconv"

	"sluice/internal/logfmt"
)

// builtinPages are HAProxy 2.6's error bodies for the statuses the HTTP
// engine generates itself.
var builtinPages = map[int][2]string{
	400: {"Bad request", "Your browser sent an invalid request."},
	401: {"Unauthorized", "You need a valid user and password to access this content."},
	403: {"Forbidden", "Request forbidden by administrative rules."},
	404: {"Not Found", "The resource could not be found."},
	405: {"Method Not Allowed", "A request was made of a resource using a request method not supported by that resource"},
	410: {"Gone", "The resource is no longer available and will not be available again."},
	413: {"Payload Too Large", "The request entity exceeds the maximum allowed."},
	425: {"Too Early", "Your browser sent early data."},
	429: {"Too Many Requests", "You have sent too many requests in a given amount of time."},
	501: {"Not Implemented", ".The server does not support the functionality required to fulfill the request."},
	408: {"Request Time-out", "Your browser didn't send a complete request in time."},
	422: {"Unprocessable Content", "The server cannot process the contained instructions."},
	500: {"Internal Server Error", "An internal server error occurred."},
	502: {"Bad Gateway", "The server returned an invalid or incomplete response."},
	503: {"Service Unavailable", "No server is available to handle this request."},
	504: {"Gateway Time-out", "The server didn't respond in time."},
}

// errorPage builds the response for status, closing the connection.
func errorPage(dst []byte, status int) []byte {
	p := builtinPages[status]
	body := "<html><body><h1>" + strconv.Itoa(status) + " " + p[0] + "</h1>\n" + p[1] + "\n</body></html>\n"
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, p[0]...)
	dst = append(dst, "\r\ncontent-length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n"...)
	return append(dst, body...)
}

// httpError answers the client with an error page, logs the transaction
// with the given termination state, and leaves the connection to be
// closed.
func (s *stream) httpError(cli *hconn, t *httpTxn, status int, cause logfmt.Cause, phase logfmt.Phase) {
	var b [512]byte
	page := errorPage(b[:0], status)
	n, _ := writeAll(cli.c, page, s.fe.cfg.Timeouts.Client)
	t.bytesOut += int64(n)
	t.status = status
	t.cause, t.phase = cause, phase
	if t.bytesIn == 0 {
		t.bytesIn = int64(len(cli.pending()))
	}
	s.logHTTP(t)
}
