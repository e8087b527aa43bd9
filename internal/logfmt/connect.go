package logfmt

import "strconv"

// AppendConnect appends the line HAProxy 2.6 logs when a connection is
// accepted by a frontend that has log targets but no log format (neither
// "option tcplog", "option httplog" nor "log-format"), from
// frontend_accept():
//
//	Connect from 127.0.0.1:41042 to 127.0.0.1:39495 (l/TCP)
//	Connect to unix:1 (l/HTTP)
//	Connect from unknown source to listener 1 (l/TCP)
//
// It uses Client, Frontend, UnixListener, ListenerID and FrontendName. No
// other line is logged for such a stream.
func AppendConnect(dst []byte, f *Fields, mode Mode) []byte {
	switch {
	case f.UnixListener:
		dst = append(dst, "Connect to unix:"...)
		dst = strconv.AppendInt(dst, int64(f.ListenerID), 10)
	case !f.Client.IsValid():
		dst = append(dst, "Connect from unknown source to listener "...)
		dst = strconv.AppendInt(dst, int64(f.ListenerID), 10)
	default:
		dst = append(dst, "Connect from "...)
		dst = appendAddr(dst, f.Client.Addr())
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, uint64(f.Client.Port()), 10)
		dst = append(dst, " to "...)
		if f.Frontend.IsValid() {
			dst = appendAddr(dst, f.Frontend.Addr())
			dst = append(dst, ':')
			dst = strconv.AppendUint(dst, uint64(f.Frontend.Port()), 10)
		} else {
			dst = append(dst, "undetermined address:0"...)
		}
	}
	dst = append(dst, " ("...)
	dst = append(dst, f.FrontendName...)
	if mode == HTTP {
		return append(dst, "/HTTP)"...)
	}
	return append(dst, "/TCP)"...)
}
