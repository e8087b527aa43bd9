package sample

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// evaluators are the fetches Sluice computes. Every other name in the
// registry is known to HAProxy and refused with ErrNotSupported.
var evaluators = map[string]*evaluator{}

func eval(names string, typ Type, min, max int, parse func([]string) ([]Arg, error), fn func(*Ctx, []Arg, *Value) bool) {
	for _, n := range splitFields(names) {
		evaluators[n] = &evaluator{typ: typ, minArgs: min, maxArgs: max, parse: parse, fn: fn}
	}
}

func splitFields(s string) []string { return strings.Fields(s) }

func init() {
	eval("always_true", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setBool(v, true) })
	eval("always_false", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setBool(v, false) })
	eval("src fc_src", IP, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setIP(v, c.Src.Addr()) })
	eval("dst fc_dst", IP, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setIP(v, c.Dst.Addr()) })
	eval("src_port fc_src_port", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setPort(v, c.Src) })
	eval("dst_port fc_dst_port", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setPort(v, c.Dst) })
	eval("fe_name", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setStr(c, v, c.FrontendName) })
	eval("fe_id", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setInt(v, int64(c.FrontendID)) })
	eval("be_name", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.BackendName != "" && setStr(c, v, c.BackendName)
	})
	eval("be_id", Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		return c.BackendName != "" && setInt(v, int64(c.BackendID))
	})
	eval("fc_rcvd_proxy", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setBool(v, c.ReceivedProxy) })
	eval("stopping", Bool, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setBool(v, c.Stopping) })
	eval("hostname", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool { return setStr(c, v, c.Hostname()) })
	eval("env", Str, 1, 1, nil, fetchEnv)
	eval("str", Str, 1, 1, nil, func(c *Ctx, a []Arg, v *Value) bool { return setStr(c, v, a[0].Str) })
	eval("int", Int, 1, 1, intArgs, func(c *Ctx, a []Arg, v *Value) bool { return setInt(v, a[0].Int) })
	eval("ipv4", IP, 1, 1, addrArg(true), func(c *Ctx, a []Arg, v *Value) bool { return setIP(v, ipOf(a[0])) })
	eval("ipv6", IP, 1, 1, addrArg(false), func(c *Ctx, a []Arg, v *Value) bool { return setIP(v, ipOf(a[0])) })
	eval("wait_end", Bool, 0, 0, nil, fetchWaitEnd)
	eval("req.len req_len", Int, 0, 0, nil, fetchReqLen)
	eval("req.payload payload", Bin, 2, 2, intArgs, fetchPayload)
	eval("req.payload_lv payload_lv", Bin, 2, 3, payloadLVArgs, fetchPayloadLV)
	eval("req.ssl_hello_type req_ssl_hello_type", Int, 0, 0, nil, fetchSSLHelloType)
	eval("req.ssl_sni req_ssl_sni", Str, 0, 0, nil, fetchSSLSNI)
}

func setBool(v *Value, b bool) bool {
	v.Type, v.Int = Bool, 0
	if b {
		v.Int = 1
	}
	return true
}

func setInt(v *Value, n int64) bool {
	v.Type, v.Int = Int, n
	return true
}

func setIP(v *Value, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	v.Type, v.IP = IP, a.Unmap()
	return true
}

func setPort(v *Value, ap netip.AddrPort) bool {
	if !ap.IsValid() {
		return false
	}
	return setInt(v, int64(ap.Port()))
}

func setStr(c *Ctx, v *Value, s string) bool {
	b := c.keep(append(c.buf(), s...))
	v.Type, v.Bytes = Str, b
	return true
}

func setBytes(v *Value, t Type, b []byte) bool {
	v.Type, v.Bytes = t, b
	return true
}

func fetchEnv(c *Ctx, a []Arg, v *Value) bool {
	if c.Env == nil || c.Env.LookupEnv == nil {
		return false
	}
	s, ok := c.Env.LookupEnv(a[0].Str)
	return ok && setStr(c, v, s)
}

// addrArg parses an ipv4()/ipv6() constant at load.
func addrArg(four bool) func([]string) ([]Arg, error) {
	return func(w []string) ([]Arg, error) {
		a, err := netip.ParseAddr(w[0])
		if err != nil || a.Is4() != four {
			return nil, fmt.Errorf("'%s' is not a valid address", w[0])
		}
		return []Arg{{Str: a.String()}}, nil
	}
}

