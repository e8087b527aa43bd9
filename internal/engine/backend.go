package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"sluice/internal/config"
	"sluice/internal/lb"
)

// backend is a backend's run-time state: its servers and balancer.
type backend struct {
	name     string
	cfg      *config.Proxy
	mu       sync.Mutex // guards bal: balancers are not safe for concurrent use
	bal      lb.Balancer
	servers  []*server
	byLB     map[*lb.Server]*server
	hashed   bool // balance source
	avalanch bool
	id       int
	rules    ruleSet // tcp-request content rules, run after switching
	// dispatch is the `dispatch` address of a backend without servers.
	dispatch *server
}

// usable reports whether the backend has anywhere to send connections.
func (b *backend) usable() bool { return len(b.servers) > 0 || b.dispatch != nil }

// server is one server's address and balancer handle.
type server struct {
	cfg  *config.Server
	lb   *lb.Server
	addr string // host:port; empty port means the client's destination port
}

var algos = map[string]lb.Algo{
	"roundrobin": lb.RoundRobin, "static-rr": lb.StaticRR, "leastconn": lb.LeastConn,
	"first": lb.First, "source": lb.Hash, "random": lb.Random,
}

func newBackend(p *config.Proxy, id int) (*backend, error) {
	b := &backend{name: p.Name, cfg: p, id: id, byLB: map[*lb.Server]*server{}}
	var err error
	if b.rules, err = compileRules(p, newCondCompiler(p)); err != nil {
		return nil, fmt.Errorf("backend '%s': %w", p.Name, err)
	}
	b.rules.conn, b.rules.sess = nil, nil // frontend-only rule families
	if p.Dispatch != nil && len(p.Servers) == 0 {
		d := &config.Server{Name: p.Name, Addr: *p.Dispatch}
		b.dispatch = &server{cfg: d, addr: serverAddr(d)}
	}
	var lbs []*lb.Server
	for i, s := range p.Servers {
		id := s.Params.ID
		if id == 0 {
			id = i + 1
		}
		ls := &lb.Server{ID: id, Name: s.Name, Weight: s.Params.Weight, Backup: s.Params.Backup}
		srv := &server{cfg: s, lb: ls, addr: serverAddr(s)}
		b.servers = append(b.servers, srv)
		b.byLB[ls] = srv
		lbs = append(lbs, ls)
	}
	algo, ok := algos[p.Balance.Algo]
	if !ok {
		return nil, fmt.Errorf("backend '%s': balance %s is not supported yet by Sluice", p.Name, p.Balance.Algo)
	}
	opt := lb.Options{AllBackups: p.Opt("allbackups"), Draws: p.Balance.Draws}
	if p.HashType.Method == "consistent" {
		opt.HashType = lb.Consistent
	}
	b.hashed = algo == lb.Hash
	b.avalanch = p.HashType.Avalanche || (p.HashType.Method == "consistent" && !p.HashType.FunctionSet)
	bal, err := lb.New(algo, lbs, opt)
	if err != nil {
		return nil, fmt.Errorf("backend '%s': %w", p.Name, err)
	}
	for _, s := range b.servers {
		if s.cfg.Params.Disabled {
			bal.SetUp(s.lb, false) // `disabled`: maintenance from the start
		}
	}
	b.bal = bal
	return b, nil
}

// serverAddr renders a server's dial address; the port is left empty when
// the server line has none (HAProxy then uses the client's destination port).
func serverAddr(s *config.Server) string {
	a := s.Addr
	host := a.Host
	if a.IP.IsValid() {
		host = a.IP.String()
	}
	port := ""
	if a.Port > 0 {
		port = strconv.Itoa(a.Port)
	}
	return net.JoinHostPort(host, port)
}

// pick chooses a server for a client and counts the connection on it.
func (b *backend) pick(client netip.Addr) *server {
	if b.dispatch != nil {
		return b.dispatch
	}
	var key uint32
	if b.hashed {
		key = lb.SourceHash(client, b.avalanch)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ls := b.bal.Pick(key)
	if ls == nil {
		return nil
	}
	b.bal.Take(ls)
	return b.byLB[ls]
}

// release ends a connection's claim on a server.
func (b *backend) release(s *server) {
	if s == b.dispatch {
		return
	}
	b.mu.Lock()
	b.bal.Drop(s.lb)
	b.mu.Unlock()
}

// connect dials the chosen server: one attempt plus `retries` more, each
// bounded by `timeout connect`, pausing min(timeout connect, 1s) between
// attempts as HAProxy does. It returns the attempts made.
func (b *backend) connect(ctx context.Context, s *server, dst netip.AddrPort) (*net.TCPConn, int, error) {
	addr := s.addr
	if s.cfg.Addr.Port == 0 {
		host, _, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(host, strconv.Itoa(int(dst.Port())))
	}
	ct := b.cfg.Timeouts.Connect
	pause := min(ct, time.Second)
	if ct == 0 {
		pause = time.Second
	}
	var err error
	for attempt := 0; attempt <= b.cfg.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return nil, attempt, ctx.Err()
			}
		}
		d := net.Dialer{Timeout: ct}
		var c net.Conn
		if c, err = d.DialContext(ctx, "tcp", addr); err == nil {
			return c.(*net.TCPConn), attempt, nil
		}
	}
	return nil, b.cfg.Retries, err
}
