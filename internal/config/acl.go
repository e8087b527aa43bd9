package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"

	"sluice/internal/acl"
	"sluice/internal/sample"
)

var matchMethods = map[string]bool{"found": true, "bool": true, "int": true, "ip": true, "bin": true,
	"len": true, "str": true, "sub": true, "reg": true, "beg": true, "end": true, "dir": true, "dom": true}

// parseACL handles `acl <name> <criterion> [flags] [operator] [values]`.
func parseACL(c *ctx) {
	name := c.arg(1)
	if name == "" {
		c.alertf("'acl' expects an ACL name.")
		return
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte("_.:-", ch) >= 0) {
			c.alertf("character '%c' is not permitted in acl name '%s'", ch, name)
			return
		}
	}
	if _, ok := sample.Predefined[name]; ok {
		c.warnf("acl '%s' will never match because it masks a predefined ACL.", name)
	}
	a, err := c.buildACL(c.args(2))
	if err != nil {
		c.alertf("error detected while parsing ACL '%s' : %v.", name, err)
		return
	}
	a.Name, a.Pos = name, c.pos
	c.proxy.ACLs = append(c.proxy.ACLs, a)
}

// buildACL parses a criterion, its flags and patterns.
func (c *ctx) buildACL(words []string) (*ACL, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("missing fetch method")
	}
	a := &ACL{}
	crit := words[0]
	a.Criterion = crit
	// Converters follow the fetch after a comma; commas inside the fetch's
	// parentheses separate its own arguments (hdr(x-forwarded-for,-1)).
	depth := 0
	for i := 0; i < len(crit); i++ {
		switch crit[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				a.Criterion, a.Converter = crit[:i], crit[i:]
				i = len(crit)
			}
		}
	}
	if i := strings.IndexByte(a.Criterion, '('); i >= 0 {
		if !strings.HasSuffix(a.Criterion, ")") {
			return nil, fmt.Errorf("missing closing ')' after arguments to fetch method '%s' in ACL expression '%s'", a.Criterion[:i], crit)
		}
		a.Args = a.Criterion[i+1 : len(a.Criterion)-1]
		a.Criterion = a.Criterion[:i]
	}
	fetchName := a.Criterion
	forced := ""
	if k, ok := sample.LookupACLKeyword(fetchName); ok {
		fetchName, forced = k.Fetch, k.Match
	}
	if _, ok := sample.LookupFetch(fetchName); !ok {
		return nil, fmt.Errorf("unknown fetch method '%s' in ACL expression '%s'", a.Criterion, crit)
	}
	rest := words[1:]
	match := forced
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		f := rest[0]
		switch f {
		case "--":
			rest = rest[1:]
			goto patterns
		case "-i", "-n", "-M":
			a.Flags = append(a.Flags, f)
			rest = rest[1:]
		case "-m", "-f", "-u":
			if len(rest) < 2 {
				return nil, fmt.Errorf("missing argument after '%s'", f)
			}
			if f == "-m" {
				if !matchMethods[rest[1]] {
					return nil, fmt.Errorf("unknown matching method '%s' for ACL keyword '%s'", rest[1], a.Criterion)
				}
				match = rest[1]
			}
			if f == "-f" {
				if err := checkPatternFile(rest[1]); err != nil {
					return nil, err
				}
			}
			a.Flags = append(a.Flags, f, rest[1])
			rest = rest[2:]
		default:
			return nil, fmt.Errorf("'%s' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'", f)
		}
	}
