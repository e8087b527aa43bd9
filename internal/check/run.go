package check

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sluice/internal/proxyproto"
)

// BufSize bounds what a check reads from a server, HAProxy's tune.bufsize.
const BufSize = 16384

// Kind says which family of check a Spec is. It decides how failures are
// described: only tcp-check scripts name their steps in messages.
type Kind int

// Check families.
const (
	KindConnect  Kind = iota // plain `check`: a TCP connection
	KindTCPCheck             // option tcp-check with its rules
	KindHTTP                 // option httpchk / http-check rules
	KindProto                // redis-check, pgsql-check, mysql-check, smtpchk, ...
)

// Spec is a compiled check script, shared by the servers of a backend.
type Spec struct {
	Kind  Kind
	Steps []*Step
}

// Target is where and how one server is checked.
type Target struct {
	// Addr is the check's destination: the server's address with the
	// `addr` and `port` settings applied.
	Addr netip.AddrPort
	// Proxy is the PROXY protocol version the check's connections start
	// with (0: none): v1 with the check socket's own addresses, v2 as a
	// LOCAL command, as HAProxy sends.
	Proxy int
	// Inter bounds the whole check when Check is zero.
	Inter time.Duration
	// Connect and Check are the backend's `timeout connect` and `timeout
	// check`: with both set, connecting is bounded by min(inter, connect)
	// and each reply by Check, counted from when the connection is up.
	Connect, Check time.Duration
	// Dialer, when set, dials instead of net.Dialer (tests).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
}

// run is one check in progress.
type run struct {
	spec     *Spec
	t        Target
	conn     net.Conn
	deadline time.Time
	buf      []byte
	closed   bool // the server closed its side
	step     *Step
	resp     *httpResponse
	lastOK   *Step   // the last expect that passed
	linger   bool    // close cleanly instead of resetting
	custom   *Result // what a protocol expect that passed last said
}

// Run performs one check and reports its result. It never takes longer
// than the check's time bounds, and gives up at once when ctx ends.
func (sp *Spec) Run(ctx context.Context, t Target) Result {
	start := time.Now()
	r := &run{spec: sp, t: t, deadline: start.Add(t.Inter)}
	res := r.exec(ctx)
	r.close()
	res.Duration = time.Since(start).Milliseconds()
	if res.First != nil {
		res.First.Duration = res.Duration
	}
	return res
}

func (r *run) exec(ctx context.Context) Result {
	steps := r.spec.Steps
	// Comment lines are not rules for HAProxy (they only lend their text
	// to the rules after them): a script opening with a comment and then
	// a connect has no implicit connect.
	first := 0
	for first < len(steps) && steps[first].Action == Comment {
		first++
	}
	if first == len(steps) || steps[first].Action != Connect {
		// HAProxy's implicit first connect (step 0).
		if res, ok := r.connect(ctx, &Step{Action: Connect, Implicit: true, Default: true}); !ok {
			return res
		}
	}
	var last *Step
	for _, st := range steps {
		r.step = st
		var res Result
		ok := true
		switch st.Action {
		case Connect:
			r.close()
			r.buf, r.closed = r.buf[:0], false
			res, ok = r.connect(ctx, st)
		case Send:
			res, ok = r.send(st)
		case Expect:
			res, ok = r.expect(st)
		case Comment:
			continue
		}
		if !ok {
			return res
		}
		last = st
	}
	return r.success(last)
}

// success is the result of a script that ran to its end. As HAProxy's
// tcpcheck_main, it depends on the last rule: an expect gives its own
// success, a connect Layer4 (with "(tcp-check)" unless it was the
// implicit one), a send Layer7.
func (r *run) success(last *Step) Result {
	switch {
	case last == nil:
		return Result{Status: L4OK}
	case last.Action == Connect:
		return Result{Status: L4OK, Info: "(tcp-check)"}
	case last.Action == Send || r.lastOK == nil:
		return Result{Status: L7OK, Info: "(tcp-check)"}
	}
	st := r.lastOK
	if r.custom != nil && r.custom.Status.Passed() {
		res := *r.custom
		if st.reports {
			first := res
			res.Info, res.First = st.OnOK, &first
		}
		return res
	}
	res := Result{Status: st.OK}
	switch {
	case st.OnOK != "":
		res.Info = st.OnOK
	case st.okInfo != nil:
		res.Info = st.okInfo(r.buf)
	case r.spec.Kind == KindTCPCheck:
		res.Info = "(tcp-check)"
	}
	if r.resp != nil {
		res.Code = r.resp.status
	}
	if st.code != nil {
		res.Code = st.code(r.buf)
	}
	return res
}

// close ends the check's connection with a reset, as HAProxy does unless
// the connect step says linger.
func (r *run) close() {
	if r.conn == nil {
		return
	}
	if tc, ok := r.conn.(*net.TCPConn); ok && !r.linger {
		tc.SetLinger(0)
	}
	r.conn.Close()
	r.conn = nil
}

