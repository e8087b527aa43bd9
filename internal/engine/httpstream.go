package engine

import (
	"errors"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"sluice/internal/config"
	"sluice/internal/h1"
	"sluice/internal/logfmt"
	"sluice/internal/sample"
	"sluice/internal/tunnel"
)

// httpTxn is one request and its response on a client connection, and the
// facts its log line reports.
type httpTxn struct {
	// scTaken is set once serverConn took sc for this transaction, and
	// scTakes is then sc.takes as it took it (0 for a new connection).
	scTaken  bool
	scTakes  uint64
	req, res h1.Head
	// reqCopy holds the request head when its body had to be read past
	// it (the client buffer is then reused), so rules and logs still see it.
	reqCopy []byte
	reqLen  int // length of the head in the client buffer (0: copied)
	// arena holds what rules write into the heads (new values, URIs).
	arena []byte
	// Cookie persistence: the server the request's cookie named and what
	// happened to the cookies (%tsc).
	cookieSrv   *server
	cookieState logfmt.CookieState
	// assigned is the server a use-server rule or the cookie chose
	// (nil: the balancer chooses); direct stays set while the request
	// goes there (HAProxy's SF_DIRECT), a redispatch clears it. persist
	// is what force-persist and ignore-persist rules said.
	assigned *server
	direct   bool
	persist  persistMode
	// cookieLast and cookieFirst are the persistence cookie's dates, in
	// seconds since the epoch (0: none).
	cookieLast, cookieFirst int64
	setCookieState          logfmt.SetCookieState
	start                   time.Time
	// Offsets from start.
	tIdle, tReq, tQueue, tConnect, tData time.Duration
	status                               int
	// bytesIn and bytesOut are %U and %B: HAProxy counts the messages
	// that entered the stream in their HTX form (h1.HTXSize), the
	// request as received and the response as the server sent it,
	// before any rule changed them.
	bytesIn, bytesOut int64
	// rcvd: the client sent bytes of this request (option dontlognull
	// logs nothing otherwise).
	rcvd bool
	// logged: option logasap wrote the transaction's line already.
	logged bool
	// cli is the client connection, for the rules that read from it
	// (wait-for-body); body is what the body fetches see of it.
	cli  *hconn
	body sample.Body
	// sess is the connection's session.
	sess *httpSession
	// inBe and inSrv: the transaction is counted in its backend's and its
	// server's current connections. HAProxy's log line comes after its
	// stream left both (%bc and %sc do not count it); Sluice logs first
	// and leaves it out of the counts it logs.
	inBe, inSrv bool
	cause       logfmt.Cause
	phase       logfmt.Phase
	// reqLine is the request line as received, for %r: a copy the
	// transaction keeps from one request to the next.
	reqLine []byte
	sc      *srvConn
	// own is the session's list of its private server connections
	// (httpSession.own).
	own *[]*srvConn
	// reusedConn: the request went over an idle connection, which a
	// server may have closed meanwhile: it is retried once on a new one.
	reusedConn bool
	// reqSent: the request went to a server; HAProxy's request channel
	// no longer holds it, so an error page's log-format finds no request
	// samples.
	reqSent bool
	// cliCookie and srvCookie are the capture cookie values (%CC, %CS),
	// in the arena; nil when none.
	cliCookie, srvCookie []byte
	// l7 is the state of captures, variables and the other Layer 7
	// features (httpl7.go).
	l7 l7txn
}

// reset readies t for the connection's next transaction. The memory of
// its heads' field lists, its head copy and its arena is kept, so that a
// keep-alive connection's requests do not allocate them again; nothing of
// the previous transaction is referenced once it is logged.
func (t *httpTxn) reset(start time.Time, sc *srvConn) {
	req, res := t.req, t.res
	req.Reset()
	res.Reset()
	*t = httpTxn{req: req, res: res, reqCopy: t.reqCopy[:0], arena: t.arena[:0], reqLine: t.reqLine[:0], start: start, sc: sc}
}

// outcome says what becomes of the client connection after a transaction.
type outcome int

const (
	keepOpen outcome = iota
	closeConn
	handedOff // a tunnel (WebSocket) owns the connection now
)

// httpSide names which connection an I/O error came from.
type sideError struct {
	server bool
	err    error
}

func (e *sideError) Error() string { return e.err.Error() }
func (e *sideError) Unwrap() error { return e.err }

// serveHTTP runs the transactions of an http frontend's connection in
// order, one at a time (pipelined requests wait in the buffer), until one
// side closes, a timeout expires or a transaction ends the connection.
func (s *stream) serveHTTP() {
	s.runHTTP(&httpSession{cli: newClientConn(s.client), t: txnPool.Get().(*httpTxn), start: s.accept})
}

// txnPool keeps the transactions of connections that parked or ended,
// with their heads' field lists and arenas grown, for the next
// connection's requests: a new client costs none of them, and thousands
// of idle ones leave no garbage behind.
var txnPool = sync.Pool{New: func() any { return new(httpTxn) }}

// releaseTxn gives the session's transaction back to txnPool. Nothing
// may use it after: the stream's sample context forgets its heads.
func (s *stream) releaseTxn(ss *httpSession) {
	if ss.t == nil {
		return
	}
	s.smp.Req, s.smp.Res, s.smp.Body = nil, nil, nil
	ss.t.reset(time.Time{}, nil)
	ss.t.req.Forget()
	ss.t.res.Forget()
	txnPool.Put(ss.t)
	ss.t = nil
}

// httpSession is what a client connection keeps from one transaction to
// the next, so that another goroutine can take it over after it waited
// parked (see park).
type httpSession struct {
	cli  *hconn
	t    *httpTxn // reused from one transaction to the next
	last *srvConn
	// own are the private server connections (http-reuse never) the
	// session keeps idle between its requests, in the order it first
	// used them, as HAProxy's session list: any of them carries a later
	// request to its server, and they close with the session.
	own []*srvConn
	// lastTakes is last.takes when the last transaction ended.
	lastTakes uint64
	// addrs are the connection's addresses, kept once a request's rules
	// may change them (keepAddrs); nil until then.
	addrs *[2]netip.AddrPort
	start time.Time
	n     int // transactions done
	// woken is set when the session resumes after parking: its next
	// request is there to read, not to wait for again.
	woken bool
}

