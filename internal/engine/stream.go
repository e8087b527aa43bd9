package engine

import (
	"net"
	"net/netip"
	"os"

	"sluice/internal/sample"
	"sluice/internal/tunnel"
)

// handle owns one accepted connection through its whole life, in
// HAProxy's order: tcp-request connection rules, tcp-request session
// rules, the frontend's content rules (waiting up to inspect-delay for
// data), switching rules, the backend's content rules, then a server is
// picked, connected and bytes relayed until both sides are done. A
// connection rejected by a rule or with nowhere to go (no backend, no
// usable server, every attempt refused) is closed at once, as HAProxy
// does in tcp mode.
func (e *Engine) handle(fe *frontend, c net.Conn) {
	e.track(c)
	defer e.untrack(c)
	defer c.Close()
	client, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	smp := &sample.Ctx{
		Src: unmap(addrPort(c.RemoteAddr())), Dst: unmap(addrPort(c.LocalAddr())),
		FrontendName: fe.cfg.Name, FrontendID: fe.id,
		Final: true, Stopping: e.stopping.Load(),
		LookupEnv: os.LookupEnv, Hostname: e.hostname,
	}
	if run(fe.rules.conn, smp) == verdictReject || run(fe.rules.sess, smp) == verdictReject {
		return
	}
	var p *peeker
	defer func() { p.release() }()
	if len(fe.rules.content) > 0 {
		p = newPeeker(client)
		if v, err := inspect(p, fe.rules.content, fe.rules.inspectDelay, smp); v != verdictAccept || err != nil {
			return
		}
	}
	be := fe.defaultBE
	if len(fe.switching) > 0 {
		if p == nil {
			p = newPeeker(client)
			if p.now() != nil {
				return
			}
		}
		smp.Payload, smp.Final = p.data(), true
		for _, r := range fe.switching {
			if m, _ := r.cond.Match(smp); m {
				be = r.be
				break
			}
		}
	}
	if be == nil || !be.usable() {
		return
	}
	smp.BackendName, smp.BackendID = be.name, be.id
	if len(be.rules.content) > 0 && be.cfg != fe.cfg {
		if p == nil {
			p = newPeeker(client)
		}
		if v, err := inspect(p, be.rules.content, be.rules.inspectDelay, smp); v != verdictAccept || err != nil {
			return
		}
	}
	p.release()
	e.forward(fe, be, client, smp)
}

// forward gets a server slot (perhaps after queueing), connects and relays.
func (e *Engine) forward(fe *frontend, be *backend, client *net.TCPConn, smp *sample.Ctx) {
	a, err := be.acquire(e.ctx, smp.Src.Addr(), nil)
	if err != nil {
		return
	}
	res, err := be.connect(e.ctx, a, smp.Src, smp.Dst)
	defer be.release(res.srv)
	if err != nil {
		return
	}
	up := res.conn
	e.track(up)
	defer e.untrack(up)
	t := be.cfg.Timeouts
	tunnel.Relay(client, up, tunnel.Timeouts{
		Client: fe.cfg.Timeouts.Client, Server: t.Server, Tunnel: t.Tunnel,
		ClientFin: fe.cfg.Timeouts.ClientFin, ServerFin: t.ServerFin,
	})
}

// unmap reports IPv4 clients of dual-stack sockets as IPv4, as HAProxy does.
func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
