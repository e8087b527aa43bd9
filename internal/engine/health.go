package engine

import (
	"container/list"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"sluice/internal/check"
	"sluice/internal/config"
	"sluice/internal/lb"
	"sluice/internal/logfmt"
	"sluice/internal/logsink"
	"sluice/internal/netaddr"
)

// srvCheck is a server's health check (or agent check) and its counter.
type srvCheck struct {
	e      *Engine
	b      *backend
	s      *server
	agent  bool
	spec   *check.Spec
	target check.Target
	health check.Health
	// Intervals: inter when fully up, downinter when fully down, fastinter
	// in between, as HAProxy's srv_getinter.
	inter, fast, down time.Duration
	last              check.Result
	task              *check.Task
}

// health is the engine's side of checks: the scheduler, and where state
// changes are told.
type health struct {
	sched *check.Scheduler
	warn  func(format string, a ...any) // stderr, HAProxy's [WARNING]
	alert func(format string, a ...any) // stderr, HAProxy's [ALERT]
	n     int                           // checks configured, for the start-up spread
}

// streamSet is the connections relayed to a server, so that
// on-marked-down and on-marked-up can close them.
type streamSet struct {
	mu sync.Mutex
	m  map[*stream]func()
}

func (ss *streamSet) add(s *stream, kill func()) {
	ss.mu.Lock()
	if ss.m == nil {
		ss.m = map[*stream]func(){}
	}
	ss.m[s] = kill
	ss.mu.Unlock()
}

func (ss *streamSet) remove(s *stream) {
	ss.mu.Lock()
	delete(ss.m, s)
	ss.mu.Unlock()
}

// killAll closes every stream with the termination cause given.
func (ss *streamSet) killAll(cause logfmt.Cause) {
	ss.mu.Lock()
	kills := make([]func(), 0, len(ss.m))
	for s, k := range ss.m {
		s.killCause.Store(uint32(cause))
		kills = append(kills, k)
	}
	ss.mu.Unlock()
	for _, k := range kills {
		k()
	}
}

// setupChecks creates the checks of a backend's servers. They start with
// Serve.
func (e *Engine) setupChecks(b *backend) error {
	p := b.cfg
	var spec *check.Spec
	for _, s := range b.servers {
		sp := &s.cfg.Params
		if sp.Check {
			if spec == nil {
				var err error
				if spec, err = check.Build(checkRules(p)); err != nil {
					return fmt.Errorf("backend '%s': %w", p.Name, err)
				}
			}
			c, err := e.newSrvCheck(b, s, spec, false)
			if err != nil {
				return err
			}
			s.check = c
		}
		if sp.Agent {
			c, err := e.newSrvCheck(b, s, nil, true)
			if err != nil {
				return err
			}
			s.agentCheck = c
		}
		s.observe = sp.Observe == "layer4"
		s.killable = sp.OnMarkedDown == "shutdown-sessions"
	}
	// on-marked-up shutdown-backup-sessions closes the backups' connections.
	for _, s := range b.servers {
		if s.cfg.Params.OnMarkedUp == "shutdown-backup-sessions" && !s.cfg.Params.Backup {
			for _, o := range b.servers {
				if o.cfg.Params.Backup {
					o.killable = true
				}
			}
		}
	}
	return nil
}

// checkRules gathers what check.Build needs from a backend.
func checkRules(p *config.Proxy) check.Rules {
	r := check.Rules{}
	for _, name := range check.Options {
		if o := p.Options[name]; o != nil && !o.Disabled {
			r.Option, r.Args = name, o.Args
		}
	}
	for _, fam := range []string{"tcp-check", "http-check"} {
		for _, x := range p.Rules[fam] {
			r.Lines = append(r.Lines, check.Line{Family: fam, Action: x.Action, Args: x.Args,
				Where: fmt.Sprintf("%s:%d", x.Pos.File, x.Pos.Line)})
		}
	}
	return r
}

