package engine

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"sluice/internal/config"
	"sluice/internal/h1"
	"sluice/internal/logfmt"
)

// persistCookie is a backend's `cookie` persistence.
type persistCookie struct {
	name     string
	mode     string // insert, rewrite or prefix
	indirect bool
	nocache  bool
	postonly bool
	preserve bool
	httponly bool
	secure   bool
	domains  []string
	attrs    []string
	// maxIdle and maxLife, in seconds (0: not set), make an inserted
	// cookie carry its last-seen and first-seen dates.
	maxIdle, maxLife int64
}

func newPersistCookie(p *config.Proxy) (*persistCookie, error) {
	d := p.Cookie
	if d == nil || len(d.Args) == 0 {
		return nil, nil
	}
	pc := &persistCookie{name: d.Args[0], mode: "rewrite"}
	a := d.Args[1:]
	for i := 0; i < len(a); i++ {
		switch a[i] {
		case "insert", "rewrite", "prefix":
			pc.mode = a[i]
		case "indirect":
			pc.indirect = true
		case "nocache":
			pc.nocache = true
		case "postonly":
			pc.postonly = true
		case "preserve":
			pc.preserve = true
		case "httponly":
			pc.httponly = true
		case "secure":
			pc.secure = true
		case "domain", "attr":
			if i+1 >= len(a) {
				return nil, fmt.Errorf("%s:%d: cookie '%s' expects an argument", d.Pos.File, d.Pos.Line, a[i])
			}
			i++
			if a[i-1] == "domain" {
				pc.domains = append(pc.domains, a[i])
			} else {
				pc.attrs = append(pc.attrs, a[i])
			}
		case "maxidle", "maxlife":
			if i+1 >= len(a) {
				return nil, fmt.Errorf("%s:%d: cookie '%s' expects an argument", d.Pos.File, d.Pos.Line, a[i])
			}
			i++
			age, err := config.CookieAge(a[i])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: cookie '%s': %w", d.Pos.File, d.Pos.Line, a[i-1], err)
			}
			if a[i-1] == "maxidle" {
				pc.maxIdle = int64(age / time.Second)
			} else {
				pc.maxLife = int64(age / time.Second)
			}
		case "dynamic":
			return nil, fmt.Errorf("%s:%d: cookie '%s' is not supported yet by Sluice", d.Pos.File, d.Pos.Line, a[i])
		default:
			return nil, fmt.Errorf("%s:%d: cookie: unknown option '%s'", d.Pos.File, d.Pos.Line, a[i])
		}
	}
	return pc, nil
}

// cookieServer reads the request's persistence cookie: the server it
// names (nil when none, unknown, or down without option persist or a
// force-persist rule) and the %tsc state. With indirect (insert mode) or
// prefix, the cookie is removed or unprefixed before the server sees it.
// When skip is set (a use-server rule chose the server, or an
// ignore-persist rule matched), the cookie names no server: HAProxy
// logs it unused.
func (s *stream) cookieServer(t *httpTxn, skip, force bool) (*server, logfmt.CookieState) {
	pc := s.be.cookie
	state := logfmt.CookieNone
	var found *server
	h := &t.req
	for i := 0; i < len(h.Fields); i++ {
		f := &h.Fields[i]
		if !h1.EqualFold(f.Name, "cookie") {
			continue
		}
		var kept []byte
		changed := false
		for _, part := range bytes.Split(f.Value, []byte(";")) {
			p := bytes.TrimSpace(part)
			name, val, ok := bytes.Cut(p, []byte("="))
			if !ok || string(bytes.TrimSpace(name)) != pc.name {
				kept = appendCookie(kept, p)
				continue
			}
			val = bytes.TrimSpace(val)
			id := val
			rest := []byte(nil)
			if pc.mode == "prefix" {
				if k := bytes.IndexByte(val, '~'); k >= 0 {
					id, rest = val[:k], val[k+1:]
				}
			} else if k := bytes.IndexByte(val, '|'); k >= 0 {
				id = val[:k]
				t.cookieLast, t.cookieFirst = cookieDates(val[k+1:])
				if st := pc.aged(t, time.Now().Unix()); st != logfmt.CookieNone {
					// Too old or idle too long: as if there were no
					// cookie, and the dates are forgotten.
					state, id = st, nil
					t.cookieLast, t.cookieFirst = 0, 0
				}
			}
			// An expired cookie (id nil) names no server.
			var srv *server
			if !skip {
				srv = s.be.serverByCookie(string(id))
			}
			switch {
			case srv != nil && s.be.mayPersist(srv, force):
				found, state = srv, logfmt.CookieValid
				if !s.be.serverUsable(srv) {
					state = logfmt.CookieDown // followed all the same
				}
			case srv != nil:
				state = logfmt.CookieDown
			case state == logfmt.CookieNone && skip:
				state = logfmt.CookieUnused
			case state == logfmt.CookieNone:
				state = logfmt.CookieInvalid
			}
			switch {
			case pc.mode == "prefix" && rest != nil:
				kept = appendCookie(kept, append(append(append([]byte(nil), name...), '='), rest...))
				changed = true
			case pc.indirect && pc.mode == "insert", pc.mode == "prefix":
				changed = true // the server never sees Sluice's cookie
			default:
				kept = appendCookie(kept, p)
			}
		}
		if changed {
			if len(kept) == 0 {
				h.Fields = append(h.Fields[:i], h.Fields[i+1:]...)
				i--
				continue
			}
			start := len(t.arena)
			t.arena = append(t.arena, kept...)
			f.Value = t.arenaFrom(start)
		}
	}
	return found, state
}

