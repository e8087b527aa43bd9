package acl

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"sluice/internal/sample"
)

// Match is a pattern-matching method, HAProxy's -m argument.
type Match uint8

// Matching methods.
const (
	MatchFound Match = iota
	MatchBool
	MatchInt
	MatchIP
	MatchBin
	MatchLen
	MatchStr
	MatchSub
	MatchReg
	MatchBeg
	MatchEnd
	MatchDir
	MatchDom
	// MatchMeth is the method keyword's own matching: a well-known
	// method (GET, POST ...) only matches itself, exactly; another
	// word compares as a string, -i applying.
	MatchMeth
	// MatchAuth is http_auth_group's matching (pat_match_auth): the
	// user the sample names belongs to one of the pattern groups of the
	// userlist the fetch names.
	MatchAuth
)

var matchNames = map[string]Match{"found": MatchFound, "bool": MatchBool, "int": MatchInt,
	"ip": MatchIP, "bin": MatchBin, "len": MatchLen, "str": MatchStr, "sub": MatchSub,
	"reg": MatchReg, "beg": MatchBeg, "end": MatchEnd, "dir": MatchDir, "dom": MatchDom}

// defaultMatch is the method a fetch's output type implies.
func defaultMatch(t sample.Type) Match {
	switch t {
	case sample.Bool:
		return MatchBool
	case sample.Int:
		return MatchInt
	case sample.IP:
		return MatchIP
	case sample.Bin:
		return MatchBin
	case sample.Meth:
		return MatchMeth
	}
	return MatchStr
}

// patterns holds one expression's compiled patterns.
type patterns struct {
	match Match
	icase bool
	// authList is the userlist of a MatchAuth expression.
	authList string
	ints     []intRange
	nets     []netip.Prefix
	strs     [][]byte
	regs     []*regexp.Regexp
}

// intRange is an inclusive range; open ends are the extreme values.
type intRange struct{ lo, hi int64 }

// operator words that prefix integer patterns.
var operators = map[string]bool{"eq": true, "ge": true, "gt": true, "le": true, "lt": true}

// add compiles one pattern word; op is the current integer operator.
func (p *patterns) add(w, op string, resolve bool) error {
	switch p.match {
	case MatchFound, MatchBool:
		return fmt.Errorf("match method '%s' does not take patterns (got '%s')", nameOf(p.match), w)
	case MatchInt, MatchLen:
		r, err := parseIntRange(w, op)
		if err != nil {
			return err
		}
		p.ints = append(p.ints, r)
	case MatchIP:
		pfx, err := parseNet(w, resolve)
		if err != nil {
			return err
		}
		p.nets = append(p.nets, pfx...)
	case MatchBin:
		b, err := hex.DecodeString(w)
		if err != nil {
			return fmt.Errorf("'%s' is not a valid hex string", w)
		}
		p.strs = append(p.strs, b)
	case MatchReg:
		expr := w
		if p.icase {
			expr = "(?i)" + w
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return fmt.Errorf("regex '%s' is invalid: %v (Sluice uses RE2 syntax: no backreferences or lookarounds)", w, err)
		}
		p.regs = append(p.regs, re)
	default:
		p.strs = append(p.strs, []byte(w))
	}
	return nil
}

func nameOf(m Match) string {
	for n, v := range matchNames {
		if v == m {
			return n
		}
	}
	return "?"
}

// parseIntRange reads "N", "N:M", ":M", "N:" under an operator.
func parseIntRange(w, op string) (intRange, error) {
	const lo, hi = -1 << 63, 1<<63 - 1
	bad := fmt.Errorf("'%s' is not a number", w)
	if a, b, ok := strings.Cut(w, ":"); ok && op == "" {
		r := intRange{lo, hi}
		var err error
		if a != "" {
			if r.lo, err = strconv.ParseInt(a, 10, 64); err != nil {
				return r, bad
			}
		}
		if b != "" {
			if r.hi, err = strconv.ParseInt(b, 10, 64); err != nil {
				return r, bad
			}
		}
		return r, nil
	}
	n, err := strconv.ParseInt(w, 10, 64)
	if err != nil {
		return intRange{}, bad
	}
	switch op {
	case "gt":
		return intRange{n + 1, hi}, nil
	case "ge":
		return intRange{n, hi}, nil
	case "lt":
		return intRange{lo, n - 1}, nil
	case "le":
		return intRange{lo, n}, nil
	}
	return intRange{n, n}, nil
}