func (r *run) connect(ctx context.Context, st *Step) (Result, bool) {
	r.linger = st.Linger
	r.step = st
	addr := r.t.Addr
	if st.Port != 0 {
		addr = netip.AddrPortFrom(addr.Addr(), uint16(st.Port))
	}
	if st.Addr != "" {
		if a, err := netip.ParseAddr(st.Addr); err == nil {
			addr = netip.AddrPortFrom(a, addr.Port())
		}
	}
	cdl := r.deadline
	if r.t.Check > 0 && r.t.Connect > 0 {
		if d := time.Now().Add(r.t.Connect); d.Before(cdl) {
			cdl = d
		}
	}
	dctx, cancel := context.WithDeadline(ctx, cdl)
	defer cancel()
	var c net.Conn
	var err error
	if r.t.Dial != nil {
		c, err = r.t.Dial(dctx, addr.String())
	} else {
		d := net.Dialer{KeepAlive: -1}
		c, err = d.DialContext(dctx, "tcp", addr.String())
	}
	if err != nil {
		if ctx.Err() != nil {
			return Result{Status: SockErr, Info: r.where("")}, false
		}
		if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			return Result{Status: L4Timeout, Info: r.where("")}, false
		}
		return Result{Status: L4Con, Info: r.where(errnoText(err))}, false
	}
	r.conn = c
	if r.t.Check > 0 {
		r.deadline = time.Now().Add(r.t.Check)
	}
	proxy := 0
	if st.Default || st.SendProxy {
		proxy = r.t.Proxy
		if st.SendProxy && proxy == 0 {
			proxy = 1
		}
	}
	if proxy != 0 {
		var b [64]byte
		var hdr []byte
		if proxy == 1 {
			hdr = proxyproto.AppendV1(b[:0], addrPort(c.LocalAddr()), addrPort(c.RemoteAddr()))
		} else {
			hdr = proxyproto.AppendV2(b[:0], proxyproto.Local, netip.AddrPort{}, netip.AddrPort{})
		}
		c.SetWriteDeadline(r.deadline)
		if _, err := c.Write(hdr); err != nil {
			return r.ioFailure(err), false
		}
	}
	return Result{}, true
}

func (r *run) send(st *Step) (Result, bool) {
	if r.conn == nil {
		return Result{Status: SockErr, Info: r.where("")}, false
	}
	data := st.Data
	if st.HTTP != nil {
		data = st.HTTP.bytes()
		r.resp = nil
	}
	r.buf, r.closed = r.buf[:0], false
	r.conn.SetWriteDeadline(r.deadline)
	if _, err := r.conn.Write(data); err != nil {
		return r.ioFailure(err), false
	}
	return Result{}, true
}

// fill reads more of the server's reply; false when the deadline passed
// or the connection failed (res says how).
func (r *run) fill() (Result, bool) {
	if r.closed || len(r.buf) >= BufSize {
		return Result{}, true
	}
	if cap(r.buf) < BufSize {
		nb := make([]byte, len(r.buf), BufSize)
		copy(nb, r.buf)
		r.buf = nb
	}
	r.conn.SetReadDeadline(r.deadline)
	n, err := r.conn.Read(r.buf[len(r.buf):BufSize])
	r.buf = r.buf[:len(r.buf)+n]
	if err != nil {
		if errors.Is(err, io.EOF) {
			r.closed = true
			return Result{}, true
		}
		if isTimeout(err) {
			tout := L7Timeout
			if r.step != nil && r.step.Action == Expect {
				tout = r.step.Tout
			}
			return Result{Status: tout, Info: r.where("")}, false
		}
		return r.ioFailure(err), false
	}
	return Result{}, true
}

// lastRead reports whether no more data can come: the server closed or
// the buffer is full.
func (r *run) lastRead() bool { return r.closed || len(r.buf) >= BufSize }

func (r *run) expect(st *Step) (Result, bool) {
	if r.conn == nil {
		return Result{Status: SockErr, Info: r.where("")}, false
	}
	if st.HTTPMode {
		return r.expectHTTP(st)
	}
	for {
		if r.closed && len(r.buf) == 0 && st.custom == nil {
			return Result{Status: L7Rsp, Info: fmt.Sprintf("TCPCHK got an empty response at step %d", st.Index)}, false
		}
		if st.custom != nil {
			if done, res := st.custom(r.buf, r.lastRead()); done {
				if res.Status.Passed() {
					r.lastOK = st
					if res.Info == "" {
						res.Info = st.OnOK
					}
					r.custom = &res
					return res, true
				}
				return res, false
			}
		} else if done, res, ok := r.matchTCP(st); done {
			r.custom = nil
			return res, ok
		}
		if r.lastRead() {
			// custom checks decide themselves; reaching here means the
			// reply ended without an answer they accept.
			return Result{Status: st.Err, Info: r.where("")}, false
		}
		if res, ok := r.fill(); !ok {
			return res, false
		}
	}
}

