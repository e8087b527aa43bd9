package engine

import (
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"sluice/internal/config"
	"sluice/internal/logfmt"
	"sluice/internal/proxyproto"
	"sluice/internal/sample"
	"sluice/internal/tunnel"
)

// stream is one client connection's way through Sluice and the facts its
// log line reports.
type stream struct {
	e      *Engine
	fe     *frontend
	bind   *config.Bind
	done   func() // frees the listener's connection slots
	be     *backend
	srv    *server
	client tunnel.Conn
	smp    sample.Ctx
	peek   *peeker

	accept time.Time
	// Timers are offsets from accept; negative: the phase never happened.
	tHandshake, tQueue, tConnect time.Duration
	bsrc, saddr                  netip.AddrPort // backend source and server addresses
	bytesIn, bytesOut            int64
	retries                      int
	srvQueue, bkQueue            int32 // int32: the stream stays in its size class
	// killCause is set (a logfmt.Cause) when a server state change closed
	// the stream: on-marked-down (D) or on-marked-up (U).
	killCause    atomic.Uint32
	cause        logfmt.Cause
	phase        logfmt.Phase
	relayed      bool // the relay ran: its byte counts are final
	redispatched bool
	// logged: option logasap wrote the stream's line at connect;
	// numbered: the stream has its number (%rt).
	logged, numbered bool
}

// handle owns one accepted connection through its whole life, in
// HAProxy's order: tcp-request connection rules, tcp-request session
// rules, the frontend's content rules (waiting up to inspect-delay for
// data; in an http frontend, for each request), switching rules, the
// backend's content rules, then a server is
// picked, connected and bytes relayed until both sides are done, and the
// stream is logged. A connection rejected by a rule or with nowhere to go
// (no backend, no usable server, every attempt refused) is closed at
// once, as HAProxy does in tcp mode.
func (e *Engine) handle(fe *frontend, bind *config.Bind, c net.Conn, done func()) {
	e.track(c)
	client, ok := c.(tunnel.Conn)
	if !ok {
		c.Close()
		e.untrack(c)
		done()
		return
	}
	if ka, ok := c.(interface{ SetKeepAlive(bool) error }); ok && fe.tcpKeepAlive {
		// The listener accepts with keep-alive off; HAProxy turns it on
		// with option clitcpka or tcpka, with the system's timings.
		ka.SetKeepAlive(true)
	}
	e.actconn.Add(1)
	fe.conns.Add(1)
	s := &stream{e: e, fe: fe, bind: bind, client: client, accept: time.Now(), done: done,
		tHandshake: 0, tQueue: logfmt.NotReached, tConnect: logfmt.NotReached}
	s.smp = sample.Ctx{
		// An IPv4 client of a dual-stack (v4v6) bind keeps its mapped
		// form, ::ffff:a.b.c.d, as HAProxy logs and hashes it.
		Src: remoteAddrPort(c), Dst: addrPort(c.LocalAddr()),
		FrontendName: fe.cfg.Name, FrontendID: fe.id,
		Final: true, Stopping: e.stopping.Load(),
		Env: e.smpEnv, ConnInfo: s,
	}
	// Connection and session rules run before the stream exists: a
	// connection they reject is not logged, as in HAProxy.
	expectProxy := bind.Params.AcceptProxy
	if !s.earlyRules(fe.rules.conn, &expectProxy) ||
		(expectProxy && !s.readProxyHeader()) ||
		(bind.Params.SSL && !s.handshakeTLS()) || !s.earlyRules(fe.rules.sess, nil) {
		s.close()
		return
	}
	fe.logConnect(s)
	if fe.http {
		// Content rules run for each request there (httpInspect).
		s.serveHTTP()
		return
	}
	if s.route() && s.forward() {
		return // the relay ends the stream (s.relayed)
	}
	s.peek.release()
	s.end()
}