func (e *Engine) newSrvCheck(b *backend, s *server, spec *check.Spec, agent bool) (*srvCheck, error) {
	sp := &s.cfg.Params
	host := s.cfg.Addr.IP
	if !host.IsValid() {
		ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", s.cfg.Addr.Host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("backend '%s': server '%s': cannot resolve '%s' for its checks", b.name, s.cfg.Name, s.cfg.Addr.Host)
		}
		host = ips[0]
	}
	addr := sp.Addr
	port := sp.Port
	inter := sp.Inter
	c := &srvCheck{e: e, b: b, s: s, agent: agent}
	if agent {
		addr = sp.AgentAddr
		port = sp.AgentPort
		if sp.AgentInter > 0 {
			inter = sp.AgentInter
		}
		c.spec = check.AgentSpec(sp.AgentSend)
		c.health = check.NewHealth(1, 1)
		c.inter, c.fast, c.down = inter, inter, inter
	} else {
		c.spec = spec
		c.health = check.NewHealth(sp.Rise, sp.Fall)
		c.inter, c.fast, c.down = inter, inter, inter
		if sp.FastInter > 0 {
			c.fast = sp.FastInter
		}
		if sp.DownInter > 0 {
			c.down = sp.DownInter
		}
	}
	ip := host
	if addr != "" {
		a, err := netip.ParseAddr(addr)
		if err != nil {
			ips, rerr := net.DefaultResolver.LookupNetIP(context.Background(), "ip", addr)
			if rerr != nil || len(ips) == 0 {
				return nil, fmt.Errorf("backend '%s': server '%s': cannot resolve check address '%s'", b.name, s.cfg.Name, addr)
			}
			a = ips[0]
		}
		ip = a
	}
	if port == 0 && s.cfg.Addr.PortMode == netaddr.PortFixed {
		port = s.cfg.Addr.Port
	}
	if port == 0 && !agent {
		return nil, fmt.Errorf("backend '%s': server '%s': health checks need a port: set one on the server or with 'port'", b.name, s.cfg.Name)
	}
	proxy := 0
	if !agent && (sp.CheckSendProxy || (sp.Port == 0 && sp.Addr == "")) {
		proxy = sp.SendProxy
		if sp.CheckSendProxy && proxy == 0 {
			proxy = 1
		}
	}
	c.target = check.Target{Addr: netip.AddrPortFrom(ip.Unmap(), uint16(port)), Proxy: proxy,
		Inter: inter, Connect: b.cfg.Timeouts.Connect, Check: b.cfg.Timeouts.Check}
	e.health.n++
	return c, nil
}

// startChecks schedules every check, spread as HAProxy's start_checks
// does: with M checks in all, the Nth starts after
// max(mininter, its interval)*N/M, mininter being the smallest interval
// of at least a second.
func (e *Engine) startChecks() {
	h := &e.health
	if h.n == 0 {
		return
	}
	var all []*srvCheck
	for _, b := range e.backendList {
		for _, s := range b.servers {
			for _, c := range []*srvCheck{s.check, s.agentCheck} {
				if c != nil {
					all = append(all, c)
				}
			}
		}
	}
	var mininter time.Duration
	for _, c := range all {
		if i := c.interval(); i >= time.Second && (mininter == 0 || i < mininter) {
			mininter = i
		}
	}
	h.sched = check.NewScheduler()
	for i, c := range all {
		c.task = &check.Task{Run: c.run}
		h.sched.Add(c.task, max(mininter, c.interval())*time.Duration(i)/time.Duration(len(all)))
	}
	h.sched.Start()
}

func (e *Engine) stopChecks() {
	if e.health.sched != nil {
		e.health.sched.Stop()
	}
}

// interval is HAProxy's srv_getinter: inter when fully up, downinter
// when fully down, fastinter while the counter is between.
func (c *srvCheck) interval() time.Duration {
	switch {
	case c.health.H == c.health.Rise+c.health.Fall-1:
		return c.inter
	case c.health.H == 0:
		return c.down
	}
	return c.fast
}

// run performs one check and applies its result.
func (c *srvCheck) run(ctx context.Context) time.Duration {
	c.b.mu.Lock()
	paused := c.s.maint && !c.agent
	c.b.mu.Unlock()
	if paused {
		return c.nextInterval() // health checks pause while the server is in maintenance
	}
	res := c.spec.Run(ctx, c.target)
	if ctx.Err() != nil {
		return c.nextInterval()
	}
	if c.agent {
		c.e.applyAgent(c, res)
	} else {
		c.e.applyCheck(c, res)
	}
	return c.nextInterval()
}

// nextInterval is interval, read under the backend's lock.
func (c *srvCheck) nextInterval() time.Duration {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	return c.interval()
}

