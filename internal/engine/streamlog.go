package engine

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"sluice/internal/config"
	"sluice/internal/logfmt"
	"sluice/internal/logsink"
	"sluice/internal/sample"
)

// feLog is how a frontend logs its streams: where, and in which format.
type feLog struct {
	sink *logsink.Sink
	// format is the stream line (option tcplog or log-format); nil logs
	// HAProxy's "Connect from" line at accept instead.
	format   *logfmt.Format
	exprs    []*sample.Expr // the format's %[...] expressions, by index
	dontNull bool           // option dontlognull: skip streams the client sent nothing on
	// dontNormal is option dontlog-normal, separateErrors option
	// log-separate-errors (loglevel.go).
	dontNormal, separateErrors bool
	// logASAP is option logasap: a stream logs when its server connects
	// (tcp) or its response comes (http), and %B, %Tt, %Ta and %Tu take a
	// '+' on every line.
	logASAP bool
	pid     int
}

// proxySink is where a proxy's `log` lines send: the process sink when
// they are all `log global`, a sink of its own otherwise, nil for none.
func (e *Engine) proxySink(cfg *config.Config, p *config.Proxy) (*logsink.Sink, error) {
	if p.NoLog || len(p.Logs) == 0 {
		return nil, nil
	}
	var targets []logsink.Target
	own := false
	for _, t := range p.Logs {
		if t.Global {
			for _, g := range cfg.Global.Logs {
				targets = append(targets, g.Target)
			}
			continue
		}
		own = true
		targets = append(targets, t.Target)
	}
	switch {
	case !own && e.globalLog != nil:
		return e.globalLog, nil
	case len(targets) > 0:
		s, err := logsink.Open(targets, logsink.Options{Tag: cfg.Global.LogTag, Hostname: cfg.Global.LogSendHost})
		if err != nil {
			return nil, fmt.Errorf("%s '%s': %w", p.Kind, p.Name, err)
		}
		e.sinks = append(e.sinks, s)
		return s, nil
	}
	return nil, nil
}

// newFELog builds a frontend's logging from its `log` lines, `no log`,
// `option tcplog`, `log-format` and `option dontlognull`. Targets that
// are all `log global` share the process sink; others get their own.
func (e *Engine) newFELog(cfg *config.Config, p *config.Proxy) (*feLog, error) {
	if p.NoLog || len(p.Logs) == 0 {
		return nil, nil
	}
	l := &feLog{dontNull: p.Opt("dontlognull"), pid: os.Getpid(),
		dontNormal: p.Opt("dontlog-normal"), separateErrors: p.Opt("log-separate-errors"),
		logASAP: p.Opt("logasap")}
	sink, err := e.proxySink(cfg, p)
	if sink == nil || err != nil {
		return nil, err
	}
	l.sink = sink
	src := p.LogFormat
	mode := logfmt.TCP
	if p.Mode == config.ModeHTTP {
		mode = logfmt.HTTP
		if src == "" && p.Opt("httplog") {
			src = logfmt.HTTPLog
			if o := p.Options["httplog"]; len(o.Args) > 0 && o.Args[0] == "clf" {
				src = logfmt.CLFLog
			}
		} else if src == "" && p.Opt("httpslog") {
			src = logfmt.HTTPSLog
		} else if src == "" && p.Opt("tcplog") {
			src = logfmt.TCPLog
		}
	} else if src == "" && (p.Opt("tcplog") || p.Opt("httplog") || p.Opt("httpslog")) {
		src = logfmt.TCPLog // the HTTP formats fall back to tcplog in mode tcp
	}
	if src == "" {
		return l, nil
	}
	f, _, err := logfmt.Compile(src, mode)
	if err != nil {
		return nil, fmt.Errorf("%s '%s': log-format: %w", p.Kind, p.Name, err)
	}
	l.format = f
	for _, x := range f.Exprs() {
		se, err := sample.Compile(x.Fetch.Name, x.Fetch.Args, x.ConverterChain())
		if err != nil {
			return nil, fmt.Errorf("%s '%s': log-format %%[%s]: %w", p.Kind, p.Name, x.Text, err)
		}
		l.exprs = append(l.exprs, se)
	}
	return l, nil
}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// logConnect writes HAProxy's "Connect from" line at accept when the
// frontend logs without a stream format.
func (fe *frontend) logConnect(s *stream) {
	l := fe.log
	if l == nil || l.format != nil || !l.sink.Enabled(logsink.LevelInfo) {
		return
	}
	bp := lineBufs.Get().(*[]byte)
	f := logfmt.Fields{Client: s.smp.Src, Frontend: s.smp.Dst, FrontendName: fe.cfg.Name}
	f.UnixListener, f.ListenerID = s.unixListener()
	mode := logfmt.TCP
	if fe.http {
		mode = logfmt.HTTP
	}
	*bp = logfmt.AppendConnect((*bp)[:0], &f, mode)
	l.sink.Log(logsink.LevelInfo, *bp)
	lineBufs.Put(bp)
}

// logStream writes the stream's line when it ends, unless option
// logasap wrote it when the server connected.
func (fe *frontend) logStream(s *stream) {
	if !s.logged {
		fe.writeStreamLog(s, false)
	}
}

