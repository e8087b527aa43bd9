package lb

import (
	"bytes"
	"strings"

	"sluice/internal/h1"
)

// KeyFunc is the "hash-type" hashing applied to a request's balance input
// (uri, url_param, hdr): the function (sdbm by default) and whether the
// result goes through FullHash ("avalanche"; implied by "hash-type
// consistent" without a function).
type KeyFunc struct {
	Func      HashFunc
	Avalanche bool
}

func (f KeyFunc) hash(b []byte) uint32 { return GenHash(f.Func, b, f.Avalanche) }

// URIOptions are the parameters of "balance uri".
type URIOptions struct {
	// Len hashes at most that many characters of the URI; 0: no limit.
	Len int
	// Depth stops the hash before the (Depth+1)-th slash; 0: no limit.
	Depth int
	// Whole keeps the query string (by default the hash stops at '?').
	Whole bool
	// PathOnly starts at the path of an absolute URI, skipping the scheme
	// and authority, so that HTTP/1 and HTTP/2 forms hash alike.
	PathOnly bool
}

// URIKey computes the hash "balance uri" picks a server with, as HAProxy's
// get_server_uh(): the URI (or its path with PathOnly) up to the '?'
// unless Whole, cut at Len characters and before the (Depth+1)-th '/'.
func URIKey(uri []byte, o URIOptions, f KeyFunc) uint32 {
	if o.PathOnly {
		uri = uriPath(uri)
	}
	if o.Len > 0 && o.Len < len(uri) {
		uri = uri[:o.Len]
	}
	slashes, end := 0, 0
	for ; end < len(uri); end++ {
		c := uri[end]
		if c == '/' {
			slashes++
			// HAProxy stores depth+1 and compares it to the slash count;
			// depth 0 (unset) never matches.
			if o.Depth > 0 && slashes == o.Depth+1 {
				break
			}
		} else if c == '?' && !o.Whole {
			break
		}
	}
	return f.hash(uri[:end])
}

// uriPath mirrors http_parse_path() on a request target, as 2.6 does for
// "balance uri path-only": an origin form is kept whole; "*" and an
// authority form (no "scheme://") have no path; an absolute URI yields
// what follows its authority, from the first '/', or nothing.
func uriPath(uri []byte) []byte {
	if len(uri) == 0 || uri[0] == '*' {
		return nil
	}
	if uri[0] == '/' {
		return uri
	}
	if !isAlpha(uri[0]) {
		return nil // authority form: no scheme is found
	}
	i := 1
	for i < len(uri) && (isAlpha(uri[i]) || isDigit(uri[i]) || uri[i] == '+' || uri[i] == '-' || uri[i] == '.') {
		i++
	}
	if !bytes.HasPrefix(uri[i:], []byte("://")) {
		return nil
	}
	rest := uri[i+3:]
	if j := bytes.IndexByte(rest, '/'); j >= 0 {
		return rest[j:]
	}
	return nil
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// URLParamKey computes the hash "balance url_param name" picks a server
// with, as HAProxy's get_server_ph(): the value of the first "name=" in
// the query string (after the first '?'), up to the next '&'. ok is false
// when the query string has no such parameter: the caller then falls back
// to round robin (Hashed.PickNext). The name is compared case-sensitively
// and an empty value still hashes.
func URLParamKey(uri []byte, name string, f KeyFunc) (key uint32, ok bool) {
	q := bytes.IndexByte(uri, '?')
	if q < 0 {
		return 0, false
	}
	params := uri[q+1:]
	plen := len(name)
	for len(params) > plen {
		if params[plen] == '=' && string(params[:plen]) == name {
			v := params[plen+1:]
			if e := bytes.IndexByte(v, '&'); e >= 0 {
				v = v[:e]
			}
			return f.hash(v), true
		}
		e := bytes.IndexByte(params, '&')
		if e < 0 {
			return 0, false
		}
		params = params[e+1:]
	}
	return 0, false
}

// PostParamKey is URLParamKey for the body of a POST whose query string
// lacks the parameter, as HAProxy's get_server_ph_post() reads it: the
// value of the first "name=" up to the next '&'. Its first byte decides
// whether the body is url-encoded, as in HAProxy (which tests that byte
// for every byte of the value): a token character hashes the value, a
// space, tab, CR or LF hashes nothing (an empty value), anything else
// means the body holds no parameters (ok false).
func PostParamKey(body []byte, name string, f KeyFunc) (key uint32, ok bool) {
	plen := len(name)
	for len(body) > plen {
		if body[plen] == '=' && string(body[:plen]) == name {
			v := body[plen+1:]
			end := 0
			for end < len(v) && v[end] != '&' {
				if c := v[0]; !tokenChar(c) {
					if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
						break
					}
					return 0, false
				}
				end++
			}
			return f.hash(v[:end]), true
		}
		e := bytes.IndexByte(body, '&')
		if e < 0 {
			return 0, false
		}
		body = body[e+1:]
	}
	return 0, false
}

// tokenChar is RFC 9110's tchar, HAProxy's HTTP_IS_TOKEN.
func tokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c != 0 && strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// HdrKey computes the hash "balance hdr(name)" picks a server with, as
// HAProxy's get_server_hh(), from value, the whole value of the first
// header field with that name: its first comma-separated element (commas
// inside double quotes do not separate), trimmed of spaces and tabs. ok is
// false when that element is empty: the caller falls back to round robin.
// With domainOnly ("use_domain_only") only the label before the last dot
// is hashed ("1wt" for "haproxy.1wt.eu"), or the whole element when it has
// no dot.
func HdrKey(value []byte, domainOnly bool, f KeyFunc) (key uint32, ok bool) {
	v := firstElement(value)
	if len(v) == 0 {
		return 0, false
	}
	if !domainOnly {
		return f.hash(v), true
	}
	return f.hash(domainPart(v)), true
}

// firstElement mirrors http_find_header() without "full": leading LWS is
// skipped, the value ends at the first unquoted comma
// (http_find_hdr_value_end), and trailing LWS is dropped.
func firstElement(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	v = v[:h1.ValueEnd(v)]
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// domainPart is get_server_hh()'s use_domain_only scan, done with indexes
// where HAProxy walks a pointer back from one past the end: the part
// between the last dot and the dot before it. Quirks kept: without any dot
// the whole value is hashed, and the first byte is never looked at (".org"
// hashes whole). One is not: HAProxy 2.6 starts by reading the byte after
// the value. It is the next header's name when another header follows,
// but after the last header HAProxy keeps (Connection is removed) it is
// whatever an earlier request left in the recycled buffer; when that
// happens to be a '.', HAProxy hashes the last label instead ("org" for
// "x.example.org"). Sluice always behaves as when it is not a dot.
func domainPart(v []byte) []byte {
	p, n := len(v), len(v)
	end := p
	dohash := false
	for n > 0 {
		if dohash {
			if v[p-1] == '.' {
				break
			}
		} else if p < len(v) && v[p] == '.' {
			end = p
			dohash = true
		}
		p--
		n--
	}
	return v[p:end]
}
