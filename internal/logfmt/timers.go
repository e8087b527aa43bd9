package logfmt

import "strconv"

// The timers follow sess_build_logline: each logged value is the
// difference of two markers taken from the accept, -1 when the later one
// was never reached. Nothing is clamped, so a missing request date
// (always the case in TCP mode) shows up as in HAProxy.

// rTw is %Tw, the time spent in queues.
func rTw(dst []byte, _ *node, fl *Fields) []byte {
	v := int64(-1)
	if q := ms(fl.Queue); q >= 0 {
		v = q - ms(fl.Request)
	}
	return strconv.AppendInt(dst, v, 10)
}

// rTc is %Tc, the time to establish the server connection, retries
// included.
func rTc(dst []byte, _ *node, fl *Fields) []byte {
	v := int64(-1)
	if c := ms(fl.Connect); c >= 0 {
		v = c - ms(fl.Queue)
	}
	return strconv.AppendInt(dst, v, 10)
}

// rTr is %Tr, the server's response time (HTTP).
func rTr(dst []byte, _ *node, fl *Fields) []byte {
	v := int64(-1)
	if d := ms(fl.Data); d >= 0 {
		v = d - ms(fl.Connect)
	}
	return strconv.AppendInt(dst, v, 10)
}

// rTd is %Td, the data transfer time: from the response headers in an
// HTTP backend, from the connection otherwise.
func rTd(dst []byte, _ *node, fl *Fields) []byte {
	v := int64(-1)
	from := fl.Connect
	if fl.BackendHTTP {
		from = fl.Data
	}
	if f := ms(from); f >= 0 {
		v = ms(fl.Close) - f
	}
	return strconv.AppendInt(dst, v, 10)
}

// rTa is %Ta, the active time: total minus idle and handshake.
func rTa(dst []byte, _ *node, fl *Fields) []byte {
	v := ms(fl.Close)
	if fl.Idle >= 0 {
		v -= ms(fl.Idle) + ms(fl.Handshake)
	}
	return appendASAP(dst, fl, v)
}

// rTu is %Tu, the total time minus idle.
func rTu(dst []byte, _ *node, fl *Fields) []byte {
	v := ms(fl.Close)
	if fl.Idle >= 0 {
		v -= ms(fl.Idle)
	}
	return appendASAP(dst, fl, v)
}

// rTR is %TR, the time to receive the request headers after the first
// byte.
func rTR(dst []byte, _ *node, fl *Fields) []byte {
	v := int64(-1)
	if r := ms(fl.Request); r >= 0 {
		v = r - ms(fl.Idle) - ms(fl.Handshake)
	}
	return strconv.AppendInt(dst, v, 10)
}
