package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeCfg(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.cfg")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(append([]string{"sluice"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

const okCfg = "defaults\n timeout client 1s\n timeout server 1s\n timeout connect 1s\nfrontend f\n bind 127.0.0.1:18999\n"

func TestCheckValid(t *testing.T) {
	code, out, errs := runArgs("-c", "-f", writeCfg(t, okCfg))
	if code != 0 || out != "Configuration file is valid\n" || errs != "" {
		t.Fatalf("code=%d out=%q err=%q", code, out, errs)
	}
}

func TestCheckWarnings(t *testing.T) {
	code, out, errs := runArgs("-c", "-f", writeCfg(t, "frontend f\n bind 127.0.0.1:18999\n"))
	if code != 0 || out != "Warnings were found.\nConfiguration file is valid\n" || !strings.Contains(errs, "[WARNING]  (") || !strings.Contains(errs, "missing timeouts for frontend 'f'.") {
		t.Fatalf("code=%d out=%q err=%q", code, out, errs)
	}
}

func TestCheckNoListener(t *testing.T) {
	code, out, _ := runArgs("-c", "-f", writeCfg(t, "backend b\n"))
	if code != 2 || !strings.Contains(out, "Configuration file has no error but will not start (no listener) => exit(2).") {
		t.Fatalf("code=%d out=%q", code, out)
	}
}

func TestCheckErrors(t *testing.T) {
	p := writeCfg(t, okCfg+" balanse x\n")
	code, out, errs := runArgs("-c", "-f", p)
	if code != 1 || out != "" {
		t.Fatalf("code=%d out=%q", code, out)
	}
	for _, want := range []string{
		"[ALERT]    (",
		") : config : parsing [" + p + ":7] : unknown keyword 'balanse' in 'frontend' section; did you mean 'balance' maybe ?",
		"config : Error(s) found in configuration file : " + p,
		"config : Fatal errors found in configuration.",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestQuiet(t *testing.T) {
	code, out, errs := runArgs("-q", "-c", "-f", writeCfg(t, okCfg+" balanse x\n"))
	if code != 1 || out != "" || errs != "" {
		t.Fatalf("-q must print nothing: code=%d out=%q err=%q", code, out, errs)
	}
}

// -dW turns warnings into a failure.
func TestWarningsFatal(t *testing.T) {
	code, _, _ := runArgs("-dW", "-c", "-f", writeCfg(t, "frontend f\n bind 127.0.0.1:18999\n"))
	if code != 1 {
		t.Fatalf("code=%d, want 1", code)
	}
}

func TestCheckCondition(t *testing.T) {
	cases := map[string]int{
		"version_atleast(2.4)":             0,
		"version_before(2.4)":              1,
		"feature(OPENSSL)":                 0,
		"feature(LUA)":                     1,
		"feature(LINUX_SPLICE)":            0,
		"streq(a,a) && !strneq(b,b)":       0,
		"defined(SLUICE_SURELY_UNDEFINED)": 1,
		"nosuchfunc(1)":                    2,
	}
	for expr, want := range cases {
		if code, _, errs := runArgs("-cc", expr); code != want {
			t.Errorf("-cc %q = %d, want %d (%s)", expr, code, want, errs)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runArgs("-v")
	if code != 0 || !strings.HasPrefix(out, "Sluice version ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("-v: %d %q", code, out)
	}
	_, out, _ = runArgs("-vv")
	if !strings.Contains(out, "Feature list : ") || !strings.Contains(out, "+OPENSSL") || !strings.Contains(out, "-LUA") {
		t.Fatalf("-vv: %q", out)
	}
}

func TestUsage(t *testing.T) {
	code, _, errs := runArgs("-Z")
	if code != 1 || !strings.Contains(errs, "unknown option '-Z'") || !strings.Contains(errs, "Usage : sluice") {
		t.Fatalf("code=%d err=%q", code, errs)
	}
	if code, _, _ := runArgs(); code != 1 {
		t.Fatalf("no -f: code=%d", code)
	}
}

func TestParseArgs(t *testing.T) {
	a, err := parseArgs([]string{"-f", "a.cfg", "-sf", "10", "11", "-f", "b.cfg", "-st", "12", "-n", "50", "-N", "5", "-L", "peer1", "-p", "/run/x.pid", "-D", "--", "c.cfg", "-v"})
	if err != nil {
		t.Fatal(err)
	}
	want := &args{files: []string{"a.cfg", "b.cfg", "c.cfg", "-v"}, softStop: []int{10, 11}, hardStop: []int{12},
		maxconn: 50, proxyMaxconn: 5, localPeer: "peer1", pidfile: "/run/x.pid", daemon: true}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("got %+v\nwant %+v", a, want)
	}
	for _, bad := range [][]string{{"-f"}, {"-n", "x"}, {"-x", "/sock"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		}
	}
}

// Several -f arguments and directories are read in order.
func TestSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "10-defaults.cfg"), []byte("defaults\n timeout client 1s\n timeout server 1s\n timeout connect 1s\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "20-fe.cfg"), []byte("frontend f\n bind 127.0.0.1:18999\n"), 0o644)
	g := writeCfg(t, "global\n maxconn 10\n")
	code, out, errs := runArgs("-c", "-f", g, "-f", dir)
	if code != 0 || out != "Configuration file is valid\n" {
		t.Fatalf("code=%d out=%q err=%q", code, out, errs)
	}
}

// The README's example configurations must stay valid.
func TestExamplesAreValid(t *testing.T) {
	for _, f := range []string{"../../examples/quickstart.cfg", "../../examples/listen-only.cfg"} {
		if code, out, errs := runArgs("-c", "-f", f); code != 0 || out != "Configuration file is valid\n" {
			t.Errorf("%s: code=%d out=%q err=%q", f, code, out, errs)
		}
	}
}
