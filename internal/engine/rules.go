package engine

import (
	"fmt"
	"time"

	"sluice/internal/acl"
	"sluice/internal/config"
	"sluice/internal/sample"
)

// tcpAction is what a tcp-request rule does when its condition holds.
type tcpAction uint8

const (
	actAccept      tcpAction = iota // stop evaluating, go on
	actReject                       // close the connection
	actSilentDrop                   // vanish without telling the client
	actExpectProxy                  // read a PROXY header, then go on evaluating
	actSetVar                       // set-var, set-var-fmt, unset-var: go on
	actSetLogLevel                  // set-log-level: go on
	actSetAddr                      // set-src, set-dst and their -port: go on
)

var tcpActions = map[string]tcpAction{"accept": actAccept, "reject": actReject,
	"silent-drop": actSilentDrop, "expect-proxy": actExpectProxy,
	"set-var": actSetVar, "set-var-fmt": actSetVar, "unset-var": actSetVar,
	"set-log-level": actSetLogLevel,
	"set-src":       actSetAddr, "set-src-port": actSetAddr, "set-dst": actSetAddr, "set-dst-port": actSetAddr}

// tcpRule is a compiled tcp-request rule.
type tcpRule struct {
	action tcpAction
	cond   *acl.Cond
	// v is a variable action's compiled form.
	v *varAction
	// level is set-log-level's, as sample.Ctx.LogLevel holds it.
	level int
	// addr is a set-src, set-dst or -port rule's.
	addr *addrAction
}

// switchRule is a compiled use_backend rule.
type switchRule struct {
	cond *acl.Cond
	be   *backend
	// dyn is the backend's name as a log-format string, resolved per
	// stream among backends (nil for a static name).
	dyn      *valueFmt
	backends map[string]*backend
}

// ruleSet is what a proxy runs on a connection before it reaches a server.
type ruleSet struct {
	conn, sess, content []tcpRule
	inspectDelay        time.Duration
	// setsAddr: a rule sets an address (set-src, set-dst...).
	setsAddr bool
}

// condCompiler builds conditions for one proxy, sharing each named ACL
// between the rules that use it.
type condCompiler struct {
	p     *config.Proxy
	named map[string]*acl.ACL
}

func newCondCompiler(p *config.Proxy) *condCompiler {
	return &condCompiler{p: p, named: map[string]*acl.ACL{}}
}

// compile turns a parsed condition into an evaluable one; nil stays nil.
func (cc *condCompiler) compile(c *config.Cond) (*acl.Cond, error) {
	if c == nil {
		return nil, nil
	}
	out := &acl.Cond{Unless: c.Unless}
	for _, suite := range c.Terms {
		var terms []acl.Term
		for _, t := range suite {
			a, err := cc.acl(t)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", c.Pos.File, c.Pos.Line, err)
			}
			terms = append(terms, acl.Term{Neg: t.Neg, ACL: a})
		}
		out.Suites = append(out.Suites, terms)
	}
	return out, nil
}

// acl resolves a term: predefined names win over declared ones, as in
// HAProxy; a declared name is the OR of every line declaring it.
func (cc *condCompiler) acl(t config.CondTerm) (*acl.ACL, error) {
	if t.Anon != nil {
		if t.Anon.Err != nil {
			return nil, t.Anon.Err
		}
		return &acl.ACL{Exprs: []*acl.Expr{t.Anon.Expr}}, nil
	}
	if a, ok := cc.named[t.Name]; ok {
		return a, nil
	}
	var a *acl.ACL
	if _, ok := sample.Predefined[t.Name]; ok {
		var err error
		if a, err = acl.Predefined(t.Name); err != nil {
			return nil, err
		}
	} else {
		a = &acl.ACL{Name: t.Name}
		for _, d := range cc.p.ACLs {
			if d.Name != t.Name {
				continue
			}
			if d.Err != nil {
				return nil, fmt.Errorf("acl '%s': %w", d.Name, d.Err)
			}
			a.Exprs = append(a.Exprs, d.Expr)
		}
		if len(a.Exprs) == 0 {
			return nil, fmt.Errorf("no such ACL : '%s'", t.Name)
		}
	}
	cc.named[t.Name] = a
	return a, nil
}

