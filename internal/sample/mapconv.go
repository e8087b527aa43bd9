package sample

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Map converters after HAProxy 2.6's src/map.c and src/pattern.c:
// map_<match>[_<output>](file[,default]). The file is read when the
// configuration is compiled; lookups allocate nothing.

// mapMatch is how a map compares its keys with the sample.
type mapMatch uint8

const (
	mapStr mapMatch = iota
	mapBeg
	mapSub
	mapDir
	mapDom
	mapEnd
	mapReg
	mapInt
	mapIP
)

func init() {
	matches := map[string]mapMatch{"str": mapStr, "beg": mapBeg, "sub": mapSub, "dir": mapDir,
		"dom": mapDom, "end": mapEnd, "reg": mapReg, "int": mapInt, "ip": mapIP}
	outs := map[string]Type{"": Str, "_int": Int, "_ip": IP}
	for mname, m := range matches {
		in := Str
		switch m {
		case mapInt:
			in = Int
		case mapIP:
			in = IP
		}
		for suffix, out := range outs {
			name := "map_" + mname + suffix
			converters[name] = &converter{in: in, out: out, min: 1, max: 2, parse: mapArgs(m, out), fn: convMap}
		}
	}
	converters["map"] = &converter{in: Str, out: Str, min: 1, max: 2, parse: mapArgs(mapStr, Str), fn: convMap}
}

// mapFile is a loaded map: its entries in file order and the indexes
// the tree-based matches of HAProxy use.
type mapFile struct {
	match   mapMatch
	out     Type
	entries []mapEntry
	// exact: map_str and map_beg keys to their first entry; lens: the
	// distinct key lengths, longest first, for map_beg's longest prefix.
	exact map[string]int
	lens  []int
	// nets4, nets6: map_ip blocks by prefix length, longest first.
	nets4, nets6 []netTable
	// defVal is the converter's default value; nil without one.
	defVal *Value
}

type netTable struct {
	bits int
	nets map[netip.Prefix]int
}

type mapEntry struct {
	key    []byte
	lo, hi int64
	re     *regexp.Regexp
	val    Value
}

// mapArgs loads the file named by the first argument and reads the
// default value, typed as the output.
func mapArgs(m mapMatch, out Type) func([]string) ([]Arg, error) {
	return func(w []string) ([]Arg, error) {
		mf, err := loadMap(w[0], m, out)
		if err != nil {
			return nil, err
		}
		args := []Arg{{Str: w[0], m: mf}}
		if len(w) == 2 {
			def, err := parseMapValue(w[1], out)
			if err != nil {
				if out == IP {
					return nil, fmt.Errorf("map: cannot parse default ip <%s>", w[1])
				}
				return nil, fmt.Errorf("failed to parse '%s' as type 'integer'", w[1])
			}
			mf.defVal = &def
			args = append(args, Arg{Str: w[1]})
		}
		return args, nil
	}
}

// loadMap reads a map file as pat_ref_read_from_file_smp does: a key
// up to the first blank, then the value up to the end of line without
// trailing blanks; lines starting with '#' and blank lines are skipped.
func loadMap(path string, m mapMatch, out Type) (*mapFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open pattern file <%s>", path)
	}
	mf := &mapFile{match: m, out: out}
	line := 0
	for len(data) > 0 {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		line++
		if len(l) > 0 && l[0] == '#' {
			continue
		}
		i := 0
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		if i == len(l) || l[i] == '\r' || l[i] == 0 {
			continue
		}
		ks := i
		for i < len(l) && l[i] != ' ' && l[i] != '\t' && l[i] != '\r' && l[i] != 0 {
			i++
		}
		key := l[ks:i]
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		vs := i
		for i < len(l) && l[i] != '\r' && l[i] != 0 {
			i++
		}
		ve := i
		for ve > vs && (l[ve-1] == ' ' || l[ve-1] == '\t') {
			ve--
		}
		if err := mf.add(string(key), string(l[vs:ve])); err != nil {
			return nil, fmt.Errorf("%v at line %d of file '%s'", err, line, path)
		}
	}
	mf.index()
	return mf, nil
}

