package engine

import (
	"bytes"
	"net/netip"

	"sluice/internal/config"
	"sluice/internal/lb"
	"sluice/internal/sample"
)

// lbKey is what a hashed backend balances one connection or request on.
// set is false when the request has nothing to hash (no such url_param or
// header): HAProxy then falls back to round robin over the same map or
// ring (lb.Hashed.PickNext).
type lbKey struct {
	v   uint32
	set bool
}

// l7Hash says how a backend hashes its requests: balance uri, url_param,
// hdr() or hash <expr>; the zero value (input "") is none of them.
type l7Hash struct {
	input      string // "uri", "url_param", "hdr", "hash" or ""
	uri        lb.URIOptions
	name       string // url_param's parameter
	hdr        []byte // hdr()'s header name
	domainOnly bool
	expr       *sample.Expr // balance hash's expression
	f          lb.KeyFunc
}

var hashFuncs = map[string]lb.HashFunc{"sdbm": lb.SDBM, "djb2": lb.DJB2, "wt6": lb.WT6, "crc32": lb.CRC32}

func newL7Hash(p *config.Proxy, avalanche bool) l7Hash {
	bal := p.Balance
	if !layer7Hash(bal.Algo) {
		return l7Hash{}
	}
	var expr *sample.Expr
	if bal.Algo == "hash" {
		// The loader compiled it already (checkBalanceHash).
		expr, _ = sample.CompileExpr(bal.Name)
	}
	return l7Hash{
		expr:  expr,
		input: bal.Algo,
		uri:   lb.URIOptions{Len: bal.URILen, Depth: bal.URIDepth, Whole: bal.URIWhole, PathOnly: bal.URIPathOnly},
		name:  bal.Name, hdr: []byte(bal.Name), domainOnly: bal.DomainOnly,
		f: lb.KeyFunc{Func: hashFuncs[p.HashType.Function], Avalanche: avalanche},
	}
}

// layer7Hash says whether algo hashes something other than the source
// address, falling back to round robin when it is not there.
func layer7Hash(algo string) bool {
	return algo == "uri" || algo == "url_param" || algo == "hdr" || algo == "hash"
}

// srcKey is the key of "balance source"; other backends have none.
func (b *backend) srcKey(client netip.Addr) lbKey {
	if !b.hashed || b.l7.input != "" {
		return lbKey{}
	}
	return lbKey{lb.SourceHash(client, b.avalanch), true}
}

// connKey is the key a mode tcp connection is balanced on: balance hash's
// sample, or the client's address for source.
func (b *backend) connKey(smp *sample.Ctx) lbKey {
	if b.l7.input == "hash" {
		return b.exprKey(smp)
	}
	return b.srcKey(smp.Src.Addr())
}

// exprKey hashes balance hash's sample as get_server_expr() does: the
// expression's value as binary, through the backend's hash function. No
// sample is no key: round robin then.
func (b *backend) exprKey(smp *sample.Ctx) lbKey {
	h := &b.l7
	v := smp.Value()
	if found, _ := h.expr.Eval(smp, v); !found {
		return lbKey{}
	}
	data := v.AsBinary(smp.FmtBuf[:0])
	smp.FmtBuf = data
	return lbKey{lb.GenHash(h.f.Func, data, h.f.Avalanche), true}
}

// httpKey is the key a request is balanced on: its URI, url_param or
// header for the layer 7 hashes, balance hash's sample, the client's
// address for source. It does not allocate.
func (b *backend) httpKey(smp *sample.Ctx, req sample.HTTPMessage) lbKey {
	h := &b.l7
	switch h.input {
	case "hash":
		return b.exprKey(smp)
	case "uri":
		return lbKey{lb.URIKey(req.URI(), h.uri, h.f), true}
	case "url_param":
		v, ok := lb.URLParamKey(req.URI(), h.name, h.f)
		if !ok && smp.Body != nil && string(req.Method()) == "POST" {
			// Not in the query string: the body of a POST, as much as
			// is buffered (httpTxn waits for it).
			v, ok = lb.PostParamKey(smp.BodyData(), h.name, h.f)
		}
		return lbKey{v, ok}
	case "hdr":
		// Only the first field of that name counts, as http_find_header().
		for i, n := 0, req.NumFields(); i < n; i++ {
			if name, value := req.Field(i); bytes.EqualFold(name, h.hdr) {
				v, ok := lb.HdrKey(value, h.domainOnly, h.f)
				return lbKey{v, ok}
			}
		}
		return lbKey{}
	}
	return b.srcKey(smp.Src.Addr())
}

// pick runs the balancer for k (caller holds mu): the hash of a keyed
// request, the round robin of a layer 7 hash without one, or the
// algorithm's own choice.
func (b *backend) pick(k lbKey) *lb.Server {
	if !k.set && b.l7.input != "" {
		if hb, ok := b.bal.(lb.Hashed); ok {
			return hb.PickNext()
		}
	}
	return b.bal.Pick(k.v)
}