// matchTCP evaluates a tcp-check expect on what was received so far, as
// HAProxy's tcpcheck_eval_expect: it waits for more data while a match is
// still possible.
func (r *run) matchTCP(st *Step) (done bool, res Result, ok bool) {
	last := r.lastRead()
	if !last {
		if (st.Match == MatchString || st.Match == MatchBinary) && len(r.buf) < len(st.bytes) {
			return false, Result{}, false
		}
		if st.MinRecv > 0 && len(r.buf) < st.MinRecv {
			return false, Result{}, false
		}
	}
	var match bool
	switch st.Match {
	case MatchString, MatchBinary:
		match = bytes.Contains(r.buf, st.bytes)
	case MatchRString:
		match = st.re.Match(r.buf)
	case MatchRBinary:
		match = st.re.MatchString(hex.EncodeToString(r.buf))
	}
	if !match && !last && st.MinRecv == -1 {
		return false, Result{}, false
	}
	if match != st.Negate {
		r.lastOK = st
		return true, Result{}, true
	}
	res = Result{Status: st.Err, Info: r.expectFailure(st, match)}
	if st.code != nil {
		res.Code = st.code(r.buf)
	}
	return true, res, false
}

// expectFailure is HAProxy's info for a failed expect.
func (r *run) expectFailure(st *Step, matched bool) string {
	if st.OnErr != "" {
		return withComment(st.OnErr, st)
	}
	if st.errInfo != nil {
		return withComment(st.errInfo(r.buf), st)
	}
	if r.spec.Kind != KindTCPCheck {
		return withComment("", st)
	}
	msg := "TCPCHK did not match content"
	if matched {
		msg = "TCPCHK matched unwanted content"
	}
	switch st.Match {
	case MatchString:
		msg += fmt.Sprintf(" '%s' at step %d", st.Pattern, st.Index)
	case MatchBinary:
		msg += fmt.Sprintf(" (binary) at step %d", st.Index)
	case MatchRString:
		msg += fmt.Sprintf(" (regex) at step %d", st.Index)
	case MatchRBinary:
		msg += fmt.Sprintf(" (binary regex) at step %d", st.Index)
	}
	return withComment(msg, st)
}

func withComment(msg string, st *Step) string {
	if st.Comment != "" {
		msg += " comment: " + st.Comment
	}
	return msg
}

// where is HAProxy's chk_report_conn_err text: the system error, then for
// tcp-check scripts the step that failed.
func (r *run) where(errText string) string {
	if r.spec.Kind != KindTCPCheck {
		return errText
	}
	st := r.step
	if st == nil || st.Implicit {
		return errText + " at initial connection step of tcp-check"
	}
	msg := fmt.Sprintf("%s at step %d of tcp-check", errText, st.Index)
	switch st.Action {
	case Connect:
		if st.Port != 0 {
			msg += fmt.Sprintf(" (connect port %d)", st.Port)
		} else {
			msg += " (connect)"
		}
	case Send:
		msg += " (send)"
	case Expect:
		switch st.Match {
		case MatchString:
			msg += fmt.Sprintf(" (expect string '%s')", st.Pattern)
		case MatchBinary:
			msg += fmt.Sprintf(" (expect binary '%s')", st.Pattern)
		case MatchRString:
			msg += " (expect regex)"
		case MatchRBinary:
			msg += " (expect binary regex)"
		}
	}
	if st.Comment != "" {
		msg += " comment: '" + st.Comment + "'"
	}
	return msg
}

// ioFailure describes an error on an established connection.
func (r *run) ioFailure(err error) Result {
	if isTimeout(err) {
		tout := L7Timeout
		if r.step != nil && r.step.Action == Expect {
			tout = r.step.Tout
		}
		return Result{Status: tout, Info: r.where("")}
	}
	return Result{Status: SockErr, Info: r.where(errnoText(err))}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// errnoText is strerror() of the system error behind err, as HAProxy
// prints it ("Connection refused").
func errnoText(err error) string {
	var en syscall.Errno
	if errors.As(err, &en) {
		if s := en.Error(); s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	return ""
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// bytes renders an http-check request as HAProxy's H1 mux writes it:
// header names in lower case, content-length with a body, and
// "connection: close" for HTTP/1.1. Defaults: OPTIONS, "/", HTTP/1.0.
func (h *HTTPRequest) bytes() []byte {
	m, u, v := h.Method, h.URI, h.Version
	if m == "" {
		m = "OPTIONS"
	}
	if u == "" {
		u = "/"
	}
	if v == "" {
		v = "HTTP/1.0"
	}
	var b bytes.Buffer
	b.WriteString(m + " " + u + " " + v + "\r\n")
	for _, kv := range h.Headers {
		b.WriteString(strings.ToLower(kv[0]) + ": " + kv[1] + "\r\n")
	}
	if h.Body != "" {
		b.WriteString("content-length: " + strconv.Itoa(len(h.Body)) + "\r\n")
	}
	if v == "HTTP/1.1" {
		b.WriteString("connection: close\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(h.Body)
	return b.Bytes()
}
