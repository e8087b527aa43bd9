package sample

import (
	"crypto/tls"
	"encoding/binary"
	"net/netip"
	"strconv"
)

// Value is one sample: the output of a fetch after its converters. Str and
// Bin values point into memory the evaluation context owns (the peeked
// request or a scratch buffer); they are valid until the next evaluation.
type Value struct {
	Type  Type
	Int   int64 // Bool (0 or 1) and Int
	IP    netip.Addr
	Bytes []byte // Str and Bin
}

// Body is what is buffered of a request's body, for the body fetches.
type Body struct {
	// Data is the body as received (chunk framing included when
	// Chunked); Length is its Content-Length otherwise.
	Data    []byte
	Chunked bool
	Length  int64
	// Max caps the data the fetches see, as much as HAProxy's buffer
	// would hold.
	Max int64
	// dechunked holds a chunked body's data for the fetches: a buffer of
	// the body's own, so that converters (which use the Ctx's scratch)
	// do not overwrite what an ACL iterates over.
	dechunked []byte
}

// Set points b at a new body, keeping the memory it de-chunks into.
func (b *Body) Set(data []byte, chunked bool, length, max int64) {
	b.Data, b.Chunked, b.Length, b.Max = data, chunked, length, max
	b.dechunked = b.dechunked[:0]
}

// Result says whether a fetch produced a sample.
type Result uint8

// Fetch results. MayChange is HAProxy's SMP_F_MAY_CHANGE: no answer yet,
// but more request data could give one, so a rule waiting for data
// (tcp-request inspect-delay) waits instead of deciding.
const (
	NotFound Result = iota
	Found
	MayChange
)

// Env is what every stream of a process shares, for the fetches that
// read the process and its configuration rather than the stream. The
// engine makes one; each stream's Ctx points to it.
type Env struct {
	// Proxies answers nbsrv, be_conn, fe_conn and queue; nil when none.
	Proxies Proxies
	// Userlists answers http_auth and http_auth_group; nil when none.
	Userlists Userlists
	// LookupEnv reads the process environment for env(); nil uses none.
	LookupEnv func(string) (string, bool)
	// Hostname is the local host name for hostname.
	Hostname string
}

// Ctx is what fetches read: the facts of one stream. The engine fills it;
// fetches never do I/O.
type Ctx struct {
	// Env is the process's (nil: none of it).
	Env *Env
	// Src and Dst are the client's address and the address it connected
	// to, as a PROXY protocol header stated them when one was received.
	Src, Dst netip.AddrPort
	// Payload is the request data received so far and not yet forwarded.
	Payload []byte
	// HTXBody is, in an http proxy (Req set), the request body data
	// buffered so far in HAProxy 2.6's HTX form: req.len there is the
	// head's HTX size as rules leave it (h1.Head.HTXSize) plus this, not
	// the bytes received; the payload fetches find nothing in it.
	HTXBody int64

	FrontendName string
	FrontendID   int
	BackendName  string
	BackendID    int

	// ConnInfo reads the client connection's TCP_INFO for fc_* fetches;
	// nil when unavailable.
	ConnInfo ConnInfoSource
	// LogLevel is what set-log-level rules chose for the stream's log
	// line: 0 none, -1 silent, else the syslog level plus one.
	LogLevel int

	// Body is what the request body fetches read; nil: no body.
	Body *Body

	// Req and Res are the HTTP request and response of an http proxy's
	// transaction; nil in mode tcp, and Res nil until a response arrived.
	// Layer 7 fetches find nothing without them.
	Req, Res HTTPMessage
	// InResponse is true while http-response rules run: hdr(), cookie()
	// and the like then read the response, as HAProxy's fetches follow
	// the rule's direction, and Set-Cookie values are single cookies.
	InResponse bool
	// FirstRequest is true for the first request of a client connection
	// (http_first_req).
	FirstRequest bool
	// Final is true when no more data will come before a decision: the
	// inspect delay expired, the buffer is full or the client closed.
	Final bool
	// ReceivedProxy is true when the client sent a PROXY protocol header.
	ReceivedProxy bool
	// Stopping is true during a soft stop.
	Stopping bool
	// ProxyAuth is HAProxy's TX_USE_PX_CONN: option
	// http-use-proxy-header and a request to a proxy (a target that does
	// not start with '/' or '*'): credentials are read from
	// Proxy-Authorization, and an auth rule answers 407.
	ProxyAuth bool
	// StreamID is HAProxy's stream counter (%rt) for the transaction.
	StreamID uint32
	// TLS describes the client connection's TLS session when the bind
	// terminates TLS (ssl_fc, ssl_fc_sni, ssl_fc_protocol ...); nil for
	// plain connections.
	TLS *tls.ConnectionState

	// Caps are the HTTP transaction's capture slots (capture.req.hdr,
	// capture.res.hdr); the engine fills them.
	Caps Captures
	// Vars are the connection's and the transaction's variables
	// (set-var, var()); proc variables are the process's.
	Vars Vars
	// FmtBuf is a buffer for a log-format value rendered with this
	// context (set-var-fmt), reused from one rule to the next.
	FmtBuf []byte
	// ServerName is the server a Layer 4 stream went to, for its log
	// line's unique id; empty until then.
	ServerName string
	// UniqueIDFormat is the frontend's unique-id-format; nil when it has
	// none (unique-id then finds nothing).
	UniqueIDFormat Renderer
	uid            uniqueID

	val       Value
	scratch   [2][]byte
	turn      int
	mayChange bool

	// iterate asks multi-valued fetches (hdr, cook, url_param) for every
	// value in turn, as HAProxy's ACLs do (SMP_OPT_ITERATE); more says
	// the fetch has another one (SMP_F_NOT_LAST); cur is its position.
	iterate bool
	more    bool
	cur     cursor
}

