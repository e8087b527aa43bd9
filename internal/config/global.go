package config

import (
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"sluice/internal/logsink"
	"sluice/internal/netaddr"
)

func defaultGlobal() Global {
	return Global{UID: -1, GID: -1, SSLDefaultBind: map[string]string{}, Tune: map[string]string{}}
}

// g returns the global section being filled.
func (c *ctx) g() *Global { return &c.l.cfg.Global }

// flag is a keyword with no argument that sets a boolean.
func boolKeyword(name string, set func(g *Global), doc string) *keyword {
	return &keyword{name: name, doc: doc, parse: func(c *ctx) { set(c.g()) }}
}

// noEffect is a keyword accepted with a warning: it tunes HAProxy internals
// that Sluice does not have.
func noEffect(name string, minArgs int) *keyword {
	return &keyword{name: name, status: NoEffect, doc: "tuning of HAProxy internals", parse: func(c *ctx) {
		if c.nargs() < minArgs {
			c.alertf("'%s' expects an argument.", name)
		}
	}}
}

// refused is an HAProxy keyword Sluice does not implement at all.
func refused(name, doc string) *keyword {
	return &keyword{name: name, status: Unsupported, doc: doc}
}

var globalKeywords = table{}.add(
	boolKeyword("daemon", func(g *Global) { g.Daemon = true }, "run in the background"),
	&keyword{name: "master-worker", status: Pending, doc: "master-worker mode and SIGUSR2 reloads"},
	&keyword{name: "pidfile", parse: parsePidfile, doc: "write the process id to a file"},
	&keyword{name: "maxconn", parse: parseGlobalMaxconn, doc: "process-wide concurrent connection limit"},
	&keyword{name: "nbthread", parse: parseNbthread, doc: "threads: sets GOMAXPROCS"},
	&keyword{name: "nbproc", parse: func(c *ctx) {
		c.alertf("nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.")
	}},
	&keyword{name: "chroot", parse: func(c *ctx) { c.g().Chroot = c.needArg("a directory as an argument") }, doc: "chroot after binding (as root)"},
	&keyword{name: "user", parse: parseUser, doc: "drop to this user after binding"},
	&keyword{name: "group", parse: parseGroup, doc: "drop to this group after binding"},
	&keyword{name: "uid", parse: func(c *ctx) {
		if c.alreadyID(c.g().UID >= 0 || c.g().User != "", "user/uid") {
			return
		}
		c.g().UID = c.needID("uid")
	}, doc: "drop to this uid after binding"},
	&keyword{name: "gid", parse: func(c *ctx) {
		if c.alreadyID(c.g().GID >= 0 || c.g().Group != "", "group/gid") {
			return
		}
		c.g().GID = c.needID("gid")
	}, doc: "drop to this gid after binding"},
	&keyword{name: "log", parse: parseGlobalLog, doc: "log targets: stdout, stderr, UDP syslog, unix sockets"},
	&keyword{name: "log-tag", parse: func(c *ctx) {
		if c.nargs() < 1 {
			c.alertf("'log-tag' expects a tag for use in syslog.")
			return
		}
		c.g().LogTag = c.arg(1)
	}, doc: "syslog tag (default: the program name)"},
	&keyword{name: "log-send-hostname", parse: func(c *ctx) { c.g().LogSendHost = c.arg(1) }, doc: "add a host name to syslog headers"},
	&keyword{name: "hard-stop-after", parse: func(c *ctx) { c.g().HardStopAfter = c.needTime(1, "hard-stop-after") }, doc: "bound a soft stop"},
	&keyword{name: "stats", parse: parseGlobalStats, doc: "stats socket (parsed; runtime API not built yet), stats timeout"},
	&keyword{name: "localpeer", parse: func(c *ctx) { c.g().Localpeer = c.needArg("a name as an argument") }, doc: "local peer name"},
	&keyword{name: "node", doc: "node name for stats", parse: func(c *ctx) {}},
	&keyword{name: "description", doc: "description for stats", parse: func(c *ctx) {}},
	&keyword{name: "quiet", doc: "same as -q", parse: func(c *ctx) {}},
	&keyword{name: "ulimit-n", status: NoEffect, doc: "Go raises the descriptor limit itself"},
	&keyword{name: "ssl-default-bind-ciphers", parse: parseSSLDefaultBindString, doc: "default ciphers of ssl binds (OpenSSL cipher string over crypto/tls's suites)"},
	&keyword{name: "ssl-default-bind-ciphersuites", parse: parseSSLDefaultBindString, doc: "default TLS 1.3 suites of ssl binds (validated; crypto/tls always uses its three)"},
	&keyword{name: "ssl-default-bind-curves", parse: parseSSLDefaultBindString, doc: "default curves of ssl binds"},
	&keyword{name: "ssl-default-bind-options", parse: parseSSLDefaultBindOptions, doc: "default version and ticket options of ssl binds"},
	&keyword{name: "ssl-default-server-ciphers", status: Pending, parse: parseSSLDefault},
	&keyword{name: "ssl-default-server-ciphersuites", status: Pending, parse: parseSSLDefault},
	&keyword{name: "ssl-default-server-options", status: Pending, parse: parseSSLDefault},
	&keyword{name: "ssl-server-verify", status: Pending, parse: parseSSLDefault},
	&keyword{name: "ca-base", parse: parseBaseDir, doc: "directory of relative ca-file paths"},
	&keyword{name: "crt-base", parse: parseBaseDir, doc: "directory of relative crt paths"},
	&keyword{name: "spread-checks", status: Pending, doc: "health checks (issue 4)"},
	&keyword{name: "max-spread-checks", status: Pending},
	&keyword{name: "server-state-file", status: Unsupported},
	&keyword{name: "server-state-base", status: Unsupported},
	&keyword{name: "h1-case-adjust", doc: "header name case for picky HTTP/1 peers", parse: parseH1CaseAdjust},
	&keyword{name: "h1-case-adjust-file", doc: "h1-case-adjust lines from a file", parse: func(c *ctx) {
		if c.arg(1) == "" {
			c.alertf("'h1-case-adjust-file' expects <file> as argument.")
			return
		}
		// A later line replaces an earlier one, as in HAProxy.
		c.g().H1CaseAdjustFile, c.g().H1CaseAdjustFilePos = c.arg(1), c.pos
	}},
	&keyword{name: "maxconnrate", status: Unsupported},
	&keyword{name: "maxsessrate", status: Unsupported},
	&keyword{name: "maxsslconn", status: Unsupported},
	&keyword{name: "maxsslrate", status: Unsupported},
	&keyword{name: "maxcomprate", status: Unsupported},
	&keyword{name: "maxcompcpuusage", status: Unsupported},
	&keyword{name: "grace", status: Unsupported},
	&keyword{name: "mworker-max-reloads", status: NoEffect},
	refused("lua-load", "Lua scripting"),
	refused("lua-load-per-thread", "Lua scripting"),
	refused("lua-prepend-path", "Lua scripting"),
	refused("setenv", "environment changes during parsing"),
	refused("presetenv", "environment changes during parsing"),
	refused("resetenv", "environment changes during parsing"),
	refused("unsetenv", "environment changes during parsing"),
	refused("external-check", "external check programs"),
	refused("insecure-fork-wanted", "forking helpers"),
	refused("ssl-engine", "OpenSSL engines"),
	refused("ssl-mode-async", "OpenSSL async mode"),
	refused("unix-bind", "defaults for unix sockets"),
	refused("default-path", "relative path base"),
	refused("set-dumpable", "core dumps"),
	refused("51degrees-data-file", "device detection"),
	refused("deviceatlas-json-file", "device detection"),
	refused("wurfl-data-file", "device detection"),
	noEffect("nosplice", 0), noEffect("noepoll", 0), noEffect("nopoll", 0),
	noEffect("nogetaddrinfo", 0), noEffect("noreuseport", 0), noEffect("busy-polling", 0),
	noEffect("maxpipes", 1), noEffect("cpu-map", 2), noEffect("thread-groups", 1),
	noEffect("numa-cpu-mapping", 0), noEffect("strict-limits", 0),
	noEffect("expose-experimental-directives", 0), noEffect("pp2-never-send-local", 0),
	noEffect("profiling.tasks", 1), noEffect("issuers-chain-path", 1),
)