// runHTTP runs transactions until the connection ends or parks.
func (s *stream) runHTTP(ss *httpSession) {
	cli := ss.cli
	for ; ; ss.n++ {
		if ss.n > 0 && !ss.woken && s.park(ss) {
			return // a goroutine of the poller's takes over when it wakes
		}
		ss.woken = false
		if ss.t == nil {
			ss.t = txnPool.Get().(*httpTxn) // given back while the session was parked
		}
		t := ss.t
		t.reset(ss.start, ss.last)
		t.own, t.sess = &ss.own, ss
		out := s.httpTxn(cli, t, ss.n == 0)
		ss.last = t.sc
		if t.scTaken {
			// This transaction took its connection (a new one, or from
			// the pool); one it did not touch keeps the count noted when
			// it was taken, whoever took it since.
			ss.lastTakes = t.scTakes
		}
		if out == keepOpen {
			cli.consume(t.reqLen) // a head without body stayed in the buffer until now
		}
		if out == handedOff {
			return
		}
		if out == closeConn || s.e.ctx.Err() != nil || s.e.stopping.Load() {
			break
		}
		ss.start = time.Now()
	}
	s.endHTTP(ss)
}

// endHTTP closes the client connection and the server connection it kept.
func (s *stream) endHTTP(ss *httpSession) {
	if c := ss.last; c != nil && c.takes.Load() == ss.lastTakes && !c.idle() {
		// A server connection waiting in its server's pool stays there
		// for other clients, as in HAProxy; any other one closes, unless
		// another client took it from the pool since: it is that
		// client's now.
		c.close()
	}
	for i, c := range ss.own {
		// HAProxy closes a session's private connections with it.
		if c.srv.pool.take(c) != nil {
			c.close()
		}
		ss.own[i] = nil
	}
	ss.own = ss.own[:0]
	cli := ss.cli
	cli.releaseIfEmpty()
	if cli.bp != nil {
		bufPool.Put(cli.bp)
	}
	drainInput(s.client) // a FIN, not a reset, after a response cut short
	s.close()
	s.releaseTxn(ss)
}

// readDeadlines: the first request gets `timeout http-request` from the
// accept; a later one waits `timeout http-keep-alive` for its first byte,
// then `timeout http-request` for the rest of its head. Each falls back
// to `timeout client`, as in HAProxy.
func (s *stream) headTimeouts() (keepAlive, request time.Duration) {
	t := s.fe.cfg.Timeouts
	request = t.HTTPRequest
	if request == 0 {
		request = t.Client
	}
	keepAlive = t.HTTPKeepAlive
	if keepAlive == 0 {
		keepAlive = request
	}
	return keepAlive, request
}

func deadline(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from.Add(24 * time.Hour) // no timeout set: HAProxy warns; a day stands for "forever"
	}
	return from.Add(d)
}

// readRequest waits for a complete request head. It returns false when
// the transaction ends there (answered with an error or silently closed).
func (s *stream) readRequest(cli *hconn, t *httpTxn, first bool) bool {
	kaT, reqT := s.headTimeouts()
	dl := deadline(t.start, reqT)
	if !first {
		dl = deadline(t.start, kaT)
	}
	got := len(cli.pending()) > 0
	if got {
		t.tIdle = 0
		t.rcvd = true
	}
	for {
		buf := cli.pending()
		if len(buf) > 0 {
			if !got {
				got, t.rcvd = true, true
				t.tIdle = time.Since(t.start)
				if !first {
					dl = deadline(time.Now(), reqT)
				}
			}
			n, err := h1.ParseRequest(buf, &t.req, h1.Limits{MaxFields: s.fe.maxHdr, Lax: s.fe.laxReq})
			if err == nil && t.req.HTXRoom() > s.fe.maxHTXHead() {
				// The whole head came at once, but HAProxy wants it to
				// fit, in its HTX form, in tune.bufsize less
				// tune.maxrewrite all the same.
				err = &h1.Error{Status: 400, Msg: "request head too large"}
			}
			if err == nil {
				t.reqLen = n
				t.tReq = time.Since(t.start)
				t.bytesIn = t.req.HTXSize()
				return true
			}
			if !errors.Is(err, h1.ErrIncomplete) {
				status := 400
				var he *h1.Error
				if errors.As(err, &he) {
					status = he.Status
				}
				// HAProxy's HTTP/1 layer refuses it before a request
				// exists: %TR is -1.
				t.tReq = logfmt.NotReached
				s.httpError(cli, t, status, logfmt.CauseProxy, logfmt.PhaseRequest)
				return false
			}
			if len(buf) >= s.fe.maxHead {
				t.tReq = logfmt.NotReached
				s.httpError(cli, t, 400, logfmt.CauseProxy, logfmt.PhaseRequest)
				return false
			}
		}
		_, err := cli.fill(dl)
		if err == nil {
			continue
		}
		// option http-ignore-probes: a first connection that sent
		// nothing (a browser's pre-connect) ends without a 408 and
		// without a log line.
		probe := first && !got && s.fe.ignoreProbes
		switch {
		case isTimeout(err):
			if !got && !first || probe {
				return false // an idle keep-alive connection: closed silently
			}
			t.tReq = logfmt.NotReached
			if !got {
				t.tIdle = 0 // as HAProxy's %Ti: no idle time before a first request
			}
			s.httpError(cli, t, 408, logfmt.CauseClientTimeout, logfmt.PhaseRequest)
		case (got || first) && !probe:
			// The client left before finishing its request, or
			// before sending any. HAProxy's HTTP/1 layer turns that
			// into a 400 it cannot send, and logs that status
			// (option dontlognull drops an empty connection's line).
			t.tReq = logfmt.NotReached
			if !got {
				t.tIdle = 0
			}
			t.cause, t.phase, t.status = logfmt.CauseClientAbort, logfmt.PhaseRequest, 400
			s.logHTTP(t) // no %U: HAProxy had no request yet
		}
		return false
	}
}

