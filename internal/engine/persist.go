package engine

import (
	"fmt"

	"sluice/internal/acl"
	"sluice/internal/config"
	"sluice/internal/sample"
)

// persistMode is what a backend's force-persist and ignore-persist rules
// decided for a request (HAProxy's SF_FORCE_PRST and SF_IGNORE_PRST).
type persistMode uint8

const (
	persistDefault persistMode = iota
	// persistForce: a cookie or use-server rule may name a server that
	// is down or in maintenance.
	persistForce
	// persistIgnore: the persistence cookie names no server and none is
	// inserted.
	persistIgnore
)

type persistRule struct {
	cond  *acl.Cond
	force bool
}

// serverRule is a use-server rule: a server named statically (srv) or
// by a log-format string resolved per request (dyn).
type serverRule struct {
	cond *acl.Cond
	srv  *server
	dyn  *valueFmt
}

// compileServerRules builds a backend's force-persist, ignore-persist and
// use-server rules.
func (b *backend) compileServerRules(p *config.Proxy, cc *condCompiler) error {
	for _, r := range p.PersistRules {
		cond, err := cc.compile(r.Cond)
		if err != nil {
			return err
		}
		b.persist = append(b.persist, persistRule{cond: cond, force: r.Force})
	}
	for _, r := range p.UseServers {
		cond, err := cc.compile(r.Cond)
		if err != nil {
			return err
		}
		sr := serverRule{cond: cond}
		if r.Dynamic {
			if sr.dyn, err = compileValue(r.Name); err != nil {
				return fmt.Errorf("use-server '%s': %w", r.Name, err)
			}
		} else if sr.srv = b.serverByName(r.Name); sr.srv == nil {
			return fmt.Errorf("use-server: no server '%s'", r.Name)
		}
		b.useServer = append(b.useServer, sr)
	}
	return nil
}

func (b *backend) serverByName(name string) *server {
	for _, s := range b.servers {
		if s.cfg.Name == name {
			return s
		}
	}
	return nil
}

// persistence runs the force-persist and ignore-persist rules in order:
// the first whose condition matches decides.
func (b *backend) persistence(c *sample.Ctx) persistMode {
	for i := range b.persist {
		r := &b.persist[i]
		if m, _ := r.cond.Match(c); !m {
			continue
		}
		if r.force {
			return persistForce
		}
		return persistIgnore
	}
	return persistDefault
}

// mayPersist says whether a request may be sent to srv because a cookie
// or a use-server rule names it: srv is up and not in maintenance, or
// option persist or a force-persist rule says to try it anyway.
func (b *backend) mayPersist(srv *server, force bool) bool {
	return force || b.serverUsable(srv) || b.cfg.Opt("persist")
}

// ruleServer runs the use-server rules, as HAProxy's process_server_rules:
// the first rule whose condition matches and whose server may take the
// request decides; a rule whose server is down passes to the next one; a
// log-format name that names no server ends the search. Nil: the cookie
// or the balancer chooses.
func (b *backend) ruleServer(c *sample.Ctx, force bool) *server {
	for i := range b.useServer {
		r := &b.useServer[i]
		if m, _ := r.cond.Match(c); !m {
			continue
		}
		srv := r.srv
		if r.dyn != nil {
			var buf [64]byte
			if srv = b.serverByName(string(r.dyn.renderCtx(buf[:0], c))); srv == nil {
				return nil
			}
		}
		if b.mayPersist(srv, force) {
			return srv
		}
	}
	return nil
}
