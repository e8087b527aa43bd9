package engine

import (
	"time"

	"golang.org/x/sys/unix"

	"sluice/internal/sample"
)

// proxyFacts answers the sample fetches about running proxies.
type proxyFacts struct {
	backends  map[string]*backend
	frontends map[string]*frontend
}

// UsableServers is HAProxy's nbsrv: the usable active servers, or when
// none is, the backups that take traffic (one without option allbackups).
func (f *proxyFacts) UsableServers(name string) (int, bool) {
	b, ok := f.backends[name]
	if !ok {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	act, bck := 0, 0
	for _, s := range b.servers {
		if s.lb.Up() && s.lb.Weight > 0 {
			if s.lb.Backup {
				bck++
			} else {
				act++
			}
		}
	}
	switch {
	case act > 0:
		return act, true
	case bck > 0 && !b.cfg.Opt("allbackups"):
		return 1, true // only the first backup takes traffic
	}
	return bck, true
}

// BackendConns is be_conn: connections currently assigned to the backend.
func (f *proxyFacts) BackendConns(name string) (int, bool) {
	b, ok := f.backends[name]
	if !ok {
		return 0, false
	}
	return int(b.conns.Load()), true
}

// FrontendConns is fe_conn: the frontend's current connections.
func (f *proxyFacts) FrontendConns(name string) (int, bool) {
	fe, ok := f.frontends[name]
	if !ok {
		return 0, false
	}
	return int(fe.conns.Load()), true
}

// Queued is queue: connections waiting in the backend's queue and its
// servers' queues.
func (f *proxyFacts) Queued(name string) (int, bool) {
	b, ok := f.backends[name]
	if !ok {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.queue.Len()
	for _, s := range b.servers {
		n += s.queue.Len()
	}
	return n, true
}

// ConnInfo reads the client connection's TCP_INFO for fc_* fetches (a
// sample.ConnInfoSource: the stream itself, so that no closure is made
// per connection).
func (s *stream) ConnInfo() (sample.ConnInfo, bool) {
	rc, err := s.client.SyscallConn()
	if err != nil {
		return sample.ConnInfo{}, false
	}
	var ti *unix.TCPInfo
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		ti, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil || gerr != nil {
		return sample.ConnInfo{}, false
	}
	return sample.ConnInfo{
		RTT: time.Duration(ti.Rtt) * time.Microsecond, RTTVar: time.Duration(ti.Rttvar) * time.Microsecond,
		Unacked: ti.Unacked, Sacked: ti.Sacked, Retrans: ti.Retrans, Fackets: ti.Fackets,
		Lost: ti.Lost, Reordering: ti.Reordering,
	}, true
}
