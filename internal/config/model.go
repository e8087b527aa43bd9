package config

import (
	"crypto/tls"
	"time"

	"sluice/internal/acl"
	"sluice/internal/cfgsyntax"
	"sluice/internal/httperr"
	"sluice/internal/logsink"
	"sluice/internal/netaddr"
	"sluice/internal/sample"
	"sluice/internal/tlsterm"
)

// Pos is a place in a configuration file.
type Pos = cfgsyntax.Pos

// Config is a whole loaded configuration: what every -f file said, merged in
// order, with defaults applied and references checked.
type Config struct {
	Files    []string
	Global   Global
	Defaults []*Proxy // every defaults section, named or not, in file order
	Proxies  []*Proxy // frontends, backends and listens in file order

	Userlists  []*Userlist
	Resolvers  []*Section
	Peers      []*Section
	HTTPErrors []*HTTPErrors
	// Others holds sections Sluice parses for completeness but gives no
	// behaviour (cache, ring, mailers, ...), keyed by kind.
	Others []*Section
}

// Frontends returns the proxies that accept connections.
func (c *Config) Frontends() []*Proxy { return c.withCap(CapFE) }

// Backends returns the proxies that hold servers.
func (c *Config) Backends() []*Proxy { return c.withCap(CapBE) }

func (c *Config) withCap(cp Cap) []*Proxy {
	var out []*Proxy
	for _, p := range c.Proxies {
		if p.Cap&cp != 0 {
			out = append(out, p)
		}
	}
	return out
}

// Backend finds a proxy with backend capability by name.
func (c *Config) Backend(name string) *Proxy {
	for _, p := range c.Proxies {
		if p.Cap&CapBE != 0 && p.Name == name {
			return p
		}
	}
	return nil
}

// Global is the process-wide section.
type Global struct {
	Daemon        bool
	MasterWorker  bool
	Pidfile       string
	Maxconn       int
	Nbthread      int
	Chroot        string
	User, Group   string
	UID, GID      int // -1 when unset
	Logs          []LogTarget
	LogTag        string
	LogSendHost   string
	HardStopAfter time.Duration
	StatsSockets  []StatsSocket
	StatsTimeout  time.Duration
	Localpeer     string
	// SSLDefaultBind holds the ssl-default-server-* and ssl-server-verify
	// settings by keyword (server-side TLS is not built yet).
	SSLDefaultBind map[string]string
	// SSLBindDefaults are ssl-default-bind-ciphers, -ciphersuites, -curves
	// and -options: a bind line's `ssl` word takes them.
	SSLBindDefaults tlsterm.Defaults
	// CrtBase and CABase prefix relative crt and ca-file paths.
	CrtBase, CABase string
	Tune            map[string]string
	// H1CaseAdjust maps header names, as h1-case-adjust lines and the
	// h1-case-adjust-file wrote them, to the case they are sent in to
	// the clients and servers of proxies with option
	// h1-case-adjust-bogus-client or -server. Sluice sends lower-case
	// names, so an entry whose name is not lower case never matches, as
	// in HAProxy.
	H1CaseAdjust map[string]string
	// H1CaseAdjustFile is the last h1-case-adjust-file line; the loader
	// reads it once every section is read.
	H1CaseAdjustFile    string
	H1CaseAdjustFilePos Pos
}

// StatsSocket is a `stats socket` line; the runtime API itself is not built
// yet, so Sluice parses these and says so.
type StatsSocket struct {
	Pos    Pos
	Addr   netaddr.BindAddr
	Params map[string]string
}

// LogTarget is one `log` line, or `log global` in a proxy.
type LogTarget struct {
	Pos    Pos
	Global bool
	Target logsink.Target
}

// Mode is a proxy's protocol layer.
type Mode int

// Proxy modes.
const (
	ModeTCP Mode = iota
	ModeHTTP
)

func (m Mode) String() string {
	if m == ModeHTTP {
		return "http"
	}
	return "tcp"
}

