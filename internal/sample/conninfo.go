package sample

import (
	"fmt"
	"time"
)

// ConnInfoSource reads what the kernel knows of the client's TCP
// connection when a fetch asks.
type ConnInfoSource interface {
	ConnInfo() (ConnInfo, bool)
}

// ConnInfo is what the kernel knows of the client's TCP connection, for
// the fc_* fetches (TCP_INFO on Linux).
type ConnInfo struct {
	RTT, RTTVar                                         time.Duration
	Unacked, Sacked, Retrans, Fackets, Lost, Reordering uint32
}

// Proxies answers the fetches about running proxies: nbsrv, be_conn,
// fe_conn and queue. Names are proxy names; ok is false for an unknown one.
type Proxies interface {
	UsableServers(backend string) (n int, ok bool)
	BackendConns(backend string) (n int, ok bool)
	FrontendConns(frontend string) (n int, ok bool)
	Queued(backend string) (n int, ok bool)
}

func init() {
	eval("fc_rtt", Int, 0, 1, unitArg, func(c *Ctx, a []Arg, v *Value) bool {
		return connFetch(c, v, func(i *ConnInfo) int64 { return inUnit(i.RTT, a) })
	})
	eval("fc_rttvar", Int, 0, 1, unitArg, func(c *Ctx, a []Arg, v *Value) bool {
		return connFetch(c, v, func(i *ConnInfo) int64 { return inUnit(i.RTTVar, a) })
	})
	for name, field := range map[string]func(*ConnInfo) uint32{
		"fc_unacked": func(i *ConnInfo) uint32 { return i.Unacked },
		"fc_sacked":  func(i *ConnInfo) uint32 { return i.Sacked },
		"fc_retrans": func(i *ConnInfo) uint32 { return i.Retrans },
		"fc_fackets": func(i *ConnInfo) uint32 { return i.Fackets },
		"fc_lost":    func(i *ConnInfo) uint32 { return i.Lost },
		"fc_reordering": func(i *ConnInfo) uint32 {
			return i.Reordering
		},
	} {
		f := field
		eval(name, Int, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
			return connFetch(c, v, func(i *ConnInfo) int64 { return int64(f(i)) })
		})
	}
	eval("nbsrv", Int, 0, 1, nil, proxyFetch(Proxies.UsableServers, false))
	eval("be_conn", Int, 0, 1, nil, proxyFetch(Proxies.BackendConns, false))
	eval("queue", Int, 0, 1, nil, proxyFetch(Proxies.Queued, false))
	eval("fe_conn", Int, 0, 1, nil, proxyFetch(Proxies.FrontendConns, true))
}

// unitArg reads fc_rtt's optional unit: "ms" (default) or "us".
func unitArg(w []string) ([]Arg, error) {
	if len(w) == 0 {
		return nil, nil
	}
	if w[0] != "ms" && w[0] != "us" {
		return nil, fmt.Errorf("'%s' is not a valid unit (expects 'ms' or 'us')", w[0])
	}
	return []Arg{{Str: w[0]}}, nil
}

func inUnit(d time.Duration, a []Arg) int64 {
	if len(a) == 1 && a[0].Str == "us" {
		return int64(d / time.Microsecond)
	}
	return int64(d / time.Millisecond)
}

func connFetch(c *Ctx, v *Value, get func(*ConnInfo) int64) bool {
	if c.ConnInfo == nil {
		return false
	}
	i, ok := c.ConnInfo.ConnInfo()
	return ok && setInt(v, get(&i))
}

// proxyFetch evaluates a per-proxy count; without an argument it is the
// current frontend's or backend's.
func proxyFetch(get func(Proxies, string) (int, bool), frontend bool) func(*Ctx, []Arg, *Value) bool {
	return func(c *Ctx, a []Arg, v *Value) bool {
		if c.Env == nil || c.Env.Proxies == nil {
			return false
		}
		name := c.BackendName
		if frontend {
			name = c.FrontendName
		}
		if len(a) == 1 {
			name = a[0].Str
		}
		if name == "" {
			return false
		}
		n, ok := get(c.Env.Proxies, name)
		return ok && setInt(v, int64(n))
	}
}