// applyCheck counts a health check's result and changes the server's
// state when the counter says so, as HAProxy's set_server_check_status
// with check_notify_failure and check_notify_success.
func (e *Engine) applyCheck(c *srvCheck, res check.Result) {
	b, s := c.b, c.s
	if res.First != nil {
		// HAProxy's mysql-check and ldap-check report a success twice:
		// each counts, and each may be logged, before the state changes.
		first := *res.First
		b.mu.Lock()
		report := c.health.Apply(first.Status.Passed())
		b.mu.Unlock()
		e.logCheck(c, first, report)
	}
	passed := res.Status.Passed()
	b.mu.Lock()
	report := c.health.Apply(passed)
	down := !passed && c.health.H == 0 && s.opUp
	up := passed && c.health.Up() && !s.opUp && (s.agentCheck == nil || s.agentCheck.health.Up())
	b.mu.Unlock()
	why := describe(res)
	if e.logCheck(c, res, report) {
		why = "" // log-health-checks told the details already
	}
	switch {
	case down:
		e.setDown(b, s, why)
	case up:
		e.setUp(b, s, why)
	}
}

// logCheck records a check's result and, with option log-health-checks,
// logs it when its status changed or the counter moved, as HAProxy:
// "Health check for server be/s1 failed, reason: ..., status: 0/2 DOWN".
// It reports whether log-health-checks is on.
func (e *Engine) logCheck(c *srvCheck, res check.Result, report bool) bool {
	b, s := c.b, c.s
	b.mu.Lock()
	prev := c.last.Status
	c.last = res
	on := b.cfg.Opt("log-health-checks")
	var line string
	if on && (res.Status != prev || report) {
		what := "failed"
		if res.Status.Passed() {
			what = "succeeded"
		}
		up := "UP"
		if s.cfg.Params.Weight*s.agentWeight/100 == 0 {
			up = "DRAIN"
		}
		kind := "Health"
		if c.agent {
			kind = "Agent"
		}
		line = fmt.Sprintf("%s check for %sserver %s/%s %s%s, status: %s", kind, backupWord(s, "backup "), b.name, s.cfg.Name, what, describe(res), c.health.Text(up))
	}
	b.mu.Unlock()
	if line != "" {
		e.health.warn("%s.", line)
		b.logf(logsink.LevelNotice, "%s.", line)
	}
	return on
}

// describe is HAProxy's srv_append_status for a check result.
func describe(r check.Result) string {
	var sb strings.Builder
	sb.WriteString(", reason: " + r.Status.Desc())
	if r.Status.HasData() {
		sb.WriteString(", code: " + strconv.Itoa(r.Code))
	}
	if r.Info != "" {
		sb.WriteString(`, info: "` + asciiEncode(r.Info) + `"`)
	}
	if r.Duration >= 0 {
		fmt.Fprintf(&sb, ", check duration: %dms", r.Duration)
	}
	return sb.String()
}