// parseNet reads an address, a CIDR block (bits or dotted mask) or, as
// HAProxy does at load, a host name resolved to its addresses.
func parseNet(w string, resolve bool) ([]netip.Prefix, error) {
	if p, err := netip.ParsePrefix(w); err == nil {
		return []netip.Prefix{p.Masked()}, nil
	}
	if a, err := netip.ParseAddr(w); err == nil {
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if a, m, ok := strings.Cut(w, "/"); ok {
		ip, err1 := netip.ParseAddr(a)
		mask, err2 := netip.ParseAddr(m)
		if err1 == nil && err2 == nil && ip.Is4() && mask.Is4() {
			ones, bits := net.IPMask(mask.AsSlice()).Size()
			if bits != 0 {
				return []netip.Prefix{netip.PrefixFrom(ip, ones).Masked()}, nil
			}
		}
		return nil, fmt.Errorf("'%s' is not a valid IPv4 or IPv6 address", w)
	}
	if !resolve || strings.IndexFunc(w, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) < 0 {
		return nil, fmt.Errorf("'%s' is not a valid IPv4 or IPv6 address", w)
	}
	addrs, err := net.LookupHost(w)
	if err != nil || len(addrs) == 0 {
		return nil, fmt.Errorf("'%s' is not a valid IPv4 or IPv6 address", w)
	}
	var out []netip.Prefix
	for _, s := range addrs {
		if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

// matchValue reports whether v matches any pattern.
func (p *patterns) matchValue(c *sample.Ctx, v *sample.Value) bool {
	switch p.match {
	case MatchFound:
		return true
	case MatchBool:
		n, _ := v.AsInt()
		return n != 0
	case MatchInt:
		n, ok := v.AsInt()
		return ok && p.inRanges(n)
	case MatchLen:
		return p.inRanges(int64(len(textOf(v))))
	case MatchIP:
		a, ok := v.AsIP()
		return ok && p.inNets(a)
	case MatchMeth:
		for _, pat := range p.strs {
			if matchMeth(v.Bytes, pat, p.icase) {
				return true
			}
		}
		return false
	case MatchAuth:
		if c.Env == nil || c.Env.Userlists == nil {
			return false
		}
		for _, g := range p.strs {
			if c.Env.Userlists.InGroup(p.authList, string(v.Bytes), string(g)) {
				return true
			}
		}
		return false
	case MatchReg:
		s := textOf(v)
		for _, re := range p.regs {
			if re.Match(s) {
				return true
			}
		}
		return false
	}
	s := textOf(v)
	for _, pat := range p.strs {
		if p.matchStr(s, pat) {
			return true
		}
	}
	return false
}

// textOf is a value's text; numbers and addresses are rendered into a
// small stack-free buffer the caller does not keep.
func textOf(v *sample.Value) []byte {
	if v.Type == sample.Str || v.Type == sample.Bin || v.Type == sample.Meth {
		return v.Bytes
	}
	return v.AsString(nil)
}

func (p *patterns) inRanges(n int64) bool {
	for _, r := range p.ints {
		if n >= r.lo && n <= r.hi {
			return true
		}
	}
	return false
}

// inNets matches an address against IPv4 and IPv6 blocks alike: an IPv4
// client matches ::ffff:a.b.c.d blocks and a mapped IPv6 one IPv4 blocks,
// as HAProxy's pat_match_ip does.
func (p *patterns) inNets(a netip.Addr) bool {
	u := a.Unmap()
	m := netip.AddrFrom16(u.As16())
	for _, n := range p.nets {
		if n.Contains(u) || (u.Is4() && n.Contains(m)) {
			return true
		}
	}
	return false
}

func (p *patterns) matchStr(s, pat []byte) bool {
	eq := bytes.Equal
	has := bytes.HasPrefix
	if p.icase {
		eq = bytes.EqualFold
		has = func(s, pre []byte) bool { return len(s) >= len(pre) && bytes.EqualFold(s[:len(pre)], pre) }
	}
	switch p.match {
	case MatchStr, MatchBin:
		return eq(s, pat)
	case MatchBeg:
		return has(s, pat)
	case MatchEnd:
		return len(s) >= len(pat) && eq(s[len(s)-len(pat):], pat)
	case MatchSub:
		for i := 0; i+len(pat) <= len(s); i++ {
			if has(s[i:], pat) {
				return true
			}
		}
		return false
	case MatchDir:
		return matchWord(s, pat, "/?", p.icase)
	case MatchDom:
		return matchWord(s, pat, "/?.:", p.icase)
	}
	return false
}

// matchWord finds pat in s as a whole word between delimiters, ignoring
// delimiters at the pattern's ends (HAProxy's match_word).
func matchWord(s, pat []byte, delims string, icase bool) bool {
	isDelim := func(c byte) bool { return strings.IndexByte(delims, c) >= 0 }
	for len(pat) > 0 && isDelim(pat[0]) {
		pat = pat[1:]
	}
	for len(pat) > 0 && isDelim(pat[len(pat)-1]) {
		pat = pat[:len(pat)-1]
	}
	if len(pat) == 0 {
		return true
	}
	mayMatch := true
	for i := 0; i+len(pat) <= len(s); i++ {
		if isDelim(s[i]) {
			mayMatch = true
			continue
		}
		if !mayMatch {
			continue
		}
		w := s[i : i+len(pat)]
		if (icase && bytes.EqualFold(w, pat)) || (!icase && bytes.Equal(w, pat)) {
			if i+len(pat) == len(s) || isDelim(s[i+len(pat)]) {
				return true
			}
		}
		mayMatch = false
	}
	return false
}

// knownMethods are the methods HAProxy parses into its own enum
// (find_http_meth), case-sensitively.
var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "CONNECT": true,
	"PUT": true, "OPTIONS": true, "DELETE": true, "TRACE": true}

// matchMeth is HAProxy's pat_match_meth: a well-known pattern matches
// that method exactly, even under -i; any other pattern never matches a
// well-known method and compares with the method's text otherwise.
func matchMeth(m, pat []byte, icase bool) bool {
	if knownMethods[string(pat)] {
		return bytes.Equal(m, pat)
	}
	if knownMethods[string(m)] || len(m) != len(pat) {
		return false
	}
	if icase {
		return bytes.EqualFold(m, pat)
	}
	return bytes.Equal(m, pat)
}
