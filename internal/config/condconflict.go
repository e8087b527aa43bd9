package config

import (
	"fmt"
	"strings"

	"sluice/internal/sample"
)

// ruleCheckpoints is where HAProxy evaluates the condition of a rule of
// the given family in a proxy with the given capabilities: one place per
// side the proxy has, so a listen section's rule may use what either side
// offers. 0 for rules HAProxy does not check (monitor fail).
func ruleCheckpoints(family string, c Cap) sample.Checkpoint {
	sides := func(fe, be sample.Checkpoint) sample.Checkpoint {
		var w sample.Checkpoint
		if c&CapFE != 0 {
			w |= fe
		}
		if c&CapBE != 0 {
			w |= be
		}
		return w
	}
	switch family {
	case "tcp-request connection":
		return sample.CkpFEConAcc
	case "tcp-request session":
		return sample.CkpFESesAcc
	case "tcp-request content":
		return sides(sample.CkpFEReqCnt, sample.CkpBEReqCnt)
	case "tcp-response content":
		return sides(sample.CkpFEResCnt, sample.CkpBEResCnt)
	case "http-request", "redirect":
		return sides(sample.CkpFEHrqHdr, sample.CkpBEHrqHdr)
	case "http-response", "http-after-response":
		return sides(sample.CkpFEHrsHdr, sample.CkpBEHrsHdr)
	case "use_backend":
		return sample.CkpFESetBck
	}
	return 0
}

// warnCondConflicts is HAProxy's check of a rule's condition against the
// place where the rule runs (warnif_cond_conflicts in src/cfgparse.c, and
// its copy in src/tcp_rules.c for the tcp-* rules, whose texts name the
// rule). It warns, once per condition, about the first ACL that can never
// match there, or else about the first keyword of an ACL that cannot give
// a value there while another of its keywords can. It runs as the rule is
// read, as in HAProxy, so a named ACL counts the lines declared so far.
func (c *ctx) warnCondConflicts(cond *Cond, family string) {
	where := ruleCheckpoints(family, c.proxy.Cap)
	if cond == nil || where == 0 {
		return
	}
	in, kwWord := "", "keywords"
	if strings.HasPrefix(family, "tcp-") {
		in, kwWord = fmt.Sprintf(" in '%s'", family), "keyword"
	}
	for _, suite := range cond.Terms {
		for _, t := range suite {
			name, kws := c.proxy.termKeywords(t)
			var usable sample.Checkpoint
			for _, kw := range kws {
				usable |= sample.Usable(kw)
			}
			if len(kws) == 0 || usable&where != 0 {
				continue
			}
			if name != "" {
				c.warnf("acl '%s' will never match%s because it only involves keywords that are incompatible with '%s'", name, in, where.Name())
			} else {
				c.warnf("anonymous acl will never match%s because it uses keyword '%s' which is incompatible with '%s'", in, kws[0], where.Name())
			}
			return
		}
	}
	for _, suite := range cond.Terms {
		for _, t := range suite {
			name, kws := c.proxy.termKeywords(t)
			for _, kw := range kws {
				if sample.Usable(kw)&where != 0 {
					continue
				}
				if name != "" {
					c.warnf("acl '%s' involves %s '%s' which is incompatible with '%s'", name, kwWord, kw, where.Name())
				} else {
					c.warnf("anonymous acl involves keyword '%s' which is incompatible with '%s'", kw, where.Name())
				}
				return
			}
		}
	}
}

// termKeywords returns the name of a condition's ACL ("" when anonymous)
// and the fetch or ACL keyword of each of its lines, as written (path_beg,
// req.hdr), in declaration order. A predefined ACL (HTTP_1.1...) wins over
// a user's ACL of the same name, as in HAProxy.
func (p *Proxy) termKeywords(t CondTerm) (string, []string) {
	if t.Anon != nil {
		return "", []string{t.Anon.Criterion}
	}
	if def, ok := sample.Predefined[t.Name]; ok {
		return t.Name, strings.Fields(def)[:1]
	}
	var kws []string
	for _, a := range p.termACLs(t) {
		kws = append(kws, a.Criterion)
	}
	return t.Name, kws
}
