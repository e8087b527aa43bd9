package logfmt

import (
	"net/netip"
	"time"
)

// NotReached marks a timer whose phase never happened; HAProxy logs it -1.
// Any negative duration means the same.
const NotReached time.Duration = -1

// Fields is everything a log line can show about one finished stream. The
// caller fills it (reusing one value per stream is fine) and passes it to
// Format.Append. Zero values render the way HAProxy renders absent data
// ("-" for unknown addresses and empty text, "<NOSRV>" for no server),
// except the timers: zero means "at the accept", so set the phases that
// never happened to NotReached.
type Fields struct {
	// Client is the client's address (%ci:%cp): the PROXY-protocol source
	// when the bind has accept-proxy. Frontend is the address the client
	// connected to (%fi:%fp). BackendSource is the local address of the
	// connection to the server (%bi:%bp) and Server the server's address
	// (%si:%sp); both stay zero when no server connection was attempted.
	Client, Frontend, BackendSource, Server netip.AddrPort
	// UnixListener says the client came through a unix socket: %ci and
	// %fi then read "unix" and %cp and %fp the listener's numeric ID.
	UnixListener bool
	ListenerID   int

	// FrontendName (%f), BackendName (%b; the frontend's name when no
	// backend was chosen, as in HAProxy) and ServerName (%s; empty renders
	// "<NOSRV>"; an applet such as the stats page renders its name,
	// e.g. "<STATS>").
	FrontendName, BackendName, ServerName string
	// FrontendSSL appends '~' to %ft: the bind terminates TLS.
	FrontendSSL bool

	// AcceptDate is when the connection was accepted (%t, %T, %Tl, %Ts,
	// %ms). Its location is the one used for local dates.
	AcceptDate time.Time

	// The timers are offsets from the accept, as HAProxy keeps them in
	// struct strm_logs; a negative value (NotReached) means the phase
	// never happened. The logged values derive from them exactly as in
	// HAProxy: %Tw = Queue-Request, %Tc = Connect-Queue, %Tr = Data-Connect,
	// %Td = Close-Connect (TCP) or Close-Data (HTTP), %Tt = Close.
	// In TCP mode there is no request date: leave Request negative and
	// %Tw comes out one millisecond above Queue, as HAProxy 2.6 logs it.
	Handshake time.Duration // %Th: handshake (PROXY header, TLS)
	Idle      time.Duration // %Ti: idle time before the request (HTTP); negative in TCP
	Request   time.Duration // request headers complete (HTTP)
	Queue     time.Duration // left the queue: a server was assigned
	Connect   time.Duration // connection to the server established
	Data      time.Duration // response headers received (HTTP)
	Close     time.Duration // end of the stream

	// BytesOut is what was sent to the client (%B, "bytes_read" in the
	// manual's words: read from the server); BytesIn what came from the
	// client (%U).
	BytesOut, BytesIn int64

	// Termination state (%ts, %tsc).
	Cause      Cause
	Phase      Phase
	ReqCookie  CookieState
	RespCookie SetCookieState

	// Connection counts at log time (%ac, %fc, %bc, %sc), connection
	// retries (%rc; Redispatched prefixes it with '+') and queue positions
	// (%sq, %bq).
	ActConn, FeConn, BeConn, SrvConn int
	Retries                          int
	Redispatched                     bool
	SrvQueue, BackendQueue           int

	// LogASAP is set when "option logasap" logs the stream before it
	// ends: %B, %Tt, %Ta and %Tu get a '+' prefix.
	LogASAP bool

	PID        int    // %pid
	Hostname   string // %H
	ReqCounter uint32 // %rt: the stream's unique request counter
	LogCount   uint32 // %lc: lines the frontend logged before this one
	UniqueID   string // %ID
	Status     int    // %ST (0 in TCP mode)

	// HTTP. RequestLine is the request line as received ("GET / HTTP/1.1";
	// empty renders "<BADREQ>"). ClientCookie and ServerCookie are the
	// "capture cookie" values (%CC, %CS). ReqCaptures and RespCaptures hold
	// one entry per "capture request/response header" slot, in
	// declaration order (%hr, %hs, %hrl, %hsl).
	RequestLine                string
	ClientCookie, ServerCookie string
	ReqCaptures, RespCaptures  []Capture
	SSLCipher, SSLVersion      string // %sslc, %sslv
	// BackendHTTP says the backend runs in HTTP mode; it selects the
	// definition of %Td.
	BackendHTTP bool

	// Sample evaluates a %[...] expression by appending its string value
	// to dst. It returns false when the sample is absent, which logs "-".
	// When nil, every expression is absent.
	Sample func(dst []byte, e *Expr) ([]byte, bool)
}

// Capture is one captured header slot: Value with OK set, or no header
// (OK false).
type Capture struct {
	Value string
	OK    bool
}

// ms converts a timer to HAProxy's integer milliseconds, -1 when not
// reached.
func ms(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(d / time.Millisecond)
}