func appendCookie(dst, c []byte) []byte {
	if len(dst) > 0 {
		dst = append(dst, "; "...)
	}
	return append(dst, c...)
}

func (b *backend) serverByCookie(v string) *server {
	if v == "" {
		return nil
	}
	for _, s := range b.servers {
		if s.cfg.Params.Cookie == v {
			return s
		}
	}
	return nil
}

// serverUsable: up (by checks) and not in maintenance.
func (b *backend) serverUsable(s *server) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return s.opUp && !s.maint
}

// setCookie applies the backend's cookie mode to the response from srv:
// insert adds Set-Cookie when the request did not already carry this
// server's cookie, rewrite replaces the value of the server's own cookie,
// prefix prepends the server's id to it.
func (s *stream) setCookie(t *httpTxn, res *h1.Head) logfmt.SetCookieState {
	pc := s.be.cookie
	srv := s.srv
	if srv == nil || srv.cfg.Params.Cookie == "" {
		return logfmt.SetCookieNone
	}
	id := srv.cfg.Params.Cookie
	if t.persist == persistIgnore {
		return logfmt.SetCookieNone
	}
	switch pc.mode {
	case "insert":
		now := time.Now().Unix()
		// HAProxy's SF_DIRECT: a cookie or a use-server rule chose srv.
		direct := t.direct && t.assigned == srv
		if direct && !pc.refresh(t, now) {
			return logfmt.SetCookieNone
		}
		if pc.postonly && string(t.req.Method()) != "POST" {
			return logfmt.SetCookieNone
		}
		if pc.preserve && s.hasServerCookie(res) {
			return logfmt.SetCookiePassive
		}
		start := len(t.arena)
		t.arena = append(t.arena, pc.name...)
		t.arena = append(t.arena, '=')
		t.arena = append(t.arena, id...)
		if pc.maxIdle > 0 || pc.maxLife > 0 {
			// HAProxy's dates: seconds since the epoch in 4-second
			// steps, rounded up, as 5 base64 characters.
			t.arena = append(t.arena, '|')
			t.arena = appendS30(t.arena, (now+3)>>2)
			if pc.maxLife > 0 {
				first := (now + 3) >> 2
				if t.cookieFirst != 0 {
					first = t.cookieFirst >> 2
				}
				t.arena = append(t.arena, '|')
				t.arena = appendS30(t.arena, first)
			}
		}
		t.arena = append(t.arena, "; path=/"...)
		for _, d := range pc.domains {
			t.arena = append(t.arena, "; domain="...)
			t.arena = append(t.arena, d...)
		}
		if pc.httponly {
			t.arena = append(t.arena, "; HttpOnly"...)
		}
		if pc.secure {
			t.arena = append(t.arena, "; Secure"...)
		}
		for _, a := range pc.attrs {
			t.arena = append(t.arena, "; "...)
			t.arena = append(t.arena, a...)
		}
		res.Add([]byte("set-cookie"), t.arenaFrom(start))
		if pc.nocache && cacheable(&t.req, res) {
			res.Add([]byte("cache-control"), []byte(`private`))
		}
		if direct {
			return logfmt.SetCookieUpdated // only the dates changed
		}
		return logfmt.SetCookieInserted
	case "rewrite", "prefix":
		state := logfmt.SetCookieNone
		for i := range res.Fields {
			f := &res.Fields[i]
			if !h1.EqualFold(f.Name, "set-cookie") {
				continue
			}
			name, val, ok := bytes.Cut(f.Value, []byte("="))
			if !ok || string(bytes.TrimSpace(name)) != pc.name {
				continue
			}
			start := len(t.arena)
			t.arena = append(t.arena, name...)
			t.arena = append(t.arena, '=')
			t.arena = append(t.arena, id...)
			if pc.mode == "prefix" {
				t.arena = append(t.arena, '~')
				t.arena = append(t.arena, val...)
			} else if k := bytes.IndexByte(val, ';'); k >= 0 {
				t.arena = append(t.arena, val[k:]...)
			}
			f.Value = t.arenaFrom(start)
			state = logfmt.SetCookieRewritten
		}
		// nocache only acts where a cookie is inserted: haproxy 2.6 adds
		// nothing to a rewritten or prefixed one, cacheable or not.
		return state
	}
	return logfmt.SetCookieNone
}

