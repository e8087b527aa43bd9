package lb

import (
	"hash/crc32"
	"math/bits"
	"net/netip"
)

// FullHash is Bob Jenkins' full avalanche integer hash followed by a
// multiplication by a prime close to 3/4 of 2^32 (full_hash() in
// include/haproxy/hash.h). It is a bijection on uint32. HAProxy uses it for
// consistent-hash node keys and for the "avalanche" hash-type modifier.
func FullHash(a uint32) uint32 {
	a = (a + 0x7ed55d16) + (a << 12)
	a = (a ^ 0xc761c23c) ^ (a >> 19)
	a = (a + 0x165667b1) + (a << 5)
	a = (a + 0xd3a2646c) ^ (a << 9)
	a = (a + 0xfd7046c5) + (a << 3)
	a = (a ^ 0xb55a4f09) ^ (a >> 16)
	return a * 3221225473
}

// SourceHash computes the key "balance source" hashes on (get_server_sh()):
// the XOR of the address's big-endian 32-bit words (the IPv4 address itself
// as a number), optionally through FullHash for "hash-type ... avalanche".
// Note that HAProxy 2.6 ignores the hash function (sdbm, djb2...) here.
// avalanche must be true for "hash-type consistent" without a function
// (the manual: consistent uses sdbm and avalanche by default) and for an
// explicit "avalanche" modifier.
// An IPv6 address, IPv4-mapped ones included (IPv4 clients of a v4v6
// bind), hashes as the XOR of its four words, as HAProxy's get_server_sh
// does for AF_INET6.
func SourceHash(addr netip.Addr, avalanche bool) uint32 {
	var h uint32
	if addr.Is4() {
		a := addr.As4()
		h = uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	} else {
		a := addr.As16()
		for i := 0; i < 16; i += 4 {
			h ^= uint32(a[i])<<24 | uint32(a[i+1])<<16 | uint32(a[i+2])<<8 | uint32(a[i+3])
		}
	}
	if avalanche {
		h = FullHash(h)
	}
	return h
}

// HashFunc names HAProxy's "hash-type <method> <function>" functions used by
// gen_hash() for uri, url_param, hdr, rdp-cookie and hash balancing.
type HashFunc int

// Hash functions (hash.c).
const (
	SDBM HashFunc = iota // default
	DJB2
	WT6
	CRC32
)

// GenHash mirrors gen_hash(): it hashes data with f, then applies FullHash
// when avalanche is set (BE_LB_HMOD_AVAL), which is what uri/hdr/url_param
// balancing feed to Pick.
func GenHash(f HashFunc, data []byte, avalanche bool) uint32 {
	var h uint32
	switch f {
	case DJB2:
		h = HashDJB2(data)
	case WT6:
		h = HashWT6(data)
	case CRC32:
		h = HashCRC32(data)
	default:
		h = HashSDBM(data)
	}
	if avalanche {
		h = FullHash(h)
	}
	return h
}

// HashSDBM mirrors hash_sdbm().
func HashSDBM(data []byte) uint32 {
	var h uint32
	for _, c := range data {
		h = uint32(c) + (h << 6) + (h << 16) - h
	}
	return h
}

// HashDJB2 mirrors hash_djb2().
func HashDJB2(data []byte) uint32 {
	h := uint32(5381)
	for _, c := range data {
		h = (h << 5) + h + uint32(c)
	}
	return h
}

// HashWT6 mirrors hash_wt6(). HAProxy's rotations by 32-step are undefined
// for a zero step in C but equal to a plain copy on all real targets, which
// is what bits.RotateLeft32 computes.
func HashWT6(data []byte) uint32 {
	h0, h1 := uint32(0xa53c965a), uint32(0x5ca6953a)
	step0, step1 := 6, 18
	for _, c := range data {
		t := uint32(c)
		h0 = ^(h0 ^ t)
		h1 = ^(h1 + t)
		t = bits.RotateLeft32(h1, step0)
		h1 = bits.RotateLeft32(h0, step1)
		h0 = t
		t = ((h0 >> 16) ^ h1) & 0xffff
		step0 = int(t & 0x1f)
		step1 = int(t >> 11)
	}
	return h0 ^ h1
}

// HashCRC32 mirrors hash_crc32(): the standard IEEE CRC-32.
func HashCRC32(data []byte) uint32 { return crc32.ChecksumIEEE(data) }
