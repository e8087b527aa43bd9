// Package engine builds Sluice's running state from a loaded configuration:
// it opens every bind, runs the accept loops with their connection limits,
// and stops them softly (let connections finish) or hard. It is the only
// package that knows both the configuration model and the runtime parts.
package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"sluice/internal/acl"
	"sluice/internal/config"
	"sluice/internal/h1"
	"sluice/internal/httperr"
	"sluice/internal/listener"
	"sluice/internal/logsink"
	"sluice/internal/sample"
	"sluice/internal/tunnel"
)

// Options are the process-level settings the command line adds.
type Options struct {
	// Log is the global section's log targets: operational messages and
	// the traffic of proxies with `log global`; nil logs nowhere.
	Log *logsink.Sink
	// Warn and Alert print server state changes on stderr, as HAProxy's
	// [WARNING] and [ALERT] lines; nil prints nothing.
	Warn, Alert func(format string, a ...any)
	// Inherited listeners from an earlier instance could be passed here in
	// a later version; today every bind is opened anew with SO_REUSEPORT.
}

// Engine is a running configuration.
type Engine struct {
	cfg    *config.Config
	log    *logsink.Sink
	global *listener.Limiter

	// oneThread: GOMAXPROCS was 1 when the engine opened (nbthread 1).
	// Streams then yield before a read that would find nothing yet
	// (yieldBeforeRead).
	oneThread bool

	// ctx is cancelled by HardStop so connection attempts end at once.
	ctx    context.Context
	cancel context.CancelFunc

	hostname  string
	facts     *proxyFacts
	userlists userlists
	// smpEnv is what every stream's fetches share (sample.Ctx.Env).
	smpEnv    *sample.Env
	globalLog *logsink.Sink   // the global section's targets
	sinks     []*logsink.Sink // proxies' own targets, closed by Close
	stopping  atomic.Bool
	actconn   atomic.Int64 // connections being handled, process-wide (%ac)
	// streams counts streams (HTTP requests, TCP connections) as HAProxy
	// numbers them (%rt, the unique-id's usual counter).
	streams atomic.Uint32

	health      health
	purge       poolPurge
	backendList []*backend // in configuration order

	waitOnce sync.Once
	finished chan struct{} // closed when every loop and connection is done

	mu      sync.Mutex
	pending []opened
	loops   []*listener.Loop
	conns   map[net.Conn]struct{}
	done    sync.WaitGroup
	// parked are idle HTTP keep-alive clients waiting without a goroutine
	// (nil while one is being parked); a stop wakes them to close.
	parked map[*httpSession]*tunnel.Parked
}

// Start opens every listener of cfg and starts accepting.
func Start(cfg *config.Config, opt Options) (*Engine, error) {
	e, err := Open(cfg, opt)
	if err == nil {
		e.Serve()
	}
	return e, err
}

// Serve starts accepting on every listener Open opened. Callers drop
// privileges between the two, as HAProxy does between bind and poll.
func (e *Engine) Serve() {
	for _, o := range e.pending {
		fe := o.fe
		bind := o.bind
		serve := listener.ServePolled
		if !fe.http {
			// A mode tcp connection is relayed by a poller: it is
			// accepted straight into one.
			serve = listener.ServeEvents
		}
		e.loops = append(e.loops, serve(o.ln, o.limits, func(c net.Conn, done func()) { e.handle(fe, bind, c, done) }))
	}
	e.pending = nil
	e.startChecks()
	e.startPoolPurge()
}

// opened is a listener waiting for Serve.
type opened struct {
	ln     net.Listener
	limits []*listener.Limiter
	fe     *frontend
	bind   *config.Bind
}

