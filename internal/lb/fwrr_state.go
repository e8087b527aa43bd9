package lb

// SetUp mirrors fwrr_set_server_status_up()/fwrr_set_server_status_down().
func (b *fwrr) SetUp(s *Server, up bool) {
	if !b.own(s) || s.down == !up {
		return
	}
	s.down = !up
	b.apply(s.idx, b.ew[s.idx])
}

// SetWeight mirrors fwrr_update_server_weight().
func (b *fwrr) SetWeight(s *Server, w int) error {
	if !b.own(s) || w < 0 || w > MaxWeight {
		return ErrBadWeight
	}
	s.Weight = w
	prev := b.ew[s.idx]
	b.ew[s.idx] = w * weightScale
	b.apply(s.idx, prev)
	return nil
}

// apply moves server i from its committed state (live[i], prevEW) to its
// current one, choosing between the up, down and reweight procedures.
func (b *fwrr) apply(i, prevEW int) {
	was, now := b.live[i], b.usable(i)
	switch {
	case !was && now:
		b.statusUp(i)
	case was && !now:
		b.statusDown(i, prevEW)
	case was && now && prevEW != b.ew[i]:
		b.reweight(i, prevEW)
	}
	b.live[i] = now
}

// statusDown mirrors fwrr_set_server_status_down().
func (b *fwrr) statusDown(i, prevEW int) {
	g := b.grp(i)
	g.nextWeight -= prevEW
	if b.srv[i].Backup {
		b.totWbck = g.nextWeight
		b.srvBck--
		if b.fbck == i {
			b.fbck = b.nextBackupAfter(i)
		}
	} else {
		b.totWact = g.nextWeight
		b.srvAct--
	}
	b.dequeue(i)
	b.s[i].tree = fwrrNone
	b.updateBackendWeight()
}

// nextBackupAfter returns the next usable backup after i in declaration order.
func (b *fwrr) nextBackupAfter(i int) int {
	for j := i + 1; j < len(b.srv); j++ {
		if b.srv[j].Backup && b.usable(j) {
			return j
		}
	}
	return -1
}

// statusUp mirrors fwrr_set_server_status_up().
func (b *fwrr) statusUp(i int) {
	g := b.grp(i)
	g.nextWeight += b.ew[i]
	if b.srv[i].Backup {
		b.totWbck = g.nextWeight
		b.srvBck++
		if !b.allBackups && (b.fbck < 0 || i < b.fbck) {
			b.fbck = i
		}
	} else {
		b.totWact = g.nextWeight
		b.srvAct++
	}
	b.getSrv(i)
	b.s[i].npos = g.currPos + (g.nextWeight+g.currWeight-g.currPos)/b.ew[i]
	b.queueSrv(i)
	b.updateBackendWeight()
}

// reweight mirrors the "still up" branch of fwrr_update_server_weight().
func (b *fwrr) reweight(i, prevEW int) {
	g, s := b.grp(i), &b.s[i]
	g.nextWeight += b.ew[i] - prevEW
	b.totWact, b.totWbck = b.act.nextWeight, b.bck.nextWeight
	switch s.tree {
	case g.init:
		b.dequeue(i)
		b.queueByWeight(g, g.init, i)
	case fwrrNone:
		b.getSrv(i)
		s.npos = g.currPos + (g.nextWeight+g.currWeight-g.currPos)/b.ew[i]
		b.queueSrv(i)
	default:
		// in "curr" or "next": adjust the next position if it still
		// has places to consume in this window
		b.getSrv(i)
		prevNext := s.npos
		step := g.nextWeight / b.ew[i]
		s.npos = s.lpos + step
		s.rweight = 0
		if s.npos > prevNext {
			s.npos = prevNext
		}
		if s.npos < g.currPos+2 {
			s.npos = g.currPos + step
		}
		b.dequeue(i)
		b.queueSrv(i)
	}
	b.updateBackendWeight()
}
