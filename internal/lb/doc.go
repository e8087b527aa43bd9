// Package lb implements HAProxy 2.6's server-selection algorithms as pure,
// allocation-free Go so that Sluice sends a given client (or the n-th
// connection) to the very server HAProxy would have chosen.
//
// Each algorithm mirrors a HAProxy source file and keeps its quirks, because
// the point is bit-for-bit compatibility rather than "a" fair balancer:
//
//   - roundrobin: lb_fwrr.c (fast weighted round robin, dynamic)
//   - static-rr and hash-type map-based: lb_map.c (weight map, static)
//   - leastconn: lb_fwlc.c
//   - first: lb_fas.c
//   - hash-type consistent and random: lb_chash.c, backend.c get_server_rnd()
//   - source hashing and hash functions: backend.c get_server_sh(), hash.c
//   - uri, url_param and hdr keys: backend.c get_server_uh/ph/hh(); when a
//     request has nothing to hash, Hashed.PickNext is the round robin
//     (map_get_server_rr, chash_get_next_server) HAProxy falls back to
//
// Nothing here does I/O, spawns goroutines or takes locks: a Balancer is not
// safe for concurrent use and the caller must serialise access (HAProxy holds
// the lbprm lock around the same operations).
//
// Weights follow HAProxy's scaling: a user weight (0..256) becomes an
// effective weight of weight*16 (BE_WEIGHT_SCALE) for the dynamic algorithms
// and weight/gcd(weights) for the map-based ones.
package lb