// cursor is a multi-valued fetch's position between calls.
type cursor struct {
	started bool
	hdr     hdrCursor
	// elem is the cookie header element being read and pos the offset
	// in it of the next cookie; for url_param, pos is the offset in the
	// URI of the next parameter.
	inElem bool
	elem   []byte
	pos    int
}

// buf returns an empty scratch buffer for a fetch or converter that builds
// a new string. The two buffers alternate so a converter can read its
// input from the one the previous step filled.
func (c *Ctx) buf() []byte {
	c.turn ^= 1
	return c.scratch[c.turn][:0]
}

// keep stores a grown scratch buffer back for reuse.
func (c *Ctx) keep(b []byte) []byte {
	if cap(b) > cap(c.scratch[c.turn]) {
		c.scratch[c.turn] = b[:0]
	}
	return b
}

// Value is a sample slot owned by the context, so that evaluating a
// condition on every connection allocates nothing. It is overwritten by
// the next evaluation that uses it.
func (c *Ctx) Value() *Value { return &c.val }

// waitMore marks the current fetch's answer as one more data could change
// (HAProxy's SMP_F_MAY_CHANGE) unless the decision is final.
func (c *Ctx) waitMore() {
	if !c.Final {
		c.mayChange = true
	}
}

// AsString renders v as text into dst, as HAProxy's casts to str do.
func (v *Value) AsString(dst []byte) []byte {
	switch v.Type {
	case Bool, Int:
		return strconv.AppendInt(dst, v.Int, 10)
	case IP:
		return v.IP.AppendTo(dst)
	default:
		return append(dst, v.Bytes...)
	}
}

// AsInt converts v to an integer as HAProxy's casts do: text is read as a
// leading decimal number; an address gives its IPv4 value.
func (v *Value) AsInt() (int64, bool) {
	switch v.Type {
	case Bool, Int:
		return v.Int, true
	case IP:
		if v.IP.Is4() {
			b := v.IP.As4()
			return int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3]), true
		}
		return 0, false
	default:
		return parseLeadingInt(v.Bytes)
	}
}

func parseLeadingInt(b []byte) (int64, bool) {
	neg := false
	i := 0
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	start := i
	var n int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	if i == start {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// AsIP converts v to an address: text must be an address; an integer is
// an IPv4 address in host order.
func (v *Value) AsIP() (netip.Addr, bool) {
	switch v.Type {
	case IP:
		return v.IP, true
	case Int:
		u := uint32(v.Int)
		return netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}), true
	case Str, Bin:
		a, err := netip.ParseAddr(string(v.Bytes))
		return a, err == nil
	}
	return netip.Addr{}, false
}

// HTTPMessage is a parsed HTTP message as Layer 7 fetches read it: the
// request for req.* fetches, the response for res.* ones. Slices stay valid
// and unchanged during one evaluation; implementations do not allocate.
type HTTPMessage interface {
	// Method is the request method as received ("GET"); empty in a response.
	Method() []byte
	// URI is the request target as received ("/a?b", "http://h/p", "*").
	URI() []byte
	// Version is the protocol as received in the start line ("HTTP/1.1").
	Version() []byte
	// Status is a response's status code; 0 in a request.
	Status() int
	// NumFields is the number of header fields, trailers excluded.
	NumFields() int
	// Field is the i-th header field in received order; names keep the
	// case they arrived with and compare case-insensitively.
	Field(i int) (name, value []byte)
}

// Hostname is the local host name, "" without an Env.
func (c *Ctx) Hostname() string {
	if c.Env == nil {
		return ""
	}
	return c.Env.Hostname
}

// AsBinary converts v to HAProxy's binary type (sample_casts to SMP_T_BIN):
// text as it is, an integer or boolean as 8 bytes in network order, an
// address as its 4 or 16 bytes. The bytes are appended to dst.
func (v *Value) AsBinary(dst []byte) []byte {
	switch v.Type {
	case Bool, Int:
		return binary.BigEndian.AppendUint64(dst, uint64(v.Int))
	case IP:
		if v.IP.Is4() {
			a := v.IP.As4()
			return append(dst, a[:]...)
		}
		a := v.IP.As16()
		return append(dst, a[:]...)
	default:
		return append(dst, v.Bytes...)
	}
}
