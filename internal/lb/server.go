package lb

import (
	"errors"
	"fmt"
)

// HAProxy weight scaling constants (include/haproxy/backend-t.h). They are
// part of the algorithms' arithmetic, so sequences only match HAProxy when
// they match these values.
const (
	weightScale = 16                       // BE_WEIGHT_SCALE
	uwghtRange  = 256                      // SRV_UWGHT_RANGE
	uwghtMax    = uwghtRange               // SRV_UWGHT_MAX
	ewghtRange  = uwghtRange * weightScale // SRV_EWGHT_RANGE
	ewghtMax    = uwghtMax * weightScale   // SRV_EWGHT_MAX
	// MaxWeight is the largest user weight HAProxy accepts.
	MaxWeight = uwghtMax
)

// Server is one backend server as seen by a Balancer. The exported fields are
// configuration; they must not be modified after New, use the Balancer's
// SetUp/SetWeight/Take/Drop methods instead so the algorithm's state follows.
type Server struct {
	// ID is HAProxy's puid ("id" keyword, default 1,2,3... in declaration
	// order). It seeds consistent-hash node keys and orders "first".
	ID int
	// Name is informational only.
	Name string
	// Weight is the user weight, 0..256. Weight 0 servers are never picked.
	Weight int
	// Backup servers are only used when no active server is usable.
	Backup bool
	// MaxConn is the per-server connection limit; 0 means unlimited.
	// roundrobin, static-rr, leastconn, first and random skip full servers.
	// Unlike the other fields it may change between calls (a dynamic
	// limit from minconn/fullconn): it is only read when picking.
	MaxConn int

	idx    int
	down   bool
	served int
}

// Up reports whether the server is administratively/health-wise up.
func (s *Server) Up() bool { return !s.down }

// Served returns the number of connections currently assigned (Take - Drop).
func (s *Server) Served() int { return s.served }

func (s *Server) full() bool { return s.MaxConn > 0 && s.served >= s.MaxConn }

// Algo selects a load-balancing algorithm ("balance" keyword).
type Algo int

// Supported algorithms.
const (
	RoundRobin Algo = iota // balance roundrobin
	StaticRR               // balance static-rr
	LeastConn              // balance leastconn
	First                  // balance first
	Hash                   // balance source/uri/hdr... : Pick(key) with a precomputed hash
	Random                 // balance random(Draws)
)

// HashType selects the "hash-type" lookup method for the Hash algorithm.
type HashType int

// Hash lookup methods.
const (
	MapBased   HashType = iota // hash-type map-based (default): key % total weight
	Consistent                 // hash-type consistent: HAProxy's chash tree
)

// Options carries the backend-level settings that influence selection.
type Options struct {
	// AllBackups mirrors "option allbackups": when no active server is
	// usable, balance over all backups instead of only the first one.
	AllBackups bool
	// HashType is the lookup method used by Algo Hash.
	HashType HashType
	// Draws is random's argument (default 2, like HAProxy).
	Draws int
	// Rand supplies 32-bit random values for Random; nil uses math/rand/v2.
	Rand func() uint32
}

// Balancer picks servers. All methods are O(servers) or better and Pick does
// not allocate.
type Balancer interface {
	// Pick returns the next server, or nil when none is usable or all are
	// full. key is the request hash for Algo Hash (see SourceHash) and is
	// ignored by the other algorithms. Pick does not count a connection:
	// call Take once the connection is really assigned.
	Pick(key uint32) *Server
	// SetUp marks a server up or down (health checks, "disable server").
	SetUp(s *Server, up bool)
	// SetWeight changes a server's user weight at runtime ("set weight").
	// Static algorithms (static-rr, map-based hash) only accept 0 or the
	// initial weight, as HAProxy does.
	SetWeight(s *Server, w int) error
	// Take records that a connection was assigned to s (server_take_conn).
	Take(s *Server)
	// Drop records that a connection of s ended (server_drop_conn).
	Drop(s *Server)
}

// Hashed is the Balancer of Algo Hash (map-based or consistent). HAProxy
// falls back to round robin over the same map or ring when a request has
// nothing to hash: PickNext is that round robin (map_get_server_rr,
// chash_get_next_server). It skips full servers and returns nil when all
// are full.
type Hashed interface {
	Balancer
	PickNext() *Server
}

