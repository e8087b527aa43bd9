package lb

// mapLB implements "balance static-rr" and "hash-type map-based" hashing
// (lb_map.c): a table of tot_weight slots filled by recalc_server_map(),
// walked in order for static-rr or indexed by hash % tot_weight.
type mapLB struct {
	base
	rr     bool
	table  []int // lbprm.map.srv, server indexes
	wscore []int
	rrIdx  int
	uw0    []int // initial effective weights, restored by SetWeight(s.Weight)
}

func newMap(servers []*Server, opt Options, rr bool) *mapLB {
	b := &mapLB{rr: rr, wscore: make([]int, len(servers)), uw0: make([]int, len(servers))}
	b.base.init(servers, opt)
	// init_server_map(): weights are divided by their greatest common divisor
	pgcd := 1
	k := 0
	for k < len(servers) && servers[k].Weight == 0 {
		k++
	}
	if k < len(servers) {
		pgcd = servers[k].Weight
		for j := k + 1; pgcd > 1 && j < len(servers); j++ {
			w := servers[j].Weight
			for w != 0 {
				pgcd, w = w, pgcd%w
			}
		}
	}
	act, bck := 0, 0
	for i, s := range servers {
		b.ew[i] = (s.Weight + pgcd - 1) / pgcd
		b.uw0[i] = b.ew[i]
		if s.Backup {
			bck += b.ew[i]
		} else {
			act += b.ew[i]
		}
	}
	b.table = make([]int, max(act, bck, 1))
	b.recount()
	b.recalc()
	return b
}

// recalc mirrors recalc_server_map(): each slot goes to the eligible server
// with the best accumulated score, ties to the first declared.
func (b *mapLB) recalc() {
	if b.totUsed == 0 {
		return
	}
	tot := b.totWeight
	backup := b.srvAct == 0
	for i := range b.wscore {
		b.wscore[i] = 0
	}
	for o := 0; o < tot; o++ {
		best, maxv := -1, 0
		for i, s := range b.srv {
			if s.Backup != backup || !b.usable(i) {
				continue
			}
			if tot == 1 { // avoid the divide overflow, take the first one
				best = i
				break
			}
			b.wscore[i] += b.ew[i]
			v := (b.wscore[i] + tot) / tot
			if best < 0 || v > maxv {
				maxv, best = v, i
			}
		}
		b.table[o] = best
		if best >= 0 {
			b.wscore[best] -= tot
		}
	}
}

// Pick mirrors map_get_server_rr() for static-rr and map_get_server_hash()
// (with get_server_sh()'s "no hash for a single server") for hashing.
func (b *mapLB) Pick(key uint32) *Server {
	if b.totWeight == 0 {
		return nil
	}
	if !b.rr {
		if b.totUsed == 1 {
			key = 0
		}
		return b.srv[b.table[key%uint32(b.totWeight)]]
	}
	return b.PickNext()
}

// PickNext mirrors map_get_server_rr(): the next server of the map that is
// not full. It is static-rr's Pick, and the round robin a map-based hash
// falls back to when a request has nothing to hash (no url_param, no
// header).
func (b *mapLB) PickNext() *Server {
	if b.totWeight == 0 {
		return nil
	}
	if b.rrIdx < 0 || b.rrIdx >= b.totWeight {
		b.rrIdx = 0
	}
	idx := b.rrIdx
	for {
		i := b.table[idx]
		idx++
		if !b.srv[i].full() {
			b.rrIdx = idx
			return b.srv[i]
		}
		if idx == b.totWeight {
			idx = 0
		}
		if idx == b.rrIdx {
			return nil
		}
	}
}

// SetUp mirrors map_set_server_status_up/down(): recount and rebuild.
func (b *mapLB) SetUp(s *Server, up bool) {
	if !b.own(s) || s.down == !up {
		return
	}
	s.down = !up
	b.recount()
	b.recalc()
}

// SetWeight accepts only 0 or the initial weight: HAProxy refuses other
// values for static algorithms ("set weight" on a map-based backend).
func (b *mapLB) SetWeight(s *Server, w int) error {
	if !b.own(s) {
		return ErrBadWeight
	}
	switch {
	case w == 0:
		b.ew[s.idx] = 0
	case w == s.Weight:
		b.ew[s.idx] = b.uw0[s.idx]
	default:
		return ErrStaticWeight
	}
	b.recount()
	b.recalc()
	return nil
}