// Cap says what a proxy can do: accept connections, hold servers, or both.
type Cap uint8

// Capabilities.
const (
	CapFE Cap = 1 << iota
	CapBE
	CapDefaults
)

// Timeouts are a proxy's timeouts; zero means unset.
type Timeouts struct {
	Client, Server, Connect, Queue, Check time.Duration
	HTTPRequest, HTTPKeepAlive, Tunnel    time.Duration
	Tarpit, ClientFin, ServerFin          time.Duration
}

// Proxy is a frontend, backend, listen or defaults section.
type Proxy struct {
	Kind string // "frontend", "backend", "listen", "defaults"
	Name string // empty for an anonymous defaults section
	Pos  Pos
	Cap  Cap
	// From names the defaults section this proxy took its settings from.
	From string

	Mode     Mode
	ModePos  Pos
	Disabled bool
	Timeouts Timeouts
	Maxconn  int
	Fullconn int
	Retries  int
	Balance  Balance
	HashType HashType

	Binds          []*Bind
	Servers        []*Server
	DefaultServer  ServerParams
	DefaultBackend *BackendRef
	UseBackends    []*BackendRef
	// UseServers are a backend's use-server rules, PersistRules its
	// force-persist and ignore-persist rules, each in file order.
	UseServers   []*ServerRule
	PersistRules []*PersistRule
	ACLs         []*ACL
	Rules        map[string][]*Rule // by rule family ("http-request", "tcp-request content", ...)
	InspectDelay time.Duration
	Options      map[string]*Option
	Logs         []LogTarget
	NoLog        bool
	LogFormat    string
	LogFormatPos Pos
	Cookie       *Directive
	// ReqCaptures and ResCaptures are a frontend's capture slots in
	// declaration order (capture ... header, declare capture, and
	// http-request capture ... len).
	ReqCaptures, ResCaptures []CaptureSlot
	// CaptureCookie is `capture cookie <name> len <n>` (nil: none), the
	// last one given; the log shows it in %CC and %CS.
	CaptureCookie *CookieCapture
	// UniqueIDFormat and UniqueIDHeader are a frontend's unique-id-format
	// and unique-id-header ("" when unset).
	UniqueIDFormat, UniqueIDHeader string
	// MonitorURI is monitor-uri ("" when unset); MonitorFail holds the
	// monitor fail conditions, any of which turns its answer into a 503.
	MonitorURI  string
	MonitorFail []*Cond
	Dispatch    *netaddr.ServerAddr
	// Directives holds keywords parsed and validated whose behaviour later
	// parts of Sluice give; the engine refuses the ones it cannot honour.
	Directives []*Directive
	// ErrorDecls are the errorfile, errorfiles, errorloc* and http-error
	// lines that apply, a defaults section's first, in order; ErrorPages
	// is what they leave the proxy with once http-errors sections are
	// resolved (after the load; nil before). The engine answers an error
	// with httperr.Lookup(backend.ErrorPages, frontend.ErrorPages, code).
	ErrorDecls []httperr.Decl
	ErrorPages *httperr.Set
	// ownChecks: check rule families this proxy set itself (inherited
	// ones are dropped at its first own line).
	ownChecks map[string]bool
}

// Option is an `option` line's effect. Disabled is set by `no option X`.
type Option struct {
	Pos      Pos
	Name     string
	Disabled bool
	Args     []string
}

// Opt reports whether option name is enabled on the proxy.
func (p *Proxy) Opt(name string) bool {
	o := p.Options[name]
	return o != nil && !o.Disabled
}

