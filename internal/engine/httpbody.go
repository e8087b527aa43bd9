package engine

import (
	"errors"
	"io"
	"time"

	"sluice/internal/h1"
)

// bodyWriter gathers what goes to one side (a head, chunk-size lines,
// small pieces of body) so that it leaves in few writes.
type bodyWriter struct {
	dst     *hconn // nil: what is written is dropped
	buf     []byte
	timeout time.Duration
	// peerTimeout, when set, is how long dst may stay silent once it
	// was last written to while the body's source is waited for: timeout
	// server for a request body. While the server has not answered,
	// HAProxy lets that timeout alone govern the wait for the client
	// (process_stream cancels the client's read timeout when the
	// server's is set) and refreshes it on every write to the server.
	// lastSent is that last write.
	peerTimeout time.Duration
	lastSent    time.Time
	total       int64 // bytes written to c
	// htx counts the body as HAProxy's %B and %U do (h1.HTXSize): its
	// data, and its trailers with their end.
	htx int64
	// caseMap spells the trailers' names for dst (h1-case-adjust).
	caseMap h1.CaseMap
}

// flushAt is how much is gathered before writing.
const flushAt = 8192

func (w *bodyWriter) flush() error { return w.flushing(false) }

// flushThenFill is flush for a message whose answer comes next: the
// destination reads its first bytes as it waits (hconn.sendThenFill).
func (w *bodyWriter) flushThenFill() error { return w.flushing(true) }

func (w *bodyWriter) flushing(answerNext bool) error {
	if len(w.buf) == 0 {
		return nil
	}
	var n int
	var err error
	if answerNext && w.dst != nil {
		n, err = w.dst.sendThenFill(w.buf, w.timeout)
	} else {
		n, err = w.send(w.buf)
	}
	w.sent(n)
	w.buf = w.buf[:0]
	if err != nil {
		return &sideError{server: false, err: err}
	}
	return nil
}

// sent counts n bytes written to dst.
func (w *bodyWriter) sent(n int) {
	w.total += int64(n)
	if n > 0 && w.peerTimeout > 0 {
		w.lastSent = time.Now()
	}
}

// errPeerTimeout: the body's destination stayed silent for its
// peerTimeout while the source was waited for.
var errPeerTimeout = errors.New("no answer from the destination while the body was waited for")

// fillBody reads more of a body from src for w, waiting at most
// readTimeout, or, when w's destination has a peerTimeout and was
// written to, as long as that destination may stay silent.
func fillBody(src *hconn, w *bodyWriter, readTimeout time.Duration) error {
	if w.peerTimeout > 0 && !w.lastSent.IsZero() {
		_, err := src.fill(w.lastSent.Add(w.peerTimeout))
		if err != nil && isTimeout(err) {
			return errPeerTimeout
		}
		return err
	}
	_, err := src.fill(deadline(time.Now(), readTimeout))
	return err
}

func (w *bodyWriter) send(b []byte) (int, error) {
	if w.dst == nil {
		return len(b), nil
	}
	return w.dst.send(b, w.timeout)
}

// write queues body bytes, writing large pieces straight through.
func (w *bodyWriter) write(p []byte) error {
	if len(w.buf)+len(p) <= flushAt {
		w.buf = append(w.buf, p...)
		return nil
	}
	if err := w.flush(); err != nil {
		return err
	}
	n, err := w.send(p)
	w.sent(n)
	if err != nil {
		return &sideError{err: err}
	}
	return nil
}

// copyBody relays a message body framed as h says from src to w, then
// flushes w (which may hold the head before the body). fromServer says
// which side src is, so that an error names the right one: a sideError's
// server flag is set for errors on the server connection whichever
// direction it was.
func copyBody(src *hconn, w *bodyWriter, h *h1.Head, readTimeout time.Duration, fromServer bool) error {
	err := relayBody(src, w, h, readTimeout)
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		var se *sideError
		if errors.As(err, &se) {
			// Write errors were made on w's side.
			se.server = !fromServer
		} else {
			err = &sideError{server: fromServer, err: err}
		}
	}
	return err
}

func relayBody(src *hconn, w *bodyWriter, h *h1.Head, readTimeout time.Duration) error {
	switch h.Framing {
	case h1.Length:
		return relayLength(src, w, h.ContentLength, readTimeout)
	case h1.Chunked:
		return relayChunked(src, w, readTimeout)
	case h1.UntilClose:
		for {
			if p := src.pending(); len(p) > 0 {
				if err := w.write(p); err != nil {
					return err
				}
				w.htx += int64(len(p))
				src.consume(len(p))
			}
			if err := w.flush(); err != nil {
				return err
			}
			if err := fillBody(src, w, readTimeout); err != nil {
				if errors.Is(err, io.EOF) {
					src.eof = true
					return nil
				}
				return err
			}
		}
	}
	return nil
}

