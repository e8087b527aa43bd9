package engine

import (
	"math"
	"sync"
	"time"
	"unsafe"

	"sluice/internal/h1"
	"sluice/internal/logfmt"
)

// logHTTP writes a transaction's line (option httplog, clf or a
// log-format) when it ends, if the frontend logs and option logasap did
// not write it when the response came (logHTTPEarly).
func (s *stream) logHTTP(t *httpTxn) {
	if !t.logged {
		s.writeHTTPLog(t, false, 0)
		return
	}
	s.smp.ResetTxnVars() // the transaction is over
}

// logHTTPEarly is option logasap's line, written once the server's final
// response went through the response rules, as HAProxy's
// http_process_res_common does: the times stop there (%Td 0), %B is
// bytesOut (the head as rewritten and the body buffered so far), %U is 0
// and the counts still hold the transaction. No line follows it at the
// end, unless option dontlog-normal held back this one.
func (s *stream) logHTTPEarly(t *httpTxn, bytesOut int64) {
	if l := s.fe.log; l != nil && l.logASAP && !t.logged {
		s.writeHTTPLog(t, true, bytesOut)
	}
}

func (s *stream) writeHTTPLog(t *httpTxn, early bool, earlyBytes int64) {
	fe := s.fe
	l := fe.log
	if l == nil || l.format == nil || (!early && l.dontNull && !t.rcvd) {
		return
	}
	level, ok := l.streamLevel(true, t.cause, t.status, s.retries, s.redispatched, s.smp.LogLevel)
	if early && (ok || s.smp.LogLevel < 0) {
		// Written, or silenced by set-log-level: either way the stream
		// is done with logging. A line dontlog-normal held back is tried
		// again at the end.
		t.logged = true
	}
	if !ok || !l.sink.Enabled(level) {
		return
	}
	hs := time.Duration(0)
	if t.start.Equal(s.accept) {
		hs = s.tHandshake
	}
	// logfmt's offsets count from the accept date, which for a keep-alive
	// connection's later requests is the end of the previous one.
	at := func(d time.Duration) time.Duration {
		if d < 0 {
			return logfmt.NotReached
		}
		return hs + d
	}
	tq, tc := at(t.tQueue), at(t.tConnect)
	if t.tQueue == 0 {
		tq = logfmt.NotReached
	}
	if t.tConnect == 0 {
		tc = logfmt.NotReached
	}
	td := at(t.tData)
	if t.tData == 0 {
		td = logfmt.NotReached
	}
	idle := t.tIdle
	req := at(t.tReq)
	if t.tReq == 0 {
		req = logfmt.NotReached
	}
	// The fields escape to the heap through the format's writers: they
	// come from a pool rather than being allocated for each line.
	f := fieldsPool.Get().(*logfmt.Fields)
	*f = logfmt.Fields{
		Client: s.smp.Src, Frontend: s.smp.Dst, Server: s.saddr,
		FrontendName: fe.cfg.Name, BackendName: fe.cfg.Name,
		AcceptDate: t.start,
		Handshake:  hs, Idle: idle, Request: req, Queue: tq, Connect: tc, Data: td,
		Close:    hs + time.Since(t.start),
		BytesOut: t.bytesOut, BytesIn: t.bytesIn,
		LogASAP: l.logASAP,
		Cause:   t.cause, Phase: t.phase,
		ActConn: int(s.e.actconn.Load()), FeConn: int(fe.conns.Load()),
		Retries: s.retries, Redispatched: s.redispatched,
		SrvQueue: int(s.srvQueue), BackendQueue: int(s.bkQueue),
		PID: l.pid, Hostname: s.e.hostname,
		Status: t.status, RequestLine: bytesString(t.reqLine), BackendHTTP: true,
		ClientCookie: bytesString(t.cliCookie), ServerCookie: bytesString(t.srvCookie),
	}
	if early {
		f.Close, f.BytesOut, f.BytesIn = td, earlyBytes, 0
	}
	f.UnixListener, f.ListenerID = s.unixListener()
	s.tlsFields(f)
	logCaptures(t, &s.smp.Caps, f)
	if t.l7.captured {
		f.ReqCounter = s.smp.StreamID
		// An id first asked for by the log line is made without the
		// request's headers: HAProxy no longer has them then.
		req := s.smp.Req
		s.smp.Req = nil
		id, ok := s.smp.UniqueID()
		s.smp.Req = req
		if ok {
			f.UniqueID = unsafe.String(unsafe.SliceData(id), len(id))
		}
	}
	if s.be != nil && s.be.cookie != nil {
		f.ReqCookie, f.RespCookie = t.cookieState, t.setCookieState
		if f.ReqCookie == 0 {
			f.ReqCookie = logfmt.CookieNone
		}
		if f.RespCookie == 0 {
			f.RespCookie = logfmt.SetCookieNone
		}
	}
	if s.be != nil {
		f.BackendName = s.be.name
		f.BeConn = int(s.be.conns.Load()) - boolInt(t.inBe && !early)
	}
	if s.srv != nil {
		f.ServerName = s.srv.cfg.Name
		f.SrvConn = int(s.srv.cur.Load()) - boolInt(t.inSrv && !early)
	}
	if len(l.exprs) > 0 {
		// By the end, the request's variables are gone (HAProxy drops them
		// when the stream connects or answers), unless it did neither.
		if !t.l7.dropped {
			s.smp.ResponseVars()
		}
		f.Sample = func(dst []byte, x *logfmt.Expr) ([]byte, bool) {
			v := s.smp.Value()
			if found, _ := l.exprs[x.Index].Eval(&s.smp, v); !found {
				return dst, false
			}
			return v.AsString(dst), true
		}
	}
	bp := lineBufs.Get().(*[]byte)
	*bp = l.format.Append((*bp)[:0], f)
	l.sink.Log(level, *bp)
	lineBufs.Put(bp)
	*f = logfmt.Fields{} // what it points to is not the pool's to keep
	fieldsPool.Put(f)
	if !early {
		s.smp.ResetTxnVars() // the transaction is over
	}
}

var fieldsPool = sync.Pool{New: func() any { return new(logfmt.Fields) }}

// bytesString views b as a string without copying it, for a field that
// the log line copies before b changes: the transaction's request line,
// rewritten only by its connection's next transaction.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bufferedResBody is how much of a response's body HAProxy would hold in
// HTX once rest, what came after the head, is parsed: its data bytes, a
// chunked body's framing left out.
func bufferedResBody(res *h1.Head, rest []byte) int64 {
	switch res.Framing {
	case h1.NoBody:
		return 0
	case h1.Length:
		return min(int64(len(rest)), res.ContentLength)
	case h1.Chunked:
		_, data, _ := h1.ChunkedPrefix(nil, rest, math.MaxInt64, false)
		return data
	}
	return int64(len(rest))
}