// end finishes a stream that is not relaying: it is logged, then closed.
// As in HAProxy, the line is written once the backend and server counts no
// longer include this stream (%bc, %sc), the process and frontend counts
// still do (%ac, %fc).
func (s *stream) end() {
	if s.be != nil {
		s.be.conns.Add(-1)
	}
	if s.bytesIn == 0 && !s.relayed {
		// Not relayed (a reject, a refused server, a queue timeout): what
		// the client sent still counts, as HAProxy's req.total does, for
		// %U and dontlognull.
		s.bytesIn = int64(pendingBytes(s.client))
	}
	s.fe.logStream(s)
	if !s.relayed {
		drainInput(s.client)
	}
	s.close()
}

// close releases the client connection, the stream's counts and its
// connection slots (bind, frontend and global maxconn).
func (s *stream) close() {
	s.client.Close()
	s.e.actconn.Add(-1)
	s.fe.conns.Add(-1)
	s.done()
	s.e.untrack(rawConn(s.client))
}

// earlyRules runs tcp-request connection or session rules; false means
// the connection was rejected or dropped.
func (s *stream) earlyRules(rules []tcpRule, proxy *bool) bool {
	switch run(rules, &s.smp, proxy) {
	case verdictReject:
		return false
	case verdictDrop:
		silentDrop(s.client)
		return false
	}
	return true
}

// readProxyHeader takes the PROXY header an accept-proxy bind requires,
// within `timeout client`: its addresses replace the connection's for
// rules and logs (LOCAL and UNKNOWN keep them). A connection without a
// valid header is closed, as HAProxy does.
func (s *stream) readProxyHeader() bool {
	// Without timeout client (HAProxy warns about it) a day stands in for
	// "forever": every wait in Sluice has a deadline.
	deadline := s.accept.Add(24 * time.Hour)
	if t := s.fe.cfg.Timeouts.Client; t > 0 {
		deadline = s.accept.Add(t)
	}
	var buf [proxyHeaderBuf]byte
	h, _, err := proxyproto.ReadFrom(s.client, deadline, buf[:])
	if err != nil {
		s.fe.logEmbryonic(s, proxyproto.Reason(err), true)
		return false
	}
	s.smp.ReceivedProxy = true
	if !h.Unknown && h.Command == proxyproto.Proxy {
		s.smp.Src, s.smp.Dst = h.Src, h.Dst
	}
	s.tHandshake = time.Since(s.accept)
	return true
}

// proxyHeaderBuf holds a v1 line or a v2 header with unix addresses and
// a modest TLV area; longer headers are refused.
const proxyHeaderBuf = 536

// route runs content and switching rules and picks the backend; false
// means the stream ends here (cause and phase say why).
func (s *stream) route() bool {
	fe := s.fe
	if len(fe.rules.content) > 0 && !s.inspect(fe.rules.content, fe.rules.inspectDelay) {
		return false
	}
	be := fe.defaultBE
	if len(fe.switching) > 0 {
		if s.peek == nil {
			s.peek = newPeeker(s.client)
			s.peek.now()
		}
		s.smp.Payload, s.smp.Final = s.peek.data(), true
		be = s.switchBackend()
	}
	if be == nil || !be.usable() {
		s.cause, s.phase = logfmt.CauseServerAbort, logfmt.PhaseConnect
		return false
	}
	s.be = be
	be.conns.Add(1)
	s.smp.BackendName, s.smp.BackendID = be.name, be.id
	if len(be.rules.content) > 0 && be.cfg != fe.cfg && !s.inspect(be.rules.content, be.rules.inspectDelay) {
		return false
	}
	s.peek.release()
	// What the client sent is on its way to the server by the time one is
	// chosen: as in HAProxy, balance hash finds no payload (req.len 0).
	s.smp.Payload = nil
	return true
}

// inspect runs content rules; false when they reject or the client fails.
func (s *stream) inspect(rules []tcpRule, delay time.Duration) bool {
	if s.peek == nil {
		s.peek = newPeeker(s.client)
	}
	v, err := inspect(s.peek, rules, delay, &s.smp)
	switch {
	case err != nil:
		s.cause, s.phase = logfmt.CauseClientAbort, logfmt.PhaseRequest
		return false
	case v == verdictReject || v == verdictDrop:
		if v == verdictDrop {
			silentDrop(s.client)
		}
		s.cause, s.phase = logfmt.CauseProxy, logfmt.PhaseRequest
		return false
	}
	return true
}