// relayLength moves exactly n bytes.
func relayLength(src *hconn, w *bodyWriter, n int64, readTimeout time.Duration) error {
	for n > 0 {
		p := src.pending()
		if int64(len(p)) > n {
			p = p[:n]
		}
		if len(p) > 0 {
			if err := w.write(p); err != nil {
				return err
			}
			src.consume(len(p))
			w.htx += int64(len(p))
			n -= int64(len(p))
			continue
		}
		if err := w.flush(); err != nil {
			return err
		}
		if err := fillBody(src, w, readTimeout); err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

var crlf = []byte("\r\n")

// chunkState is where a chunked body's decoding stands between reads.
type chunkState struct {
	rem     int64 // data bytes left in the current chunk
	needEnd bool  // the CRLF after a chunk's data comes next
}

// decodeChunks decodes the chunks buf holds from st on, writing their
// data to w, or only counting it in *total when w is nil. It returns how
// much of buf it consumed and last once the zero-size chunk's line is
// consumed; it stops without an error where buf ends.
func decodeChunks(buf []byte, st *chunkState, w *bodyWriter, total *int64) (n int, last bool, err error) {
	for {
		switch {
		case st.rem > 0:
			if n == len(buf) {
				return n, false, nil
			}
			k := int(min(int64(len(buf)-n), st.rem))
			if w != nil {
				if err := w.write(buf[n : n+k]); err != nil {
					return n, false, err
				}
				w.htx += int64(k)
			} else if total != nil {
				*total += int64(k)
			}
			n += k
			st.rem -= int64(k)
			st.needEnd = st.rem == 0
		case st.needEnd:
			m, err := h1.ParseChunkEnd(buf[n:])
			if errors.Is(err, h1.ErrIncomplete) {
				return n, false, nil
			}
			if err != nil {
				return n, false, err
			}
			n += m
			st.needEnd = false
		default:
			size, m, err := h1.ParseChunkSize(buf[n:])
			if errors.Is(err, h1.ErrIncomplete) {
				return n, false, nil
			}
			if err != nil {
				return n, false, err
			}
			n += m
			if size == 0 {
				return n, true, nil
			}
			st.rem = size
		}
	}
}

// checkChunks reports a malformed chunked body among the bytes already
// received after a request head: HAProxy parses them before it picks a
// server, and answers 400 without connecting.
func checkChunks(buf []byte) error {
	var st chunkState
	n, last, err := decodeChunks(buf, &st, nil, nil)
	if err != nil || !last {
		return err
	}
	var fields []h1.Field
	if _, err := h1.ParseTrailers(buf[n:], &fields, h1.Limits{}); !errors.Is(err, h1.ErrIncomplete) {
		return err
	}
	return nil
}

// relayChunked decodes the chunked body and writes it chunked again
// as HAProxy does: the data of every chunk at hand when it writes
// becomes one chunk, without extensions, and the trailers' names go in
// lower case.
func relayChunked(src *hconn, w *bodyWriter, readTimeout time.Duration) error {
	var st chunkState
	var line [20]byte
	for {
		buf := src.pending()
		var total int64
		probe := st
		decodeChunks(buf, &probe, nil, &total)
		if total > 0 {
			w.buf = append(w.buf, h1.AppendChunkSize(line[:0], int(total))...)
		}
		n, last, err := decodeChunks(buf, &st, w, nil)
		if total > 0 && err == nil {
			w.buf = append(w.buf, crlf...)
		}
		src.consume(n)
		if err != nil {
			return err
		}
		if last {
			return relayTrailers(src, w, readTimeout)
		}
		if err := src.more(w, readTimeout); err != nil {
			return err
		}
	}
}

func relayTrailers(src *hconn, w *bodyWriter, readTimeout time.Duration) error {
	var fields []h1.Field
	for {
		fields = fields[:0]
		n, err := h1.ParseTrailers(src.pending(), &fields, h1.Limits{})
		if errors.Is(err, h1.ErrIncomplete) {
			if err := src.more(w, readTimeout); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		w.buf = h1.AppendTrailers(w.buf, fields, w.caseMap)
		w.htx += h1.TrailersHTXSize(fields)
		src.consume(n)
		return nil
	}
}

// more flushes what is gathered, then reads more from src. A chunk
// size line or trailer that does not fit in the buffer is a malformed
// body, as in HAProxy (400 for a request).
func (h *hconn) more(w *bodyWriter, readTimeout time.Duration) error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := fillBody(h, w, readTimeout); err != nil {
		switch {
		case errors.Is(err, io.EOF):
			return io.ErrUnexpectedEOF
		case errors.Is(err, errBufferFull):
			return &h1.Error{Status: 400, Msg: "chunk line or trailers larger than the buffer"}
		}
		return err
	}
	return nil
}