// tuneKeywords are tune.* settings: HAProxy buffer and scheduler knobs.
// Sluice accepts them with a warning; the few that matter to Sluice's own
// limits (tune.bufsize, tune.http.maxhdr) are recorded in Global.Tune for
// the HTTP engine.
var tuneRecorded = map[string]bool{"tune.bufsize": true, "tune.http.maxhdr": true, "tune.maxrewrite": true}

// tuneDocs says what the recorded settings do in Sluice.
var tuneDocs = map[string]string{
	"tune.bufsize":     "largest HTTP head with tune.maxrewrite (up to 16384), errorfile size",
	"tune.maxrewrite":  "room kept out of tune.bufsize for rules that add headers",
	"tune.http.maxhdr": "most header fields in an HTTP message",
}

// maxBufSize is the size of Sluice's HTTP buffers: a larger tune.bufsize
// cannot let larger heads in.
const maxBufSize = 16384

func init() {
	for _, n := range strings.Fields(`tune.bufsize tune.maxrewrite tune.http.maxhdr tune.http.cookielen
	tune.http.logurilen tune.maxaccept tune.maxpollevents tune.recv_enough tune.runqueue-depth
	tune.sched.low-latency tune.idletimer tune.rcvbuf.client tune.rcvbuf.server tune.sndbuf.client
	tune.sndbuf.server tune.pipesize tune.ssl.default-dh-param tune.ssl.cachesize tune.ssl.lifetime
	tune.ssl.maxrecord tune.ssl.force-private-cache tune.ssl.capture-buffer-size tune.ssl.keylog
	tune.ssl.ssl-ctx-cache-size tune.ssl.ocsp-update.maxdelay tune.h2.header-table-size
	tune.h2.initial-window-size tune.h2.max-concurrent-streams tune.h2.max-frame-size tune.comp.maxlevel
	tune.zlib.memlevel tune.zlib.windowsize tune.listener.multi-queue tune.fd.edge-triggered
	tune.idle-pool.shared tune.pattern.cache-size tune.peers.max-updates-at-once tune.vars.global-max-size
	tune.vars.proc-max-size tune.vars.reqres-max-size tune.vars.sess-max-size tune.vars.txn-max-size
	tune.buffers.limit tune.buffers.reserve tune.chksize tune.lua.forced-yield tune.lua.maxmem
	tune.lua.session-timeout tune.lua.task-timeout tune.lua.service-timeout tune.maxrewrite
	tune.pool-high-fd-ratio tune.pool-low-fd-ratio tune.quic.frontend.conn-tx-buffers.limit
	tune.applet.zero-copy-forwarding tune.disable-fast-forward tune.disable-zero-copy-forwarding`) {
		name := n
		status, doc := NoEffect, "HAProxy buffer/scheduler tuning"
		if d, ok := tuneDocs[name]; ok {
			status, doc = Supported, d
		}
		globalKeywords.add(&keyword{name: name, status: status, doc: doc, parse: func(c *ctx) {
			if c.nargs() < 1 {
				c.alertf("'%s' expects an argument.", name)
				return
			}
			if tuneRecorded[name] {
				c.g().Tune[name] = c.arg(1)
			}
			if n, err := strconv.Atoi(c.arg(1)); name == "tune.bufsize" && err == nil && n > maxBufSize {
				c.warnf("'tune.bufsize %d' is above Sluice's %d-byte buffers: heads larger than %d bytes less tune.maxrewrite are refused.", n, maxBufSize, maxBufSize)
			}
		}})
	}
}

