package engine

import (
	"fmt"
	"strconv"
)

// redirect is a compiled redirect rule (http-request redirect, or the
// legacy `redirect` keyword whose value is text).
type redirect struct {
	kind                                string // location, prefix, scheme
	dropQuery, appendSlash, ignoreEmpty bool
	// cookie is the Set-Cookie value set-cookie or clear-cookie built.
	cookie []byte
}

// compileRedirect reads the arguments in any order, as HAProxy's
// http_parse_redirect_rule; the last set-cookie or clear-cookie wins.
func (hr *httpRule) compileRedirect(a []string, literal bool) error {
	hr.status = 302
	for i := 0; i < len(a); i++ {
		switch w := a[i]; w {
		case "location", "prefix", "scheme", "code", "set-cookie", "clear-cookie":
			if i+1 >= len(a) {
				return fmt.Errorf("missing argument for '%s'", w)
			}
			i++
			v := a[i]
			switch w {
			case "code":
				n, err := strconv.Atoi(v)
				if err != nil || (n != 301 && n != 302 && n != 303 && n != 307 && n != 308) {
					return fmt.Errorf("'code': unsupported HTTP code '%s'", v)
				}
				hr.status = n
			case "set-cookie":
				hr.redir.cookie = append([]byte(v), "; path=/;"...)
			case "clear-cookie":
				hr.redir.cookie = append([]byte(v), "; path=/; Max-Age=0;"...)
			default:
				hr.redir.kind = w
				if literal {
					hr.val = &valueFmt{lit: []byte(v)}
				} else {
					var err error
					if hr.val, err = compileValue(v); err != nil {
						return err
					}
				}
			}
		case "drop-query":
			hr.redir.dropQuery = true
		case "append-slash":
			hr.redir.appendSlash = true
		case "ignore-empty":
			hr.redir.ignoreEmpty = true
		default:
			return fmt.Errorf("unknown redirect option '%s'", w)
		}
	}
	if hr.redir.kind == "" {
		return fmt.Errorf("redirection type expected ('prefix', 'location', or 'scheme')")
	}
	return nil
}

// redirectPath is HAProxy's http_get_path of the request target: from the
// path of an origin-form or absolute-form target to its end, query
// included unless drop-query; "/" when the target has no path.
func redirectPath(u []byte, dropQuery bool) []byte {
	p := u
	if len(u) == 0 || u[0] != '/' {
		p = nil
		if i := indexString(u, "://"); i > 0 {
			rest := u[i+3:]
			if j := indexByte(rest, '/'); j >= 0 {
				p = rest[j:]
			}
		}
	}
	if p == nil {
		return []byte("/")
	}
	if dropQuery {
		if q := indexByte(p, '?'); q >= 0 {
			p = p[:q]
		}
	}
	return p
}

func indexString(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

// redirectLocation builds the Location as HAProxy's
// http_apply_redirect_rule: scheme "://" Host path, or prefix and path (a
// prefix of "/" adds nothing), or the location itself; append-slash adds
// a '/' to a scheme or prefix location that does not end with one, after
// the query if there is one, as HAProxy does.
func (s *stream) redirectLocation(t *httpTxn, r *httpRule) []byte {
	v := r.val.render(nil, s)
	var loc []byte
	switch r.redir.kind {
	case "location":
		return v
	case "prefix":
		if string(v) != "/" {
			loc = append(loc, v...)
		}
		loc = append(loc, redirectPath(t.req.URI(), r.redir.dropQuery)...)
	case "scheme":
		loc = append(loc, v...)
		loc = append(loc, "://"...)
		loc = append(loc, t.req.Get("host")...)
		loc = append(loc, redirectPath(t.req.URI(), r.redir.dropQuery)...)
	}
	if r.redir.appendSlash && len(loc) > 0 && loc[len(loc)-1] != '/' {
		loc = append(loc, '/')
	}
	return loc
}

// redirectResponse is the redirect's answer: an empty body, Location,
// Cache-Control for temporary codes, then the rule's cookie.
func (s *stream) redirectResponse(t *httpTxn, r *httpRule, keep bool) []byte {
	loc := s.redirectLocation(t, r)
	t.status = r.status
	b := appendStatusLine(nil, r.status, redirectReason(r.status))
	b = append(b, "content-length: 0\r\nlocation: "...)
	b = append(b, loc...)
	b = append(b, "\r\n"...)
	if r.status == 302 || r.status == 303 || r.status == 307 {
		// A temporary redirect must not be cached (HAProxy adds this).
		b = append(b, "cache-control: no-cache\r\n"...)
	}
	if r.redir.cookie != nil {
		b = append(b, "set-cookie: "...)
		b = append(b, r.redir.cookie...)
		b = append(b, "\r\n"...)
	}
	b = appendConnHeader(b, t, keep)
	return append(b, "\r\n"...)
}