// httpTxn runs one transaction.
func (s *stream) httpTxn(cli *hconn, t *httpTxn, first bool) outcome {
	s.smp.LogLevel = 0 // each request is a stream of its own in HAProxy
	s.smp.Body = nil
	s.restoreAddrs(t)
	// A request that fails before it reaches a backend (408, 400) logs
	// the frontend and <NOSRV>, not the previous request's.
	s.be, s.srv = nil, nil
	if !s.readRequest(cli, t, first) {
		return closeConn
	}
	if t.req.Framing == h1.Chunked {
		if err := checkChunks(cli.pending()[t.reqLen:]); err != nil {
			s.httpError(cli, t, 400, logfmt.CauseProxy, logfmt.PhaseRequest)
			return closeConn
		}
	}
	if t.req.Framing != h1.NoBody {
		// The body will be read through the buffer the head sits in.
		t.reqCopy = append(t.reqCopy[:0], cli.pending()[:t.reqLen]...)
		cli.consume(t.reqLen)
		if _, err := h1.ParseRequest(t.reqCopy, &t.req, h1.Limits{MaxFields: 1 << 30, Lax: s.fe.laxReq, Again: true}); err != nil {
			panic("h1: a parsed head did not parse again: " + err.Error())
		}
		t.reqLen = 0
	}
	s.smp.Req, s.smp.Res = &t.req, nil
	s.smp.FirstRequest = first
	if s.fe.log != nil && s.fe.log.format != nil {
		head := cli.pending()[:t.reqLen]
		if t.reqLen == 0 {
			head = t.reqCopy // a request with a body: its head was copied out
		}
		t.reqLine = appendRequestLine(t.reqLine[:0], head)
	}
	s.be = nil
	t.cli = cli
	if out, done := s.beginRequest(cli, t); done {
		return out
	}
	if s.fe.bufferReq && !s.waitBody(cli, t, s.fe.cfg.Timeouts.HTTPRequest, 0) {
		return closeConn
	}
	s.exposeBody(cli, t)
	switch v, r := s.runHTTPRules(s.fe.httpReq, t, &t.req); v {
	case vReply:
		return s.answer(cli, t, r, false)
	case vEnded:
		return closeConn
	}
	be := s.pickBackend()
	if be == nil {
		s.httpError(cli, t, 503, logfmt.CauseServerAbort, logfmt.PhaseConnect)
		return closeConn
	}
	s.be = be
	s.smp.BackendName, s.smp.BackendID = be.name, be.id
	if be.cfg.Mode != config.ModeHTTP {
		// Only a log-format use_backend can reach a tcp backend from an
		// http frontend: HAProxy closes without a response (500, IR).
		t.status, t.cause, t.phase = 500, logfmt.CauseInternal, logfmt.PhaseRequest
		s.logHTTP(t)
		return closeConn
	}
	if be.cfg != s.fe.cfg {
		if be.bufferReq && !s.fe.bufferReq && !s.waitBody(cli, t, be.cfg.Timeouts.HTTPRequest, 0) {
			return closeConn
		}
		if len(be.rules.content) > 0 && !s.httpInspect(cli, t, &be.rules, false) {
			return closeConn
		}
		s.exposeBody(cli, t)
		switch v, r := s.runHTTPRules(be.httpReq, t, &t.req); v {
		case vReply:
			return s.answer(cli, t, r, false)
		case vEnded:
			return closeConn
		}
	}
	s.captureReqCookie(t)
	if s.fe.cfg.CaptureCookie != nil || be.cookie != nil {
		stripCookieBlanks(t, t.req.Fields, "cookie", true)
	}
	s.requestDone(t)
	s.assignServer(t)
	if be.l7.input == "url_param" && t.assigned == nil && string(t.req.Method()) == "POST" {
		// As http_process_request: a POST to a url_param backend that
		// no cookie or use-server rule sent to a server (SF_ASSIGNED,
		// SF_DIRECT) waits for its body, which the balancer reads when
		// the query string lacks the parameter.
		if !s.waitBody(cli, t, be.cfg.Timeouts.HTTPRequest, 0) {
			return closeConn
		}
		s.exposeBody(cli, t)
	}
	be.conns.Add(1)
	t.inBe = true
	out := s.exchange(cli, t)
	if out != handedOff {
		be.conns.Add(-1) // a tunnel gives it back when it ends
		t.inBe = false
	}
	return out
}

// assignServer runs what may choose the server ahead of the balancer,
// in HAProxy's order: force-persist and ignore-persist rules, then
// use-server rules, then the persistence cookie, which is still read
// (and removed or unprefixed) when a rule chose the server.
func (s *stream) assignServer(t *httpTxn) {
	be := s.be
	if len(be.persist) > 0 {
		t.persist = be.persistence(&s.smp)
	}
	force := t.persist == persistForce
	if len(be.useServer) > 0 {
		t.assigned = be.ruleServer(&s.smp, force)
	}
	if be.cookie != nil {
		t.cookieSrv, t.cookieState = s.cookieServer(t, t.assigned != nil || t.persist == persistIgnore, force)
		if t.assigned == nil {
			t.assigned = t.cookieSrv
		}
	}
	t.direct = t.assigned != nil
}

// pickBackend runs the switching rules; nil: nowhere to go.
func (s *stream) pickBackend() *backend {
	s.smp.Payload, s.smp.Final = nil, true
	be := s.switchBackend()
	if be == nil || !be.usable() {
		return nil
	}
	return be
}