// compileRules builds a proxy's tcp-request rules.
func compileRules(p *config.Proxy, cc *condCompiler) (ruleSet, error) {
	rs := ruleSet{inspectDelay: p.InspectDelay}
	for fam, dst := range map[string]*[]tcpRule{
		"tcp-request connection": &rs.conn,
		"tcp-request session":    &rs.sess,
		"tcp-request content":    &rs.content,
	} {
		for _, r := range p.Rules[fam] {
			act, ok := tcpActions[actionName(r.Action)]
			if !ok {
				return rs, fmt.Errorf("%s:%d: '%s %s' is not supported yet by Sluice", r.Pos.File, r.Pos.Line, fam, r.Action)
			}
			if act == actExpectProxy && (len(r.Args) != 1 || r.Args[0] != "layer4") {
				return rs, fmt.Errorf("%s:%d: '%s expect-proxy' only supports 'layer4'", r.Pos.File, r.Pos.Line, fam)
			}
			cond, err := cc.compile(r.Cond)
			if err != nil {
				return rs, err
			}
			tr := tcpRule{action: act, cond: cond}
			if act == actSetLogLevel {
				tr.level = logLevelArg(r.Args[0])
			}
			if act == actSetAddr {
				if tr.addr, err = compileAddrAction(r.Action, r.Args[0]); err != nil {
					return rs, fmt.Errorf("%s:%d: %s %s: %w", r.Pos.File, r.Pos.Line, fam, r.Action, err)
				}
				rs.setsAddr = true
			}
			if act == actSetVar {
				// Connection and session rules run before a stream
				// exists: only sess and proc variables can be set there.
				if tr.v, err = compileVarAction(r, fam != "tcp-request content"); err != nil {
					return rs, fmt.Errorf("%s:%d: %s %s: %w", r.Pos.File, r.Pos.Line, fam, r.Action, err)
				}
			}
			*dst = append(*dst, tr)
		}
	}
	return rs, nil
}

// verdict is the outcome of a rule list.
type verdict uint8

const (
	verdictAccept verdict = iota // an accept rule matched, or none did
	verdictReject
	verdictDrop // silent-drop: close without a FIN or a reset reaching the client
	verdictWait // a rule needs more data to decide
)

// run evaluates rules in order: the first accept, reject or silent-drop
// that applies decides; expect-proxy sets *proxy and evaluation goes on;
// a rule that cannot decide yet makes the caller wait for more data.
func run(rules []tcpRule, c *sample.Ctx, proxy *bool) verdict {
	for i := range rules {
		match, wait := rules[i].cond.Match(c)
		if wait {
			return verdictWait
		}
		if !match {
			continue
		}
		switch rules[i].action {
		case actAccept:
			return verdictAccept
		case actReject:
			return verdictReject
		case actSilentDrop:
			return verdictDrop
		case actExpectProxy:
			if proxy != nil {
				*proxy = true
			}
		case actSetVar:
			rules[i].v.run(c)
		case actSetLogLevel:
			c.LogLevel = rules[i].level
		case actSetAddr:
			rules[i].addr.run(c)
		}
	}
	return verdictAccept
}

// switchBackend runs the switching rules in order; the first that matches
// decides. A log-format name that names no backend sends the stream to
// the default backend, as in HAProxy.
func (s *stream) switchBackend() *backend {
	fe := s.fe
	for i := range fe.switching {
		r := &fe.switching[i]
		if m, _ := r.cond.Match(&s.smp); !m {
			continue
		}
		if r.dyn == nil {
			return r.be
		}
		var buf [128]byte
		if be := r.backends[string(r.dyn.render(buf[:0], s))]; be != nil {
			return be
		}
		break
	}
	return fe.defaultBE
}
