package engine

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"sluice/internal/config"
	"sluice/internal/h1"
	"sluice/internal/httperr"
	"sluice/internal/lb"
	"sluice/internal/logsink"
	"sluice/internal/netaddr"
	"sluice/internal/tunnel"
)

// backend is a backend's run-time state: its servers and balancer.
type backend struct {
	conns   atomic.Int64 // current connections assigned here (%bc)
	name    string
	cfg     *config.Proxy
	mu      sync.Mutex // guards bal: balancers are not safe for concurrent use
	bal     lb.Balancer
	servers []*server
	byLB    map[*lb.Server]*server
	hashed  bool // balance source, uri, url_param or hdr()
	// abortOnClose: option abortonclose (a mode tcp client's close ends
	// its wait in a queue, see queueWatch).
	abortOnClose bool
	// preferLast: option prefer-last-server (see stream.lastServer).
	preferLast bool
	// laxRes: option accept-invalid-http-response (h1.Limits.Lax).
	laxRes bool
	// bufferReq: option http-buffer-request in the backend, the body
	// waited for after switching (when the frontend did not).
	bufferReq bool
	// caseSrv is h1-case-adjust under option h1-case-adjust-bogus-server:
	// the case of the names in what is sent to servers; nil: lower case.
	caseSrv  h1.CaseMap
	avalanch bool
	l7       l7Hash // what uri, url_param and hdr() hash
	id       int
	rules    ruleSet // tcp-request content rules, run after switching
	// dispatch is the `dispatch` address of a backend without servers.
	dispatch *server
	queue    list.List // of *waiter: connections waiting for any server
	// dynamic is set when a server has minconn below maxconn: its limit
	// then grows with the backend's load up to fullconn.
	dynamic  bool
	fullconn int
	// keepAlive is the Dialer's setting: -1 (off) unless option srvtcpka
	// or tcpka asks for TCP keep-alive, as in HAProxy.
	keepAlive time.Duration
	queueIdx  uint64 // waiters dequeued so far
	seq       uint64 // orders waiters across queues (FIFO)
	// sink is where server state changes are logged (the backend's log
	// lines); nil: nowhere.
	sink *logsink.Sink
	// e reports connection outcomes to `observe layer4`.
	e *Engine
	// http: the backend runs in mode http; its servers keep idle
	// connections in pools, shared as reuse (http-reuse) allows.
	http  bool
	reuse reuseMode
	// HTTP rules and option forwardfor.
	httpReq, httpRes, httpAfter []httpRule
	// errReplies are the log-format http-error pages.
	errReplies map[*httperr.Page]*reply
	forwardFor *forwardFor
	originalTo *originalTo
	cookie     *persistCookie
	// persist are the force-persist and ignore-persist rules, useServer
	// the use-server rules, in file order.
	persist   []persistRule
	useServer []serverRule
}

// reuseMode is http-reuse.
type reuseMode int

const (
	reuseSafe reuseMode = iota
	reuseNever
	reuseAggressive
	reuseAlways
)

// usable reports whether the backend has anywhere to send connections.
func (b *backend) usable() bool { return len(b.servers) > 0 || b.dispatch != nil }

// server is one server's address, balancer handle and queue.
type server struct {
	cfg      *config.Server
	lb       *lb.Server
	addr     string // host:port; empty port means the client's destination port
	maxconn  int
	minconn  int // with maxconn and the backend's fullconn: a dynamic limit
	maxqueue int
	queue    list.List    // of *waiter, guarded by the backend's mu
	queueIdx uint64       // waiters dequeued so far
	cur      atomic.Int64 // connections holding a slot, readable without mu (%sc)

	// Health: opUp is what checks say (true without checks), maint the
	// administrative maintenance of `disabled`; the balancer sees the
	// server up when opUp && !maint. Both are guarded by the backend's mu.
	opUp, maint bool
	check       *srvCheck // nil: no health check
	agentCheck  *srvCheck // nil: no agent check
	observe     bool      // observe layer4
	consecErrs  atomic.Int64
	streams     streamSet // relayed connections, for on-marked-down/up
	killable    bool      // a state change may close its connections
	// agentWeight is the agent's last weight, in percent of the
	// configured one (100 unless the agent said otherwise).
	agentWeight int
	drain       bool // the agent asked to drain
	slowEnd     time.Time
	// pool holds idle keep-alive connections (http backends only).
	pool *idlePool
}

