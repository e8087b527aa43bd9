package lb

// fwlc is "balance leastconn" (lb_fwlc.c): servers sit in a tree keyed by
// (inflight+1)*4096/eweight (0 when idle) and the first non-full one wins.
// Equal keys keep insertion order and a server is re-inserted after every
// Take/Drop, which yields round robin among equally loaded servers.
type fwlc struct {
	base
	act, bck ebtree
	seq      uint64
	inTree   []bool
}

func newFWLC(servers []*Server, opt Options) *fwlc {
	b := &fwlc{inTree: make([]bool, len(servers))}
	b.base.init(servers, opt)
	b.act, b.bck = newTree(len(servers), &b.seq), newTree(len(servers), &b.seq)
	for i, s := range servers {
		b.ew[i] = s.Weight * weightScale
	}
	b.recount()
	for i := range servers {
		if b.live[i] {
			b.queue(i)
		}
	}
	return b
}

func (b *fwlc) tree(i int) *ebtree {
	if b.srv[i].Backup {
		return &b.bck
	}
	return &b.act
}

// queue mirrors fwlc_queue_srv().
func (b *fwlc) queue(i int) {
	inflight := uint32(b.srv[i].served)
	var key uint32
	if inflight > 0 {
		key = (inflight + 1) * ewghtMax / uint32(b.ew[i])
	}
	b.tree(i).insert(i, key)
	b.inTree[i] = true
}

func (b *fwlc) dequeue(i int) {
	if b.inTree[i] {
		b.tree(i).remove(i)
		b.inTree[i] = false
	}
}

// reposition mirrors fwlc_srv_reposition(), the take/drop callback.
func (b *fwlc) reposition(i int) {
	if b.inTree[i] {
		b.dequeue(i)
		b.queue(i)
	}
}

// Pick mirrors fwlc_get_next_server().
func (b *fwlc) Pick(uint32) *Server {
	var t *ebtree
	switch {
	case b.srvAct > 0:
		t = &b.act
	case b.fbck >= 0:
		return b.srv[b.fbck]
	case b.srvBck > 0:
		t = &b.bck
	default:
		return nil
	}
	for _, n := range t.nodes {
		if !b.srv[n.idx].full() {
			return b.srv[n.idx]
		}
	}
	return nil
}

// Take counts a connection and repositions the server.
func (b *fwlc) Take(s *Server) {
	if b.own(s) {
		s.served++
		b.reposition(s.idx)
	}
}

// Drop releases a connection and repositions the server.
func (b *fwlc) Drop(s *Server) {
	if b.own(s) && s.served > 0 {
		s.served--
		b.reposition(s.idx)
	}
}

// SetUp mirrors fwlc_set_server_status_up/down().
func (b *fwlc) SetUp(s *Server, up bool) {
	if !b.own(s) || s.down == !up {
		return
	}
	s.down = !up
	b.update(s.idx)
}

// SetWeight mirrors fwlc_update_server_weight().
func (b *fwlc) SetWeight(s *Server, w int) error {
	if !b.own(s) || w < 0 || w > MaxWeight {
		return ErrBadWeight
	}
	s.Weight = w
	b.ew[s.idx] = w * weightScale
	b.update(s.idx)
	return nil
}

// update requeues server i (or removes it) and refreshes the counters. A
// full recount yields the same fbck as HAProxy's incremental search, since
// fbck is always the earliest usable backup.
func (b *fwlc) update(i int) {
	b.dequeue(i)
	b.recount()
	if b.live[i] {
		b.queue(i)
	}
}

// fas is "balance first" (lb_fas.c): servers sorted by id, the first one
// with a free connection slot wins.
type fas struct {
	base
}

func newFAS(servers []*Server, opt Options) *fas {
	b := &fas{}
	b.base.init(servers, opt)
	for i, s := range servers {
		b.ew[i] = s.Weight * weightScale
	}
	b.recount()
	return b
}

// Pick mirrors fas_get_next_server(): lowest ID first among usable servers
// of the active group (or backups), skipping full ones.
func (b *fas) Pick(uint32) *Server {
	backup := false
	switch {
	case b.srvAct > 0:
	case b.fbck >= 0:
		return b.srv[b.fbck]
	case b.srvBck > 0:
		backup = true
	default:
		return nil
	}
	var best *Server
	for i, s := range b.srv {
		if s.Backup != backup || !b.live[i] || s.full() {
			continue
		}
		if best == nil || s.ID < best.ID {
			best = s
		}
	}
	return best
}

// SetUp marks a server up or down.
func (b *fas) SetUp(s *Server, up bool) {
	if b.own(s) && s.down != !up {
		s.down = !up
		b.recount()
	}
}

// SetWeight changes the weight; for "first" only zero/non-zero matters.
func (b *fas) SetWeight(s *Server, w int) error {
	if !b.own(s) || w < 0 || w > MaxWeight {
		return ErrBadWeight
	}
	s.Weight = w
	b.ew[s.idx] = w * weightScale
	b.recount()
	return nil
}
