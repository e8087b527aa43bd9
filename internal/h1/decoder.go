package h1

// ChunkedDecoder reads a chunked body (RFC 9112 section 7.1) from
// successive buffers without copying: each call to Next hands back the
// data bytes found in the buffer as a slice of it, and says how much of
// the buffer it has used. The zero value is ready for a new body; Reset
// makes a used one ready again.
type ChunkedDecoder struct {
	// Limits bound the trailer section.
	Limits Limits
	// Trailers holds the trailer fields once Next reports done. They
	// point into the buffer given to that call.
	Trailers []Field
	// Size is the body's decoded length so far.
	Size int64

	left  int64 // data bytes left in the current chunk
	state uint8
}

const (
	decSize     uint8 = iota // expecting a chunk-size line
	decData                  // inside a chunk's data
	decDataEnd               // expecting the CRLF after a chunk's data
	decTrailers              // expecting the trailer section
	decDone
)

// Reset readies d for a new body, keeping the trailer list's memory.
func (d *ChunkedDecoder) Reset() {
	*d = ChunkedDecoder{Limits: d.Limits, Trailers: d.Trailers[:0]}
}

// Next decodes from the start of buf. It returns the data it found
// (a slice of buf, at most one chunk's worth, nil when none), the number
// of bytes of buf it used (the data included), and done once the last
// chunk and the trailers have been read. When it can make no progress
// without more input it returns ErrIncomplete with consumed == 0: keep
// buf[consumed:] in front of the next read and call again. A malformed
// body gives an *Error and the decoder must not be used again.
func (d *ChunkedDecoder) Next(buf []byte) (data []byte, consumed int, done bool, err error) {
	for {
		switch d.state {
		case decSize:
			size, n, err := ParseChunkSize(buf[consumed:])
			if err != nil {
				return d.stop(consumed, err)
			}
			consumed += n
			if size == 0 {
				d.state = decTrailers
				continue
			}
			d.left, d.state = size, decData
		case decData:
			avail := int64(len(buf) - consumed)
			if avail == 0 {
				return d.stop(consumed, ErrIncomplete)
			}
			take := min(avail, d.left)
			data = buf[consumed : consumed+int(take)]
			consumed += int(take)
			d.left -= take
			d.Size += take
			if d.left == 0 {
				d.state = decDataEnd
			}
			return data, consumed, false, nil
		case decDataEnd:
			n, err := ParseChunkEnd(buf[consumed:])
			if err != nil {
				return d.stop(consumed, err)
			}
			consumed += n
			d.state = decSize
		case decTrailers:
			d.Trailers = d.Trailers[:0]
			n, err := ParseTrailers(buf[consumed:], &d.Trailers, d.Limits)
			if err != nil {
				d.Trailers = d.Trailers[:0]
				return d.stop(consumed, err)
			}
			d.state = decDone
			return nil, consumed + n, true, nil
		default:
			return nil, consumed, true, nil
		}
	}
}

// stop reports what was used before a line that is incomplete (err is
// then nil unless nothing was used) or malformed.
func (d *ChunkedDecoder) stop(consumed int, err error) ([]byte, int, bool, error) {
	if err == ErrIncomplete && consumed > 0 {
		return nil, consumed, false, nil
	}
	return nil, consumed, false, err
}