// take and drop count a connection on a server (caller holds mu).
func (b *backend) take(s *server) {
	b.bal.Take(s.lb)
	s.cur.Add(1)
}

func (b *backend) drop(s *server) {
	b.bal.Drop(s.lb)
	s.cur.Add(-1)
}

var algos = map[string]lb.Algo{
	"roundrobin": lb.RoundRobin, "static-rr": lb.StaticRR, "leastconn": lb.LeastConn,
	"first": lb.First, "source": lb.Hash, "random": lb.Random,
	"uri": lb.Hash, "url_param": lb.Hash, "hdr": lb.Hash, "hash": lb.Hash,
}

func newBackend(p *config.Proxy, id int) (*backend, error) {
	b := &backend{name: p.Name, cfg: p, id: id, byLB: map[*lb.Server]*server{}, keepAlive: -1}
	if p.Opt("srvtcpka") || p.Opt("tcpka") {
		b.keepAlive = 0 // Go's default probes
	}
	var err error
	if b.rules, err = compileRules(p, newCondCompiler(p)); err != nil {
		return nil, fmt.Errorf("backend '%s': %w", p.Name, err)
	}
	b.rules.conn, b.rules.sess = nil, nil // frontend-only rule families
	if p.Dispatch != nil && len(p.Servers) == 0 {
		d := &config.Server{Name: p.Name, Addr: *p.Dispatch}
		b.dispatch = &server{cfg: d, addr: serverAddr(d)}
	}
	var lbs []*lb.Server
	for i, s := range p.Servers {
		id := s.Params.ID
		if id == 0 {
			id = i + 1
		}
		// As HAProxy's check_config_validity: minconn above maxconn raises
		// maxconn, and a maxconn without minconn is a static limit.
		maxc, minc := s.Params.Maxconn, s.Params.Minconn
		if minc > maxc {
			maxc = minc
		} else if minc == 0 {
			minc = maxc
		}
		ls := &lb.Server{ID: id, Name: s.Name, Weight: s.Params.Weight, Backup: s.Params.Backup, MaxConn: maxc}
		srv := &server{cfg: s, lb: ls, addr: serverAddr(s), maxconn: maxc, maxqueue: s.Params.Maxqueue, minconn: minc,
			opUp: true, maint: s.Params.Disabled, agentWeight: 100}
		b.dynamic = b.dynamic || (srv.minconn > 0 && srv.minconn < srv.maxconn)
		b.servers = append(b.servers, srv)
		b.byLB[ls] = srv
		lbs = append(lbs, ls)
	}
	algo, ok := algos[p.Balance.Algo]
	if !ok {
		return nil, fmt.Errorf("backend '%s': balance %s is not supported yet by Sluice", p.Name, p.Balance.Algo)
	}
	opt := lb.Options{AllBackups: p.Opt("allbackups"), Draws: p.Balance.Draws}
	if p.HashType.Method == "consistent" {
		opt.HashType = lb.Consistent
	}
	b.hashed = algo == lb.Hash
	b.abortOnClose = p.Opt("abortonclose")
	b.preferLast = p.Opt("prefer-last-server")
	b.bufferReq = p.Opt("http-buffer-request")
	b.laxRes = p.Opt("accept-invalid-http-response")
	b.avalanch = p.HashType.Avalanche || (p.HashType.Method == "consistent" && !p.HashType.FunctionSet)
	b.l7 = newL7Hash(p, b.avalanch)
	bal, err := lb.New(algo, lbs, opt)
	if err != nil {
		return nil, fmt.Errorf("backend '%s': %w", p.Name, err)
	}
	for _, s := range b.servers {
		if s.cfg.Params.Disabled {
			bal.SetUp(s.lb, false) // `disabled`: maintenance from the start
		}
	}
	b.bal = bal
	if err := b.compileServerRules(p, newCondCompiler(p)); err != nil {
		return nil, fmt.Errorf("backend '%s': %w", p.Name, err)
	}
	if p.Mode == config.ModeHTTP {
		b.http = true
		if err := compileHTTPRuleSets(p, newCondCompiler(p), &b.httpReq, &b.httpRes, &b.httpAfter); err != nil {
			return nil, fmt.Errorf("backend '%s': %w", p.Name, err)
		}
		b.forwardFor = newForwardFor(p)
		b.originalTo = newOriginalTo(p)
		if b.errReplies, err = errorReplies(p.ErrorPages); err != nil {
			return nil, fmt.Errorf("backend '%s': %w", p.Name, err)
		}
		if b.cookie, err = newPersistCookie(p); err != nil {
			return nil, fmt.Errorf("backend '%s': %w", p.Name, err)
		}
		b.reuse = reuseSafe
		for i := len(p.Directives) - 1; i >= 0; i-- {
			if d := p.Directives[i]; d.Keyword == "http-reuse" && len(d.Args) > 0 {
				b.reuse = map[string]reuseMode{"never": reuseNever, "safe": reuseSafe, "aggressive": reuseAggressive, "always": reuseAlways}[d.Args[0]]
				break
			}
		}
		for _, s := range b.servers {
			s.pool = &idlePool{used: &s.cur}
		}
		if b.dispatch != nil {
			b.dispatch.pool = &idlePool{}
		}
	}
	return b, nil
}