// Balance is the server-selection algorithm and its arguments.
type Balance struct {
	Pos  Pos
	Algo string // roundrobin, static-rr, leastconn, first, source, uri, url_param, hdr, random, rdp-cookie, hash
	Args []string
	// Draws is random's number of draws (default 2).
	Draws int
	// URILen and URIDepth are "balance uri len N depth N" (0: unset);
	// URIWhole and URIPathOnly its "whole" and "path-only".
	URILen, URIDepth      int
	URIWhole, URIPathOnly bool
	// Name is url_param's parameter, hdr()'s header name, or hash's
	// sample expression.
	Name string
	// DomainOnly is hdr()'s "use_domain_only".
	DomainOnly bool
}

// HashType is `hash-type`.
type HashType struct {
	Method   string // map-based (default) or consistent
	Function string // sdbm (default), djb2, wt6, crc32, none
	// FunctionSet is true when the line named a function: consistent
	// hashing without one uses sdbm with avalanche, per the manual.
	FunctionSet bool
	Avalanche   bool
}

// Bind is one address of a `bind` line (a line with a comma list or a port
// range yields one Bind per address, sharing Params).
type Bind struct {
	Pos    Pos
	Addr   netaddr.BindAddr
	Name   string
	Params BindParams
}

// BindParams are the settings after the address on a `bind` line.
type BindParams struct {
	Maxconn     int
	AcceptProxy bool
	V4V6        bool
	V6Only      bool
	DeferAccept bool
	Transparent bool
	// SSL is the `ssl` word: the line terminates TLS with TLS.Config.
	SSL bool
	// TLS holds the line's TLS words; nil when it has none. The addresses
	// of one line share it.
	TLS   *BindTLS
	Other map[string]string // parsed, validated keywords without behaviour yet
}

// BindTLS is the TLS termination of one bind line.
type BindTLS struct {
	// Addr is the line's address argument as written, as HAProxy names
	// the line in messages.
	Addr string
	// Settings are the line's TLS words with the global
	// ssl-default-bind-* defaults applied; Settings.Certs are loaded.
	Settings tlsterm.Settings
	// Config is built once the configuration is read, when the line says
	// `ssl` and the load had no alert. The engine passes it to
	// tlsterm.Handshake with the frontend's `timeout client`.
	Config *tls.Config
	// broken is set when a TLS word of the line was refused.
	broken bool
}

// ServerParams are the settings after a server's address; default-server
// fills them before a server's own words override.
type ServerParams struct {
	Weight     int
	Backup     bool
	Disabled   bool
	ID         int
	Maxconn    int
	Maxqueue   int
	Minconn    int
	Check      bool
	Inter      time.Duration
	FastInter  time.Duration
	DownInter  time.Duration
	Rise, Fall int
	Port       int
	Addr       string
	SendProxy  int // 0 none, 1 v1, 2 v2
	Cookie     string
	Slowstart  time.Duration
	// CheckSendProxy sends a PROXY header on check connections even when
	// port or addr moved them.
	CheckSendProxy bool
	// Agent check: agent-check, agent-port, agent-addr, agent-inter,
	// agent-send.
	Agent      bool
	AgentPort  int
	AgentAddr  string
	AgentInter time.Duration
	AgentSend  string
	// Passive health: observe, error-limit, on-error; state change
	// actions: on-marked-down, on-marked-up.
	Observe      string
	ErrorLimit   int
	OnError      string
	OnMarkedDown string
	OnMarkedUp   string
	Other        map[string]string
}

// Server is a `server` line.
type Server struct {
	Pos    Pos
	Name   string
	Addr   netaddr.ServerAddr
	Params ServerParams
}

// BackendRef is a `default_backend` or `use_backend` rule.
type BackendRef struct {
	Pos  Pos
	Name string
	// Dynamic is true when Name is a log-format expression resolved per request.
	Dynamic bool
	Cond    *Cond
}

// ServerRule is a `use-server <name> if|unless <cond>` rule.
type ServerRule struct {
	Pos  Pos
	Name string
	// Dynamic is true when Name is a log-format expression resolved per
	// request; a name that matches no server then leaves the choice to
	// the balancer.
	Dynamic bool
	Cond    *Cond
}