// exchange gets a server connection, forwards the request and relays the
// response. A request that met a reused connection the server had closed
// is sent again once on a fresh one, as HAProxy does.
func (s *stream) exchange(cli *hconn, t *httpTxn) outcome {
	be := s.be
	var a assignment
	var err error
	qw := queueWatch{conn: s.client, cli: cli, t: t}
	if t.assigned != nil {
		a, err = be.acquireServer(s.e.ctx, t.assigned, qw)
	} else if last := s.lastServer(t); last != nil {
		a, err = be.acquireServer(s.e.ctx, last, qw)
	} else {
		a, err = be.acquireKey(s.e.ctx, be.httpKey(&s.smp, &t.req), nil, qw)
	}
	s.srvQueue, s.bkQueue = int32(a.srvQueue), int32(a.bkQueue)
	if err != nil {
		if a.queued > 0 {
			t.tQueue = time.Since(t.start) // a wait that ended in the queue
		}
		c, p := queueFailure(err)
		if err == errQueueAbort {
			// The client left with its body unfinished: nothing is
			// sent, as HAProxy's stream logs status -1.
			s.skipRequestBody(cli, t)
			s.logError(t, -1, c, p)
			return closeConn
		}
		s.httpError(cli, t, 503, c, p)
		return closeConn
	}
	t.tQueue = time.Since(t.start)
	srv := a.srv
	for attempt := 0; ; attempt++ {
		t.inSrv = true
		sc, err := s.serverConn(cli, t, srv, attempt > 0)
		if err != nil {
			if sc != nil {
				srv = sc.srv
			}
			be.release(srv)
			t.inSrv = false
			s.srv = srv // the log names the server that failed
			return s.connectError(cli, t, err)
		}
		srv = sc.srv
		s.srv = srv
		t.sc = sc
		if s.redispatched && t.assigned != nil && srv != t.assigned {
			t.direct = false
			if t.cookieState == logfmt.CookieValid {
				t.cookieState = logfmt.CookieDown
			}
		}
		in := t.bytesIn
		out, retry := s.forwardTxn(cli, t, sc)
		if !retry {
			if out != handedOff {
				be.release(srv) // a tunnel releases its slot when it ends
				t.inSrv = false
			}
			return out
		}
		sc.c.Close()
		t.sc = nil
		t.bytesIn = in // the request is sent again: its bytes count once
	}
}

// lastServer is the server that option prefer-last-server sends the
// request to, as HAProxy's assign_server: the server of the connection
// this client's last request used, when it is still its own (a private
// connection, http-reuse never), idle and alive, the server is usable,
// and the backend does not balance by a hash. Nil otherwise: the
// balancer picks.
func (s *stream) lastServer(t *httpTxn) *server {
	be := s.be
	if !be.preferLast || be.hashed || t.own == nil {
		return nil
	}
	for _, c := range *t.own {
		srv := c.srv
		be.mu.Lock()
		usable := be.byLB[srv.lb] == srv && srv.lb.Up() && srv.lb.Weight > 0
		be.mu.Unlock()
		if usable && c.idle() && c.alive() {
			return srv
		}
	}
	return nil
}

// maxSessionSrvConns is how many idle private server connections a
// session keeps, HAProxy's max-session-srv-conns default.
const maxSessionSrvConns = 10

// takeOwn takes from the session's private connections an idle one to
// srv that can carry t's request; connections found dead leave the
// list. Nil when there is none.
func (s *stream) takeOwn(t *httpTxn, srv *server, now time.Time) *srvConn {
	if t.own == nil {
		return nil
	}
	own := *t.own
	var found *srvConn
	for i := 0; i < len(own); i++ {
		c := own[i]
		if found != nil || c.srv != srv {
			continue
		}
		if srv.pool.take(c) != nil {
			if c.reusable(&t.req, now) {
				found = c
				continue
			}
			c.close()
		}
		// Not in the pool: its server closed it, or it was dropped.
		own = slices.Delete(own, i, i+1)
		i--
	}
	*t.own = own
	return found
}

// connectError answers 503 when no connection to a server could be made.
// As HAProxy, it keeps the client connection for the next request when
// the request, body included, was wholly received: its body is skipped.
func (s *stream) connectError(cli *hconn, t *httpTxn, err error) outcome {
	c, p := connectFailure(err)
	if !s.skipRequestBody(cli, t) || c != logfmt.CauseServerAbort {
		s.httpError(cli, t, 503, c, p)
		return closeConn
	}
	return s.httpErrorKeep(cli, t, 503, c, p)
}

// skipRequestBody is for a request answered without its body being
// forwarded: what the client buffer holds of the body counts as received
// (%U, as much as HAProxy had in its buffer), and when that is all of it, it
// is consumed so that the connection can carry the next request. It
// reports whether it was all there.
func (s *stream) skipRequestBody(cli *hconn, t *httpTxn) bool {
	complete, n, size := bufferedBody(cli, t)
	t.bytesIn += min(size, s.bodyRoom(t)) // HAProxy's buffer holds no more
	if complete && t.req.Framing != h1.NoBody {
		cli.consume(t.reqLen + n)
		t.reqLen = 0
	}
	return complete
}

// bufferedBody measures what the client buffer holds of the request's
// body, reading nothing more: whether it is all there (complete,
// HAProxy's end of input), the bytes it then spans (n) and its size in
// HTX terms (size: a chunked body's data without its framing, and the
// trailers once it is whole).
func bufferedBody(cli *hconn, t *httpTxn) (complete bool, n int, size int64) {
	buf := cli.pending()[t.reqLen:]
	switch t.req.Framing {
	case h1.NoBody:
		return true, 0, 0
	case h1.Length:
		if int64(len(buf)) < t.req.ContentLength {
			return false, 0, int64(len(buf))
		}
		return true, int(t.req.ContentLength), t.req.ContentLength
	case h1.Chunked:
		var st chunkState
		var data int64
		n, last, err := decodeChunks(buf, &st, nil, &data)
		if err != nil || !last {
			return false, 0, data
		}
		var fields []h1.Field
		m, err := h1.ParseTrailers(buf[n:], &fields, h1.Limits{})
		if err != nil {
			return false, 0, data
		}
		return true, n + m, data + h1.TrailersHTXSize(fields)
	}
	return false, 0, 0
}