func (c *ctx) needArg(what string) string {
	if c.nargs() < 1 {
		c.alertf("'%s' expects %s.", c.arg(0), what)
		return ""
	}
	return c.arg(1)
}

func (c *ctx) needID(name string) int {
	if c.nargs() < 1 {
		c.alertf("'%s' expects an integer argument.", name)
		return -1
	}
	n, err := strconv.Atoi(c.arg(1))
	if err != nil || n < 0 {
		c.alertf("'%s' expects an integer argument.", name)
		return -1
	}
	return n
}

// needTime parses word i as a time value, reporting HAProxy's message.
func (c *ctx) needTime(i int, what string) time.Duration {
	if c.arg(i) == "" {
		c.alertf("'%s' expects <time> as argument.", what)
		return 0
	}
	v, err := ParseTime(c.arg(i))
	if err != nil {
		c.alertf("%v in '%s'", err, what)
		return 0
	}
	return v
}

func parsePidfile(c *ctx) {
	if c.g().Pidfile != "" {
		c.alertf("'pidfile' already specified. Continuing.")
		return
	}
	c.g().Pidfile = c.needArg("a file name as an argument")
}

func parseGlobalMaxconn(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("'maxconn' expects an integer argument.")
		return
	}
	n, _ := atoi(c.arg(1))
	c.g().Maxconn = n
}

