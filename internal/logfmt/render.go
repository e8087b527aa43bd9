package logfmt

import (
	"bytes"
	"net/netip"
	"strconv"
	"time"
)

// Append appends the line for fl to dst and returns the extended buffer,
// without a trailing newline; it allocates nothing beyond growing dst.
// Like HAProxy's sess_build_logline it may append nothing (a format made
// of spaces and of values that render empty), in which case HAProxy sends
// no line at all. Lines are not truncated here: the syslog sink applies
// the target's length limit.
func (f *Format) Append(dst []byte, fl *Fields) []byte {
	lastSpace := true // leading separators are dropped
	for i := range f.nodes {
		n := &f.nodes[i]
		switch n.op {
		case opSep:
			if !lastSpace {
				dst = append(dst, ' ')
				lastSpace = true
			}
		case opText:
			dst = append(dst, n.text...)
			lastSpace = false
		case opExpr:
			dst = f.appendExpr(dst, n, fl)
			lastSpace = false
		case opVar:
			if n.flags&FlagHex != 0 && fl.UnixListener && (n.v == vClientIP || n.v == vFrontendIP) {
				// lf_ip fails on a unix address in hex and HAProxy
				// stops the line there ("goto out").
				return dst
			}
			if caps := captures(n.v, fl); caps != nil {
				dst = appendCaptures(dst, n, caps)
				lastSpace = false
				continue
			}
			if isCapture(n.v) {
				continue // no capture slot: nothing, and spaces still merge
			}
			dst = renderers[n.v](dst, n, fl)
			lastSpace = false
		}
	}
	return dst
}

// appendExpr writes a sample value, or "-" when the sample is absent. As
// in HAProxy the value stops at its first NUL byte.
func (f *Format) appendExpr(dst []byte, n *node, fl *Fields) []byte {
	start := len(dst)
	ok := false
	if fl.Sample != nil {
		dst, ok = fl.Sample(dst, &f.exprs[n.expr])
	}
	if !ok {
		dst = dst[:start]
	}
	if k := bytes.IndexByte(dst[start:], 0); k >= 0 {
		dst = dst[:start+k]
	}
	if n.flags&flagHTTP == 0 && len(dst) == start {
		return appendText(dst, "", n.flags)
	}
	if n.flags&(flagHTTP|FlagQuote|FlagEscape) == 0 {
		return dst
	}
	// Re-encode the raw value written at dst[start:end] after it, then
	// move the result down. append never clobbers the source: either it
	// writes past end in the same array or it copies to a new one.
	end := len(dst)
	if n.flags&flagHTTP != 0 {
		dst = appendEncoded(dst, dst[start:end], '%', clsHTTP, n.flags)
	} else {
		dst = appendText(dst, dst[start:end], n.flags)
	}
	moved := copy(dst[start:], dst[end:])
	return dst[:start+moved]
}

type renderFunc func(dst []byte, n *node, fl *Fields) []byte