// serverAddr renders a server's dial address; the port is left empty when
// the server line has none (HAProxy then uses the client's destination port).
func serverAddr(s *config.Server) string {
	a := s.Addr
	host := a.Host
	if a.IP.IsValid() {
		host = a.IP.String()
	}
	port := ""
	if a.Port > 0 {
		port = strconv.Itoa(a.Port)
	}
	return net.JoinHostPort(host, port)
}

// dialAddr is where to connect for a client that connected to dst: the
// server's own address, or, for `0.0.0.0`, `:+N` and port-less servers,
// the client's destination address or port (shifted by the offset).
func (s *server) dialAddr(dst netip.AddrPort) string {
	a := s.cfg.Addr
	if !a.UseClientDst && a.PortMode == netaddr.PortFixed && a.Port > 0 {
		return s.addr
	}
	host, port, _ := net.SplitHostPort(s.addr)
	if a.UseClientDst {
		host = dst.Addr().String()
	}
	switch {
	case a.PortMode == netaddr.PortOffset:
		port = strconv.Itoa(int(dst.Port()) + a.Offset)
	case a.PortMode == netaddr.PortNone || a.Port == 0:
		port = strconv.Itoa(int(dst.Port()))
	}
	return net.JoinHostPort(host, port)
}

// Errors of server assignment, each with its own termination code.
var (
	errNoServer     = errors.New("no server available")
	errQueueFull    = errors.New("server queue full")
	errQueueTimeout = errors.New("queue timeout")
	errClientGone   = errors.New("client closed while connecting")
)

// waiter is a connection queued for a server slot.
type waiter struct {
	seq   uint64
	idx0  uint64       // the queue's dequeue count when this waiter joined
	pos   int          // HAProxy's queue position, set when the waiter leaves
	ready chan *server // receives the server whose slot it was given
	srv   *server      // nil: waiting in the backend's queue
	elem  *list.Element
}

// assignment is the outcome of acquire.
type assignment struct {
	srv    *server
	queued time.Duration // time spent in a queue (%Tw)
	// srvQueue and bkQueue are the connections that were ahead in the
	// server's and the backend's queue when this one joined (%sq, %bq).
	srvQueue, bkQueue int
	// key is what the server was picked by; a redispatch picks by it again.
	key lbKey
	// near is the client connection the server's will be relayed with:
	// a server socket dialed below the net package joins its poller.
	near tunnel.Conn
	// idle, when set, offers an idle connection of a server the request
	// was redispatched to (mode http), which connect returns instead of
	// dialing.
	idle func(*server) *srvConn
	// direct: a cookie or a use-server rule chose srv (HAProxy's
	// SF_DIRECT); force: a force-persist rule matched, and the request
	// is never redispatched.
	direct, force bool
	// watch, for a redispatch that queues: how to watch the client.
	watch queueWatch
}

// acquireKey gives a connection or request balanced on key (see connKey
// and httpKey) a server slot, as HAProxy's assign_server_and_queue does:
// a server below its maxconn is taken at once; a full server chosen by
// hash queues the connection on itself (refused past maxqueue); when
// every usable server is full the connection waits in the backend's
// queue. A queued connection waits up to `timeout queue` (or `timeout
// connect` when unset) in FIFO order.
func (b *backend) acquireKey(ctx context.Context, key lbKey, avoid *server, watch queueWatch) (assignment, error) {
	a, err := b.assign(ctx, key, avoid, watch)
	a.key = key
	return a, err
}