// Open opens every listener of cfg without accepting yet. On failure
// nothing stays open and the error names the frontend and address, as
// HAProxy's "Starting frontend" alert does.
func Open(cfg *config.Config, opt Options) (*Engine, error) {
	e := &Engine{cfg: cfg, log: opt.Log, globalLog: opt.Log, conns: map[net.Conn]struct{}{}}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.oneThread = runtime.GOMAXPROCS(0) == 1
	e.hostname, _ = os.Hostname()
	e.global = listener.NewLimiter(GlobalMaxconn(cfg))
	backends := map[string]*backend{}
	e.facts = &proxyFacts{backends: backends, frontends: map[string]*frontend{}}
	e.userlists = newUserlists(cfg)
	e.smpEnv = &sample.Env{Proxies: e.facts, Userlists: e.userlists, LookupEnv: os.LookupEnv, Hostname: e.hostname}
	ids := map[*config.Proxy]int{}
	for i, p := range cfg.Proxies {
		ids[p] = i + 1
	}
	e.health.warn, e.health.alert = opt.Warn, opt.Alert
	if e.health.warn == nil {
		e.health.warn = func(string, ...any) {}
	}
	if e.health.alert == nil {
		e.health.alert = func(string, ...any) {}
	}
	for _, p := range cfg.Backends() {
		b, err := newBackend(p, ids[p])
		if err == nil {
			b.e = e
			if p.Opt("h1-case-adjust-bogus-server") {
				b.caseSrv = h1.CaseMap(cfg.Global.H1CaseAdjust)
			}
			b.sink, err = e.proxySink(cfg, p)
		}
		if err == nil {
			err = e.setupChecks(b)
		}
		if err != nil {
			e.Close()
			return nil, err
		}
		backends[p.Name] = b
		e.backendList = append(e.backendList, b)
	}
	var all []opened
	for _, p := range cfg.Frontends() {
		if p.Disabled {
			continue
		}
		feLimit := listener.NewLimiter(frontendMaxconn(cfg, p))
		fe, err := newFrontend(p, ids[p], backends)
		if err == nil {
			fe.applyTune(cfg.Global.Tune)
			if p.Opt("h1-case-adjust-bogus-client") {
				fe.caseCli = h1.CaseMap(cfg.Global.H1CaseAdjust)
			}
			e.facts.frontends[p.Name] = fe
			fe.log, err = e.newFELog(cfg, p)
		}
		if err != nil {
			closeAll(all)
			e.Close()
			return nil, err
		}
		for _, b := range p.Binds {
			lns, err := listener.Open(b.Addr, bindOptions(b))
			if err != nil {
				closeAll(all)
				e.Close()
				return nil, fmt.Errorf("Starting %s %s: %w", p.Kind, p.Name, err)
			}
			limits := []*listener.Limiter{listener.NewLimiter(b.Params.Maxconn), feLimit, e.global}
			for _, ln := range lns {
				all = append(all, opened{ln, limits, fe, b})
			}
		}
	}
	setFullconn(cfg, backends, e.facts.frontends)
	e.pending = all
	return e, nil
}

func closeAll(all []opened) {
	for _, o := range all {
		o.ln.Close()
	}
}