// renderers maps each variable to its writer. Captures (%hr, %hs, %hrl,
// %hsl) are handled in Append.
var renderers = [...]renderFunc{
	vGlobal:       func(dst []byte, _ *node, _ *Fields) []byte { return dst },
	vBytesOut:     func(dst []byte, _ *node, fl *Fields) []byte { return appendASAP(dst, fl, fl.BytesOut) },
	vBytesIn:      func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, fl.BytesIn, 10) },
	vClientCookie: func(dst []byte, n *node, fl *Fields) []byte { return appendText(dst, fl.ClientCookie, n.flags) },
	vServerCookie: func(dst []byte, n *node, fl *Fields) []byte { return appendText(dst, fl.ServerCookie, n.flags) },
	vHostname:     func(dst []byte, n *node, fl *Fields) []byte { return appendText(dst, fl.Hostname, n.flags) },
	vUniqueID:     func(dst []byte, n *node, fl *Fields) []byte { return appendText(dst, fl.UniqueID, n.flags) },
	vSSLCipher:    func(dst []byte, n *node, fl *Fields) []byte { return appendText(dst, fl.SSLCipher, n.flags) },
	vSSLVersion:   func(dst []byte, n *node, fl *Fields) []byte { return appendText(dst, fl.SSLVersion, n.flags) },
	vFrontend:     func(dst []byte, n *node, fl *Fields) []byte { return appendText(dst, fl.FrontendName, n.flags) },
	vBackend:      func(dst []byte, n *node, fl *Fields) []byte { return appendText(dst, fl.BackendName, n.flags) },
	vServer:       rServer,
	vFrontendXprt: rFrontendXprt,
	vStatus:       func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, int64(fl.Status), 10) },
	vActConn:      func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, int64(fl.ActConn), 10) },
	vFeConn:       func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, int64(fl.FeConn), 10) },
	vBeConn:       func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, int64(fl.BeConn), 10) },
	vSrvConn:      func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, int64(fl.SrvConn), 10) },
	vSrvQueue:     func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, int64(fl.SrvQueue), 10) },
	vBackendQueue: func(dst []byte, _ *node, fl *Fields) []byte {
		return strconv.AppendInt(dst, int64(fl.BackendQueue), 10)
	},
	vRetries:         rRetries,
	vPID:             func(dst []byte, n *node, fl *Fields) []byte { return appendNum(dst, int64(fl.PID), n.flags) },
	vReqCounter:      func(dst []byte, n *node, fl *Fields) []byte { return appendNum(dst, int64(fl.ReqCounter), n.flags) },
	vLogCount:        func(dst []byte, n *node, fl *Fields) []byte { return appendNum(dst, int64(fl.LogCount), n.flags) },
	vTermState:       rTermState,
	vTermStateCookie: rTermStateCookie,
	vClientIP:        rClientIP,
	vClientPort:      rClientPort,
	vFrontendIP:      rFrontendIP,
	vFrontendPort:    rFrontendPort,
	vBackendIP:       func(dst []byte, n *node, fl *Fields) []byte { return appendIPOrDash(dst, fl.BackendSource, n.flags) },
	vBackendPort:     func(dst []byte, n *node, fl *Fields) []byte { return appendPortOrDash(dst, fl.BackendSource, n.flags) },
	vServerIP:        func(dst []byte, n *node, fl *Fields) []byte { return appendIPOrDash(dst, fl.Server, n.flags) },
	vServerPort:      func(dst []byte, n *node, fl *Fields) []byte { return appendPortOrDash(dst, fl.Server, n.flags) },
	vTw:              rTw,
	vTc:              rTc,
	vTr:              rTr,
	vTd:              rTd,
	vTa:              rTa,
	vTt:              func(dst []byte, _ *node, fl *Fields) []byte { return appendASAP(dst, fl, ms(fl.Close)) },
	vTu:              rTu,
	vTh:              func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, ms(fl.Handshake), 10) },
	vTi:              func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, ms(fl.Idle), 10) },
	vTR:              rTR,
	vTq:              func(dst []byte, _ *node, fl *Fields) []byte { return strconv.AppendInt(dst, ms(fl.Request), 10) },
	vDate:            func(dst []byte, _ *node, fl *Fields) []byte { return appendDate(dst, fl.AcceptDate) },
	vDateGMT:         func(dst []byte, _ *node, fl *Fields) []byte { return appendDateGMT(dst, fl.AcceptDate) },
	vDateLocal:       func(dst []byte, _ *node, fl *Fields) []byte { return appendDateLocal(dst, fl.AcceptDate) },
	vTimestamp:       func(dst []byte, n *node, fl *Fields) []byte { return appendNum(dst, fl.AcceptDate.Unix(), n.flags) },
	vMillis:          rMillis,
	vReqDate:         func(dst []byte, _ *node, fl *Fields) []byte { return appendDate(dst, requestDate(fl)) },
	vReqDateGMT:      func(dst []byte, _ *node, fl *Fields) []byte { return appendDateGMT(dst, requestDate(fl)) },
	vReqDateLocal:    func(dst []byte, _ *node, fl *Fields) []byte { return appendDateLocal(dst, requestDate(fl)) },
	vRequest:         rRequest,
	vMethod:          rMethod,
	vPath:            func(dst []byte, n *node, fl *Fields) []byte { return rURIPart(dst, n, fl, false, true) },
	vURI:             func(dst []byte, n *node, fl *Fields) []byte { return rURIPart(dst, n, fl, false, false) },
	vPathOnly:        func(dst []byte, n *node, fl *Fields) []byte { return rURIPart(dst, n, fl, true, true) },
	vQuery:           rQuery,
	vVersion:         rVersion,
	vReqHeaders:      nil,
	vReqHeaderList:   nil,
	vRespHeaders:     nil,
	vRespHeaderList:  nil,
}

