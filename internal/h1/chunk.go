package h1

// MaxChunkSize is the largest chunk size accepted: HAProxy stops at 13
// hex digits of value (2^52 - 1), "to never feed possibly bogus values to
// languages that use floats for their integers". Leading zeros do not
// count.
const MaxChunkSize = 1<<52 - 1

// ParseChunkSize reads a chunk-size line (RFC 9112 section 7.1) at the
// start of buf: hex digits, optional whitespace and extensions (which
// Sluice drops, as HAProxy does), CRLF or a bare LF. It returns the size
// and the line's length, or ErrIncomplete, or an *Error for a malformed
// line: a request smuggled through a size two parsers read differently is
// refused, not guessed. As in HAProxy's h1_parse_chunk_size, an extension
// may hold any byte but CR and LF.
func ParseChunkSize(buf []byte) (size int64, n int, err error) {
	i := 0
	for i < len(buf) && hexVal(buf[i]) >= 0 {
		size = size<<4 | int64(hexVal(buf[i]))
		if size > MaxChunkSize {
			return 0, 0, bad(i, "chunk size too large")
		}
		i++
	}
	if i == len(buf) {
		return 0, 0, ErrIncomplete
	}
	if i == 0 {
		return 0, 0, bad(0, "invalid chunk size")
	}
	// BWS before extensions, then ";..." up to the line end.
	for i < len(buf) && isSPHT(buf[i]) {
		i++
	}
	for i < len(buf) && buf[i] == ';' {
		for i < len(buf) && buf[i] != '\r' && buf[i] != '\n' {
			i++
		}
	}
	n, err = endOfLine(buf, i)
	if err != nil {
		return 0, 0, err
	}
	return size, n, nil
}

// ParseChunkEnd reads the CRLF that ends a chunk's data.
func ParseChunkEnd(buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, ErrIncomplete
	}
	return endOfLine(buf, 0)
}

// ParseTrailers reads the trailer section after the last chunk, up to and
// including the empty line, appending its fields to fields.
func ParseTrailers(buf []byte, fields *[]Field, lim Limits) (int, error) {
	return parseFields(buf, 0, fields, limit(lim), false)
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// AppendChunkSize writes a chunk-size line for n bytes of data, in upper
// case hexadecimal as HAProxy writes it.
func AppendChunkSize(dst []byte, n int) []byte {
	const hex = "0123456789ABCDEF"
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = hex[n&15]
		n >>= 4
		if n == 0 {
			break
		}
	}
	dst = append(dst, b[i:]...)
	return append(dst, "\r\n"...)
}

// AppendTrailers writes the last chunk and the trailers (names in lower
// case, or as cm spells them), ending the chunked body.
func AppendTrailers(dst []byte, fields []Field, cm CaseMap) []byte {
	dst = append(dst, "0\r\n"...)
	return appendFields(dst, fields, cm)
}

// ChunkedPrefix walks the chunks at the start of a chunked body as far as
// buf and max allow, as HAProxy's parser turns them into data: it returns
// the data bytes met (appended to dst when collect is set), how many that
// is, and what the chunk it stopped in still has to come (0 when it
// stopped between chunks). A malformed line ends the walk.
func ChunkedPrefix(dst, buf []byte, max int64, collect bool) (out []byte, data, chunkLeft int64) {
	for data < max {
		size, n, err := ParseChunkSize(buf)
		if err != nil || size == 0 {
			break
		}
		buf = buf[n:]
		take := min(size, int64(len(buf)), max-data)
		if collect {
			dst = append(dst, buf[:take]...)
		}
		data += take
		if take < size {
			return dst, data, size - take
		}
		buf = buf[size:]
		n, err = ParseChunkEnd(buf)
		if err != nil {
			break
		}
		buf = buf[n:]
	}
	return dst, data, 0
}
