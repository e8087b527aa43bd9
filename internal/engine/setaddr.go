package engine

import (
	"net/netip"
	"strings"

	"sluice/internal/sample"
)

// addrAction is one of set-src, set-src-port, set-dst and set-dst-port:
// which address of the stream it changes, and the expression giving the
// new address or port.
type addrAction struct {
	dst, port bool
	expr      *sample.Expr
}

// isAddrAction says whether a rule action is one of the four.
func isAddrAction(act string) bool {
	switch act {
	case "set-src", "set-src-port", "set-dst", "set-dst-port":
		return true
	}
	return false
}

func compileAddrAction(act, expr string) (*addrAction, error) {
	e, err := sample.CompileExpr(expr)
	if err != nil {
		return nil, err
	}
	return &addrAction{dst: strings.HasPrefix(act, "set-dst"), port: strings.HasSuffix(act, "-port"), expr: e}, nil
}

// run changes the client's address (src) or the one it reached (dst) as
// HAProxy's tcp_action_req_set_src and friends do: an address sample (an
// IPv4 or IPv6 address, or text or a number that reads as one) replaces
// the address and keeps the port; a number replaces the port, cut to 16
// bits. A sample that is not there, or not one, changes nothing.
func (a *addrAction) run(c *sample.Ctx) {
	v := c.Value()
	if found, _ := a.expr.Eval(c, v); !found {
		return
	}
	ap := &c.Src
	if a.dst {
		ap = &c.Dst
	}
	if a.port {
		if n, ok := v.AsInt(); ok {
			*ap = netip.AddrPortFrom(ap.Addr(), uint16(n))
		}
		return
	}
	if ip, ok := v.AsIP(); ok {
		*ap = netip.AddrPortFrom(ip, ap.Port())
	}
}

// keepAddrs is for an http connection whose rules change its addresses:
// in HAProxy each request is a stream of its own, which starts from the
// connection's addresses (those tcp-request connection and session
// rules left), so a request's set-src does not outlive it. The session
// keeps them, once, the first time a request may change them, and each
// request starts from them again (restoreAddrs).
func (s *stream) keepAddrs(t *httpTxn) {
	if t.sess != nil && t.sess.addrs == nil {
		t.sess.addrs = &[2]netip.AddrPort{s.smp.Src, s.smp.Dst}
	}
}

func (s *stream) restoreAddrs(t *httpTxn) {
	if t.sess != nil && t.sess.addrs != nil {
		s.smp.Src, s.smp.Dst = t.sess.addrs[0], t.sess.addrs[1]
	}
}