// serverConn finds the connection the request goes over: the one this
// client used last when it is to the same server and still idle, another
// idle one of the server as http-reuse allows, or a new one.
func (s *stream) serverConn(cli *hconn, t *httpTxn, srv *server, fresh bool) (*srvConn, error) {
	be := s.be
	prev := t.sc
	t.sc, t.reusedConn, t.scTaken = nil, false, true // a new one has no takes
	if !fresh && srv != nil {
		if c := s.takeIdle(t, prev, srv); c != nil {
			return c, nil
		}
	}
	a := assignment{srv: srv, key: be.httpKey(&s.smp, &t.req), direct: t.direct, force: t.persist == persistForce,
		watch: queueWatch{conn: s.client, cli: cli, t: t}}
	if be.cfg.Retries > 0 && be.cfg.Options["redispatch"] != nil {
		// A request redispatched to another server takes this client's
		// or an idle connection of that server, as it would have at
		// first.
		a.idle = func(srv *server) *srvConn { return s.takeIdle(t, prev, srv) }
	}
	res, err := be.connect(s.e.ctx, a, s.smp.Src, s.smp.Dst, s.clientGone)
	s.retries, s.redispatched = res.retries, res.redispatch
	if res.pooled != nil {
		return res.pooled, nil
	}
	if err != nil {
		if res.srv != nil {
			return &srvConn{srv: res.srv}, err
		}
		return nil, err
	}
	if err := s.sendProxy(res.conn, res.srv); err != nil {
		res.conn.Close()
		return &srvConn{srv: res.srv}, err
	}
	t.tConnect = time.Since(t.start)
	s.saddr = remoteAddrPort(res.conn)
	return newSrvConn(res.conn, res.srv), nil
}

// takeIdle hands out an idle connection of srv for t: prev, the one
// this client used last, when it is to srv and still idle (whatever
// http-reuse says: a private one is this client's), or another that
// http-reuse lets t take: any, or for http-reuse safe only to a
// session's later requests (HAProxy's TX_NOT_FIRST), whether or not its
// own last connection was kept. Nil when there is none.
func (s *stream) takeIdle(t *httpTxn, prev *srvConn, srv *server) *srvConn {
	if srv.pool == nil {
		return nil
	}
	now := time.Now()
	if c := s.takeOwn(t, srv, now); c != nil {
		t.reusedConn, t.scTakes = true, c.takes.Load()
		return c
	}
	if prev != nil && prev.srv == srv {
		if c := srv.pool.take(prev); c != nil {
			if c.reusable(&t.req, now) {
				t.reusedConn, t.scTakes = true, c.takes.Load()
				return c
			}
			c.c.Close()
		}
	}
	// A last connection to another server stays in that server's pool
	// for others.
	r := s.be.reuse
	if r != reuseAlways && r != reuseAggressive && (r != reuseSafe || s.smp.FirstRequest) {
		return nil
	}
	for {
		c := srv.pool.take(nil)
		if c == nil {
			return nil
		}
		if c.reusable(&t.req, now) {
			t.reusedConn, t.scTakes = true, c.takes.Load()
			return c
		}
		c.c.Close()
	}
}

// forwardTxn sends the request over sc and relays the response. retry is
// set when a reused connection turned out closed before any response.
func (s *stream) forwardTxn(cli *hconn, t *httpTxn, sc *srvConn) (out outcome, retry bool) {
	if t.tConnect == 0 || t.reusedConn {
		t.tConnect = time.Since(t.start)
	}
	beT, feT := s.beTimeouts(t), s.fe.cfg.Timeouts
	mode := s.connMode()
	serverClose := mode != modeKeepAlive || serverMustClose(&t.req)
	wb := bufPool.Get().(*[]byte)
	defer bufPool.Put(wb)
	out0 := (*wb)[:0]
	// option http-pretend-keepalive: the request says nothing of the
	// close to come (HAProxy's PR_O2_FAKE_KA), for servers that answer
	// a closing request without a length.
	out0 = s.requestHead(out0, t, serverClose && !s.be.cfg.Opt("http-pretend-keepalive"))
	w := &bodyWriter{dst: &sc.hconn, buf: out0, timeout: beT.Server, caseMap: s.be.caseSrv}
	if t.req.Framing != h1.NoBody {
		w.peerTimeout = beT.Server
	}
	t.reqSent = true
	// The client buffer the body fetches read goes on to the server and
	// back to its pool: nothing may read it as this request's body now.
	s.smp.Body = nil
	s.yieldBeforeWrite()
	if t.req.Framing == h1.NoBody {
		// On a connection just opened nothing can come before the
		// response: the request goes out from within the wait for it
		// (sendThenFill). A pooled one may have been closed with the
		// last response's bytes, a close the wait would not see: the
		// request is sent, then the response read.
		var err error
		if t.reusedConn {
			err = w.flush()
		} else {
			err = w.flushThenFill()
		}
		if err != nil {
			if t.reusedConn {
				return closeConn, true
			}
			s.httpError(cli, t, 502, logfmt.CauseServerAbort, logfmt.PhaseHeaders)
			return closeConn, false
		}
	} else {
		emptyBody := t.req.Framing == h1.Length && t.req.ContentLength == 0
		if t.req.Expect100 && !emptyBody && len(cli.pending()) == t.reqLen && !clearTextWaiting(s.client) {
			// The client waits for 100 Continue before its body (a
			// Content-Length of 0 has none to wait for).
			out, done, retry := s.awaitContinue(cli, t, sc, w)
			if done {
				return out, retry
			}
		}
		err := copyBody(cli, w, &t.req, feT.Client, false)
		t.bytesIn += w.htx
		if err != nil {
			var se *sideError
			var he *h1.Error
			if errors.As(err, &se) && se.server {
				s.httpError(cli, t, 502, logfmt.CauseServerAbort, logfmt.PhaseData)
			} else if errors.Is(err, errPeerTimeout) {
				// The client is slow to send the body and the server,
				// waiting for it, stayed silent for timeout server:
				// HAProxy answers 504 (sH).
				s.httpError(cli, t, 504, logfmt.CauseServerTimeout, logfmt.PhaseHeaders)
			} else if errors.As(err, &he) {
				// A malformed chunked body found after the head went to
				// the server: HAProxy's stream answers 400, its page
				// formatted as any response (lower-case names).
				s.httpError(cli, t, 400, logfmt.CauseProxy, logfmt.PhaseData)
			} else {
				// No response yet: HAProxy logs status -1.
				t.status, t.cause, t.phase = -1, clientCause(err), logfmt.PhaseData
				s.logHTTP(t)
			}
			sc.c.Close()
			t.sc = nil
			return closeConn, false
		}
	}
	return s.relayResponse(cli, t, sc, serverClose)
}

