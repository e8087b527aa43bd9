package sample

import (
	"encoding/base64"
	"strings"
	"testing"
)

// plainUsers is a userlist of clear-text passwords and groups.
type plainUsers map[string]struct {
	pass   string
	groups []string
}

func (u plainUsers) Check(list, user, pass string) bool {
	x, ok := u[user]
	return list == "L" && ok && x.pass == pass
}

func (u plainUsers) InGroup(list, user, group string) bool {
	for _, g := range u[user].groups {
		if list == "L" && g == group {
			return true
		}
	}
	return false
}

func TestBasicAuth(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	users := plainUsers{"al": {"pw", []string{"g"}}, "": {"", nil}}
	for _, tc := range []struct {
		hdr        string
		auth, user string // auth: http_auth's value or "none"; user: http_auth_group's
	}{
		{"Basic " + b64("al:pw"), "1", "al"},
		{"basic   " + b64("al:pw"), "1", "al"},
		{"Bas " + b64("al:pw"), "1", "al"}, // HAProxy compares over the scheme's length
		{"Basicx " + b64("al:pw"), "none", ""},
		{"Basic " + b64("al:wrong"), "0", ""},
		{"Basic " + b64("al:pw:x"), "0", ""},
		{"Basic " + b64("al:pw\x00junk"), "1", "al"},
		{"Basic " + b64("alpw"), "none", ""},
		{"Basic " + b64(":"), "1", ""},
		{"Basic " + strings.TrimRight(b64("al:pw12"), "="), "none", ""},
		{"Basic " + b64("al:pw") + ", Basic x", "1", "al"},
		{"Bearer abc", "none", ""},
		{" Basic " + b64("al:pw"), "1", "al"}, // leading blanks are not the value's
		{"", "none", ""},
	} {
		req := "GET / HTTP/1.1\r\nHost: a\r\n"
		if tc.hdr != "" {
			req += "Authorization: " + tc.hdr + "\r\n"
		}
		c := &Ctx{Req: parseTestMsg(req + "\r\n"), Env: &Env{Userlists: users}, Final: true}
		var v Value
		got := "none"
		if found, _ := compileText(t, "http_auth(L)").Eval(c, &v); found {
			got = string(v.AsString(nil))
		}
		if got != tc.auth {
			t.Errorf("%q: http_auth = %s, want %s", tc.hdr, got, tc.auth)
		}
		user := ""
		if found, _ := compileText(t, "http_auth_group(L)").Eval(c, &v); found {
			user = string(v.Bytes)
		}
		if user != tc.user {
			t.Errorf("%q: http_auth_group = %q, want %q", tc.hdr, user, tc.user)
		}
	}
}

// FuzzBasicAuth: any Authorization header is read without a panic, and
// credentials found came from it.
func FuzzBasicAuth(f *testing.F) {
	f.Add("Basic YWw6cHc=")
	f.Add("Bas   YWw6cHc=")
	f.Add("Basic YWw6cHc")
	f.Add("Basic ====")
	f.Fuzz(func(t *testing.T, hdr string) {
		hdr = strings.NewReplacer("\r", "", "\n", "").Replace(hdr)
		c := &Ctx{Req: parseTestMsg("GET / HTTP/1.1\r\nAuthorization: " + hdr + "\r\n\r\n")}
		user, pass, ok := basicAuth(c)
		if ok && len(user)+len(pass) > len(hdr) {
			t.Fatalf("%q gave %q:%q", hdr, user, pass)
		}
	})
}