// parseMapValue reads a value as the map's output type.
func parseMapValue(s string, out Type) (Value, error) {
	switch out {
	case Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return Value{}, fmt.Errorf("unable to parse '%s'", s)
		}
		return Value{Type: Int, Int: n}, nil
	case IP:
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return Value{}, fmt.Errorf("unable to parse '%s'", s)
		}
		return Value{Type: IP, IP: a}, nil
	}
	return Value{Type: Str, Bytes: []byte(s)}, nil
}

func (mf *mapFile) add(key, val string) error {
	e := mapEntry{key: []byte(key)}
	switch mf.match {
	case mapInt:
		r, err := parseMapIntKey(key)
		if err != nil {
			return err
		}
		e.lo, e.hi = r[0], r[1]
	case mapIP:
		p, err := parseMapIPKey(key)
		if err != nil {
			return err
		}
		e.lo = int64(len(mf.entries))
		mf.addNet(p)
	case mapReg:
		re, err := regexp.Compile(key)
		if err != nil {
			return fmt.Errorf("regex '%s' is invalid: %v (Sluice uses RE2 syntax: no backreferences or lookarounds)", key, err)
		}
		e.re = re
	}
	v, err := parseMapValue(val, mf.out)
	if err != nil {
		return err
	}
	e.val = v
	mf.entries = append(mf.entries, e)
	return nil
}

// parseMapIntKey reads "N", "N:M", ":M" or "N:".
func parseMapIntKey(k string) ([2]int64, error) {
	r := [2]int64{-1 << 63, 1<<63 - 1}
	bad := fmt.Errorf("'%s' is not a number", k)
	a, b, rng := strings.Cut(k, ":")
	var err error
	if a != "" {
		if r[0], err = strconv.ParseInt(a, 10, 64); err != nil {
			return r, bad
		}
	}
	if !rng {
		if a == "" {
			return r, bad
		}
		r[1] = r[0]
		return r, nil
	}
	if b != "" {
		if r[1], err = strconv.ParseInt(b, 10, 64); err != nil {
			return r, bad
		}
	}
	return r, nil
}

// parseMapIPKey reads an address or block; maps never resolve names.
func parseMapIPKey(k string) (netip.Prefix, error) {
	bad := fmt.Errorf("'%s' is not a valid IPv4 or IPv6 address", k)
	if p, err := netip.ParsePrefix(k); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(k); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	if a, m, ok := strings.Cut(k, "/"); ok {
		ip, err1 := netip.ParseAddr(a)
		mask, err2 := netip.ParseAddr(m)
		if err1 == nil && err2 == nil && ip.Is4() && mask.Is4() {
			if bits, err := contiguousOnes(mask.AsSlice()); err == nil {
				return netip.PrefixFrom(ip, bits).Masked(), nil
			}
		}
	}
	return netip.Prefix{}, bad
}

func (mf *mapFile) addNet(p netip.Prefix) {
	tabs := &mf.nets4
	if p.Addr().Is6() {
		tabs = &mf.nets6
	}
	idx := len(mf.entries)
	for i := range *tabs {
		if (*tabs)[i].bits == p.Bits() {
			if _, dup := (*tabs)[i].nets[p]; !dup {
				(*tabs)[i].nets[p] = idx
			}
			return
		}
	}
	*tabs = append(*tabs, netTable{bits: p.Bits(), nets: map[netip.Prefix]int{p: idx}})
}

// index builds the lookup structures once every entry is read.
func (mf *mapFile) index() {
	sort.Slice(mf.nets4, func(i, j int) bool { return mf.nets4[i].bits > mf.nets4[j].bits })
	sort.Slice(mf.nets6, func(i, j int) bool { return mf.nets6[i].bits > mf.nets6[j].bits })
	if mf.match != mapStr && mf.match != mapBeg {
		return
	}
	mf.exact = make(map[string]int, len(mf.entries))
	seen := map[int]bool{}
	for i, e := range mf.entries {
		if _, dup := mf.exact[string(e.key)]; !dup {
			mf.exact[string(e.key)] = i
		}
		if !seen[len(e.key)] {
			seen[len(e.key)] = true
			mf.lens = append(mf.lens, len(e.key))
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(mf.lens)))
}

