package tlsterm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// Reason classifies a failed handshake the way HAProxy's connection error
// codes do; String gives the text HAProxy logs for it (conn_err_code_str,
// the "%[fc_err_str]" of a connection error log line).
type Reason uint8

// Handshake failure reasons.
const (
	// ReasonHandshake: the TLS exchange failed (CO_ER_SSL_HANDSHAKE).
	ReasonHandshake Reason = iota
	// ReasonEmpty: the client closed before sending anything (CO_ER_SSL_EMPTY).
	ReasonEmpty
	// ReasonAbort: the socket could not be set up for the handshake
	// (CO_ER_SSL_ABORT); a reset during the handshake is a handshake
	// failure, as HAProxy reports it.
	ReasonAbort
	// ReasonTimeout: `timeout client` expired (CO_ER_SSL_TIMEOUT).
	ReasonTimeout
	// ReasonCertFail: the client certificate did not verify (CO_ER_SSL_CRT_FAIL).
	ReasonCertFail
)

var reasonText = [...]string{
	ReasonHandshake: "SSL handshake failure",
	ReasonEmpty:     "Connection closed during SSL handshake",
	ReasonAbort:     "Connection error during SSL handshake",
	ReasonTimeout:   "Timeout during SSL handshake",
	ReasonCertFail:  "SSL client certificate not trusted",
}

// String returns HAProxy's log text for the reason.
func (r Reason) String() string { return reasonText[r] }

// HandshakeError is a failed server handshake.
type HandshakeError struct {
	Reason Reason
	Err    error
}

func (e *HandshakeError) Error() string { return e.Reason.String() + ": " + e.Err.Error() }

// Unwrap returns the crypto/tls or socket error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// countingConn notes whether the client sent anything, to tell an empty
// connection from a failed handshake as HAProxy does.
type countingConn struct {
	net.Conn
	got bool
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.got = true
	}
	return n, err
}

// Handshake runs the server side of TLS on an accepted connection with the
// bind's configuration. HAProxy bounds the handshake with `timeout client`:
// pass it as timeout (zero: no deadline). The deadline is cleared on
// success. On failure the error is a *HandshakeError and the caller closes
// c. The returned connection's NetConn is a thin wrapper; use NetConn(tc)
// for the accepted connection itself (for CloseWrite, addresses, TCP_INFO).
func Handshake(c net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	cc := &countingConn{Conn: c}
	tc := tls.Server(cc, cfg)
	if timeout > 0 {
		if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
			return nil, &HandshakeError{Reason: ReasonAbort, Err: err}
		}
	}
	if err := tc.Handshake(); err != nil {
		return nil, &HandshakeError{Reason: classify(err, cc.got), Err: err}
	}
	if timeout > 0 {
		if err := c.SetDeadline(time.Time{}); err != nil {
			return nil, &HandshakeError{Reason: ReasonAbort, Err: err}
		}
	}
	return tc, nil
}

// NetConn returns the connection Handshake was given.
func NetConn(tc *tls.Conn) net.Conn {
	c := tc.NetConn()
	if cc, ok := c.(*countingConn); ok {
		return cc.Conn
	}
	return c
}

// classify maps a handshake error to HAProxy's reason, as HAProxy 2.6
// with OpenSSL 3 reports it (checked against haproxy in
// internal/difftest): a clean close with nothing received is "empty", a
// timeout is a timeout, and anything else, a connection reset included
// (before or after a partial hello), is a handshake failure.
func classify(err error, got bool) Reason {
	var ne net.Error
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return ReasonTimeout
	case errors.Is(err, io.EOF) && !got:
		return ReasonEmpty
	}
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	if errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &ci) {
		return ReasonCertFail
	}
	return ReasonHandshake
}
