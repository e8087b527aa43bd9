package engine

import (
	"fmt"
	"time"

	"sluice/internal/acl"
	"sluice/internal/config"
	"sluice/internal/sample"
)

// tcpRule is a compiled tcp-request accept or reject rule.
type tcpRule struct {
	accept bool
	cond   *acl.Cond
}

// switchRule is a compiled use_backend rule.
type switchRule struct {
	cond *acl.Cond
	be   *backend
}

// ruleSet is what a proxy runs on a connection before it reaches a server.
type ruleSet struct {
	conn, sess, content []tcpRule
	inspectDelay        time.Duration
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
			if r.Action != "accept" && r.Action != "reject" {
				return rs, fmt.Errorf("%s:%d: '%s %s' is not supported yet by Sluice", r.Pos.File, r.Pos.Line, fam, r.Action)
			}
			cond, err := cc.compile(r.Cond)
			if err != nil {
				return rs, err
			}
			*dst = append(*dst, tcpRule{accept: r.Action == "accept", cond: cond})
		}
	}
	return rs, nil
}

// verdict is the outcome of a rule list.
type verdict uint8

const (
	verdictAccept verdict = iota // an accept rule matched, or none did
	verdictReject
	verdictWait // a rule needs more data to decide
)

// run evaluates rules in order: the first that applies decides; a rule
// that cannot decide yet makes the caller wait for more data.
func run(rules []tcpRule, c *sample.Ctx) verdict {
	for i := range rules {
		match, wait := rules[i].cond.Match(c)
		if wait {
			return verdictWait
		}
		if match {
			if rules[i].accept {
				return verdictAccept
			}
			return verdictReject
		}
	}
	return verdictAccept
}
