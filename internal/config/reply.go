package config

import "strings"

// replyDefaults are the statuses of the reply actions when none is given.
var replyDefaults = map[string]int{"return": 200, "deny": 403, "tarpit": 500}

// validateReply checks the arguments of a return, deny or tarpit rule as
// HAProxy's http_parse_http_reply does, and keeps the parsed reply in the
// rule for the engine: files are read once, here.
func (c *ctx) validateReply(r *Rule, fail func(string, ...any)) {
	def := replyDefaults[r.Action]
	if r.Family != "http-request" && r.Action == "deny" {
		def = 502
	}
	ld := c.l.errLoader()
	n := len(ld.Warnings)
	spec, err := ld.ParseReply(r.Args, def, r.Action != "return")
	c.loaderWarnings(n)
	if err != nil {
		fail("%v.", err)
		return
	}
	for _, w := range spec.Warnings {
		c.warnf("%s", w)
	}
	if len(spec.Rest) > 0 {
		c.tightAlertf("'%s %s' expects either 'if' or 'unless' followed by a condition but found '%s'.", r.Family, r.Action, spec.Rest[0])
		return
	}
	if spec.Kind == "lf-string" || spec.Kind == "lf-file" {
		c.validateValue(spec.Body, fail)
	}
	for _, h := range spec.Hdrs {
		c.validateValue(h.Value, fail)
	}
	r.Reply = spec
}

// checkReplySections resolves the errorfiles sections the reply rules
// name, with HAProxy's message for an unknown one.
func (l *loader) checkReplySections(p *Proxy) {
	for fam, rules := range p.Rules {
		if !strings.HasPrefix(fam, "http-") {
			continue
		}
		for _, r := range rules {
			if r.Reply == nil || r.Reply.Section == "" {
				continue
			}
			var found *HTTPErrors
			for _, s := range l.cfg.HTTPErrors {
				if s.Name == r.Reply.Section {
					found = s
					break
				}
			}
			if found == nil {
				l.diags.global(SevAlert, r.Pos, "Proxy '%s': unknown http-errors section '%s' referenced by an http reply .", p.Name, r.Reply.Section)
				continue
			}
			r.Reply.SectionPages = found.Pages
		}
	}
}