func (b *backend) assign(ctx context.Context, key lbKey, avoid *server, watch queueWatch) (assignment, error) {
	if b.dispatch != nil {
		return assignment{srv: b.dispatch}, nil
	}
	b.mu.Lock()
	b.refreshLimits()
	var ls *lb.Server
	av, avoider := b.bal.(lb.Avoider)
	avoiding := avoid != nil && !b.hashed && avoid.lb.Up()
	if avoiding && avoider {
		// Round robin passes over the server that failed in the same
		// pick, so that the turns go on as HAProxy's do.
		ls = av.PickAvoid(key.v, avoid.lb)
	} else {
		ls = b.pick(key)
	}
	if ls != nil && avoiding && !avoider && ls == avoid.lb {
		// Redispatch: look past the server that failed, as HAProxy's
		// srvtoavoid does; keep it when it is the only choice.
		// Only within the same group: an active server is not given up
		// for a backup, as HAProxy's srvtoavoid does not cross groups.
		b.bal.SetUp(avoid.lb, false)
		if other := b.pick(key); other != nil && other.Backup == avoid.lb.Backup {
			ls = other
		}
		b.bal.SetUp(avoid.lb, true)
	}
	var w *waiter
	switch {
	case ls == nil && !b.anyUsable():
		b.mu.Unlock()
		return assignment{}, errNoServer
	case ls == nil:
		w = b.enqueue(&b.queue, nil)
	default:
		return b.takeOrQueue(ctx, b.byLB[ls], watch)
	}
	b.mu.Unlock()
	return b.waitAssigned(ctx, w, watch)
}

// acquireServer gives the stream a slot on a server chosen by persistence
// (a cookie), queueing on that server when it is full.
func (b *backend) acquireServer(ctx context.Context, srv *server, watch queueWatch) (assignment, error) {
	b.mu.Lock()
	b.refreshLimits()
	return b.takeOrQueue(ctx, srv, watch)
}

// takeOrQueue takes a slot on srv or queues on it (caller holds mu, which
// it releases).
func (b *backend) takeOrQueue(ctx context.Context, srv *server, watch queueWatch) (assignment, error) {
	ls := srv.lb
	if lim := srv.limit(b); lim > 0 && (srv.queue.Len() > 0 || ls.Served() >= lim) {
		if srv.maxqueue > 0 && srv.queue.Len() >= srv.maxqueue {
			b.mu.Unlock()
			return assignment{}, errQueueFull
		}
		w := b.enqueue(&srv.queue, srv)
		b.mu.Unlock()
		return b.waitAssigned(ctx, w, watch)
	}
	b.take(srv)
	b.mu.Unlock()
	return assignment{srv: srv}, nil
}

func (b *backend) waitAssigned(ctx context.Context, w *waiter, watch queueWatch) (assignment, error) {
	a, err := b.wait(ctx, w, watch)
	if w.srv != nil {
		a.srvQueue = w.pos
	} else {
		a.bkQueue = w.pos
	}
	return a, err
}

func (b *backend) enqueue(q *list.List, srv *server) *waiter {
	b.seq++
	w := &waiter{seq: b.seq, ready: make(chan *server, 1), srv: srv, idx0: *b.queueIdxOf(srv)}
	w.elem = q.PushBack(w)
	return w
}

func (b *backend) queueIdxOf(srv *server) *uint64 {
	if srv != nil {
		return &srv.queueIdx
	}
	return &b.queueIdx
}

// unlink takes a waiter out of its queue (caller holds mu). Its position
// is HAProxy's: one more than the waiters dequeued while it waited.
func (b *backend) unlink(w *waiter) {
	b.queueOf(w).Remove(w.elem)
	w.elem = nil
	w.pos = int(*b.queueIdxOf(w.srv)-w.idx0) + 1
}

