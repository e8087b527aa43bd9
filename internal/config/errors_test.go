package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sluice/internal/httperr"
)

func TestErrorPagesModel(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "503.http")
	os.WriteFile(page, []byte("HTTP/1.1 503 Down\r\nContent-Length: 5\r\n\r\ndown\n"), 0o644)
	src := strings.ReplaceAll(`defaults
 timeout client 1s
 timeout server 1s
 timeout connect 1s
 errorfile 503 PAGE
 errorloc 504 /later
 errorfiles site 500
frontend fe
 bind 127.0.0.1:1
 http-error status 429 content-type text/plain string slow
 default_backend be
backend be
 http-error status 503 default-errorfiles
 server s1 127.0.0.1:2
http-errors site
 errorfile 500 PAGE
`, "PAGE", page)
	cfg, ds := load(t, src)
	if ds.HasAlerts() {
		t.Fatal(ds)
	}
	fe, be := cfg.Proxies[0], cfg.Proxies[1]
	if got := fe.ErrorPages.Codes(); len(got) != 4 {
		t.Errorf("fe codes %v", got)
	}
	if p := httperr.Lookup(be.ErrorPages, fe.ErrorPages, 503); p != fe.ErrorPages.Own(503) || !strings.HasPrefix(string(p.Raw), "HTTP/1.1 503 Down") {
		t.Errorf("503 must fall through the backend's default-errorfiles to the frontend's errorfile: %q", p.Raw)
	}
	if p := be.ErrorPages.Page(500); !strings.HasPrefix(string(p.Raw), "HTTP/1.1 503 Down") || p.Code != 500 {
		t.Errorf("500 from the http-errors section: %+v", p)
	}
	if p := be.ErrorPages.Page(429); p != httperr.Default(429) {
		t.Errorf("backend 429 must be the default")
	}
	if cfg.HTTPErrors[0].Errorfiles[500] != page || cfg.HTTPErrors[0].Pages[500] == nil {
		t.Errorf("section %+v", cfg.HTTPErrors[0])
	}
}

func TestErrorPagesDiagnostics(t *testing.T) {
	cases := []struct {
		name, src string
		sev       Severity
		line      int
		msg       string
	}{
		{"missing file", timeouts + "frontend fe\n bind :1\n errorfile 503 /nonexistent\n", SevAlert, 7, "parsing ["},
		{"unknown section", timeouts + "frontend fe\n bind :1\n errorfiles nope\n", SevAlert, 0, "proxy 'fe': unknown http-errors section 'nope' (at "},
		{"code not in section", timeouts + "frontend fe\n bind :1\n errorfiles s 503\nhttp-errors s\n", SevWarning, 0, "status '503' not declared in http-errors section 's'"},
		{"lf-string unknown fetch", timeouts + "frontend fe\n bind :1\n http-error status 503 content-type a/b lf-string %[nosuch]\n", SevAlert, 7, "http-error : failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'"},
		{"lf hdr unknown fetch", timeouts + "frontend fe\n bind :1\n http-error status 503 hdr X \"%[nosuch]\"\n", SevAlert, 7, "http-error : failed to parse sample expression <nosuch]> : unknown fetch method 'nosuch'"},
		{"lf-string without content-type", timeouts + "frontend fe\n bind :1\n http-error status 503 lf-string x\n", SevAlert, 7, "http-error : a content type must be defined with a log-format payload"},
		{"hdr ignored", timeouts + "frontend fe\n bind :1\n http-error status 503 hdr content-length 3\n", SevWarning, 7, "header 'content-length' always ignored by the http reply."},
	}
	for _, c := range cases {
		_, ds := load(t, c.src)
		if !hasMsg(ds, c.sev, c.line, c.msg) {
			t.Errorf("%s: want %v %q at %d, got\n%v", c.name, c.sev, c.msg, c.line, ds)
		}
	}
}
