package engine

import (
	"bytes"
	"fmt"
	"strings"

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
		case "maxidle", "maxlife", "dynamic":
			return nil, fmt.Errorf("%s:%d: cookie '%s' is not supported yet by Sluice", d.Pos.File, d.Pos.Line, a[i])
		default:
			return nil, fmt.Errorf("%s:%d: cookie: unknown option '%s'", d.Pos.File, d.Pos.Line, a[i])
		}
	}
	return pc, nil
}

// cookieServer reads the request's persistence cookie: the server it
// names (nil when none or unknown) and the %tsc state. With indirect
// (insert mode) or prefix, the cookie is removed or unprefixed before the
// server sees it.
func (s *stream) cookieServer(t *httpTxn) (*server, logfmt.CookieState) {
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
			}
			if srv := s.be.serverByCookie(string(id)); srv != nil {
				found = srv
				state = logfmt.CookieValid
				if !s.be.serverUsable(srv) && !s.be.cfg.Opt("persist") {
					found, state = nil, logfmt.CookieDown
				}
			} else if state == logfmt.CookieNone {
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
	switch pc.mode {
	case "insert":
		if t.cookieState == logfmt.CookieValid && t.cookieSrv == srv {
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
		if pc.nocache {
			res.Add([]byte("cache-control"), []byte(`private`))
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
		if state != logfmt.SetCookieNone && pc.nocache {
			res.Add([]byte("cache-control"), []byte(`private`))
		}
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