func (s *stream) hasServerCookie(res *h1.Head) bool {
	for i := res.Lookup("set-cookie", 0); i >= 0; i = res.Lookup("set-cookie", i+1) {
		if strings.HasPrefix(string(res.Fields[i].Value), s.be.cookie.name+"=") {
			return true
		}
	}
	return false
}

// aged says whether the request's cookie dates put it past maxlife
// (CookieOld) or maxidle (CookieExpired), as HAProxy checks them: a date
// more than a day in the future counts as expired too.
func (pc *persistCookie) aged(t *httpTxn, now int64) logfmt.CookieState {
	switch {
	case t.cookieFirst != 0 && pc.maxLife > 0 && (now-t.cookieFirst > pc.maxLife || t.cookieFirst-now > 86400):
		return logfmt.CookieOld
	case t.cookieLast != 0 && pc.maxIdle > 0 && (now-t.cookieLast > pc.maxIdle || t.cookieLast-now > 86400):
		return logfmt.CookieExpired
	}
	return logfmt.CookieNone
}

// refresh says whether a valid cookie must be set again: its last-seen
// date is due (maxidle, or a date to drop), or its first-seen date is
// missing (maxlife) or no longer wanted.
func (pc *persistCookie) refresh(t *httpTxn, now int64) bool {
	return (pc.maxIdle > 0 || t.cookieLast != 0) && (t.cookieLast == 0 || t.cookieLast-now < 0) ||
		pc.maxLife > 0 && t.cookieFirst == 0 ||
		pc.maxLife == 0 && t.cookieFirst != 0
}

// cookieDates reads "LAST[|FIRST]" after a cookie's server id: each a
// 30-bit count of 4-second steps as 5 base64 characters (HAProxy's
// s30tob64); a date that does not decode is left at zero.
func cookieDates(b []byte) (last, first int64) {
	if len(b) >= 5 {
		if v := b64toS30(b[:5]); v > 0 {
			last = v << 2
		}
	}
	if k := bytes.IndexByte(b, '|'); k >= 0 && len(b)-k > 5 {
		if v := b64toS30(b[k+1 : k+6]); v > 0 {
			first = v << 2
		}
	}
	return last, first
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// appendS30 writes the low 30 bits of v as 5 base64 characters.
func appendS30(dst []byte, v int64) []byte {
	for i := 0; i < 5; i++ {
		dst = append(dst, base64Chars[(v>>24)&0x3f])
		v <<= 6
	}
	return dst
}

// b64toS30 reads 5 base64 characters; -1 when one is not base64.
func b64toS30(b []byte) int64 {
	var v int64
	for _, c := range b[:5] {
		k := strings.IndexByte(base64Chars, c)
		if k < 0 {
			return -1
		}
		v = v<<6 | int64(k)
	}
	return v
}

// cacheable is HAProxy 2.6's judgement of whether a shared cache could
// store the response (TX_CACHEABLE), which `cookie ... nocache` turns off
// with "Cache-Control: private" when it inserts a cookie: a request by a
// safe method (the request's own Authorization or Cache-Control do not
// count there, as haproxy shows), and a response of at least 200 whose
// Cache-Control and Pragma allow it and which has freshness information
// (max-age, s-maxage, Expires) or a validator (ETag, Last-Modified) (RFC
// 7234 section 3); "Cache-Control: public" makes any response cacheable.
func cacheable(req, res *h1.Head) bool {
	ok := false
	switch string(req.Method()) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		ok = true
	}
	if res.Status() < 200 {
		return false
	}
	fresh, validator := false, false
	for _, f := range res.Fields {
		switch {
		case h1.EqualFold(f.Name, "pragma"):
			if h1.EqualFold(f.Value, "no-cache") {
				return false
			}
		case h1.EqualFold(f.Name, "cache-control"):
			eachValue(f.Value, func(v []byte) {
				switch {
				case h1.EqualFold(v, "public"):
					ok = true
				case h1.EqualFold(v, "private"), h1.EqualFold(v, "no-cache"), h1.EqualFold(v, "no-store"),
					h1.EqualFold(v, "max-age=0"), h1.EqualFold(v, "s-maxage=0"):
					ok = false
				case hasPrefixFold(v, "no-cache=\"set-cookie"):
				case hasPrefixFold(v, "s-maxage"), hasPrefixFold(v, "max-age"):
					fresh = true
				}
			})
		case h1.EqualFold(f.Name, "expires"):
			fresh = true
		case h1.EqualFold(f.Name, "etag"), h1.EqualFold(f.Name, "last-modified"):
			validator = true
		}
	}
	return ok && (fresh || validator)
}

// eachValue calls fn with each comma-separated value of a header field,
// without surrounding blanks.
func eachValue(v []byte, fn func([]byte)) {
	for len(v) > 0 {
		k := h1.ValueEnd(v)
		fn(bytes.TrimSpace(v[:k]))
		if k >= len(v) {
			return
		}
		v = v[k+1:]
	}
}

func hasPrefixFold(v []byte, p string) bool {
	return len(v) >= len(p) && h1.EqualFold(v[:len(p)], p)
}