// asciiEncode escapes what HAProxy's chunk_asciiencode does in a quoted
// field: control bytes, non-ASCII bytes and the double quote.
func asciiEncode(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 32 || c > 126 || c == '"' {
			fmt.Fprintf(&sb, "<%02X>", c)
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

func backupWord(s *server, w string) string {
	if s.cfg.Params.Backup {
		return w
	}
	return ""
}

// counts is the usable active and backup servers (caller holds mu), as
// HAProxy's srv_act and srv_bck.
func (b *backend) counts() (act, bck int) {
	for _, s := range b.servers {
		if !s.lb.Up() || s.lb.Weight == 0 {
			continue
		}
		if s.cfg.Params.Backup {
			bck++
		} else {
			act++
		}
	}
	return act, bck
}

// setDown marks a server down (HAProxy's srv_set_stopped): no new
// connections, its queued ones go back to the backend's queue, and the
// change is told on stderr and in the backend's logs.
func (e *Engine) setDown(b *backend, s *server, why string) {
	b.mu.Lock()
	if !s.opUp {
		b.mu.Unlock()
		return
	}
	s.opUp = false
	b.bal.SetUp(s.lb, false)
	xferred := b.requeue(s)
	act, bck := b.counts()
	cur := s.cur.Load()
	left := s.queue.Len()
	b.mu.Unlock()
	msg := fmt.Sprintf("%sServer %s/%s is DOWN%s. %d active and %d backup servers left.%s %d sessions active, %d requeued, %d remaining in queue",
		backupWord(s, "Backup "), b.name, s.cfg.Name, why, act, bck, onBackup(act, bck), cur, xferred, left)
	e.health.warn("%s.", msg)
	b.logf(logsink.LevelAlert, "%s.", msg)
	if act+bck == 0 {
		e.noServer(b)
	}
	if s.cfg.Params.OnMarkedDown == "shutdown-sessions" {
		s.streams.killAll(logfmt.CauseDown)
	}
}

// noServer tells that a backend has no usable server left, naming it as
// HAProxy's proxy_type_str does ("backend", or "proxy" for a listen).
func (e *Engine) noServer(b *backend) {
	kind := "backend"
	if b.cfg.Cap&config.CapFE != 0 {
		kind = "proxy"
	}
	e.health.alert("%s '%s' has no server available!", kind, b.name)
	b.logf(logsink.LevelEmerg, "%s %s has no server available!", kind, b.name)
}

// setUp marks a server up again (srv_set_running): it takes connections
// waiting in the backend's queue and, with on-marked-up
// shutdown-backup-sessions, the backup servers' connections are closed.
func (e *Engine) setUp(b *backend, s *server, why string) {
	b.mu.Lock()
	if s.opUp {
		b.mu.Unlock()
		return
	}
	s.opUp = true
	if !s.maint {
		b.bal.SetUp(s.lb, true)
	}
	e.startSlowstart(b, s)
	xferred := b.serveQueued(s)
	act, bck := b.counts()
	total := b.queue.Len() + s.queue.Len()
	b.mu.Unlock()
	msg := fmt.Sprintf("%sServer %s/%s is UP%s. %d active and %d backup servers online.%s %d sessions requeued, %d total in queue",
		backupWord(s, "Backup "), b.name, s.cfg.Name, why, act, bck, onBackup(act, bck), xferred, total)
	e.health.warn("%s.", msg)
	b.logf(logsink.LevelNotice, "%s.", msg)
	if s.cfg.Params.OnMarkedUp == "shutdown-backup-sessions" && !s.cfg.Params.Backup {
		for _, o := range b.servers {
			if o.cfg.Params.Backup {
				o.streams.killAll(logfmt.CauseUp)
			}
		}
	}
}

func onBackup(act, bck int) string {
	if bck > 0 && act == 0 {
		return " Running on backup."
	}
	return ""
}

// requeue moves the connections waiting for s to the backend's queue, in
// their order (caller holds mu). It returns how many moved.
func (b *backend) requeue(s *server) int {
	n := 0
	for e := s.queue.Front(); e != nil; e = s.queue.Front() {
		w := e.Value.(*waiter)
		s.queue.Remove(e)
		w.srv = nil
		w.idx0 = b.queueIdx
		var at *list.Element
		for x := b.queue.Back(); x != nil; x = x.Prev() {
			if x.Value.(*waiter).seq < w.seq {
				at = x
				break
			}
		}
		if at == nil {
			w.elem = b.queue.PushFront(w)
		} else {
			w.elem = b.queue.InsertAfter(w, at)
		}
		n++
	}
	return n
}

// logf sends a message to the backend's log targets.
func (b *backend) logf(level int, format string, a ...any) {
	if b.sink != nil {
		b.sink.Logf(level, format, a...)
	}
}

// observe counts a connection attempt's outcome for `observe layer4`, as
// HAProxy's health_adjust: error-limit failures in a row trigger the
// on-error action and make the next check come after fastinter.
func (e *Engine) observe(b *backend, s *server, ok bool) {
	if !s.observe || s.check == nil {
		return
	}
	if ok {
		s.consecErrs.Store(0)
		return
	}
	n := s.consecErrs.Add(1)
	limit := int64(s.cfg.Params.ErrorLimit)
	if limit <= 0 {
		limit = 10
	}
	if n < limit {
		return
	}
	s.consecErrs.Store(0)
	c := s.check
	res := check.Result{Status: check.Hana, Info: fmt.Sprintf("Detected %d consecutive errors, last one was: L4 unsuccessful connection", n), Duration: -1}
	switch s.cfg.Params.OnError {
	case "sudden-death":
		b.mu.Lock()
		if c.health.H > c.health.Rise {
			c.health.H = c.health.Rise + 1
		}
		b.mu.Unlock()
		e.applyCheck(c, res)
	case "fail-check":
		e.applyCheck(c, res)
	case "mark-down":
		b.mu.Lock()
		c.health.H = c.health.Rise
		b.mu.Unlock()
		e.applyCheck(c, res)
	}
	if c.fast > 0 && e.health.sched != nil {
		e.health.sched.Hurry(c.task, c.fast)
	}
}

// applyAgent interprets an agent's reply, as HAProxy's
// tcpcheck_agent_expect_reply: words separated by blanks or commas; an
// operational state (up, down, stopped, fail), an administrative one
// (ready, drain, maint), a weight ("75%" of the configured one) and
// "maxconn:N"; a word starting with '#' begins a description. A reply
// with an unknown word changes nothing, and an agent that cannot be
// reached never marks its server down.
func (e *Engine) applyAgent(c *srvCheck, res check.Result) {
	b, s := c.b, c.s
	if res.Status == check.Unknown { // an incomplete line: nothing to act on
		c.last = res
		return
	}
	if !res.Status.Passed() {
		e.logCheck(c, res, false)
		return
	}
	var opState, admState, msg string
	weight, maxconn := -1, -1
	words := strings.FieldsFunc(res.Info, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' })
	for i, w := range words {
		lw := strings.ToLower(w)
		switch {
		case strings.HasPrefix(w, "#"):
			msg = strings.TrimSpace(strings.Join(words[i:], " ")[1:])
		case lw == "up" || lw == "down" || lw == "stopped" || lw == "fail":
			opState = lw
		case lw == "ready" || lw == "drain" || lw == "maint":
			admState = lw
		case strings.HasSuffix(lw, "%"):
			n, err := strconv.Atoi(strings.TrimSuffix(lw, "%"))
			if err != nil || n < 0 {
				c.last = check.Result{Status: check.Unknown, Info: "agent reports an error : " + w}
				return
			}
			weight = n
		case strings.HasPrefix(lw, "maxconn:"):
			n, err := strconv.Atoi(lw[len("maxconn:"):])
			if err != nil || n < 0 {
				c.last = check.Result{Status: check.Unknown, Info: "agent reports an error : " + w}
				return
			}
			maxconn = n
		default:
			c.last = check.Result{Status: check.Unknown, Info: "agent reports an error : " + w}
			return
		}
		if msg != "" {
			break
		}
	}
	switch admState {
	case "maint":
		e.setMaint(b, s, true)
	case "drain":
		e.setDrain(b, s, true)
	case "ready":
		e.setMaint(b, s, false)
		e.setDrain(b, s, false)
	}
	if weight >= 0 || maxconn >= 0 {
		b.mu.Lock()
		if weight >= 0 {
			s.agentWeight = weight
			b.applyWeight(s)
		}
		if maxconn >= 0 {
			s.maxconn, s.lb.MaxConn = maxconn, maxconn
		}
		b.mu.Unlock()
	}
	if opState == "" {
		return
	}
	st := check.L7OK
	if opState != "up" {
		st = check.L7Sts
	}
	info := "via agent : " + opState
	if msg != "" {
		info += " (" + msg + ")"
	}
	r := check.Result{Status: st, Info: info, Duration: res.Duration}
	b.mu.Lock()
	report := c.health.Apply(st.Passed())
	down := !st.Passed() && c.health.H == 0 && s.opUp
	up := st.Passed() && !s.opUp && (s.check == nil || s.check.health.Up())
	b.mu.Unlock()
	why := describe(r)
	if e.logCheck(c, r, report) {
		why = ""
	}
	switch {
	case down:
		e.setDown(b, s, why)
	case up:
		e.setUp(b, s, why)
	}
}

// applyWeight gives the balancer the server's effective weight: the
// configured one, scaled by the agent's percentage, 0 while draining,
// ramped during slowstart (caller holds mu).
func (b *backend) applyWeight(s *server) {
	w := s.cfg.Params.Weight * s.agentWeight / 100
	if s.drain {
		w = 0
	}
	if !s.slowEnd.IsZero() {
		// HAProxy's server_recalc_eweight: in whole seconds, the ramp is
		// (16*elapsed + slowstart)/slowstart sixteenths of the weight.
		ss := int64((s.cfg.Params.Slowstart + time.Second - 1) / time.Second)
		elapsed := int64(time.Since(s.slowEnd.Add(-s.cfg.Params.Slowstart)) / time.Second)
		if sixteenths := (16*elapsed + ss) / ss; sixteenths < 16 && w > 0 {
			w = int((int64(w)*sixteenths + 15) / 16)
		} else {
			s.slowEnd = time.Time{}
		}
	}
	w = min(w, lb.MaxWeight)
	if w != s.lb.Weight {
		b.bal.SetWeight(s.lb, w) // static algorithms refuse: as HAProxy, no ramp
	}
}

// startSlowstart ramps a recovered server's weight over its slowstart
// time, in twentieths but at most once a second (caller holds mu).
func (e *Engine) startSlowstart(b *backend, s *server) {
	ss := s.cfg.Params.Slowstart
	if ss <= 0 {
		return
	}
	s.slowEnd = time.Now().Add(ss)
	b.applyWeight(s)
	step := max(ss/20, time.Second)
	var tick func()
	tick = func() {
		b.mu.Lock()
		if s.slowEnd.IsZero() || !s.opUp {
			b.mu.Unlock()
			return
		}
		b.applyWeight(s)
		if !s.slowEnd.IsZero() {
			b.mu.Unlock()
			time.AfterFunc(step, tick)
			return
		}
		// The ramp is over: HAProxy tells it with a second, bare UP line.
		act, bck := b.counts()
		total := b.queue.Len() + s.queue.Len()
		b.mu.Unlock()
		msg := fmt.Sprintf("%sServer %s/%s is UP. %d active and %d backup servers online.%s 0 sessions requeued, %d total in queue",
			backupWord(s, "Backup "), b.name, s.cfg.Name, act, bck, onBackup(act, bck), total)
		e.health.warn("%s.", msg)
		b.logf(logsink.LevelNotice, "%s.", msg)
	}
	time.AfterFunc(step, tick)
}

// setMaint puts a server in or out of forced maintenance (an agent's
// maint and ready), as HAProxy's srv_set_admin_flag: its health checks
// pause and it takes no connection; leaving, it is checked at once and
// counts as up until its first failure.
func (e *Engine) setMaint(b *backend, s *server, on bool) {
	b.mu.Lock()
	if s.maint == on {
		b.mu.Unlock()
		return
	}
	s.maint = on
	if !on && s.check != nil {
		s.check.health = check.NewHealth(s.check.health.Rise, s.check.health.Fall)
		s.opUp = true
	}
	b.bal.SetUp(s.lb, !on && s.opUp)
	var xferred int
	if on {
		xferred = b.requeue(s)
	} else {
		xferred = b.serveQueued(s)
	}
	act, bck := b.counts()
	cur := s.cur.Load()
	b.mu.Unlock()
	pre := backupWord(s, "Backup ")
	if on {
		msg := fmt.Sprintf("%sServer %s/%s is going DOWN for maintenance. %d active and %d backup servers left.%s %d sessions active, %d requeued, %d remaining in queue",
			pre, b.name, s.cfg.Name, act, bck, onBackup(act, bck), cur, xferred, s.queue.Len())
		e.health.warn("%s.", msg)
		b.logf(logsink.LevelAlert, "%s.", msg)
		if act+bck == 0 {
			e.noServer(b)
		}
		return
	}
	state := "UP/READY"
	if s.drain {
		state = "UP/DRAIN"
	}
	msg := fmt.Sprintf("%sServer %s/%s is %s (leaving forced maintenance)", pre, b.name, s.cfg.Name, state)
	e.health.warn("%s.", msg)
	b.logf(logsink.LevelNotice, "%s.", msg)
	if s.check != nil && e.health.sched != nil {
		e.health.sched.Hurry(s.check.task, 0)
	}
}

// setDrain puts a server in or out of forced drain (an agent's drain and
// ready): it keeps its connections but gets no new ones.
func (e *Engine) setDrain(b *backend, s *server, on bool) {
	b.mu.Lock()
	was := s.drain
	s.drain = on
	b.applyWeight(s)
	act, bck := b.counts()
	total := b.queue.Len() + s.queue.Len()
	b.mu.Unlock()
	pre := backupWord(s, "Backup ")
	var msg string
	switch {
	case on && was:
		msg = fmt.Sprintf("%sServer %s/%s remains in forced drain mode", pre, b.name, s.cfg.Name)
	case on:
		msg = fmt.Sprintf("%sServer %s/%s enters drain state. %d active and %d backup servers online.%s 0 sessions requeued, %d total in queue",
			pre, b.name, s.cfg.Name, act, bck, onBackup(act, bck), total)
	case was:
		state := "UP"
		if !s.opUp {
			state = "DOWN"
		}
		msg = fmt.Sprintf("%sServer %s/%s is %s (leaving forced drain)", pre, b.name, s.cfg.Name, state)
	default:
		return
	}
	e.health.warn("%s.", msg)
	b.logf(logsink.LevelNotice, "%s.", msg)
}
