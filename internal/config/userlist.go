package config

import (
	"errors"
	"strings"

	"sluice/internal/crypt"
)

// Userlists (cfgparse.c cfg_parse_users, auth.c userlist_postinit): users
// with a crypt(3) or clear-text password and their groups, for the
// http_auth and http_auth_group fetches.

// userlistHeader opens a `userlist <name>` section. A second section of
// the same name is ignored with HAProxy's warning, its lines with it.
func (l *loader) userlistHeader(c *ctx) {
	name := c.arg(1)
	if c.arg(2) != "" {
		c.placeAlertf("'%s' cannot handle unexpected argument '%s'.", c.arg(0), c.arg(2))
		l.sec = secNone
		return
	}
	if ch, ok := validProxyName(name); !ok {
		c.tightAlertf("character '%c' is not permitted in '%s' name '%s'.", ch, c.arg(0), name)
		l.sec = secNone
		return
	}
	for _, u := range l.cfg.Userlists {
		if u.Name == name {
			c.tightWarnf("ignoring duplicated userlist '%s'.", name)
			l.sec = secNone
			return
		}
	}
	l.userlist = &Userlist{Pos: c.pos, Name: name}
	l.cfg.Userlists = append(l.cfg.Userlists, l.userlist)
}

// parseUserlistGroup is `group <name> [users <user>,...]`.
func parseUserlistGroup(c *ctx) {
	ul, name := c.l.userlist, c.arg(1)
	if name == "" {
		c.tightAlertf("'%s' expects <name> as arguments.", c.arg(0))
		return
	}
	if ch, ok := validProxyName(name); !ok {
		c.tightAlertf("character '%c' is not permitted in '%s' name '%s'.", ch, c.arg(0), name)
		return
	}
	for _, g := range ul.Groups {
		if g.Name == name {
			c.tightWarnf("ignoring duplicated group '%s' in userlist '%s'.", name, ul.Name)
			return
		}
	}
	g := &Group{Pos: c.pos, Name: name}
	for i := 2; c.arg(i) != ""; i += 2 {
		if c.arg(i) != "users" {
			c.tightAlertf("'%s' only supports 'users' option.", c.arg(0))
			return
		}
		g.UserNames = c.arg(i + 1)
	}
	ul.Groups = append(ul.Groups, g)
}

// parseUserlistUser is `user <name> [password <hash> | insecure-password <pw>]
// [groups <group>,...]`. A hash of a scheme Sluice cannot verify is
// refused: HAProxy would hand it to the C library's crypt(3).
func parseUserlistUser(c *ctx) {
	ul, name := c.l.userlist, c.arg(1)
	if name == "" {
		c.tightAlertf("'%s' expects <name> as arguments.", c.arg(0))
		return
	}
	if ul.User(name) != nil {
		c.tightWarnf("ignoring duplicated user '%s' in userlist '%s'.", name, ul.Name)
		return
	}
	u := &User{Pos: c.pos, Name: name}
	ul.Users = append(ul.Users, u)
	for i := 2; c.arg(i) != ""; i += 2 {
		switch c.arg(i) {
		case "password":
			if err := crypt.Check(c.arg(i + 1)); err != nil {
				what := "uses a crypt(3) scheme Sluice cannot verify (it supports $1$, $5$ and $6$)"
				if errors.Is(err, crypt.ErrSetting) {
					what = "is not a valid crypt(3) hash: no password would match it"
				}
				c.tightAlertf("the encrypted password used for user '%s' %s: %v.", name, what, err)
				return
			}
			u.Password, u.Insecure = c.arg(i+1), false
		case "insecure-password":
			u.Password, u.Insecure = c.arg(i+1), true
		case "groups":
			u.GroupNames = c.arg(i + 1)
		default:
			c.tightAlertf("'%s' only supports 'password', 'insecure-password' and 'groups' options.", c.arg(0))
			return
		}
	}
}

// resolveUserlists links users and groups once every section is read,
// with userlist_postinit's alerts.
func (l *loader) resolveUserlists() {
	for _, ul := range l.cfg.Userlists {
		for _, u := range ul.Users {
			for _, g := range splitList(u.GroupNames) {
				if ul.group(g) == nil {
					l.diags.global(SevAlert, u.Pos, "userlist '%s': no such group '%s' specified in user '%s'", ul.Name, g, u.Name)
					return
				}
				u.addGroup(g)
			}
		}
		for _, g := range ul.Groups {
			for _, name := range splitList(g.UserNames) {
				u := ul.User(name)
				if u == nil {
					l.diags.global(SevAlert, g.Pos, "userlist '%s': no such user '%s' specified in group '%s'", ul.Name, name, g.Name)
					return
				}
				u.addGroup(g.Name)
			}
		}
	}
}

func (ul *Userlist) group(name string) *Group {
	for _, g := range ul.Groups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

func (u *User) addGroup(g string) {
	if !u.InGroup(g) {
		u.Groups = append(u.Groups, g)
	}
}

// splitList splits as strtok(s, ","): empty items are skipped.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}
