package sample

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// Userlists checks HTTP Basic credentials against the configuration's
// userlist sections, for http_auth and http_auth_group.
type Userlists interface {
	// Check reports whether user exists in list with password pass.
	Check(list, user, pass string) bool
	// InGroup reports whether user of list belongs to group.
	InGroup(list, user, group string) bool
}

func init() {
	eval("http_auth", Bool, 1, 1, nil, func(c *Ctx, a []Arg, v *Value) bool {
		user, pass, ok := basicAuth(c)
		if !ok || c.Env == nil || c.Env.Userlists == nil {
			return false
		}
		return setBool(v, c.Env.Userlists.Check(a[0].Str, user, pass))
	})
	// http_auth_group gives the user's name when its credentials are
	// valid; its ACL matches the user's groups (HAProxy's pat_match_auth).
	eval("http_auth_group", Str, 1, 1, nil, func(c *Ctx, a []Arg, v *Value) bool {
		user, pass, ok := basicAuth(c)
		if !ok || c.Env == nil || c.Env.Userlists == nil || !c.Env.Userlists.Check(a[0].Str, user, pass) {
			return false
		}
		return setStr(c, v, user)
	})
}

// basicAuth reads the request's Basic credentials as HAProxy's
// get_http_auth does: the first value of Authorization (Proxy-Authorization
// when Ctx.ProxyAuth), a scheme that
// "Basic" starts with (compared case-insensitively over the scheme's
// length), one or more spaces, then base64 of user:pass, both read as C
// strings (up to a NUL).
func basicAuth(c *Ctx) (user, pass string, ok bool) {
	if c.Req == nil {
		return "", "", false
	}
	var cur hdrCursor
	name := "authorization"
	if c.ProxyAuth {
		name = "proxy-authorization"
	}
	val, found := nextHdr(c.Req, name, false, &cur)
	if !found {
		return "", "", false
	}
	sp := bytes.IndexByte(val, ' ')
	if sp <= 0 || !strings.HasPrefix("basic", strings.ToLower(string(val[:sp]))) {
		return "", "", false
	}
	data := bytes.TrimLeft(val[sp:], " ")
	if len(data)%4 != 0 || len(data) == 0 {
		return "", "", false
	}
	dec, err := base64.StdEncoding.DecodeString(string(data))
	if err != nil {
		return "", "", false
	}
	if i := bytes.IndexByte(dec, 0); i >= 0 {
		dec = dec[:i]
	}
	u, p, found := strings.Cut(string(dec), ":")
	if !found {
		return "", "", false
	}
	return u, p, true
}