// yieldBeforeRead comes before a read of a socket on which nothing can
// have come yet but that cannot wait first (hconn.canWaitFirst): a
// response just asked for on a reused server connection, a TLS client's
// next request right after its response. On one thread, other streams' work
// goes first, and by the time this one runs again its data has often
// come: it is read at once, without a read that finds nothing and a wait
// in Go's poller, as HAProxy reads only sockets epoll reported. With
// more threads, a yield would wake an idle one to take the other
// streams' work, which costs more than the empty read it saves, so none
// is made.
func (s *stream) yieldBeforeRead() {
	if s.e.oneThread {
		runtime.Gosched()
	}
}

// yieldBeforeWrite comes before a stream writes a request head to its
// server or a response head to its client. On one thread, the other
// streams the poller woke with this one first read and process what they
// were woken for, and the writes then go out together, as HAProxy's
// event loop reads every ready socket before its streams write: a peer
// woken by the first write finds the others' bytes when it runs, instead
// of being woken for each. In the keep-alive benchmark this took the
// wake-ups of the client and nginx from 0.35 to 0.45 per request down to
// 0.23 to 0.35 (HAProxy: 0.23 to 0.31). Not with more threads, for the
// reason yieldBeforeRead gives.
func (s *stream) yieldBeforeWrite() {
	if s.e.oneThread {
		runtime.Gosched()
	}
}

// clientCause: a timeout reading the client is cD, anything else CD.
func clientCause(err error) logfmt.Cause {
	if isTimeout(err) {
		return logfmt.CauseClientTimeout
	}
	return logfmt.CauseClientAbort
}

// relayResponse reads the server's response head (forwarding interim 1xx
// responses), then the response to the client.
func (s *stream) relayResponse(cli *hconn, t *httpTxn, sc *srvConn, serverClose bool) (outcome, bool) {
	beT, feT := s.beTimeouts(t), s.fe.cfg.Timeouts
	headReq := string(t.req.Method()) == "HEAD"
	got := false
	for {
		buf := sc.pending()
		if len(buf) > 0 {
			got = true
			n, err := h1.ParseResponse(buf, &t.res, headReq, h1.Limits{MaxFields: s.fe.maxHdr, Lax: s.be.laxRes})
			if err == nil && t.res.HTXRoom() > s.fe.maxHTXHead() {
				err = &h1.Error{Status: 502, Msg: "response head too large"}
			}
			if err == nil && t.res.Framing == h1.Chunked {
				// HAProxy parses the body that came with the head
				// before it forwards anything: a malformed one there is
				// a bad response (502), not a response cut short.
				err = checkChunks(buf[n:])
			}
			if err == nil {
				if t.res.Status() >= 100 && t.res.Status() < 200 && t.res.Status() != 101 {
					// Interim response (100 Continue): forward it and wait
					// for the final one.
					wb := t.res.AppendResponseCase(make([]byte, 0, n+16), s.fe.caseCli)
					t.bytesOut += t.res.HTXSize()
					sc.consume(n)
					if _, err := cli.send(wb, feT.Client); err != nil {
						sc.c.Close()
						t.sc = nil
						t.cause, t.phase = clientCause(err), logfmt.PhaseData
						s.logHTTP(t)
						return closeConn, false
					}
					continue
				}
				if t.res.Status() == 101 && t.req.Conn&h1.ConnUpgrade == 0 {
					// A switch nobody asked for: HAProxy answers 502.
					sc.c.Close()
					t.sc = nil
					return s.httpErrorKeep(cli, t, 502, logfmt.CauseProxy, logfmt.PhaseHeaders), false
				}
				t.tData = time.Since(t.start)
				t.status = t.res.Status()
				return s.sendResponse(cli, t, sc, n, serverClose), false
			}
			if !errors.Is(err, h1.ErrIncomplete) || len(buf) >= s.fe.maxHead {
				sc.c.Close()
				t.sc = nil
				return s.httpErrorKeep(cli, t, 502, logfmt.CauseProxy, logfmt.PhaseHeaders), false
			}
		}
		if !got {
			// The request was just written: the server is still at it.
			s.yieldBeforeRead()
		}
		_, err := sc.fill(deadline(time.Now(), beT.Server))
		if err == nil {
			continue
		}
		if !got && t.reusedConn && t.req.Framing == h1.NoBody && !isTimeout(err) {
			return closeConn, true
		}
		sc.c.Close()
		t.sc = nil
		if isTimeout(err) {
			return s.httpErrorKeep(cli, t, 504, logfmt.CauseServerTimeout, logfmt.PhaseHeaders), false
		}
		return s.httpErrorKeep(cli, t, 502, logfmt.CauseServerAbort, logfmt.PhaseHeaders), false
	}
}

