package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// errEmptyValue is returned by the value parsers for an empty string.
var errEmptyValue = errors.New("empty value")

// ParseTime parses an HAProxy time value: an unsigned integer followed by an
// optional unit (us, ms, s, m, h, d); the default unit is the millisecond.
// The error names the offending character the way HAProxy does.
func ParseTime(s string) (time.Duration, error) {
	return parseTimeUnit(s, time.Millisecond)
}

func parseTimeUnit(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return 0, errEmptyValue
	}
	i := 0
	var n uint64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + uint64(s[i]-'0')
		if n > math.MaxInt32*uint64(1000) {
			return 0, fmt.Errorf("timer overflow in argument '%s' (maximum value is 2147483647 ms or ~24.8 days)", s)
		}
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("unexpected character '%c'", s[0])
	}
	unit := def
	switch rest := s[i:]; rest {
	case "":
	case "us":
		unit = time.Microsecond
	case "ms":
		unit = time.Millisecond
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	case "d":
		unit = 24 * time.Hour
	default:
		bad := rest[0]
		if len(rest) > 1 && (rest[0] == 'm' || rest[0] == 'u') {
			bad = rest[1]
		}
		return 0, fmt.Errorf("unexpected character '%c'", bad)
	}
	d := time.Duration(n) * unit
	if d/time.Millisecond > math.MaxInt32 {
		return 0, fmt.Errorf("timer overflow in argument '%s' (maximum value is 2147483647 ms or ~24.8 days)", s)
	}
	return d, nil
}

// ParseSize parses a size with an optional k, m or g suffix (powers of 1024).
func ParseSize(s string) (int64, error) {
	if s == "" {
		return 0, errEmptyValue
	}
	i := 0
	var n int64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int64(s[i]-'0')
		if n > 1<<40 {
			return 0, fmt.Errorf("size '%s' is too large", s)
		}
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("unexpected character '%c'", s[0])
	}
	switch s[i:] {
	case "":
	case "k", "K":
		n <<= 10
	case "m", "M":
		n <<= 20
	case "g", "G":
		n <<= 30
	default:
		return 0, fmt.Errorf("unexpected character '%c'", s[i])
	}
	return n, nil
}

// atoi mimics C's atol as HAProxy uses it for many counters: leading digits
// are taken and anything after them ignored; no digits gives 0. HAProxy
// accepts "maxconn abc" as 0 this way; Sluice keeps that behaviour where
// HAProxy does so configurations that HAProxy accepts keep working, and the
// keyword's parser warns when the text was not a clean number.
func atoi(s string) (n int, clean bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if n < math.MaxInt32 {
			n = n*10 + int(s[i]-'0')
		}
		i++
	}
	if neg {
		n = -n
	}
	return n, i == len(s) && i > start
}

// strictInt parses a whole decimal integer within [lo, hi].
func strictInt(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("'%s' is not a valid integer", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("value %d out of range [%d..%d]", n, lo, hi)
	}
	return n, nil
}

func errf(format string, a ...any) error { return fmt.Errorf(format, a...) }