// Avoider is a Balancer that can pass over one server, as HAProxy's
// roundrobin does for a redispatched connection (srvtoavoid): that
// server is taken only when no other is usable.
type Avoider interface {
	PickAvoid(key uint32, avoid *Server) *Server
}

// ErrBadWeight is returned by SetWeight for a weight outside 0..MaxWeight or
// a server that does not belong to the Balancer.
var ErrBadWeight = errors.New("lb: bad weight or unknown server")

// ErrStaticWeight is returned by SetWeight on static algorithms.
var ErrStaticWeight = errors.New("lb: static algorithm only accepts weight 0 or its initial weight")

// New builds a Balancer for servers, in declaration order. Servers with a
// zero ID get their 1-based position, like HAProxy's automatic puid.
func New(algo Algo, servers []*Server, opt Options) (Balancer, error) {
	for i, s := range servers {
		if s == nil {
			return nil, fmt.Errorf("lb: server %d is nil", i)
		}
		if s.Weight < 0 || s.Weight > MaxWeight {
			return nil, fmt.Errorf("lb: server %q weight %d out of 0..%d", s.Name, s.Weight, MaxWeight)
		}
		if s.ID == 0 {
			s.ID = i + 1
		}
		s.idx = i
	}
	switch algo {
	case RoundRobin:
		return newFWRR(servers, opt), nil
	case StaticRR:
		return newMap(servers, opt, true), nil
	case LeastConn:
		return newFWLC(servers, opt), nil
	case First:
		return newFAS(servers, opt), nil
	case Hash:
		if opt.HashType == Consistent {
			return newCHash(servers, opt), nil
		}
		return newMap(servers, opt, false), nil
	case Random:
		return newRandom(servers, opt), nil
	}
	return nil, fmt.Errorf("lb: unknown algorithm %d", algo)
}

// base holds the per-backend counters HAProxy keeps in struct proxy/lbprm.
type base struct {
	srv        []*Server
	ew         []int // effective weight per server index (cur_eweight)
	live       []bool
	allBackups bool
	srvAct     int
	srvBck     int
	totWact    int
	totWbck    int
	totWeight  int
	totUsed    int
	fbck       int // first usable backup index, -1 if none or allbackups
}

func (b *base) init(servers []*Server, opt Options) {
	b.srv = servers
	b.ew = make([]int, len(servers))
	b.live = make([]bool, len(servers))
	b.allBackups = opt.AllBackups
}

// usable mirrors srv_willbe_usable(): running and non-zero effective weight.
func (b *base) usable(i int) bool { return !b.srv[i].down && b.ew[i] > 0 }

// recount mirrors recount_servers() followed by update_backend_weight().
func (b *base) recount() {
	b.srvAct, b.srvBck, b.totWact, b.totWbck, b.fbck = 0, 0, 0, 0, -1
	for i, s := range b.srv {
		b.live[i] = b.usable(i)
		if !b.live[i] {
			continue
		}
		if s.Backup {
			if b.srvBck == 0 && !b.allBackups {
				b.fbck = i
			}
			b.srvBck++
			b.totWbck += b.ew[i]
		} else {
			b.srvAct++
			b.totWact += b.ew[i]
		}
	}
	b.updateBackendWeight()
}

// updateBackendWeight mirrors update_backend_weight() in backend.c.
func (b *base) updateBackendWeight() {
	switch {
	case b.srvAct > 0:
		b.totWeight, b.totUsed = b.totWact, b.srvAct
	case b.fbck >= 0:
		b.totWeight, b.totUsed = b.ew[b.fbck], 1
	default:
		b.totWeight, b.totUsed = b.totWbck, b.srvBck
	}
}

// firstBackup finds the first usable backup in declaration order, as the
// fbck search loops of the set_server_status_* functions do.
func (b *base) firstBackup() int {
	if b.allBackups {
		return -1
	}
	for i, s := range b.srv {
		if s.Backup && b.usable(i) {
			return i
		}
	}
	return -1
}

func (b *base) own(s *Server) bool {
	return s != nil && s.idx < len(b.srv) && b.srv[s.idx] == s
}

// Take and Drop only maintain the served counter; algorithms that sort on it
// override them.
func (b *base) Take(s *Server) {
	if b.own(s) {
		s.served++
	}
}

func (b *base) Drop(s *Server) {
	if b.own(s) && s.served > 0 {
		s.served--
	}
}