// wait blocks a queued connection until a slot is handed over, the
// queue's timeout passes or, with a watch, the client aborts.
func (b *backend) wait(ctx context.Context, w *waiter, watch queueWatch) (assignment, error) {
	start := time.Now()
	tq := b.cfg.Timeouts.Queue
	if tq == 0 {
		tq = b.cfg.Timeouts.Connect
	}
	var timeout <-chan time.Time
	if tq > 0 {
		t := time.NewTimer(tq)
		defer t.Stop()
		timeout = t.C
	}
	var aborted <-chan error
	if watch.conn != nil {
		q := new(queueWatch) // on the heap only for a connection that waits
		*q = watch
		var stop func()
		aborted, stop = q.start()
		defer stop()
	}
	var err error
	select {
	case srv := <-w.ready:
		return assignment{srv: srv, queued: time.Since(start)}, nil
	case <-timeout:
		err = errQueueTimeout
	case err = <-aborted:
	case <-ctx.Done():
		err = ctx.Err()
	}
	b.mu.Lock()
	if w.elem != nil { // still queued: leave
		b.unlink(w)
		b.mu.Unlock()
		return assignment{queued: time.Since(start)}, err
	}
	b.mu.Unlock()
	// A slot was handed over as the wait ended: use it.
	return assignment{srv: <-w.ready, queued: time.Since(start)}, nil
}

func (b *backend) queueOf(w *waiter) *list.List {
	if w.srv != nil {
		return &w.srv.queue
	}
	return &b.queue
}

// anyUsable reports whether some server could take connections once one
// frees a slot (caller holds mu).
// limit is the server's connection limit now (0: none), HAProxy's
// srv_dynamic_maxconn: maxconn, or with minconn, minconn growing to
// maxconn as the backend's connections approach fullconn.
func (s *server) limit(b *backend) int {
	if s.maxconn == 0 || !b.dynamic || s.minconn == 0 || s.minconn >= s.maxconn {
		return s.maxconn
	}
	beconn := int(b.conns.Load())
	if beconn >= b.fullconn {
		return s.maxconn
	}
	return max(s.minconn, beconn*s.maxconn/b.fullconn, 1)
}

// refreshLimits gives the balancer each server's current limit, so that
// it skips full servers (caller holds mu).
func (b *backend) refreshLimits() {
	if !b.dynamic {
		return
	}
	for _, s := range b.servers {
		s.lb.MaxConn = s.limit(b)
	}
}

func (b *backend) anyUsable() bool {
	for _, s := range b.servers {
		if s.lb.Up() && s.lb.Weight > 0 {
			return true
		}
	}
	return false
}

