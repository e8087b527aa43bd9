package engine

import (
	"strconv"

	"sluice/internal/logfmt"
)

// builtinPages are HAProxy 2.6's error bodies for the statuses the HTTP
// engine generates itself.
var builtinPages = map[int][2]string{
	400: {"Bad request", "Your browser sent an invalid request."},
	403: {"Forbidden", "Request forbidden by administrative rules."},
	408: {"Request Time-out", "Your browser didn't send a complete request in time."},
	422: {"Unprocessable Content", "The server cannot process the contained instructions."},
	500: {"Internal Server Error", "An internal server error occurred."},
	502: {"Bad Gateway", "The server returned an invalid or incomplete response."},
	503: {"Service Unavailable", "No server is available to handle this request."},
	504: {"Gateway Time-out", "The server didn't respond in time."},
}

// muxPage reports whether HAProxy's H1 multiplexer sends status itself,
// before a stream exists (a request it cannot parse, or one that never
// came): it then copies http_err_msgs[] verbatim, with mixed-case names
// and, but for 422, "Connection: close". Every other page goes through
// HTX and leaves with lower-case names and the Connection header the
// client connection's fate calls for.
func muxPage(status int) bool { return status == 400 || status == 408 || status == 422 }

// errorPage builds the response for status. conn is the Connection
// header's value for a page that goes through HTX (nil: none).
func errorPage(dst []byte, status int, conn []byte) []byte {
	p := builtinPages[status]
	body := "<html><body><h1>" + strconv.Itoa(status) + " " + p[0] + "</h1>\n" + p[1] + "\n</body></html>\n"
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, p[0]...)
	if muxPage(status) {
		dst = append(dst, "\r\nContent-length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\nCache-Control: no-cache\r\n"...)
		if status != 422 {
			dst = append(dst, "Connection: close\r\n"...)
		}
		dst = append(dst, "Content-Type: text/html\r\n\r\n"...)
		return append(dst, body...)
	}
	dst = append(dst, "\r\ncontent-length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n"...)
	if conn != nil {
		dst = append(dst, "connection: "...)
		dst = append(dst, conn...)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}

// httpError answers the client with an error page, logs the transaction
// with the given termination state, and leaves the connection to be
// closed.
func (s *stream) httpError(cli *hconn, t *httpTxn, status int, cause logfmt.Cause, phase logfmt.Phase) {
	s.sendError(cli, t, status, cause, phase, false)
}

// httpErrorKeep answers with an error page after which the client
// connection may stay open, as HAProxy keeps it after a 502 or 504 once
// the request was wholly received. It says what becomes of it.
func (s *stream) httpErrorKeep(cli *hconn, t *httpTxn, status int, cause logfmt.Cause, phase logfmt.Phase) outcome {
	keep := s.clientWantsKeepAlive(t)
	s.sendError(cli, t, status, cause, phase, keep)
	if keep {
		return keepOpen
	}
	return closeConn
}

func (s *stream) sendError(cli *hconn, t *httpTxn, status int, cause logfmt.Cause, phase logfmt.Phase, keep bool) {
	var b [512]byte
	page := errorPage(b[:0], status, resConnValue(keep, true, t.req.Is11()))
	n, _ := writeAll(cli.c, page, s.fe.cfg.Timeouts.Client)
	t.bytesOut += int64(n)
	t.status = status
	t.cause, t.phase = cause, phase
	if t.bytesIn == 0 {
		t.bytesIn = int64(len(cli.pending()))
	}
	s.logHTTP(t)
}