func parseNbthread(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("'nbthread' expects an integer argument.")
		return
	}
	n, _ := atoi(c.arg(1))
	if n < 1 || n > 64 {
		c.alertf("'nbthread' value must be between 1 and 64 (was %d)", n)
		return
	}
	c.g().Nbthread = n
}

// alreadyID reproduces HAProxy's non-fatal alert when the user (or group)
// is given twice, by name or number: the first one stays.
func (c *ctx) alreadyID(set bool, what string) bool {
	if set {
		c.nonFatalAlertf("%s already specified. Continuing.", what)
	}
	return set
}

func parseUser(c *ctx) {
	if c.alreadyID(c.g().UID >= 0 || c.g().User != "", "user/uid") {
		return
	}
	name := c.needArg("a user name as an argument")
	if name == "" {
		return
	}
	if _, err := user.Lookup(name); err != nil {
		c.alertf("cannot find user id for '%s' (0:Success)", name)
		return
	}
	c.g().User = name
}

func parseGroup(c *ctx) {
	if c.alreadyID(c.g().GID >= 0 || c.g().Group != "", "group/gid") {
		return
	}
	name := c.needArg("a group name as an argument")
	if name == "" {
		return
	}
	if _, err := user.LookupGroup(name); err != nil {
		c.alertf("cannot find group id for '%s' (0:Success)", name)
		return
	}
	c.g().Group = name
}

func parseGlobalLog(c *ctx) {
	if c.no {
		c.g().Logs = nil
		return
	}
	if c.arg(1) == "global" {
		c.alertf("'log global' makes no sense in the 'global' section.")
		return
	}
	t, err := logsink.ParseTarget(c.args(1))
	if err != nil {
		c.alertf("%v", err)
		return
	}
	c.g().Logs = append(c.g().Logs, LogTarget{Pos: c.pos, Target: t})
}