// appendASAP writes a value that "option logasap" marks with '+' because
// it is not final yet.
func appendASAP(dst []byte, fl *Fields, v int64) []byte {
	if fl.LogASAP {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, v, 10)
}

func rServer(dst []byte, n *node, fl *Fields) []byte {
	if fl.ServerName == "" {
		return appendText(dst, "<NOSRV>", n.flags)
	}
	return appendText(dst, fl.ServerName, n.flags)
}

// rFrontendXprt is %ft: the name and '~' for a TLS bind, quoted with +Q
// but never escaped nor replaced by "-".
func rFrontendXprt(dst []byte, n *node, fl *Fields) []byte {
	if n.flags&FlagQuote != 0 {
		dst = append(dst, '"')
	}
	dst = append(dst, fl.FrontendName...)
	if fl.FrontendSSL {
		dst = append(dst, '~')
	}
	if n.flags&FlagQuote != 0 {
		dst = append(dst, '"')
	}
	return dst
}

func rRetries(dst []byte, _ *node, fl *Fields) []byte {
	if fl.Redispatched {
		dst = append(dst, '+')
	}
	return strconv.AppendInt(dst, int64(fl.Retries), 10)
}

func rTermState(dst []byte, _ *node, fl *Fields) []byte {
	return append(dst, fl.Cause.Char(), fl.Phase.Char())
}

func rTermStateCookie(dst []byte, _ *node, fl *Fields) []byte {
	return append(dst, fl.Cause.Char(), fl.Phase.Char(), fl.ReqCookie.Char(), fl.RespCookie.Char())
}

func rClientIP(dst []byte, n *node, fl *Fields) []byte {
	if fl.UnixListener {
		return appendText(dst, "unix", n.flags)
	}
	return appendIPOrDash(dst, fl.Client, n.flags)
}

func rClientPort(dst []byte, n *node, fl *Fields) []byte {
	if fl.UnixListener {
		return strconv.AppendInt(dst, int64(fl.ListenerID), 10)
	}
	return appendPortOrDash(dst, fl.Client, n.flags)
}

func rFrontendIP(dst []byte, n *node, fl *Fields) []byte {
	if fl.UnixListener {
		return appendText(dst, "unix", n.flags)
	}
	return appendIPOrDash(dst, fl.Frontend, n.flags)
}

func rFrontendPort(dst []byte, n *node, fl *Fields) []byte {
	if fl.UnixListener {
		return strconv.AppendInt(dst, int64(fl.ListenerID), 10)
	}
	return appendPortOrDash(dst, fl.Frontend, n.flags)
}

func appendIPOrDash(dst []byte, ap netip.AddrPort, fl Flags) []byte {
	if !ap.IsValid() {
		return appendText(dst, "", fl)
	}
	return appendIP(dst, ap.Addr(), fl)
}

func appendPortOrDash(dst []byte, ap netip.AddrPort, fl Flags) []byte {
	if !ap.IsValid() {
		return appendText(dst, "", fl)
	}
	return appendPort(dst, ap.Port(), fl)
}

func rMillis(dst []byte, n *node, fl *Fields) []byte {
	v := fl.AcceptDate.Nanosecond() / int(time.Millisecond)
	if n.flags&FlagHex != 0 {
		return appendHex(dst, uint64(v), 2)
	}
	return appendPad(dst, v, 3)
}

// requestDate is the accept date plus the idle and handshake times: the
// date of the first byte of the request (%tr).
func requestDate(fl *Fields) time.Time {
	var off int64
	if fl.Idle >= 0 {
		off = ms(fl.Idle) + ms(fl.Handshake)
	}
	return fl.AcceptDate.Add(time.Duration(off) * time.Millisecond)
}