// sendResponse writes the response head (n bytes in sc's buffer) and body
// to the client, then decides what becomes of both connections.
func (s *stream) sendResponse(cli *hconn, t *httpTxn, sc *srvConn, n int, serverClose bool) outcome {
	feT, beT := s.fe.cfg.Timeouts, s.beTimeouts(t)
	res := &t.res
	s.smp.Res = res
	upgrade := res.Status() == 101
	s.captureResponse(res)
	clientKeep := !upgrade && s.clientKeepAlive(t, res)
	t.bytesOut += res.HTXSize() // as received: rules change it after
	serverKeep := !upgrade && !serverClose && res.Framing != h1.UntilClose && res.Conn&h1.ConnClose == 0 &&
		(res.Is11() || res.Conn&h1.ConnKeepAlive != 0)
	// HAProxy runs the response rules on a 101 as on any final response.
	s.exposeResBody(t, res, sc.pending()[n:])
	r := s.responseRules(t, res)
	s.smp.Body = nil
	if r != nil {
		s.dropResponse(t, sc, n, (r.act == haReturn || r.act == haDeny) && serverKeep)
		return s.answer(cli, t, r, true)
	}
	if !upgrade {
		s.captureResCookie(t, res)
		if s.fe.cfg.CaptureCookie != nil || s.be.cookie != nil {
			stripCookieBlanks(t, res.Fields, "set-cookie", false)
		}
		if s.be.cookie != nil {
			t.setCookieState = s.setCookie(t, res)
		}
	}
	if l := s.fe.log; l != nil && l.logASAP {
		t.status = res.Status()
		s.logHTTPEarly(t, res.HTXSize()+bufferedResBody(res, sc.pending()[n:]))
	}
	wb := bufPool.Get().(*[]byte)
	defer bufPool.Put(wb)
	out := s.responseHead((*wb)[:0], t, res, clientKeep)
	sc.consume(n)
	s.smp.Res = nil // its slices die with the server buffer
	w := &bodyWriter{dst: cli, buf: out, timeout: feT.Client, caseMap: s.fe.caseCli}
	s.yieldBeforeWrite()
	var err error
	if res.Framing == h1.NoBody {
		err = w.flush()
	} else {
		err = copyBody(&sc.hconn, w, res, beT.Server, true)
	}
	t.bytesOut += w.htx
	if err != nil {
		var se *sideError
		errors.As(err, &se)
		sc.c.Close()
		t.sc = nil
		if se != nil && se.server {
			t.cause = logfmt.CauseServerAbort
			if isTimeout(err) {
				t.cause = logfmt.CauseServerTimeout
			}
		} else {
			t.cause = clientCause(err)
		}
		t.phase = logfmt.PhaseData
		s.logHTTP(t)
		return closeConn
	}
	if upgrade {
		return s.tunnelUpgrade(cli, t, sc)
	}
	s.releaseServerConn(t, sc, serverKeep)
	s.logHTTP(t)
	if !clientKeep {
		return closeConn
	}
	return keepOpen
}

// releaseServerConn puts a server connection whose response was read
// whole back in its server's idle pool when it may be reused, and closes
// it otherwise.
func (s *stream) releaseServerConn(t *httpTxn, sc *srvConn, keep bool) {
	if keep && !sc.eof && len(sc.pending()) == 0 && sc.srv.pool != nil {
		sc.reused++
		private := s.be.reuse == reuseNever
		if private && t.own != nil && !slices.Contains(*t.own, sc) {
			if len(*t.own) >= maxSessionSrvConns {
				// The session keeps no more: HAProxy closes it.
				sc.c.Close()
				t.sc = nil
				return
			}
			*t.own = append(*t.own, sc)
		}
		if !sc.srv.pool.put(sc, !s.smp.FirstRequest, private) {
			t.sc = nil // the server has the idle connections it needs
		}
		return
	}
	sc.c.Close()
	t.sc = nil
}

// dropResponse discards the server's response (head of n bytes) that a
// response rule replaced. After an http-response return, HAProxy keeps
// the server connection when the response was already received whole;
// otherwise it is closed. The rule's reply no longer sees the response:
// HAProxy empties the channel before building it.
func (s *stream) dropResponse(t *httpTxn, sc *srvConn, n int, keep bool) {
	res := &t.res
	avail := sc.pending()[n:]
	// The body received with the head counts in %B, as in HAProxy,
	// which had taken it in before the rules ran.
	switch res.Framing {
	case h1.Length:
		t.bytesOut += min(int64(len(avail)), res.ContentLength)
	case h1.Chunked:
		var st chunkState
		var data int64
		decodeChunks(avail, &st, nil, &data)
		t.bytesOut += data
	case h1.UntilClose:
		t.bytesOut += int64(len(avail))
	}
	switch {
	case res.Framing == h1.NoBody:
	case res.Framing == h1.Length && int64(len(avail)) >= res.ContentLength:
		n += int(res.ContentLength)
	default:
		keep = false
	}
	s.smp.Res = nil
	if keep {
		sc.consume(n)
	}
	s.releaseServerConn(t, sc, keep)
}

// responseRules runs the backend's then the frontend's http-response
// rules, then their http-after-response rules; a deny returns its rule.
func (s *stream) responseRules(t *httpTxn, res *h1.Head) *httpRule {
	sets := [][]httpRule{s.be.httpRes, s.fe.httpRes, s.be.httpAfter, s.fe.httpAfter}
	if s.be.cfg == s.fe.cfg {
		sets[0], sets[2] = nil, nil
	}
	s.smp.InResponse = true
	defer func() { s.smp.InResponse = false }()
	for _, rules := range sets {
		if v, r := s.runHTTPRules(rules, t, res); v == vReply {
			return r
		}
	}
	t.status = res.Status()
	return nil
}

// tunnelUpgrade hands both connections to a byte relay after a 101
// (WebSocket), with `timeout tunnel`; the relay ends the stream.
func (s *stream) tunnelUpgrade(cli *hconn, t *httpTxn, sc *srvConn) outcome {
	feT, beT := s.fe.cfg.Timeouts, s.beTimeouts(t)
	cli.consume(t.reqLen)
	t.reqLen = 0
	if p := cli.pending(); len(p) > 0 {
		if _, err := sc.send(p, beT.Server); err != nil {
			sc.c.Close()
			t.sc = nil
			return closeConn
		}
		t.bytesIn += int64(len(p))
		cli.consume(len(p))
	}
	if p := sc.pending(); len(p) > 0 {
		if _, err := cli.send(p, feT.Client); err != nil {
			sc.c.Close()
			t.sc = nil
			return closeConn
		}
		t.bytesOut += int64(len(p))
		sc.consume(len(p))
	}
	up, ok := sc.c.(tunnel.Conn)
	if !ok {
		sc.c.Close()
		t.sc = nil
		return closeConn
	}
	cli.releaseIfEmpty()
	sc.releaseIfEmpty()
	s.e.track(up)
	tunnel.StartContext(s.e.ctx, s.client, up, tunnel.Timeouts{
		Client: feT.Client, Server: beT.Server, Tunnel: beT.Tunnel,
		ClientFin: feT.ClientFin, ServerFin: beT.ServerFin,
	}, func(r tunnel.Result) {
		s.e.untrack(up)
		s.be.release(sc.srv)
		s.be.conns.Add(-1)
		t.inBe, t.inSrv = false, false
		t.bytesIn += r.ClientToServer
		t.bytesOut += r.ServerToClient
		t.cause, t.phase = relayEnd(r, s.e.ctx.Err() != nil)
		s.logHTTP(t)
		s.close()
	})
	return handedOff
}