func parseGlobalStats(c *ctx) {
	switch c.arg(1) {
	case "socket":
		if c.arg(2) == "" {
			c.alertf("'stats socket' requires a path or an address.")
			return
		}
		addrs, err := netaddr.ParseBind(c.arg(2))
		if err != nil || len(addrs) != 1 {
			c.alertf("'stats socket' : %v", err)
			return
		}
		params := map[string]string{}
		rest := c.args(3)
		for i := 0; i < len(rest); i++ {
			switch rest[i] {
			case "expose-fd":
				if i+1 < len(rest) {
					params["expose-fd"] = rest[i+1]
					i++
				}
			case "mode", "level", "uid", "gid", "user", "group", "name", "maxconn", "process", "severity-output", "accept-proxy":
				if rest[i] == "accept-proxy" {
					params[rest[i]] = ""
					continue
				}
				if i+1 >= len(rest) {
					c.alertf("'stats socket' : '%s' expects an argument.", rest[i])
					return
				}
				params[rest[i]] = rest[i+1]
				i++
			default:
				params[rest[i]] = ""
			}
		}
		c.g().StatsSockets = append(c.g().StatsSockets, StatsSocket{Pos: c.pos, Addr: addrs[0], Params: params})
		c.warnf("'stats socket' is parsed but Sluice's runtime API is not built yet: no socket is opened.")
	case "timeout":
		c.g().StatsTimeout = c.needTime(2, "stats timeout")
	case "maxconn", "bind-process":
	default:
		c.alertf("'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '%s').", c.arg(1))
	}
}

func parseSSLDefault(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("'%s' expects an argument.", c.arg(0))
		return
	}
	c.g().SSLDefaultBind[c.arg(0)] = strings.Join(c.args(1), " ")
}

// parseH1CaseAdjust reads `h1-case-adjust <from> <to>` as HAProxy does.
func parseH1CaseAdjust(c *ctx) {
	if c.arg(2) == "" {
		c.alertf("'h1-case-adjust' expects <from> and <to> as argument.")
		return
	}
	if extra := c.arg(3); extra != "" {
		c.alertf("'h1-case-adjust' cannot handle unexpected argument '%s'.", extra)
		return
	}
	if err := addCaseAdjust(c.g(), c.arg(1), c.arg(2)); err != "" {
		c.alertf("%s", err)
	}
}

// addCaseAdjust is HAProxy's add_hdr_case_adjust(): to must be from with
// other letter cases, and from (compared as written) new.
func addCaseAdjust(g *Global, from, to string) string {
	if !asciiEqualFold(from, to) {
		return "<from> and <to> must not differ execpt the case"
	}
	if _, dup := g.H1CaseAdjust[from]; dup {
		return "duplicate entry '" + from + "'"
	}
	if g.H1CaseAdjust == nil {
		g.H1CaseAdjust = map[string]string{}
	}
	g.H1CaseAdjust[from] = to
	return ""
}

// loadCaseAdjustFile reads the h1-case-adjust-file once every section is
// read, line by line as HAProxy's post-parser does: blank lines and
// comments are skipped, the name runs to the first space, and <to> is
// the rest of the line (so a trailing comment or word makes it differ).
func (l *loader) loadCaseAdjustFile() {
	g := &l.cfg.Global
	path := g.H1CaseAdjustFile
	if path == "" {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		l.diags.global(SevAlert, g.H1CaseAdjustFilePos, "h1-headers-case-adjust-file '%s': failed to open file.", path)
		return
	}
	for n, line := range strings.SplitAfter(string(data), "\n") {
		line = strings.TrimLeft(line, " \t")
		if line == "" || line[0] == '#' || line[0] == '\r' || line[0] == '\n' {
			continue
		}
		if i := strings.IndexAny(line, "\r\n"); i >= 0 {
			line = line[:i]
		}
		from, to := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			from, to = line[:i], strings.TrimLeft(line[i:], " \t")
		}
		msg := "expect <to>"
		if to != "" {
			msg = addCaseAdjust(g, from, to)
		}
		if msg != "" {
			l.diags.global(SevAlert, g.H1CaseAdjustFilePos, "h1-headers-case-adjust-file '%s' : %s at line %d.", path, msg, n+1)
			return
		}
	}
}

// asciiEqualFold is strcasecmp's equality: ASCII letters only.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
