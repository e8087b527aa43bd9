package cfgsyntax

import (
	"math"
	"strings"
)

// digitVal returns the value of an ASCII digit or letter, or 99.
func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'z':
		return int(c|0x20-'a') + 10
	}
	return 99
}

// strtolBase0 mimics C's strtol(s+i, &end, 0) as far as conditions need:
// where the number ends (i itself when there is none) and whether it is
// non-zero. Blanks, a sign, and 0x/0 prefixes are accepted as in C.
func strtolBase0(s string, i int) (end int, nonzero bool) {
	j := i
	for j < len(s) && isCSpace(s[j]) {
		j++
	}
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	base := 10
	if j < len(s) && s[j] == '0' {
		base = 8
		if j+2 < len(s) && s[j+1]|0x20 == 'x' && isHex(s[j+2]) {
			base = 16
			j += 2
		}
	}
	start := j
	for j < len(s) && digitVal(s[j]) < base {
		nonzero = nonzero || s[j] != '0'
		j++
	}
	if j == start {
		return i, false
	}
	return j, nonzero
}

// strtol10 mimics C's strtol(s+i, &end, 10), clamping on overflow.
func strtol10(s string, i int) (val int64, end int) {
	j := i
	for j < len(s) && isCSpace(s[j]) {
		j++
	}
	neg := false
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		neg = s[j] == '-'
		j++
	}
	start := j
	var v uint64
	for ; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		if v > math.MaxInt64/10 {
			v = math.MaxInt64 + 1 // overflowed: C clamps
			continue
		}
		v = v*10 + uint64(s[j]-'0')
	}
	if j == start {
		return 0, i
	}
	switch {
	case neg && v > math.MaxInt64:
		return math.MinInt64, j
	case v > math.MaxInt64:
		return math.MaxInt64, j
	case neg:
		return -int64(v), j
	}
	return int64(v), j
}

// splitVersion is HAProxy's split_version(): it turns
// "<a>[.<b>[.<c>[.<d>]]][-{dev,pre,rc}<f>][-*][-<g>]" into 7 numbers.
func splitVersion(v string) (val [7]uint32, ok bool) {
	val[4] = 3
	if v == "" {
		return val, false
	}
	p := 0
	for idx := 0; idx < 4; idx++ {
		n, e := strtol10(v, p)
		val[idx] = uint32(n)
		p = e + 1
		switch {
		case e >= len(v):
			return val, true
		case v[e] == '-':
			return splitVersionTag(v, p, val)
		case v[e] != '.' || idx == 3:
			return val, false
		}
	}
	return val, false
}

// splitVersionTag parses what follows the first '-' of a version.
func splitVersionTag(v string, p int, val [7]uint32) ([7]uint32, bool) {
	if p < len(v) && v[p] >= '0' && v[p] <= '9' {
		return splitVersionCommit(v, p, val)
	}
	switch rest := v[p:]; {
	case strings.HasPrefix(rest, "dev"):
		val[4], p = 1, p+3
	case strings.HasPrefix(rest, "rc"):
		val[4], p = 2, p+2
	case strings.HasPrefix(rest, "pre"):
		val[4], p = 2, p+3
	default:
		return splitVersionCommit(v, p, val)
	}
	n, e := strtol10(v, p)
	val[5] = uint32(n)
	if e >= len(v) {
		return val, true
	}
	if v[e] != '-' {
		return val, false
	}
	return splitVersionCommit(v, e+1, val)
}

// splitVersionCommit reads the commit count after the last '-'.
func splitVersionCommit(v string, p int, val [7]uint32) ([7]uint32, bool) {
	s := p
	if k := strings.LastIndexByte(v[p:], '-'); k >= 0 {
		s = p + k + 1
		if s >= len(v) {
			return val, false
		}
	}
	n, e := strtol10(v, s)
	val[6] = 0
	if e >= len(v) {
		val[6] = uint32(n)
	}
	return val, true
}

// compareVersion is compare_current_version(): -1 when want is older than
// cur, 0 when equal, 1 when newer, -2/-3 when cur/want cannot be parsed
// (which makes version_atleast() true and version_before() false).
func compareVersion(cur, want string) int {
	loc, ok := splitVersion(cur)
	if !ok {
		return -2
	}
	mod, ok := splitVersion(want)
	if !ok {
		return -3
	}
	for i := range loc {
		if mod[i] < loc[i] {
			return -1
		} else if mod[i] > loc[i] {
			return 1
		}
	}
	return 0
}

// opensslVersion is openssl_version_parser(): "1.1.1w", "3.0.0-beta2"...
// into OpenSSL's MNNFFPPS number.
func opensslVersion(v string) (uint32, bool) {
	var n [3]int64
	limits := [3]int64{0xf, 0xff, 0xff}
	p := 0
	for k := range n {
		var e int
		n[k], e = strtol10(v, p)
		if (k < 2 && (e >= len(v) || v[e] != '.')) || n[k] < 0 || n[k] > limits[k] {
			return 0, false
		}
		p = e + 1
		if k == 2 {
			p = e
		}
	}
	var patch, status uint32 = 0, 0xf
	switch rest := v[p:]; {
	case rest == "":
	case rest[0] == '-':
		status = 0
		if strings.HasPrefix(rest[1:], "beta") {
			b, _ := strtol10(rest, 5)
			if b < 0 || b > 14 {
				return 0, false
			}
			status = uint32(b)
		}
	default:
		patch = 1
		for i := 0; i < len(rest); i++ {
			patch += uint32(rest[i]&^0x20) - 'A'
		}
	}
	return uint32(n[0])<<28 | uint32(n[1])<<20 | uint32(n[2])<<12 | (patch&0xff)<<4 | status, true
}