// connMode is the connection mode from the frontend's and backend's
// options: httpclose on either side wins, then http-server-close, else
// keep-alive (HAProxy's rule).
type httpMode int

const (
	modeKeepAlive httpMode = iota
	modeServerClose
	modeClose
)

func (s *stream) connMode() httpMode {
	fe, be := s.fe.cfg, s.be.cfg
	switch {
	case fe.Opt("httpclose") || be.Opt("httpclose"):
		return modeClose
	case fe.Opt("http-server-close") || be.Opt("http-server-close"):
		return modeServerClose
	}
	return modeKeepAlive
}

// clientKeepAlive adds the response's part: it must have a length.
func (s *stream) clientKeepAlive(t *httpTxn, res *h1.Head) bool {
	// An HTTP/1.0 response with Transfer-Encoding leaves its framing in
	// doubt for HTTP/1.0 agents on the way (RFC 9112 section 6.1):
	// HAProxy closes the client's connection after it too.
	if res.Framing == h1.Chunked && !res.Is11() {
		return false
	}
	return res.Framing != h1.UntilClose && s.clientWantsKeepAlive(t)
}

var (
	hdrConnection = []byte("connection")
	valClose      = []byte("close")
	valKeepAlive  = []byte("keep-alive")
)

// resConnValue is the Connection header HAProxy's H1 multiplexer puts on
// a response (h1_update_res_conn_value): "keep-alive" when the connection
// stays open but the response or the request is HTTP/1.0, "close" when
// it closes after an HTTP/1.1 response, nothing otherwise.
func resConnValue(keep, resIs11, reqIs11 bool) []byte {
	switch {
	case keep && (!resIs11 || !reqIs11):
		return valKeepAlive
	case !keep && resIs11:
		return valClose
	}
	return nil
}

// serverMustClose: an HTTP/1.0 request with Transfer-Encoding leaves
// its framing in doubt (RFC 9112 section 6.1), so the server connection
// is not reused after it, as in HAProxy.
func serverMustClose(req *h1.Head) bool {
	return !req.Is11() && req.Framing == h1.Chunked
}

// requestHead writes the request as it goes to the server: the
// Connection header's close and keep-alive tokens are Sluice's to set,
// as HAProxy's h1_update_req_conn_value sets them: "close" on an
// HTTP/1.1 request when the server connection closes after it,
// "keep-alive" on an HTTP/1.0 one when it stays open.
func (s *stream) requestHead(dst []byte, t *httpTxn, serverClose bool) []byte {
	h := &t.req
	stripConnTokens(h)
	switch {
	case serverClose && h.Is11():
		h.Add(hdrConnection, valClose)
	case !serverClose && !h.Is11():
		h.Add(hdrConnection, valKeepAlive)
	}
	return h.AppendRequestCase(dst, s.be.caseSrv)
}

// responseHead writes the response head for the client. The status line
// keeps the server's version (HTTP/1.0 stays 1.0), as HAProxy does.
func (s *stream) responseHead(dst []byte, t *httpTxn, res *h1.Head, clientKeep bool) []byte {
	if res.Status() != 101 {
		stripConnTokens(res)
		if v := resConnValue(clientKeep, res.Is11(), t.req.Is11()); v != nil {
			res.Add(hdrConnection, v)
		}
	}
	return res.AppendResponseCase(dst, s.fe.caseCli)
}

// stripConnTokens removes close and keep-alive from Connection headers,
// and a header when nothing else is left in it.
func stripConnTokens(h *h1.Head) {
	for i := h.Lookup("connection", 0); i >= 0; i = h.Lookup("connection", i+1) {
		v := cleanConnValue(h.Fields[i].Value)
		if len(v) == 0 {
			h.Fields = append(h.Fields[:i], h.Fields[i+1:]...)
			i--
			continue
		}
		h.Fields[i].Value = v
	}
}

// cleanConnValue drops the close and keep-alive tokens from a Connection
// value, rewriting it in place as HAProxy's h1_parse_connection_header
// does: the value is unchanged up to the first dropped token, and each
// token kept after one is appended with a bare comma ("a, close, b"
// becomes "a,b").
func cleanConnValue(v []byte) []byte {
	n := 0 // v[:n] is the value kept so far
	p := 0 // where the input not yet read starts
	for w := 0; w < len(v); w++ {
		if v[w] == ' ' || v[w] == '\t' {
			continue
		}
		e := w
		for e < len(v) && v[e] != ',' {
			e++
		}
		word := v[w:e]
		for len(word) > 0 && (word[len(word)-1] == ' ' || word[len(word)-1] == '\t') {
			word = word[:len(word)-1]
		}
		if !h1.EqualFold(word, "close") && !h1.EqualFold(word, "keep-alive") {
			if n == p {
				n = e
			} else {
				if n > 0 {
					v[n] = ','
					n++
				}
				n += copy(v[n:], word)
			}
		}
		w, p = e, e
	}
	return v[:n]
}

// appendRequestLine appends the request line of head to dst, for the
// log (%r).
func appendRequestLine(dst, head []byte) []byte {
	for len(head) > 0 && (head[0] == '\r' || head[0] == '\n') {
		head = head[1:]
	}
	for i, c := range head {
		if c == '\r' || c == '\n' {
			return append(dst, head[:i]...)
		}
	}
	return append(dst, head...)
}

func writeAll(c net.Conn, b []byte, timeout time.Duration) (int, error) {
	c.SetWriteDeadline(deadline(time.Now(), timeout))
	return c.Write(b)
}