patterns:
	a.Patterns = rest
	if f, _ := sample.LookupFetch(fetchName); f.Type == sample.IP && (match == "" || match == "ip") && !hasFlag(a.Flags, "-f") {
		for _, p := range a.Patterns {
			if err := checkIPPattern(p); err != nil {
				return nil, err
			}
		}
	}
	if match == "reg" {
		for _, p := range a.Patterns {
			if _, err := regexp.Compile(p); err != nil {
				return nil, fmt.Errorf("regex '%s' is invalid: %v (Sluice uses RE2 syntax: no backreferences or lookarounds)", p, err)
			}
		}
	}
	// Compile for the engine. A fetch or converter Sluice cannot evaluate
	// yet is kept as Err and refused only where a running rule uses it.
	a.Expr, a.Err = acl.Compile(acl.Spec{Criterion: a.Criterion, Args: a.Args, Converter: a.Converter,
		Flags: a.Flags, Patterns: a.Patterns}, acl.Options{ReadFile: c.l.opt.ReadFile, NoResolve: c.l.opt.NoResolve})
	if a.Err != nil && !errors.Is(a.Err, acl.ErrNotSupported) {
		return nil, a.Err
	}
	return a, nil
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// checkIPPattern accepts an address or CIDR block. Words with letters are
// host names, which HAProxy resolves at load; numeric words must parse.
func checkIPPattern(p string) error {
	addr, _, _ := strings.Cut(p, "/")
	if strings.IndexFunc(addr, func(r rune) bool { return r >= 'g' && r <= 'z' || r >= 'G' && r <= 'Z' }) >= 0 {
		return nil
	}
	if _, err := netip.ParsePrefix(p); err == nil {
		return nil
	}
	if _, err := netip.ParseAddr(addr); err == nil && !strings.Contains(p, "/") {
		return nil
	}
	// HAProxy also takes dotted netmasks: 10.0.0.0/255.0.0.0.
	if a, m, ok := strings.Cut(p, "/"); ok {
		if _, err := netip.ParseAddr(a); err == nil {
			if _, err := netip.ParseAddr(m); err == nil {
				return nil
			}
		}
	}
	return fmt.Errorf("'%s' is not a valid IPv4 or IPv6 address", p)
}

func checkPatternFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("failed to open pattern file <%s>", path)
	}
	return f.Close()
}

// parseCond parses `if|unless <condition>` starting at word i. what names
// the rule in HAProxy's message ("switching rule").
func (c *ctx) parseCond(i int, what string) (*Cond, bool) {
	kw := c.arg(i)
	if kw != "if" && kw != "unless" {
		c.alertf("error detected while parsing %s : expects 'if' or 'unless' followed by a condition but found '%s'.", what, kw)
		return nil, false
	}
	words := c.args(i + 1)
	cond := &Cond{Pos: c.pos, Unless: kw == "unless"}
	term := []CondTerm{}
	for j := 0; j < len(words); j++ {
		w := words[j]
		neg := false
		if w == "or" || w == "||" {
			// As HAProxy's parse_acl_cond: an 'or' with nothing before
			// it starts no empty suite.
			if len(term) > 0 {
				cond.Terms = append(cond.Terms, term)
			}
			term = []CondTerm{}
			continue
		}
		for strings.HasPrefix(w, "!") {
			neg = !neg
			w = w[1:]
		}
		if w == "" && j+1 < len(words) {
			j++
			w = words[j]
		}
		if w == "" {
			break // a lone '!' at the end names nothing, as in HAProxy
		}
		if w == "{" {
			end := j + 1
			for end < len(words) && words[end] != "}" {
				end++
			}
			if end >= len(words) {
				c.alertf("error detected while parsing %s : missing closing '}' in condition.", what)
				return nil, false
			}
			a, err := c.buildACL(words[j+1 : end])
			if err != nil {
				c.alertf("error detected while parsing %s : %v.", what, err)
				return nil, false
			}
			a.Pos = c.pos
			term = append(term, CondTerm{Neg: neg, Anon: a})
			j = end
			continue
		}
		if !c.aclDefined(w) {
			c.alertf("error detected while parsing %s : no such ACL : '%s'.", what, w)
			return nil, false
		}
		term = append(term, CondTerm{Neg: neg, Name: w})
	}
	if len(term) > 0 {
		cond.Terms = append(cond.Terms, term)
	}
	if len(cond.Terms) == 0 {
		// HAProxy accepts it silently: no suite, so 'if' never holds and
		// 'unless' always does. Sluice says so.
		applies := "never applies"
		if cond.Unless {
			applies = "always applies"
		}
		c.warnf("%s has no condition after '%s': it %s (HAProxy accepts it so).", what, kw, applies)
	}
	return cond, true
}

// aclDefined: HAProxy resolves ACL names when the rule is read, so an ACL
// must be declared before the rules that use it.
func (c *ctx) aclDefined(name string) bool {
	if _, ok := sample.Predefined[name]; ok {
		return true
	}
	for _, a := range c.proxy.ACLs {
		if a.Name == name {
			return true
		}
	}
	return false
}