func ipOf(a Arg) netip.Addr {
	ip, _ := netip.ParseAddr(a.Str)
	return ip
}

// fetchWaitEnd is false until the inspection ends, then true: WAIT_END
// holds a rule back for the whole inspect-delay.
func fetchWaitEnd(c *Ctx, _ []Arg, v *Value) bool {
	if !c.Final {
		c.waitMore()
		return false
	}
	return setBool(v, true)
}

// fetchReqLen is the amount of request data buffered; it may grow. In an
// http proxy it is the HTX size, as HAProxy's smp_fetch_len reports it:
// the head as the rules so far left it, and the body data buffered.
func fetchReqLen(c *Ctx, _ []Arg, v *Value) bool {
	c.waitMore()
	if c.Req != nil {
		n := c.HTXBody
		if h, ok := c.Req.(interface{ HTXSize() int64 }); ok {
			n += h.HTXSize() // an h1.Head's
		}
		return setInt(v, n)
	}
	return setInt(v, int64(len(c.Payload)))
}

// maxPayload is HAProxy's default tune.bufsize: a payload window past it
// can never be filled, so the fetch never matches rather than waiting.
const maxPayload = 16384

// fetchPayload is req.payload(offset,length); length 0 means everything
// from offset on, which may still grow.
func fetchPayload(c *Ctx, a []Arg, v *Value) bool {
	if c.Req != nil {
		return false // "meaningless for HTX buffers" (HAProxy's smp_fetch_payload)
	}
	off, n := a[0].Int, a[1].Int
	if off < 0 || n < 0 || off > maxPayload || n > maxPayload || off+n > maxPayload {
		return false
	}
	if off+n > int64(len(c.Payload)) {
		c.waitMore()
		return false
	}
	end := off + n
	if n == 0 {
		end = int64(len(c.Payload))
		c.waitMore()
	}
	return setBytes(v, Bin, c.Payload[off:end])
}

// payloadLVArgs encodes req.payload_lv's optional third argument as
// HAProxy does: "+N" is relative to the end of the length field (odd),
// "N" absolute (even).
func payloadLVArgs(w []string) ([]Arg, error) {
	out, err := intArgs(w[:2])
	if err != nil {
		return nil, err
	}
	if out[1].Int <= 0 {
		return nil, fmt.Errorf("payload length must be > 0")
	}
	if len(w) == 3 {
		s := w[2]
		rel := len(s) > 0 && s[0] == '+'
		if rel {
			s = s[1:]
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("'%s' is not a valid offset", w[2])
		}
		enc := n << 1
		if rel {
			enc |= 1
		}
		out = append(out, Arg{Int: enc, Str: "set"})
	}
	return out, nil
}

// fetchPayloadLV reads a length field at (offset,size), big-endian, then
// that many bytes after it or at the given offset.
func fetchPayloadLV(c *Ctx, a []Arg, v *Value) bool {
	if c.Req != nil {
		return false // as req.payload: nothing in an HTX buffer
	}
	lenOff, lenSize := a[0].Int, a[1].Int
	if lenOff < 0 || lenOff > maxPayload || lenSize < 1 || lenSize > maxPayload {
		return false
	}
	if lenOff+lenSize > int64(len(c.Payload)) {
		c.waitMore()
		return false
	}
	// An unsigned 32-bit length, as HAProxy's: a longer field keeps its
	// low 32 bits, and nothing a client sends makes it negative.
	var u uint32
	for i := int64(0); i < lenSize; i++ {
		u = u<<8 | uint32(c.Payload[lenOff+i])
	}
	size := int64(u)
	off := lenOff + lenSize
	if len(a) == 3 && a[2].Str != "" {
		if a[2].Int&1 != 0 {
			off += a[2].Int >> 1
		} else {
			off = a[2].Int >> 1
		}
	}
	if size == 0 || size > maxPayload || off < 0 || off > maxPayload || off+size > maxPayload {
		return false
	}
	if off+size > int64(len(c.Payload)) {
		c.waitMore()
		return false
	}
	return setBytes(v, Bin, c.Payload[off:off+size])
}
