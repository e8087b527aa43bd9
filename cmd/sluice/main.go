// Command sluice is a load balancer and reverse proxy that reads HAProxy's
// configuration language and takes HAProxy's command line, so existing
// haproxy.cfg files, init scripts and config checkers work unchanged.
//
// This package is the only one that reads os.Args, handles signals and calls
// os.Exit: everything it does goes through run, which tests call directly.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sluice/internal/cfgsyntax"
	"sluice/internal/config"
)

// Build information, set with -ldflags "-X main.version=...".
var (
	version   = "0.1.0-dev"
	buildDate = "2026/11/23"
)

// features are the names `.if feature(X)` reports as present. Sluice only
// claims what it really has: OPENSSL stands for TLS termination on bind
// lines (crypto/tls), which configurations guard with feature(OPENSSL).
var features = []string{"EPOLL", "GETADDRINFO", "LINUX_SPLICE", "CPU_AFFINITY", "THREAD", "OPENSSL"}

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run is the whole program: it returns the exit status.
func run(argv []string, stdout, stderr io.Writer) int {
	prog := filepath.Base(argv[0])
	a, err := parseArgs(argv[1:])
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		fmt.Fprintf(stderr, usageText, prog)
		return 1
	}
	out := &printer{w: stderr, pid: os.Getpid(), quiet: a.quiet && !a.verbose}
	switch {
	case a.version > 0:
		printVersion(stdout, a.version)
		return 0
	case a.hasCheckCond:
		return checkCondition(a.checkCond, out)
	case len(a.files) == 0:
		fmt.Fprintf(stderr, usageText, prog)
		return 1
	}
	cfg, diags := config.Load(a.files, config.Options{Features: features, DefaultMaxconn: a.proxyMaxconn})
	if a.maxconn > 0 {
		cfg.Global.Maxconn = a.maxconn
	}
	if a.pidfile != "" {
		cfg.Global.Pidfile = a.pidfile
	}
	if a.localPeer != "" {
		cfg.Global.Localpeer = a.localPeer
	}
	if cfg.Global.LogTag == "" {
		cfg.Global.LogTag = prog
	}
	out.diags(diags)
	if diags.HasAlerts() || (a.warnFatal && diags.HasWarnings()) {
		out.alert("config : Error(s) found in configuration file : %s", strings.Join(cfg.Files, ", "))
		out.alert("config : Fatal errors found in configuration.")
		return 1
	}
	if a.check {
		return reportCheck(stdout, cfg, diags, out.quiet)
	}
	if !cfg.HasListener() {
		out.alert("[%s.main()] No enabled listener found (check for 'bind' directives) ! Exiting.", prog)
		return 1
	}
	return serve(a, cfg, out)
}

// reportCheck prints -c's verdict with HAProxy's words and exit codes.
func reportCheck(stdout io.Writer, cfg *config.Config, diags config.Diags, quiet bool) int {
	if !cfg.HasListener() {
		if !quiet {
			fmt.Fprintln(stdout, "Configuration file has no error but will not start (no listener) => exit(2).")
		}
		return 2
	}
	if !quiet {
		if diags.HasWarnings() {
			fmt.Fprintln(stdout, "Warnings were found.")
		}
		fmt.Fprintln(stdout, "Configuration file is valid")
	}
	return 0
}

// checkCondition implements -cc: exit 0 when the condition is true, 1 when
// false, 2 when it cannot be evaluated.
func checkCondition(expr string, out *printer) int {
	opt := &cfgsyntax.Options{Version: config.Version, Features: features}
	words, err := cfgsyntax.SplitArgs(expr, opt)
	if err == nil {
		var ok bool
		if ok, err = cfgsyntax.EvalCondition(words, opt); err == nil {
			if ok {
				return 0
			}
			return 1
		}
	}
	out.alert("Failed to evaluate condition: %v", err)
	return 2
}

func printVersion(w io.Writer, level int) {
	fmt.Fprintf(w, "Sluice version %s %s - HAProxy %s configuration language\n", version, buildDate, config.Version)
	if level < 2 {
		return
	}
	fmt.Fprintf(w, "Build options :\n  Go runtime, no cgo\n\n")
	fmt.Fprintf(w, "Feature list : %s\n\n", featureList())
	fmt.Fprintf(w, "Default settings :\n  bufsize = 16384, maxrewrite = 1024, maxpollevents = 200\n\n")
	fmt.Fprintf(w, "Available polling systems :\n  Go netpoller (epoll)\n\n")
	fmt.Fprintf(w, "Available multiplexer protocols :\n  tcp : mode=TCP (splice relay)\n")
}

func featureList() string {
	have := map[string]bool{}
	for _, f := range features {
		have[f] = true
	}
	var parts []string
	for _, f := range []string{"EPOLL", "GETADDRINFO", "LINUX_SPLICE", "CPU_AFFINITY", "THREAD", "OPENSSL", "PCRE2", "LUA", "PROMEX", "QUIC", "ZLIB"} {
		if have[f] {
			parts = append(parts, "+"+f)
		} else {
			parts = append(parts, "-"+f)
		}
	}
	return strings.Join(parts, " ")
}

// printer writes messages in HAProxy's shape: "[ALERT]    (pid) : text".
type printer struct {
	w     io.Writer
	pid   int
	quiet bool
}

func (p *printer) line(tag string, format string, a ...any) {
	fmt.Fprintf(p.w, "%-11s(%d) : %s\n", "["+tag+"]", p.pid, fmt.Sprintf(format, a...))
}

func (p *printer) alert(format string, a ...any) {
	if !p.quiet {
		p.line("ALERT", format, a...)
	}
}

func (p *printer) warning(format string, a ...any) {
	if !p.quiet {
		p.line("WARNING", format, a...)
	}
}

func (p *printer) notice(format string, a ...any) {
	if !p.quiet {
		p.line("NOTICE", format, a...)
	}
}

// diags prints configuration messages (nothing at all with -q, as HAProxy;
// the exit status still tells the outcome).
func (p *printer) diags(ds config.Diags) {
	for _, d := range ds {
		switch d.Sev {
		case config.SevAlert:
			p.alert("config : %s", d.Msg)
		case config.SevWarning:
			p.warning("config : %s", d.Msg)
		default:
			p.notice("config : %s", d.Msg)
		}
	}
}
