package engine

import (
	"bytes"
	"crypto/subtle"

	"sluice/internal/config"
	"sluice/internal/crypt"
	"sluice/internal/h1"
)

// userlists answers http_auth and http_auth_group from the
// configuration's userlist sections (auth.c check_user).
type userlists map[string]*config.Userlist

func newUserlists(cfg *config.Config) userlists {
	out := userlists{}
	for _, ul := range cfg.Userlists {
		out[ul.Name] = ul
	}
	return out
}

// Check compares an insecure-password as it is, and a password through
// crypt(3), as HAProxy does.
func (u userlists) Check(list, user, pass string) bool {
	usr := u.user(list, user)
	if usr == nil {
		return false
	}
	if usr.Insecure {
		return subtle.ConstantTimeCompare([]byte(pass), []byte(usr.Password)) == 1
	}
	return crypt.Verify(pass, usr.Password)
}

func (u userlists) InGroup(list, user, group string) bool {
	usr := u.user(list, user)
	return usr != nil && usr.InGroup(group)
}

func (u userlists) user(list, user string) *config.User {
	ul := u[list]
	if ul == nil {
		return nil
	}
	return ul.User(user)
}

// withAuthenticate rewrites the 401 page an http-request auth rule sends
// (wire, whose head ends with the connection header HAProxy's H1 layer
// appends when connHdr is set): every WWW-Authenticate header is removed
// and one with the rule's realm added last, before that connection
// header, as http_action_auth does.
//
// hdr is the header's name: www-authenticate, or proxy-authenticate for
// a 407 (option http-use-proxy-header on a proxied request).
func withAuthenticate(wire []byte, connHdr bool, realm, hdr string) []byte {
	end := bytes.Index(wire, []byte("\r\n\r\n"))
	if end < 0 {
		return wire
	}
	lines := bytes.Split(wire[:end], []byte("\r\n"))
	out := make([]byte, 0, len(wire)+len(realm)+40)
	out = append(out, lines[0]...)
	out = append(out, "\r\n"...)
	hdrs := lines[1:]
	var last []byte
	if connHdr && len(hdrs) > 0 {
		last, hdrs = hdrs[len(hdrs)-1], hdrs[:len(hdrs)-1]
	}
	for _, l := range hdrs {
		name, _, _ := bytes.Cut(l, []byte(":"))
		if h1.EqualFold(bytes.TrimSpace(name), hdr) {
			continue
		}
		out = append(append(out, l...), "\r\n"...)
	}
	out = append(out, hdr...)
	out = append(out, `: Basic realm="`...)
	out = append(out, realm...)
	out = append(out, "\"\r\n"...)
	if last != nil {
		out = append(append(out, last...), "\r\n"...)
	}
	return append(out, wire[end+2:]...)
}
