// Package crypt verifies passwords against crypt(3) hashes, as HAProxy's
// userlist `password` does through the C library: the MD5 ($1$), SHA-256
// ($5$) and SHA-512 ($6$) schemes, written after Ulrich Drepper's
// "Unix crypt using SHA-256 and SHA-512" and Poul-Henning Kamp's MD5
// crypt. Pure Go, no cgo; other schemes are reported as unsupported so
// that a configuration using them is refused at load.
package crypt

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// ErrUnsupported marks a hash whose scheme this package cannot compute.
var ErrUnsupported = errors.New("unsupported crypt(3) scheme")

// ErrSetting marks a hash of a supported scheme whose parameters or salt
// crypt(3) refuses (it answers "*0": no password ever matches).
var ErrSetting = errors.New("invalid crypt(3) setting")

// Check reports whether hash names a scheme Verify can compute, with a
// setting crypt(3) accepts.
func Check(hash string) error {
	switch {
	case strings.HasPrefix(hash, "$1$"), strings.HasPrefix(hash, "$5$"), strings.HasPrefix(hash, "$6$"):
		_, err := Crypt("", hash)
		return err
	}
	scheme := "DES"
	if strings.HasPrefix(hash, "$") {
		if i := strings.IndexByte(hash[1:], '$'); i >= 0 {
			scheme = hash[:i+2]
		} else {
			scheme = hash
		}
	}
	return fmt.Errorf("%w '%s'", ErrUnsupported, scheme)
}

// Crypt is crypt(3) for the supported schemes: the hash of password with
// the setting (scheme, parameters and salt) taken from setting, which may
// be a whole hash.
func Crypt(password, setting string) (string, error) {
	if len(setting) < 3 || setting[0] != '$' || setting[2] != '$' || !strings.ContainsRune("156", rune(setting[1])) {
		return "", Check(setting)
	}
	switch setting[:3] {
	case "$1$":
		salt, ok := saltOf(setting[3:], 8)
		if !ok {
			return "", fmt.Errorf("%w '%s'", ErrSetting, setting)
		}
		return md5Crypt([]byte(password), salt), nil
	}
	rest, rounds, custom, ok := roundsOf(setting[3:])
	salt, ok2 := saltOf(rest, 16)
	if !ok || !ok2 {
		return "", fmt.Errorf("%w '%s'", ErrSetting, setting)
	}
	if setting[1] == '5' {
		return shaCrypt([]byte(password), salt, rounds, custom, "$5$", sha256.New, sha256Perm), nil
	}
	return shaCrypt([]byte(password), salt, rounds, custom, "$6$", sha512.New, sha512Perm), nil
}

// saltOf is the salt at the start of s, up to a '$' and at most max
// bytes; libxcrypt refuses a salt holding ':' or a newline.
func saltOf(s string, max int) (string, bool) {
	n := strings.IndexAny(s, "$:\n")
	if n < 0 {
		n = len(s)
	} else if s[n] != '$' {
		return "", false
	}
	return s[:min(n, max)], true
}

// roundsOf reads SHA-crypt's optional "rounds=N$": N without leading
// zeros, within libxcrypt's bounds.
func roundsOf(s string) (rest string, rounds int, custom, ok bool) {
	r, found := strings.CutPrefix(s, "rounds=")
	if !found {
		return s, roundsDefault, false, true
	}
	i := strings.IndexByte(r, '$')
	if i <= 0 || r[0] < '1' || r[0] > '9' {
		return "", 0, false, false
	}
	n, err := strconv.ParseUint(r[:i], 10, 64)
	if err != nil || n < roundsMin || n > roundsMax {
		return "", 0, false, false
	}
	return r[i+1:], int(n), true, true
}

// Verify reports whether password hashes to hash, compared as HAProxy
// compares crypt(3)'s result: the whole string.
func Verify(password, hash string) bool {
	got, err := Crypt(password, hash)
	return err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// b64 appends n characters of the 24-bit value b2 b1 b0, low bits first.
func b64(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
	for ; n > 0; n-- {
		dst = append(dst, itoa64[w&0x3f])
		w >>= 6
	}
	return dst
}

// Byte orders of the final encoding: triples, then the last bytes.
var (
	sha512Perm = [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48},
		{28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
		{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}}
	sha256Perm = [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14}, {15, 25, 5}, {6, 16, 26},
		{27, 7, 17}, {18, 28, 8}, {9, 19, 29}}
)

const (
	roundsDefault = 5000
	roundsMin     = 1000
	roundsMax     = 999999999
)

// shaCrypt is the SHA-crypt algorithm with a checked salt and rounds.
func shaCrypt(pw []byte, salt string, rounds int, custom bool, prefix string, newHash func() hash.Hash, perm [][3]int) string {
	s := []byte(salt)
	h := newHash()
	size := h.Size()
	h.Write(pw)
	h.Write(s)
	h.Write(pw)
	b := h.Sum(nil)
	h.Reset()
	h.Write(pw)
	h.Write(s)
	for n := len(pw); n > 0; n -= size {
		h.Write(b[:min(n, size)])
	}
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(pw)
		}
	}
	a := h.Sum(nil)
	h.Reset()
	for range pw {
		h.Write(pw)
	}
	p := repeatTo(h.Sum(nil), len(pw))
	h.Reset()
	for i := 0; i < 16+int(a[0]); i++ {
		h.Write(s)
	}
	ss := repeatTo(h.Sum(nil), len(s))
	c := a
	for i := 0; i < rounds; i++ {
		c = round(h, i, p, c, ss)
	}
	out := []byte(prefix)
	if custom {
		out = append(out, "rounds="+strconv.Itoa(rounds)+"$"...)
	}
	out = append(out, s...)
	out = append(out, '$')
	for _, t := range perm {
		out = b64(out, c[t[0]], c[t[1]], c[t[2]], 4)
	}
	if size == 64 {
		out = b64(out, 0, 0, c[63], 2)
	} else {
		out = b64(out, 0, c[31], c[30], 3)
	}
	return string(out)
}

// round is step i of the MD5 and SHA crypt loops: the digest c mixed
// with the password bytes p and the salt bytes s, in an order i decides.
func round(h hash.Hash, i int, p, c, s []byte) []byte {
	h.Reset()
	if i&1 != 0 {
		h.Write(p)
	} else {
		h.Write(c)
	}
	if i%3 != 0 {
		h.Write(s)
	}
	if i%7 != 0 {
		h.Write(p)
	}
	if i&1 != 0 {
		h.Write(c)
	} else {
		h.Write(p)
	}
	return h.Sum(c[:0])
}

// repeatTo is digest repeated to n bytes.
func repeatTo(digest []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, digest[:min(len(digest), n-len(out))]...)
	}
	return out
}

// md5Crypt is the "$1$" scheme with a checked salt.
func md5Crypt(pw []byte, salt string) string {
	s := []byte(salt)
	h := md5.New()
	h.Write(pw)
	h.Write(s)
	h.Write(pw)
	fin := h.Sum(nil)
	h.Reset()
	h.Write(pw)
	h.Write([]byte("$1$"))
	h.Write(s)
	for n := len(pw); n > 0; n -= 16 {
		h.Write(fin[:min(n, 16)])
	}
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(pw[:1])
		}
	}
	fin = h.Sum(nil)
	for i := 0; i < 1000; i++ {
		fin = round(h, i, pw, fin, s)
	}
	out := append([]byte("$1$"), s...)
	out = append(out, '$')
	for _, t := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = b64(out, fin[t[0]], fin[t[1]], fin[t[2]], 4)
	}
	return string(b64(out, 0, 0, fin[11], 2))
}
