package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCondConflictWarnings checks HAProxy's warnings about rule conditions
// whose fetches cannot work where the rule runs. Each case is one section
// (F frontend, B backend, L listen) in the given mode; want is every
// warning haproxy 2.6.12 -c printed for it, in order (recorded, the
// "[WARNING] (pid) : config : " prefix removed).
func TestCondConflictWarnings(t *testing.T) {
	for _, tc := range []struct {
		kind, mode, body string
		want             []string
	}{
		{"F", "http", "tcp-request connection reject if { path /x }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request connection' because it uses keyword 'path' which is incompatible with 'frontend tcp-request connection rule'"}},
		{"F", "http", "tcp-request session reject if { hdr(host) x }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request session' because it uses keyword 'hdr' which is incompatible with 'frontend tcp-request session rule'"}},
		{"F", "http", "tcp-request connection reject if { req.len gt 0 }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request connection' because it uses keyword 'req.len' which is incompatible with 'frontend tcp-request connection rule'", "Proxy 'fe': L6 sample fetches ignored on HTTP proxies (declared at t.cfg:8)."}},
		{"F", "http", "tcp-request content reject if { res.hdr(x) y }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request content' because it uses keyword 'res.hdr' which is incompatible with 'frontend tcp-request content rule'"}},
		{"F", "http", "use_backend b if { status 200 }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'status' which is incompatible with 'frontend use-backend rule'"}},
		{"F", "http", "acl a path /x\ntcp-request connection reject if a", []string{"parsing [t.cfg:9] : acl 'a' will never match in 'tcp-request connection' because it only involves keywords that are incompatible with 'frontend tcp-request connection rule'"}},
		{"F", "http", "monitor-uri /m\nmonitor fail if { res.hdr(x) y }", []string{}},
		{"F", "http", "acl m path /x\nacl m src 127.0.0.1\ntcp-request connection reject if m", []string{"parsing [t.cfg:10] : acl 'm' involves keyword 'path' which is incompatible with 'frontend tcp-request connection rule'"}},
		{"F", "http", "acl m path /x\nacl m src 127.0.0.1\nhttp-response deny if m", []string{"parsing [t.cfg:10] : acl 'm' involves keywords 'path' which is incompatible with 'frontend http-response header rule'"}},
		{"F", "http", "tcp-request connection reject if { ssl_fc }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request connection' because it uses keyword 'ssl_fc' which is incompatible with 'frontend tcp-request connection rule'"}},
		{"F", "http", "tcp-request session reject if { ssl_fc }", []string{}},
		{"F", "http", "http-request deny if { status 200 }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'status' which is incompatible with 'frontend http-request header rule'"}},
		{"F", "http", "redirect prefix /x if { res.hdr(x) y }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'frontend http-request header rule'"}},
		{"F", "http", "http-response deny if { hdr(host) x }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'hdr' which is incompatible with 'frontend http-response header rule'"}},
		{"F", "http", "http-after-response set-header a b if HTTP_1.1", []string{"parsing [t.cfg:8] : acl 'HTTP_1.1' will never match because it only involves keywords that are incompatible with 'frontend http-response header rule'"}},
		{"F", "http", "http-response deny if METH_GET", []string{}},
		{"F", "http", "http-request deny if { src 127.0.0.1 } { be_id 1 } !{ path / }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'be_id' which is incompatible with 'frontend http-request header rule'"}},
		{"F", "http", "http-request deny if { path / } || { status 200 }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'status' which is incompatible with 'frontend http-request header rule'"}},
		{"F", "http", "use_backend b if { be_id 1 }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'be_id' which is incompatible with 'frontend use-backend rule'"}},
		{"F", "http", "http-request deny if FALSE\ntcp-request content reject if { status 200 }", []string{"parsing [t.cfg:9] : a 'tcp-request' rule placed after an 'http-request' rule will still be processed before.", "parsing [t.cfg:9] : anonymous acl will never match in 'tcp-request content' because it uses keyword 'status' which is incompatible with 'frontend tcp-request content rule'"}},
		{"F", "http", "acl m path /x\nacl m src 127.0.0.1\ntcp-request connection reject if { src 127.0.0.1 } m", []string{"parsing [t.cfg:10] : acl 'm' involves keyword 'path' which is incompatible with 'frontend tcp-request connection rule'"}},
		{"F", "http", "acl a path /x\ntcp-request connection reject if { src 127.0.0.1 } || !a", []string{"parsing [t.cfg:9] : acl 'a' will never match in 'tcp-request connection' because it only involves keywords that are incompatible with 'frontend tcp-request connection rule'"}},
		{"F", "http", "tcp-request content reject if { path_beg / }\ntcp-request connection reject if { src 127.0.0.1 }", []string{"parsing [t.cfg:9] : a 'tcp-request' rule placed after a 'tcp-request content' rule will still be processed before."}},
		{"F", "http", "acl ok path /x\nhttp-request deny if ok\nuse_backend b if ok { hdr_dom(host) x }", []string{}},
		{"F", "http", "http-response set-header x y if { status 200 } { res.hdr(a) b } { capture.req.method GET }", []string{}},
		{"F", "http", "tcp-request session reject if { shdr_beg(x) y }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request session' because it uses keyword 'shdr_beg' which is incompatible with 'frontend tcp-request session rule'"}},
		{"F", "http", "http-request deny if { req.hdr(host),lower x }", []string{}},
		{"B", "http", "tcp-request content reject if { status 200 }", []string{"parsing [t.cfg:7] : anonymous acl will never match in 'tcp-request content' because it uses keyword 'status' which is incompatible with 'backend tcp-request content rule'"}},
		{"B", "http", "tcp-request content reject if { be_id 1 }", []string{}},
		{"B", "http", "http-request deny if { res.hdr(x) y }", []string{"parsing [t.cfg:7] : anonymous acl will never match because it uses keyword 'res.hdr' which is incompatible with 'backend http-request header rule'"}},
		{"B", "http", "tcp-response content close if { path /x }", []string{"parsing [t.cfg:7] : anonymous acl will never match in 'tcp-response content' because it uses keyword 'path' which is incompatible with 'backend tcp-response content rule'"}},
		{"B", "http", "http-response deny if { path /x }", []string{"parsing [t.cfg:7] : anonymous acl will never match because it uses keyword 'path' which is incompatible with 'backend http-response header rule'"}},
		{"B", "http", "acl m path /x\nacl m be_id 1\ntcp-response content close if m", []string{"parsing [t.cfg:9] : acl 'm' involves keyword 'path' which is incompatible with 'backend tcp-response content rule'"}},
		{"B", "http", "redirect prefix /x if { status 200 }", []string{"parsing [t.cfg:7] : anonymous acl will never match because it uses keyword 'status' which is incompatible with 'backend http-request header rule'"}},
		{"B", "http", "acl m status 200\nhttp-request deny if m", []string{"parsing [t.cfg:8] : acl 'm' will never match because it only involves keywords that are incompatible with 'backend http-request header rule'"}},
		{"L", "http", "tcp-request content reject if { status 200 }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request content' because it uses keyword 'status' which is incompatible with 'frontend tcp-request content rule'"}},
		{"L", "http", "tcp-request content reject if { be_id 1 }", []string{}},
		{"L", "http", "http-request deny if { be_id 1 }", []string{}},
		{"L", "http", "http-request deny if { status 200 }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'status' which is incompatible with 'frontend http-request header rule'"}},
		{"L", "http", "http-response deny if { path /x }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'path' which is incompatible with 'backend http-response header rule'"}},
		{"L", "http", "http-after-response set-header a b if { path /x }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'path' which is incompatible with 'backend http-response header rule'"}},
		{"L", "http", "tcp-response content close if { path /x }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-response content' because it uses keyword 'path' which is incompatible with 'backend tcp-response content rule'"}},
		{"L", "http", "acl m path /x\nacl m fe_id 1\ntcp-response content close if m", []string{"parsing [t.cfg:10] : acl 'm' involves keyword 'path' which is incompatible with 'backend tcp-response content rule'"}},
		{"L", "http", "use_backend b if { be_id 1 }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'be_id' which is incompatible with 'frontend use-backend rule'"}},
		{"L", "http", "tcp-request connection reject if { srv_id 1 }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request connection' because it uses keyword 'srv_id' which is incompatible with 'frontend tcp-request connection rule'"}},
		{"F", "tcp", "tcp-request content reject if { status 200 }", []string{"parsing [t.cfg:8] : anonymous acl will never match in 'tcp-request content' because it uses keyword 'status' which is incompatible with 'frontend tcp-request content rule'"}},
		{"F", "tcp", "tcp-request content reject if { req.ssl_sni x }\ntcp-request connection reject if { src 127.0.0.1 }", []string{"parsing [t.cfg:9] : a 'tcp-request' rule placed after a 'tcp-request content' rule will still be processed before."}},
		{"F", "tcp", "redirect prefix /x if { status 200 }", []string{"parsing [t.cfg:8] : anonymous acl will never match because it uses keyword 'status' which is incompatible with 'frontend http-request header rule'", "'redirect' rules ignored for frontend 'fe' as they require HTTP mode."}},
		{"B", "tcp", "tcp-response content close if { req.len 1 }", []string{"parsing [t.cfg:7] : anonymous acl will never match in 'tcp-response content' because it uses keyword 'req.len' which is incompatible with 'backend tcp-response content rule'"}},
	} {
		src := "defaults\n mode " + tc.mode + "\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n"
		switch tc.kind {
		case "F":
			src += "frontend fe\n bind 127.0.0.1:8001\n"
		case "B":
			src += "backend be\n"
		case "L":
			src += "listen li\n bind 127.0.0.1:8001\n"
		}
		src += " " + strings.ReplaceAll(tc.body, "\n", "\n ") + "\n"
		if tc.kind == "F" {
			src += " default_backend b\n"
		} else {
			src += " server s 127.0.0.1:9\n"
		}
		src += "backend b\n server s 127.0.0.1:9\n"
		_, ds := load(t, src)
		var got []string
		for _, d := range ds {
			if d.Sev == SevWarning {
				got = append(got, strings.ReplaceAll(d.Msg, d.Pos.File, filepath.Base(d.Pos.File)))
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %s %q:\n got %q\nwant %q", tc.kind, tc.mode, tc.body, got, tc.want)
		}
	}
}