// lookup finds the entry the sample selects, or -1.
func (mf *mapFile) lookup(v *Value) int {
	switch mf.match {
	case mapStr:
		if i, ok := mf.exact[string(v.Bytes)]; ok {
			return i
		}
	case mapBeg:
		// HAProxy's prefix tree: the longest key the sample starts with.
		for _, n := range mf.lens {
			if n <= len(v.Bytes) {
				if i, ok := mf.exact[string(v.Bytes[:n])]; ok {
					return i
				}
			}
		}
	case mapInt:
		for i := range mf.entries {
			if e := &mf.entries[i]; v.Int >= e.lo && v.Int <= e.hi {
				return i
			}
		}
	case mapIP:
		return mf.lookupIP(v.IP)
	case mapReg:
		for i := range mf.entries {
			if mf.entries[i].re.Match(v.Bytes) {
				return i
			}
		}
	default:
		for i := range mf.entries {
			if mf.matchList(v.Bytes, mf.entries[i].key) {
				return i
			}
		}
	}
	return -1
}

func (mf *mapFile) matchList(s, key []byte) bool {
	switch mf.match {
	case mapSub:
		return bytes.Contains(s, key)
	case mapEnd:
		return bytes.HasSuffix(s, key)
	case mapDir:
		return matchWord(s, key, "/?")
	case mapDom:
		return matchWord(s, key, "/?.:")
	}
	return false
}

// lookupIP is pat_match_ip's tree lookups: the longest block holding
// the address, IPv4 ones first for an IPv4 address and then IPv6 ones
// against its mapped form; for IPv6 the converse, through the mapped,
// compatible or 6to4 IPv4 address.
func (mf *mapFile) lookupIP(a netip.Addr) int {
	if a.Is4() {
		if i := longest(mf.nets4, a); i >= 0 {
			return i
		}
		return longest(mf.nets6, netip.AddrFrom16(a.As16()))
	}
	if i := longest(mf.nets6, a); i >= 0 {
		return i
	}
	b := a.As16()
	zero8 := b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] == 0
	w8 := [4]byte{b[8], b[9], b[10], b[11]}
	switch {
	case zero8 && (w8 == [4]byte{} || w8 == [4]byte{0, 0, 0xff, 0xff}):
		return longest(mf.nets4, netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case b[0] == 0x20 && b[1] == 0x02:
		return longest(mf.nets4, netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	return -1
}

func longest(tabs []netTable, a netip.Addr) int {
	for _, t := range tabs {
		p, err := a.Prefix(t.bits)
		if err != nil {
			continue
		}
		if i, ok := t.nets[p]; ok {
			return i
		}
	}
	return -1
}

// convMap replaces the sample by the value of the entry it selects, or
// by the default; without either the conversion fails.
func convMap(c *Ctx, a []Arg, v *Value) bool {
	mf := a[0].m
	i := mf.lookup(v)
	if i < 0 {
		if mf.defVal == nil {
			return false
		}
		*v = *mf.defVal
		return true
	}
	*v = mf.entries[i].val
	return true
}

// matchWord finds pat in s as a whole word between delimiters, ignoring
// delimiters at the pattern's ends (HAProxy's match_word), case-sensitively.
func matchWord(s, pat []byte, delims string) bool {
	for len(pat) > 0 && isDelimIn(pat[0], delims) {
		pat = pat[1:]
	}
	for len(pat) > 0 && isDelimIn(pat[len(pat)-1], delims) {
		pat = pat[:len(pat)-1]
	}
	if len(pat) == 0 {
		return true
	}
	mayMatch := true
	for i := 0; i+len(pat) <= len(s); i++ {
		if isDelimIn(s[i], delims) {
			mayMatch = true
			continue
		}
		if !mayMatch {
			continue
		}
		if bytes.Equal(s[i:i+len(pat)], pat) && (i+len(pat) == len(s) || isDelimIn(s[i+len(pat)], delims)) {
			return true
		}
		mayMatch = false
	}
	return false
}