// logStreamEarly is option logasap's line, written once the server
// connection is made, as HAProxy's back_establish does: the times stop
// there, nothing was transferred yet and the counts still hold the
// stream. option dontlognull does not apply; a line option
// dontlog-normal holds back is tried again at the end.
func (fe *frontend) logStreamEarly(s *stream) {
	if l := fe.log; l != nil && l.logASAP {
		fe.writeStreamLog(s, true)
	}
}

func (fe *frontend) writeStreamLog(s *stream, early bool) {
	if !s.numbered {
		// Every stream has its number, logged or not.
		s.smp.StreamID = s.e.streams.Add(1) - 1
		s.numbered = true
	}
	l := fe.log
	if l == nil || l.format == nil || (!early && l.dontNull && s.bytesIn == 0) {
		return
	}
	level, ok := l.streamLevel(false, s.cause, 0, s.retries, s.redispatched, s.smp.LogLevel)
	if early && (ok || s.smp.LogLevel < 0) {
		s.logged = true
	}
	if !ok || !l.sink.Enabled(level) {
		return
	}
	f := logfmt.Fields{
		Client: s.smp.Src, Frontend: s.smp.Dst, BackendSource: s.bsrc, Server: s.saddr,
		FrontendName: fe.cfg.Name, BackendName: fe.cfg.Name,
		AcceptDate: s.accept,
		Handshake:  s.tHandshake, Idle: logfmt.NotReached, Request: logfmt.NotReached, Queue: s.tQueue, Connect: s.tConnect, Data: logfmt.NotReached,
		Close:    time.Since(s.accept),
		BytesOut: s.bytesOut, BytesIn: s.bytesIn,
		LogASAP: l.logASAP,
		Cause:   s.cause, Phase: s.phase,
		ActConn: int(s.e.actconn.Load()), FeConn: int(fe.conns.Load()),
		Retries: s.retries, Redispatched: s.redispatched,
		SrvQueue: int(s.srvQueue), BackendQueue: int(s.bkQueue),
		PID: l.pid, Hostname: s.e.hostname,
	}
	if early {
		f.Close, f.BytesOut, f.BytesIn = s.tConnect, 0, 0
	}
	f.UnixListener, f.ListenerID = s.unixListener()
	s.tlsFields(&f)
	f.ReqCounter = s.smp.StreamID
	if fe.uid != nil {
		if s.srv != nil {
			s.smp.ServerName = s.srv.cfg.Name
		}
		s.smp.UniqueIDFormat = fe.uid
		if id, ok := s.smp.UniqueID(); ok {
			f.UniqueID = string(id)
		}
	}
	if s.be != nil {
		f.BackendName = s.be.name
		f.BeConn = int(s.be.conns.Load())
	}
	if s.srv != nil {
		f.ServerName = s.srv.cfg.Name
		f.SrvConn = int(s.srv.cur.Load())
	}
	if len(l.exprs) > 0 {
		if s.be != nil {
			s.smp.ResponseVars() // the stream went on to connect
		}
		s.smp.Payload, s.smp.Final = nil, true
		f.Sample = func(dst []byte, x *logfmt.Expr) ([]byte, bool) {
			v := s.smp.Value()
			if found, _ := l.exprs[x.Index].Eval(&s.smp, v); !found {
				return dst, false
			}
			return v.AsString(dst), true
		}
	}
	bp := lineBufs.Get().(*[]byte)
	*bp = l.format.Append((*bp)[:0], &f)
	l.sink.Log(level, *bp)
	lineBufs.Put(bp)
}

// unixListener says whether the client came through a unix socket, and
// the listener's id, which HAProxy logs in place of its address.
func (s *stream) unixListener() (bool, int) {
	id := 0
	for i, b := range s.fe.cfg.Binds {
		if b == s.bind {
			id = i + 1
		}
	}
	_, isUnix := rawConn(s.client).(*net.UnixConn)
	return isUnix, id
}

// embryonicPrefix is the start of HAProxy's line for a connection that
// failed before it became a stream (a bad PROXY header): client, accept
// date, then "frontend/listener-id: reason".
var embryonicPrefix, _, _ = logfmt.Compile("%ci:%cp [%t] ", logfmt.TCP)

// logEmbryonic writes HAProxy's line for a connection that failed before
// its stream started, e.g. "l/1: Received something which does not look
// like a PROXY protocol header" or "l/https: SSL handshake failure": the
// listener is named by its `name`, else its number in the frontend.
// dontlognull silences it when null is set.
func (fe *frontend) logEmbryonic(s *stream, reason string, null bool) {
	l := fe.log
	if l == nil || (l.dontNull && null) || !l.sink.Enabled(logsink.LevelInfo) {
		return
	}
	f := logfmt.Fields{Client: s.smp.Src, Frontend: s.smp.Dst, FrontendName: fe.cfg.Name, AcceptDate: s.accept}
	var id int
	f.UnixListener, id = s.unixListener()
	f.ListenerID = id
	bp := lineBufs.Get().(*[]byte)
	b := embryonicPrefix.Append((*bp)[:0], &f)
	b = append(b, fe.cfg.Name...)
	b = append(b, '/')
	if s.bind != nil && s.bind.Name != "" {
		b = append(b, s.bind.Name...)
	} else {
		b = strconv.AppendInt(b, int64(id), 10)
	}
	b = append(b, ": "...)
	b = append(b, reason...)
	l.sink.Log(logsink.LevelInfo, b)
	*bp = b
	lineBufs.Put(bp)
}
