package lb

import (
	"math/rand/v2"
	"slices"
)

type chashNode struct {
	key uint32
	idx int
}

// chash implements "hash-type consistent" (lb_chash.c): every server owns
// eweight points on a 32-bit ring at full_hash(puid*4096 + n), and a hash is
// served by the closest point, before or after it.
type chash struct {
	base
	act, bck []chashNode
	// last is the ring node PickNext returned last (lbprm.chash.last),
	// valid when hasLast.
	last    uint32
	hasLast bool
}

func newCHash(servers []*Server, opt Options) *chash {
	b := &chash{}
	b.base.init(servers, opt)
	na, nb := 0, 0
	for i, s := range servers { // chash_init_server_tree(): wdiv = BE_WEIGHT_SCALE
		b.ew[i] = s.Weight * weightScale
		if s.Backup {
			nb += b.ew[i]
		} else {
			na += b.ew[i]
		}
	}
	b.act = make([]chashNode, 0, na)
	b.bck = make([]chashNode, 0, nb)
	b.rebuild()
	return b
}

// rebuild recounts servers and refills the rings. HAProxy inserts and
// removes nodes incrementally (chash_queue_dequeue_srv); since full_hash is
// a bijection the node keys of distinct (puid, n) pairs never collide, so
// the resulting ring is identical.
func (b *chash) rebuild() {
	b.recount()
	b.act, b.bck = b.act[:0], b.bck[:0]
	for i, s := range b.srv {
		if !b.live[i] {
			continue
		}
		for n := 0; n < b.ew[i]; n++ {
			nd := chashNode{key: FullHash(uint32(s.ID*ewghtRange + n)), idx: i}
			if s.Backup {
				b.bck = append(b.bck, nd)
			} else {
				b.act = append(b.act, nd)
			}
		}
	}
	cmp := func(x, y chashNode) int {
		if x.key != y.key {
			if x.key < y.key {
				return -1
			}
			return 1
		}
		return x.idx - y.idx
	}
	slices.SortFunc(b.act, cmp)
	slices.SortFunc(b.bck, cmp)
	// chash_dequeue_srv() forgets the last node when it leaves the ring.
	if b.hasLast && ringIndex(b.act, b.last) < 0 && ringIndex(b.bck, b.last) < 0 {
		b.hasLast = false
	}
}

// ringIndex returns the position of the node with key k in ring, or -1.
func ringIndex(ring []chashNode, k uint32) int {
	i, ok := slices.BinarySearchFunc(ring, k, func(n chashNode, k uint32) int {
		switch {
		case n.key < k:
			return -1
		case n.key > k:
			return 1
		}
		return 0
	})
	if !ok {
		return -1
	}
	return i
}

// PickNext mirrors chash_get_next_server(): walk the ring from the node
// after the last one returned, wrapping, to the first server that is not
// full. It is the round robin a consistent hash falls back to when a
// request has nothing to hash. A last node that belongs to the other ring
// (active/backup switch) restarts the walk at the ring's first node, where
// HAProxy would walk on through the other tree first.
func (b *chash) PickNext() *Server {
	var ring []chashNode
	switch {
	case b.srvAct > 0:
		ring = b.act
	case b.fbck >= 0:
		return b.srv[b.fbck]
	case b.srvBck > 0:
		ring = b.bck
	}
	n := len(ring)
	if n == 0 {
		return nil
	}
	start := -1 // position of the last node: the walk ends there
	if b.hasLast {
		start = ringIndex(ring, b.last)
	}
	for step := 1; step <= n; step++ {
		pos := step - 1
		if start >= 0 {
			pos = (start + step) % n
		}
		nd := ring[pos]
		if s := b.srv[nd.idx]; !s.full() {
			b.last, b.hasLast = nd.key, true
			return s
		}
	}
	b.hasLast = false
	return nil
}

// lookup mirrors chash_get_server_hash() (without hash-balance-factor and
// without the avoid server).
func (b *chash) lookup(hash uint32) int {
	var ring []chashNode
	switch {
	case b.srvAct > 0:
		ring = b.act
	case b.fbck >= 0:
		return b.fbck
	case b.srvBck > 0:
		ring = b.bck
	}
	if len(ring) == 0 {
		return -1
	}
	// eb32_lookup_ge(), wrapping to the first node
	lo, hi := 0, len(ring)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ring[m].key >= hash {
			hi = m
		} else {
			lo = m + 1
		}
	}
	next := lo % len(ring)
	prev := next - 1
	if prev < 0 {
		prev = len(ring) - 1
	}
	dp := hash - ring[prev].key
	dn := ring[next].key - hash
	if dp <= dn {
		return ring[prev].idx
	}
	return ring[next].idx
}

// Pick returns the server closest to key; see get_server_sh(): with a single
// usable server the hash is not computed (0 is used).
func (b *chash) Pick(key uint32) *Server {
	if b.totWeight == 0 {
		return nil
	}
	if b.totUsed == 1 {
		key = 0
	}
	if i := b.lookup(key); i >= 0 {
		return b.srv[i]
	}
	return nil
}

// SetUp mirrors chash_set_server_status_up/down().
func (b *chash) SetUp(s *Server, up bool) {
	if !b.own(s) || s.down == !up {
		return
	}
	s.down = !up
	b.rebuild()
}

// SetWeight mirrors chash_update_server_weight(): the server keeps its first
// weight*16 points, so raising or lowering the weight only moves those.
func (b *chash) SetWeight(s *Server, w int) error {
	if !b.own(s) || w < 0 || w > MaxWeight {
		return ErrBadWeight
	}
	s.Weight = w
	b.ew[s.idx] = w * weightScale
	b.rebuild()
	return nil
}

// randomLB is "balance random(draws)": get_server_rnd() draws random points
// on the consistent-hash ring and keeps the least loaded (served/eweight).
type randomLB struct {
	chash
	draws int
	rnd   func() uint32
}

func newRandom(servers []*Server, opt Options) *randomLB {
	b := &randomLB{chash: *newCHash(servers, opt), draws: opt.Draws, rnd: opt.Rand}
	if b.draws <= 0 {
		b.draws = 2
	}
	if b.rnd == nil {
		b.rnd = rand.Uint32
	}
	return b
}

// Pick mirrors get_server_rnd(); key is ignored.
func (b *randomLB) Pick(uint32) *Server {
	if b.totWeight == 0 {
		return nil
	}
	curr := -1
	for d := b.draws; d > 0; d-- {
		prev := curr
		curr = b.lookup(b.rnd())
		if curr < 0 {
			break
		}
		if prev >= 0 && prev != curr &&
			b.srv[curr].served*b.ew[prev] > b.srv[prev].served*b.ew[curr] {
			curr = prev
		}
	}
	if curr < 0 || b.srv[curr].full() {
		return nil
	}
	return b.srv[curr]
}