// PersistRule is a `force-persist` (Force) or `ignore-persist` rule.
type PersistRule struct {
	Pos   Pos
	Force bool
	Cond  *Cond
}

// ACL is a named (or anonymous) access control list line.
type ACL struct {
	Pos       Pos
	Name      string
	Criterion string   // fetch name as written, e.g. "path_beg" or "req.hdr"
	Args      string   // text between the parentheses, if any
	Converter string   // ",lower,..." chain as written
	Flags     []string // -i, -m str, -f file, ...
	Patterns  []string
	// Expr is the compiled expression; nil with Err set when the fetch or
	// a converter is one Sluice cannot evaluate yet (acl.ErrNotSupported).
	Expr *acl.Expr
	Err  error
}

// Cond is an `if` / `unless` condition: an OR of ANDs of (possibly negated) ACLs.
type Cond struct {
	Pos    Pos
	Unless bool
	Terms  [][]CondTerm
}

// CondTerm is one ACL reference in a condition.
type CondTerm struct {
	Neg  bool
	Name string // named ACL; empty when Anon is set
	Anon *ACL   // anonymous `{ ... }` ACL
}

// Rule is one line of a rule family (http-request, tcp-request content, ...).
type Rule struct {
	Pos    Pos
	Family string
	Action string
	Args   []string
	Cond   *Cond
	// Slot is a capture rule's slot: the one its `len` declared (SlotLen
	// long), or the `id` it names (SlotByID).
	Slot     int
	SlotLen  int
	SlotByID bool
	// Var and VarCond are a set-var, set-var-fmt or unset-var rule's
	// variable and conditions.
	Var     sample.VarName
	VarCond sample.VarCond
	// Reply is a return, deny or tarpit rule's parsed reply.
	Reply *httperr.ReplySpec
	// Timeout is a set-timeout rule's constant, -1 for an expression, or
	// a wait-for-body rule's time; AtLeast is wait-for-body's at-least.
	Timeout time.Duration
	AtLeast int64
}

// Directive is a keyword line kept as parsed words: Sluice validated it but
// its behaviour lives in a later part of the engine.
type Directive struct {
	Pos     Pos
	Keyword string
	Args    []string
}

// Userlist is a `userlist` section.
type Userlist struct {
	Pos    Pos
	Name   string
	Users  []*User
	Groups []*Group
}

// User is a `user` line of a userlist.
type User struct {
	Pos  Pos
	Name string
	// Password is a crypt(3) hash, or the password itself when Insecure
	// (insecure-password).
	Password string
	Insecure bool
	// GroupNames is the groups argument as written (comma-separated);
	// Groups the groups the user belongs to once resolved, from it and
	// from the groups' users lists.
	GroupNames string
	Groups     []string
}

// Group is a `group` line of a userlist; UserNames its users argument.
type Group struct {
	Pos       Pos
	Name      string
	UserNames string
}

// User returns the userlist's user called name, nil if none.
func (u *Userlist) User(name string) *User {
	for _, x := range u.Users {
		if x.Name == name {
			return x
		}
	}
	return nil
}

// InGroup reports whether the user belongs to group.
func (u *User) InGroup(group string) bool {
	for _, g := range u.Groups {
		if g == group {
			return true
		}
	}
	return false
}

// HTTPErrors is an `http-errors` section.
type HTTPErrors struct {
	Pos        Pos
	Name       string
	Errorfiles map[int]string // code -> file, as written
	// Pages holds each errorfile, read and validated at load time.
	Pages map[int]*httperr.Page
}

// Section is a top-level section Sluice keeps as directives.
type Section struct {
	Pos        Pos
	Kind, Name string
	Directives []*Directive
}

// CookieCapture is a frontend's `capture cookie`: the first request cookie
// and the first response Set-Cookie whose "name=value" starts with Name
// are logged, cut to Len bytes.
type CookieCapture struct {
	Pos  Pos
	Name string
	Len  int
}
