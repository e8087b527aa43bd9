package lb

// Tree slots inside an fwrr group: 0 is "curr", 1 and 2 are t0/t1 which take
// turns as "init" and "next" (struct fwrr_group).
const (
	fwrrNone = -1
	fwrrCurr = 0
)

type fwrrGroup struct {
	trees      [3]ebtree
	init, next int
	currPos    int
	currWeight int
	nextWeight int
}

type fwrrSrv struct {
	npos, lpos, rweight int
	tree                int // lb_tree: fwrrNone, fwrrCurr or the t0/t1 slot
}

// fwrr is "balance roundrobin": lb_fwrr.c. Servers are scheduled by their
// next position (npos) in a window of total-weight positions; heavy servers
// are queued first so the sequence is smooth.
type fwrr struct {
	base
	act, bck fwrrGroup
	s        []fwrrSrv
	seq      uint64
	full     []int // saturated servers extracted during one Pick
}

func newFWRR(servers []*Server, opt Options) *fwrr {
	b := &fwrr{s: make([]fwrrSrv, len(servers)), full: make([]int, 0, len(servers))}
	b.base.init(servers, opt)
	for i, s := range servers { // fwrr_init_server_groups(): wdiv = BE_WEIGHT_SCALE
		b.ew[i] = s.Weight * weightScale
	}
	b.recount()
	for _, g := range []*fwrrGroup{&b.act, &b.bck} {
		for t := range g.trees {
			g.trees[t] = newTree(len(servers), &b.seq)
		}
		g.init, g.next = 1, 2
	}
	b.act.currPos, b.act.currWeight, b.act.nextWeight = b.totWact, b.totWact, b.totWact
	b.bck.currPos, b.bck.currWeight, b.bck.nextWeight = b.totWbck, b.totWbck, b.totWbck
	for i := range servers {
		b.s[i].tree = fwrrNone
		if b.live[i] {
			b.queueByWeight(b.grp(i), b.grp(i).init, i)
		}
	}
	return b
}

func (b *fwrr) grp(i int) *fwrrGroup {
	if b.srv[i].Backup {
		return &b.bck
	}
	return &b.act
}

// queueByWeight mirrors fwrr_queue_by_weight(): heavier servers sort first.
func (b *fwrr) queueByWeight(g *fwrrGroup, tree, i int) {
	g.trees[tree].insert(i, uint32(ewghtMax-b.ew[i]))
	b.s[i].tree = tree
}

// dequeue mirrors fwrr_dequeue_srv(); like eb32_delete it leaves lb_tree set.
func (b *fwrr) dequeue(i int) {
	if t := b.s[i].tree; t != fwrrNone {
		b.grp(i).trees[t].remove(i)
	}
}

// queueSrv mirrors fwrr_queue_srv().
func (b *fwrr) queueSrv(i int) {
	g, s := b.grp(i), &b.s[i]
	switch {
	case !b.usable(i):
		s.tree = fwrrNone
	case s.npos >= 2*g.currWeight || s.npos >= g.currWeight+g.nextWeight:
		// does not fit in this window: next tree, npos made relative
		s.npos -= g.currWeight
		b.queueByWeight(g, g.next, i)
	default:
		key := uint32(uwghtRange*s.npos) +
			uint32(ewghtMax+s.rweight-b.ew[i])/weightScale
		g.trees[fwrrCurr].insert(i, key)
		s.tree = fwrrCurr
	}
}

// getSrv mirrors fwrr_get_srv(): prepare npos when leaving a tree.
func (b *fwrr) getSrv(i int) {
	g, s := b.grp(i), &b.s[i]
	switch s.tree {
	case g.init:
		s.npos, s.rweight = 0, 0
	case g.next:
		s.npos += g.currWeight
	case fwrrNone:
		s.npos = g.currPos
	}
}

// fromGroup mirrors fwrr_get_server_from_group().
func (b *fwrr) fromGroup(g *fwrrGroup) int {
	s1 := g.trees[fwrrCurr].first()
	if s1 >= 0 && b.ew[s1] > 0 && b.s[s1].npos <= g.currPos {
		return s1
	}
	// no server left or a hole in "curr": take one from "init"
	if s2 := g.trees[g.init].first(); s2 >= 0 && b.ew[s2] > 0 {
		b.s[s2].npos, b.s[s2].rweight = 0, 0
		return s2
	}
	return s1
}

// updatePosition mirrors fwrr_update_position().
func (b *fwrr) updatePosition(g *fwrrGroup, i int) {
	ew, s := b.ew[i], &b.s[i]
	if ew == 0 {
		return
	}
	if s.npos == 0 { // first time ever for this server
		s.npos = g.currPos
	}
	s.lpos = s.npos
	s.npos += g.nextWeight / ew
	s.rweight += g.nextWeight % ew
	if s.rweight >= ew {
		s.rweight -= ew
		s.npos++
	}
}

// Pick mirrors fwrr_get_next_server() without a server to avoid.
func (b *fwrr) Pick(uint32) *Server { return b.PickAvoid(0, nil) }

// PickAvoid mirrors fwrr_get_next_server() with srvtoavoid: the server
// to avoid is passed over once, as a full one is, and taken only when
// no other is left; either way its turn counts as used.
func (b *fwrr) PickAvoid(_ uint32, avoid *Server) *Server {
	var g *fwrrGroup
	switch {
	case b.srvAct > 0:
		g = &b.act
	case b.fbck >= 0:
		return b.srv[b.fbck]
	case b.srvBck > 0:
		g = &b.bck
	default:
		return nil
	}
	switched, srv, avoided := false, -1, -1
	b.full = b.full[:0]
	for srv < 0 {
		if g.currWeight == 0 {
			g.currPos, g.currWeight = g.nextWeight, g.nextWeight
		}
		i := b.fromGroup(g)
		if i < 0 {
			if switched {
				srv = avoided // -1: everything is saturated
				break
			}
			switched = true
			g.init, g.next = g.next, g.init // fwrr_switch_trees()
			g.currWeight = g.nextWeight
			g.currPos = g.currWeight
			continue
		}
		b.updatePosition(g, i)
		b.dequeue(i)
		g.currPos++
		if b.srv[i].full() {
			b.full = append(b.full, i)
			continue
		}
		if avoid != nil && b.srv[i] == avoid && avoided < 0 {
			avoided = i
			b.full = append(b.full, i)
			continue
		}
		srv = i
	}
	if srv >= 0 {
		b.queueSrv(srv)
	}
	b.requeueFull(g, switched, srv)
	if srv < 0 {
		return nil
	}
	return b.srv[srv]
}

// requeueFull puts saturated servers back (requeue_servers label); HAProxy
// chains them LIFO, so walk the list backwards.
func (b *fwrr) requeueFull(g *fwrrGroup, switched bool, taken int) {
	for k := len(b.full) - 1; k >= 0; k-- {
		if b.full[k] == taken {
			continue // the avoided server, taken after all
		}
		if switched {
			b.queueByWeight(g, g.init, b.full[k])
		} else {
			b.queueSrv(b.full[k])
		}
	}
	b.full = b.full[:0]
}