// GlobalMaxconn is the process-wide connection limit: the configured value,
// or, like HAProxy, half of what the descriptor limit leaves after a small
// reserve (20000 descriptors give 9984).
func GlobalMaxconn(cfg *config.Config) int {
	if cfg.Global.Maxconn > 0 {
		return cfg.Global.Maxconn
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur < 64 {
		return 100
	}
	n := (int(min(rl.Cur, 1<<22)) - 32) / 2
	return max(n, 1)
}

// frontendMaxconn: 0 means the global value, as in HAProxy.
func frontendMaxconn(cfg *config.Config, p *config.Proxy) int {
	if p.Maxconn > 0 {
		return p.Maxconn
	}
	return GlobalMaxconn(cfg)
}

func bindOptions(b *config.Bind) listener.Options {
	o := listener.DefaultOptions()
	o.Name = b.Name
	o.V4V6, o.V6Only, o.DeferAccept = b.Params.V4V6, b.Params.V6Only, b.Params.DeferAccept
	if v, ok := b.Params.Other["backlog"]; ok {
		o.Backlog, _ = strconv.Atoi(v)
	}
	if v, ok := b.Params.Other["mode"]; ok {
		if m, err := strconv.ParseUint(v, 8, 32); err == nil {
			o.UnixMode = os.FileMode(m)
		}
	}
	if v, ok := b.Params.Other["uid"]; ok {
		o.UnixUID, _ = strconv.Atoi(v)
	}
	if v, ok := b.Params.Other["gid"]; ok {
		o.UnixGID, _ = strconv.Atoi(v)
	}
	return o
}

// frontend is a frontend's run-time state: its rules and where its
// connections go.
type frontend struct {
	conns atomic.Int64 // current connections (%fc)
	cfg   *config.Proxy
	id    int
	log   *feLog
	// tcpKeepAlive: option clitcpka or tcpka.
	tcpKeepAlive bool
	// http: the frontend runs in mode http. maxHdr is tune.http.maxhdr,
	// maxHead the largest request or response head (tune.bufsize less
	// tune.maxrewrite).
	http            bool
	maxHdr, maxHead int
	// ignoreProbes: option http-ignore-probes.
	ignoreProbes bool
	// laxReq: option accept-invalid-http-request (h1.Limits.Lax).
	laxReq bool
	// useProxyHdr: option http-use-proxy-header (sample.Ctx.ProxyAuth).
	useProxyHdr bool
	// bufferReq: option http-buffer-request, the body waited for before
	// the http-request rules (waitBody).
	bufferReq bool
	// caseCli is h1-case-adjust under option h1-case-adjust-bogus-client:
	// the case of the names in what is sent to clients; nil: lower case.
	caseCli h1.CaseMap
	// HTTP rules and option forwardfor.
	httpReq, httpRes, httpAfter []httpRule
	forwardFor                  *forwardFor
	originalTo                  *originalTo
	// reqCaps and resCaps are the capture slots (%hr, %hs).
	reqCaps, resCaps []capSlot
	// uid is the unique-id-format (nil: none), uidHeader the header that
	// carries it to servers.
	uid       *valueFmt
	uidHeader []byte
	// errReplies are the log-format http-error pages.
	errReplies map[*httperr.Page]*reply
	// monitorURI is monitor-uri (nil: none); monitorFail its conditions.
	monitorURI  []byte
	monitorFail []*acl.Cond
	rules       ruleSet
	switching   []switchRule
	// defaultBE is the static default_backend, or a listen section's own
	// servers; nil: connections no rule switches are closed.
	defaultBE *backend
}

// newFrontend compiles a frontend's rules against the backends.
func newFrontend(p *config.Proxy, id int, backends map[string]*backend) (*frontend, error) {
	fe := &frontend{cfg: p, id: id, tcpKeepAlive: p.Opt("clitcpka") || p.Opt("tcpka"),
		http: p.Mode == config.ModeHTTP, maxHdr: h1.DefaultMaxFields, maxHead: defaultBufSize - defaultMaxRewrite,
		ignoreProbes: p.Opt("http-ignore-probes"), bufferReq: p.Opt("http-buffer-request"),
		laxReq: p.Opt("accept-invalid-http-request"), useProxyHdr: p.Opt("http-use-proxy-header")}
	cc := newCondCompiler(p)
	var err error
	if fe.rules, err = compileRules(p, cc); err != nil {
		return nil, fmt.Errorf("%s '%s': %w", p.Kind, p.Name, err)
	}
	if fe.http {
		if err := compileHTTPRuleSets(p, cc, &fe.httpReq, &fe.httpRes, &fe.httpAfter); err != nil {
			return nil, fmt.Errorf("%s '%s': %w", p.Kind, p.Name, err)
		}
		fe.forwardFor = newForwardFor(p)
		fe.originalTo = newOriginalTo(p)
		fe.reqCaps, fe.resCaps = captureSlots(p.ReqCaptures), captureSlots(p.ResCaptures)
		if fe.errReplies, err = errorReplies(p.ErrorPages); err != nil {
			return nil, fmt.Errorf("%s '%s': %w", p.Kind, p.Name, err)
		}
		if p.UniqueIDHeader != "" {
			fe.uidHeader = []byte(p.UniqueIDHeader)
		}
		if p.MonitorURI != "" {
			fe.monitorURI = []byte(p.MonitorURI)
			for _, c := range p.MonitorFail {
				ac, err := cc.compile(c)
				if err != nil {
					return nil, fmt.Errorf("%s '%s': monitor fail: %w", p.Kind, p.Name, err)
				}
				fe.monitorFail = append(fe.monitorFail, ac)
			}
		}
	}
	if p.UniqueIDFormat != "" {
		if fe.uid, err = compileValue(p.UniqueIDFormat); err != nil {
			return nil, fmt.Errorf("%s '%s': unique-id-format: %w", p.Kind, p.Name, err)
		}
	}
	for _, r := range p.UseBackends {
		cond, err := cc.compile(r.Cond)
		if err != nil {
			return nil, fmt.Errorf("%s '%s': %w", p.Kind, p.Name, err)
		}
		sr := switchRule{cond: cond, be: backends[r.Name]}
		if r.Dynamic {
			if sr.dyn, err = compileValue(r.Name); err != nil {
				return nil, fmt.Errorf("%s '%s': use_backend '%s': %w", p.Kind, p.Name, r.Name, err)
			}
			sr.be, sr.backends = nil, backends
		}
		fe.switching = append(fe.switching, sr)
	}
	switch {
	case p.DefaultBackend != nil && !p.DefaultBackend.Dynamic:
		fe.defaultBE = backends[p.DefaultBackend.Name]
	case p.Cap&config.CapBE != 0:
		fe.defaultBE = backends[p.Name]
	}
	return fe, nil
}

// applyTune takes tune.bufsize, tune.maxrewrite and tune.http.maxhdr.
func (fe *frontend) applyTune(t map[string]string) {
	size, rewrite := defaultBufSize, defaultMaxRewrite
	if n, err := strconv.Atoi(t["tune.bufsize"]); err == nil && n > 0 {
		size = n
	}
	if n, err := strconv.Atoi(t["tune.maxrewrite"]); err == nil && n >= 0 {
		rewrite = n
	}
	if size > defaultBufSize {
		size = defaultBufSize // Sluice's buffers are 16 kB; larger heads are refused
	}
	fe.maxHead = max(size-rewrite, 1024)
	if n, err := strconv.Atoi(t["tune.http.maxhdr"]); err == nil && n > 0 {
		fe.maxHdr = n
	}
}

// maxHTXHead is the most room a head may take in HTX (h1.Head.HTXRoom):
// what a buffer holds less tune.maxrewrite and the HTX header.
func (fe *frontend) maxHTXHead() int64 { return int64(fe.maxHead - h1.HTXHeader) }

// relays reports whether the frontend can send connections anywhere.
func (fe *frontend) relays() bool {
	return fe.defaultBE != nil && fe.defaultBE.usable() || len(fe.switching) > 0
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok && ta != nil {
		return ta.AddrPort()
	}
	return netip.AddrPort{}
}

// remoteAddrPort is c's peer address, without the allocation of a
// net.Addr where c keeps it as a value.
func remoteAddrPort(c net.Conn) netip.AddrPort {
	if p, ok := c.(interface{ RemoteAddrPort() netip.AddrPort }); ok {
		return p.RemoteAddrPort()
	}
	return addrPort(c.RemoteAddr())
}

// track registers a live connection so a hard stop can close it.
func (e *Engine) track(c net.Conn) {
	e.mu.Lock()
	e.conns[c] = struct{}{}
	e.done.Add(1)
	e.mu.Unlock()
}

func (e *Engine) untrack(c net.Conn) {
	e.mu.Lock()
	delete(e.conns, c)
	e.mu.Unlock()
	e.done.Done()
}

// Addrs lists the addresses the engine listens on, in bind order.
func (e *Engine) Addrs() []net.Addr {
	out := make([]net.Addr, 0, len(e.loops))
	for _, l := range e.loops {
		out = append(out, l.Listener().Addr())
	}
	return out
}

// SoftStop stops accepting; established connections go on until they end.
// It returns at once; Wait reports when the last connection is gone.
func (e *Engine) SoftStop() {
	e.stopping.Store(true)
	e.wakeParked()
	closeAll(e.pending) // opened but never served
	e.pending = nil
	for _, l := range e.loops {
		l.Stop()
	}
}

// HardStop stops accepting and closes every connection.
func (e *Engine) HardStop() {
	e.SoftStop()
	e.cancel()
	e.stopChecks()
	e.stopPoolPurge()
	e.mu.Lock()
	for c := range e.conns {
		c.Close()
	}
	e.mu.Unlock()
}

// Wait blocks until every accept loop and connection has finished, or the
// timeout (0: none) passes; it reports whether everything finished. One
// watcher goroutine serves every call and ends with the last connection.
func (e *Engine) Wait(timeout time.Duration) bool {
	e.waitOnce.Do(func() {
		e.finished = make(chan struct{})
		go func() {
			for _, l := range e.loops {
				l.Wait()
			}
			e.done.Wait()
			close(e.finished)
		}()
	})
	if timeout <= 0 {
		<-e.finished
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-e.finished:
		return true
	case <-t.C:
		return false
	}
}

// Close releases what the engine opened besides listeners: the log sinks
// of proxies with their own targets. Call it once Wait has returned.
func (e *Engine) Close() {
	e.stopChecks()
	e.stopPoolPurge()
	for _, s := range e.sinks {
		s.Close()
	}
	e.sinks = nil
}

// setFullconn gives each backend its fullconn: the configured value, or
// as in HAProxy 10% of the maxconn of the frontends that can send it
// connections, at least 1.
func setFullconn(cfg *config.Config, backends map[string]*backend, frontends map[string]*frontend) {
	total := map[*backend]int{}
	for _, fe := range frontends {
		seen := map[*backend]bool{}
		targets := []*backend{fe.defaultBE}
		for _, r := range fe.switching {
			targets = append(targets, r.be)
		}
		for _, b := range targets {
			if b != nil && !seen[b] {
				seen[b] = true
				total[b] += frontendMaxconn(cfg, fe.cfg)
			}
		}
	}
	for _, b := range backends {
		b.fullconn = b.cfg.Fullconn
		if b.fullconn == 0 {
			b.fullconn = max((total[b]+9)/10, 1)
		}
	}
}