// release ends a connection's claim on a server and hands the freed slot
// to the oldest connection waiting for this server or for any server.
func (b *backend) release(s *server) {
	if s == nil || s == b.dispatch {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drop(s)
	b.refreshLimits()
	b.serveQueued(s)
}

// serveQueued hands free slots of s to the oldest waiting connections
// (caller holds mu); it returns how many got one.
func (b *backend) serveQueued(s *server) int {
	n := 0
	for s.maxconn == 0 || s.lb.Served() < s.limit(b) {
		w := b.oldest(s)
		if w == nil {
			return n
		}
		b.unlink(w)
		*b.queueIdxOf(w.srv)++
		b.take(s)
		w.ready <- s
		n++
	}
	return n
}

// oldest is the first waiter of s's queue or the backend's, whichever
// came first (caller holds mu).
func (b *backend) oldest(s *server) *waiter {
	var sw, bw *waiter
	if e := s.queue.Front(); e != nil {
		sw = e.Value.(*waiter)
	}
	if e := b.queue.Front(); e != nil && s.lb.Up() && s.lb.Weight > 0 {
		bw = e.Value.(*waiter)
	}
	switch {
	case sw == nil:
		return bw
	case bw == nil || sw.seq < bw.seq:
		return sw
	}
	return bw
}

// connected is the outcome of connect.
type connected struct {
	conn       tunnel.Conn
	pooled     *srvConn // an idle connection taken after a redispatch (assignment.idle)
	srv        *server
	tried      *server // the last server attempted, for the log
	retries    int     // attempts beyond the first (%rc)
	redispatch bool    // the last attempt went to another server
	connTime   time.Duration
}

// connect dials the assigned server: one attempt plus `retries` more,
// each bounded by `timeout connect`. It follows HAProxy's
// back_handle_st_cer: after a refusal the same server is retried after
// min(timeout connect, 1s); with `option redispatch` a retry goes to
// another server at once when its interval says so, or whenever the
// balancing is not a hash and more than one active server is usable. The
// returned srv is the server finally used (its slot is held).
func (b *backend) connect(ctx context.Context, a assignment, client, dst netip.AddrPort, gone func() bool) (connected, error) {
	ct := b.cfg.Timeouts.Connect
	pause := min(ct, time.Second)
	if ct == 0 {
		pause = time.Second
	}
	res := connected{srv: a.srv}
	var err error
	for attempt := 0; attempt <= b.cfg.Retries; attempt++ {
		if attempt > 0 {
			res.retries = attempt
			if gone != nil && gone() {
				return res, errClientGone
			}
			if b.redispatchOn(attempt, res.srv, a.direct, a.force) {
				prev := res.srv
				res.tried = prev
				b.release(prev)
				res.srv = nil
				na, aerr := b.acquireKey(ctx, a.key, prev, a.watch)
				if aerr != nil {
					return res, aerr
				}
				res.srv = na.srv
				res.redispatch = res.redispatch || na.srv != prev
				if a.idle != nil && na.srv != prev {
					if c := a.idle(na.srv); c != nil {
						res.pooled = c
						return res, nil
					}
				}
			} else if !isTimeout(err) {
				select { // turn-around: the same server likely refuses again
				case <-time.After(pause):
				case <-ctx.Done():
					return res, ctx.Err()
				}
			}
		}
		start := time.Now()
		var c tunnel.Conn
		if c, err = b.dial(ctx, res.srv.dialAddr(dst), ct, a.near); err == nil {
			res.conn, res.connTime = c, time.Since(start)
			b.e.observe(b, res.srv, true)
			return res, nil
		}
		if ctx.Err() == nil {
			b.e.observe(b, res.srv, false)
		}
	}
	return res, err
}

// dial connects to a server. Without TCP keep-alive, a numeric address
// is dialed by Sluice itself, with fewer system calls than the net
// package: for mode tcp by the relay's own poller (tunnel.DialNear), for
// mode http into Go's poller (tunnel.DialPolled), where the engine's
// goroutines wait on it. Otherwise, or where that is unavailable, by net.
func (b *backend) dial(ctx context.Context, addr string, timeout time.Duration, near tunnel.Conn) (tunnel.Conn, error) {
	if b.keepAlive < 0 {
		if ap, perr := netip.ParseAddrPort(addr); perr == nil {
			var c tunnel.Conn
			var err error
			if b.http {
				c, err = tunnel.DialPolled(ctx, ap, timeout)
			} else {
				c, err = tunnel.DialNear(ctx, ap, timeout, near)
			}
			if !errors.Is(err, errors.ErrUnsupported) {
				return c, err
			}
		}
	}
	d := net.Dialer{Timeout: timeout, KeepAlive: b.keepAlive}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// isTimeout reports whether the first net.Error in err's chain is a
// timeout, as errors.As would find it, without the allocation of As's
// target.
func isTimeout(err error) bool {
	for err != nil {
		if ne, ok := err.(net.Error); ok {
			return ne.Timeout()
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// redispatchOn says whether retry number attempt (1-based) leaves srv
// for another server under `option redispatch [interval]`: a positive
// interval P means every Pth retry, a negative -N every retry that is a
// multiple of retries+1-N (by default the last one); and a retry always
// may when the algorithm is not a hash, several active servers are up
// and no cookie or use-server rule chose srv (direct). A request a
// force-persist rule let through stays on its server.
func (b *backend) redispatchOn(attempt int, srv *server, direct, force bool) bool {
	o := b.cfg.Options["redispatch"]
	if o == nil || o.Disabled || b.dispatch != nil || force {
		return false
	}
	interval := -1
	if len(o.Args) == 1 {
		interval, _ = strconv.Atoi(o.Args[0])
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case !srv.lb.Up():
		return true
	case interval > 0 && attempt%interval == 0:
		return true
	case interval < 0 && b.cfg.Retries+1+interval > 0 && attempt%(b.cfg.Retries+1+interval) == 0:
		return true
	case b.hashed || direct:
		return false
	}
	active := 0
	for _, s := range b.servers {
		if !s.lb.Backup && s.lb.Up() && s.lb.Weight > 0 {
			active++
		}
	}
	return active > 1
}
