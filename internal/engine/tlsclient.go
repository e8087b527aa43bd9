package engine

import (
	"crypto/tls"
	"errors"
	"syscall"
	"time"

	"sluice/internal/logfmt"
	"sluice/internal/tlsterm"
	"sluice/internal/tunnel"
)

// tlsClient is a client connection on an `ssl` bind once its handshake is
// done. Everything above it (content rules, the HTTP engine, the relay)
// reads and writes clear text through it; what is asked of the kernel
// (TCP_INFO, SIOCINQ, SO_LINGER, a silent drop) goes to the socket, which
// SyscallConn and Raw give.
type tlsClient struct {
	*tls.Conn
	raw tunnel.Conn
	// ahead holds clear text content inspection read before the stream
	// consumed it; Read gives it out first.
	ahead []byte
}

var _ tunnel.Layered = (*tlsClient)(nil)

// Raw is the accepted socket.
func (c *tlsClient) Raw() tunnel.Conn { return c.raw }

// SyscallConn reaches the socket, for what is asked of the kernel: never
// read or write clear text through it.
func (c *tlsClient) SyscallConn() (syscall.RawConn, error) { return c.raw.SyscallConn() }

func (c *tlsClient) Read(p []byte) (int, error) {
	if len(c.ahead) > 0 {
		n := copy(p, c.ahead)
		c.ahead = c.ahead[n:]
		if len(c.ahead) == 0 {
			c.ahead = nil
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// CloseWrite sends close_notify, then shuts the socket's sending side, as
// HAProxy's shutw on an SSL connection does.
func (c *tlsClient) CloseWrite() error {
	err := c.Conn.CloseWrite()
	if werr := c.raw.CloseWrite(); err == nil {
		err = werr
	}
	return err
}

// readAhead reads clear text for content inspection until deadline and
// keeps it for the stream, returning what is now buffered (at most max
// bytes).
func (c *tlsClient) readAhead(deadline time.Time, max int) ([]byte, error) {
	if len(c.ahead) >= max {
		return c.ahead[:max], nil
	}
	if cap(c.ahead) < max {
		c.ahead = append(make([]byte, 0, max), c.ahead...)
	}
	c.Conn.SetReadDeadline(deadline)
	defer c.Conn.SetReadDeadline(time.Time{})
	n, err := c.Conn.Read(c.ahead[len(c.ahead):max])
	c.ahead = c.ahead[:len(c.ahead)+n]
	return c.ahead, err
}

// rawConn is the socket under a client connection.
func rawConn(c tunnel.Conn) tunnel.Conn {
	if t, ok := c.(*tlsClient); ok {
		return t.raw
	}
	return c
}

// handshakeTLS terminates TLS on an `ssl` bind within `timeout client`,
// as HAProxy does after the PROXY header and before the session rules. A
// failed handshake is logged with HAProxy's words and the connection
// closed by the caller.
func (s *stream) handshakeTLS() bool {
	timeout := s.fe.cfg.Timeouts.Client
	if timeout <= 0 {
		timeout = 24 * time.Hour // every wait has a deadline
	}
	if d := time.Until(s.accept.Add(timeout)); d > 0 {
		timeout = d
	} else {
		timeout = time.Nanosecond
	}
	tc, err := tlsterm.Handshake(s.client, s.bind.Params.TLS.Config, timeout)
	if err != nil {
		var he *tlsterm.HandshakeError
		null := false
		if errors.As(err, &he) {
			// dontlognull hides a connection that sent nothing, failed
			// on a socket error or timed out, as in HAProxy (whose
			// timeout code is only set after the dontlognull test).
			null = he.Reason == tlsterm.ReasonEmpty || he.Reason == tlsterm.ReasonAbort || he.Reason == tlsterm.ReasonTimeout
			s.fe.logEmbryonic(s, he.Reason.String(), null)
		}
		return false
	}
	state := tc.ConnectionState()
	s.smp.TLS = &state
	s.client = &tlsClient{Conn: tc, raw: s.client}
	s.tHandshake = time.Since(s.accept)
	return true
}

// tlsFields fills the log fields of a TLS client connection: '~' after
// %ft, %sslv and %sslc with OpenSSL's names, as HAProxy logs them.
func (s *stream) tlsFields(f *logfmt.Fields) {
	if st := s.smp.TLS; st != nil {
		f.FrontendSSL = true
		f.SSLVersion = tlsterm.VersionName(st.Version)
		f.SSLCipher = tlsterm.CipherName(st.CipherSuite)
	}
}