// forward gets a server slot (perhaps after queueing), connects and
// starts the relay. It reports whether the relay took the stream over;
// false means the stream ended before (cause and phase say why).
func (s *stream) forward() bool {
	e, be := s.e, s.be
	var a assignment
	var err error
	force := len(be.persist) > 0 && be.persistence(&s.smp) == persistForce
	var chosen *server
	if len(be.useServer) > 0 {
		chosen = be.ruleServer(&s.smp, force)
	}
	qw := queueWatch{conn: s.client, abortOnClose: be.abortOnClose}
	key := be.connKey(&s.smp)
	if chosen != nil {
		a, err = be.acquireServer(e.ctx, chosen, qw)
		a.key, a.direct = key, true
	} else {
		a, err = be.acquireKey(e.ctx, key, nil, qw)
	}
	a.force, a.watch = force, qw
	s.srvQueue, s.bkQueue = int32(a.srvQueue), int32(a.bkQueue)
	if err != nil {
		if a.queued > 0 {
			s.tQueue = time.Since(s.accept) // a wait that ended in the queue
		}
		s.cause, s.phase = queueFailure(err)
		return false
	}
	s.tQueue = time.Since(s.accept)
	a.near = s.client
	res, err := be.connect(e.ctx, a, s.smp.Src, s.smp.Dst, s.clientGone)
	s.srv, s.retries, s.redispatched = res.srv, res.retries, res.redispatch
	if s.srv == nil {
		s.srv = res.tried // a redispatch found no server: log the last one tried
	}
	if err != nil {
		be.release(res.srv)
		s.cause, s.phase = connectFailure(err)
		return false
	}
	up := res.conn
	if err := s.sendProxy(up, res.srv); err != nil {
		up.Close()
		be.release(res.srv)
		s.cause, s.phase = logfmt.CauseServerAbort, logfmt.PhaseConnect
		return false
	}
	s.tConnect = time.Since(s.accept)
	s.saddr = remoteAddrPort(up)
	if l := s.fe.log; l != nil && l.format != nil {
		s.bsrc = addrPort(up.LocalAddr()) // %bi and %bp: asked only for a log format
		s.fe.logStreamEarly(s)
	}
	e.track(up)
	s.peek.release()
	srv := res.srv
	// The engine's context ends the relay on a hard stop; a server whose
	// state change may close its connections (on-marked-down, or a backup
	// under on-marked-up) gives each its own.
	ctx := e.ctx
	if srv.killable {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		srv.streams.add(s, cancel)
	}
	t := be.cfg.Timeouts
	tunnel.StartContext(ctx, s.client, up, tunnel.Timeouts{
		Client: s.fe.cfg.Timeouts.Client, Server: t.Server, Tunnel: t.Tunnel,
		ClientFin: s.fe.cfg.Timeouts.ClientFin, ServerFin: t.ServerFin,
	}, func(r tunnel.Result) {
		if srv.killable {
			srv.streams.remove(s)
		}
		be.release(res.srv)
		e.untrack(up)
		s.relayed = true
		s.bytesIn, s.bytesOut = r.ClientToServer, r.ServerToClient
		s.cause, s.phase = relayEnd(r, e.ctx.Err() != nil)
		if k := s.killCause.Load(); k != 0 {
			s.cause, s.phase = logfmt.Cause(k), logfmt.PhaseNone
		}
		s.end()
	})
	return true
}

// sendProxy writes the server's send-proxy or send-proxy-v2 header, with
// the client's address and the one it connected to, before any data.
func (s *stream) sendProxy(up tunnel.Conn, srv *server) error {
	v := srv.cfg.Params.SendProxy
	if v != 1 && v != 2 {
		return nil
	}
	var b [64]byte // escapes to the heap: made only for a header sent
	var hdr []byte
	switch v {
	case 1:
		hdr = proxyproto.AppendV1(b[:0], s.smp.Src, s.smp.Dst)
	case 2:
		hdr = proxyproto.AppendV2(b[:0], proxyproto.Proxy, s.smp.Src, s.smp.Dst)
	default:
		return nil
	}
	_, err := up.Write(hdr)
	return err
}

// queueFailure maps an assignment error to HAProxy's termination state.
func queueFailure(err error) (logfmt.Cause, logfmt.Phase) {
	switch {
	case errors.Is(err, errQueueTimeout):
		return logfmt.CauseServerTimeout, logfmt.PhaseQueue
	case errors.Is(err, errQueueFull):
		return logfmt.CauseServerAbort, logfmt.PhaseQueue
	case errors.Is(err, errQueueAbort):
		return logfmt.CauseClientAbort, logfmt.PhaseQueue
	case errors.Is(err, errQueueReset):
		return logfmt.CauseClientAbort, logfmt.PhaseData
	case errors.Is(err, context.Canceled):
		return logfmt.CauseKilled, logfmt.PhaseQueue
	}
	return logfmt.CauseServerAbort, logfmt.PhaseConnect // no server available
}

// connectFailure: a connect timeout is "sC", a refusal or error "SC", a
// client that left while Sluice was still connecting "CC".
func connectFailure(err error) (logfmt.Cause, logfmt.Phase) {
	switch {
	case errors.Is(err, errClientGone):
		return logfmt.CauseClientAbort, logfmt.PhaseConnect
	case errors.Is(err, context.Canceled):
		return logfmt.CauseKilled, logfmt.PhaseConnect
	case isTimeout(err):
		return logfmt.CauseServerTimeout, logfmt.PhaseConnect
	case errors.Is(err, errQueueTimeout):
		return logfmt.CauseServerTimeout, logfmt.PhaseQueue
	}
	return logfmt.CauseServerAbort, logfmt.PhaseConnect
}

// relayEnd maps how the relay ended to the data-phase termination state.
func relayEnd(r tunnel.Result, killed bool) (logfmt.Cause, logfmt.Phase) {
	if killed {
		return logfmt.CauseKilled, logfmt.PhaseData
	}
	switch r.Cause {
	case tunnel.CauseTimeout:
		if r.Side == tunnel.SideServer {
			return logfmt.CauseServerTimeout, logfmt.PhaseData
		}
		return logfmt.CauseClientTimeout, logfmt.PhaseData
	case tunnel.CauseReset, tunnel.CauseError:
		if r.Side == tunnel.SideServer {
			return logfmt.CauseServerAbort, logfmt.PhaseData
		}
		return logfmt.CauseClientAbort, logfmt.PhaseData
	}
	return logfmt.CauseNone, logfmt.PhaseNone
}

// clientGone reports whether the client closed without leaving data to
// forward: HAProxy then stops trying to reach a server (its request
// channel closes automatically) and logs CC.
func (s *stream) clientGone() bool {
	rc, err := s.client.SyscallConn()
	if err != nil {
		return true
	}
	gone := false
	rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		gone = n == 0 && err == nil
	})
	return gone
}

// silentDrop makes the connection vanish for the client, as HAProxy's
// silent-drop: with TCP_REPAIR (CAP_NET_ADMIN) the socket closes without
// sending anything; otherwise the reset is sent with a TTL of 1 so that
// it dies at the first router and the client waits in vain.
func silentDrop(c tunnel.Conn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_REPAIR, 1) == nil {
			return
		}
		unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_TTL, 1)
		unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 1)
		unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	})
}

// drainInput discards what the client sent and Sluice did not read,
// just before its connection closes: with unread data in its receive
// queue, Linux answers close(2) with a reset rather than a FIN, and a
// client that had not yet read the response (a 503 sent while its
// request body was still arriving) may then lose it. HAProxy's sock_drain
// does the same before closing (recv with MSG_TRUNC, twice at most): its
// clients see the response and a FIN; what they send after the close
// still meets a reset.
func drainInput(c tunnel.Conn) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		for range 2 {
			// MSG_TRUNC on a TCP socket discards up to len bytes
			// without copying them (tcp(7)); no buffer is needed.
			n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, fd, 0, math.MaxInt32,
				unix.MSG_DONTWAIT|unix.MSG_TRUNC, 0, 0)
			if errno != 0 || n == 0 {
				return
			}
		}
	})
}

// pendingBytes is how much the client sent that is still unread (SIOCINQ).
func pendingBytes(c tunnel.Conn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	rc.Control(func(fd uintptr) {
		n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	})
	return n
}
