package sample

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// conv is one compiled converter of a chain.
type conv struct {
	name string
	args []Arg
	fn   func(c *Ctx, args []Arg, v *Value) bool
}

// converter describes a converter Sluice evaluates.
type converter struct {
	in, out  Type // in: the type the input is cast to; out: the result
	min, max int
	parse    func([]string) ([]Arg, error)
	fn       func(c *Ctx, args []Arg, v *Value) bool
}

var converters = map[string]*converter{
	"lower":  {in: Str, out: Str, fn: convCase(true)},
	"upper":  {in: Str, out: Str, fn: convCase(false)},
	"hex":    {in: Bin, out: Str, fn: convHex},
	"length": {in: Str, out: Int, fn: convLength},
	"bytes":  {in: Bin, out: Bin, min: 1, max: 2, parse: intArgs, fn: convBytes},
	"ipmask": {in: IP, out: IP, min: 1, max: 2, parse: maskArgs, fn: convIPMask},
}

// knownConverters are HAProxy 2.6 converters Sluice does not evaluate yet.
var knownConverters = splitFields(`add aes_gcm_dec and base64 be2dec be2hex bool b64dec concat cpl
	crc32 crc32c cut_crlf da-csv-conv debug digest div djb2 even field fix_is_valid fix_tag_value
	hex2i hmac htonl http_date in_table ipmask json json_query language length lower ltime ltrim
	map map_beg map_dir map_dom map_end map_int map_ip map_len map_reg map_regm map_str map_sub
	mod mqtt_field_value mqtt_is_valid mul neg not odd or protobuf regsub rtrim sdbm secure_memcmp
	set-var sha1 sha2 srv_queue strcmp sub table_bytes_in_rate table_conn_cnt table_conn_cur
	table_conn_rate table_expire table_gpc0 table_gpc0_rate table_http_req_cnt table_http_req_rate
	table_idle table_kbytes_in table_kbytes_out table_server_id table_sess_cnt table_sess_rate
	table_trackers ungrpc unset-var upper url_dec url_enc us_ltime us_utime utime word wt6 xor32 xxh3
	xxh32 xxh64 ms_ltime ms_utime host_only port_only json_string strftime`)

// anyType is the input and output type of converters that pass any sample
// through (set-var, unset-var).
const anyType Type = -1

// compileConvs parses ",name(args),name..." after a fetch.
func compileConvs(chain string, t Type) ([]conv, Type, error) {
	var out []conv
	for _, part := range splitChain(chain) {
		name, args := part, ""
		if i := strings.IndexByte(part, '('); i >= 0 {
			if !strings.HasSuffix(part, ")") {
				return nil, t, fmt.Errorf("missing closing ')' after arguments to converter '%s'", part[:i])
			}
			name, args = part[:i], part[i+1:len(part)-1]
		}
		cv, ok := converters[name]
		if !ok {
			for _, k := range knownConverters {
				if k == name {
					return nil, t, fmt.Errorf("converter '%s' is %w", name, ErrNotSupported)
				}
			}
			return nil, t, fmt.Errorf("unknown converter '%s'", name)
		}
		words := splitArgs(args)
		if len(words) < cv.min || len(words) > cv.max {
			return nil, t, fmt.Errorf("converter '%s' expects %d to %d arguments", name, cv.min, cv.max)
		}
		c := conv{name: name, fn: cv.fn}
		if cv.parse != nil {
			var err error
			if c.args, err = cv.parse(words); err != nil {
				return nil, t, fmt.Errorf("invalid args in converter '%s' : %w", name, err)
			}
		}
		cast := cv
		c.fn = func(ctx *Ctx, a []Arg, v *Value) bool {
			return castTo(ctx, v, cast.in) && cast.fn(ctx, a, v)
		}
		out = append(out, c)
		if cv.out != anyType {
			t = cv.out
		}
	}
	return out, t, nil
}

// splitChain splits ",a,b(x,y)" at top-level commas; commas and
// parentheses inside quotes belong to the arguments.
func splitChain(s string) []string {
	var out []string
	depth, start := 0, 0
	sq, dq := false, false
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch ch := s[i]; {
			case ch == '\\' && !sq && i+1 < len(s):
				i++
				continue
			case ch == '"' && !sq:
				dq = !dq
				continue
			case ch == '\'' && !dq:
				sq = !sq
				continue
			case sq || dq:
				continue
			case ch == '(':
				depth++
				continue
			case ch == ')':
				depth--
				continue
			case ch != ',' || depth != 0:
				continue
			}
		}
		if part := strings.TrimSpace(s[start:i]); part != "" {
			out = append(out, part)
		}
		start = i + 1
	}
	return out
}

// castTo converts v to a converter's input type, as HAProxy's sample casts.
func castTo(c *Ctx, v *Value, t Type) bool {
	switch {
	case v.Type == t || t == anyType:
		return true
	case t == Str || t == Bin:
		if v.Type != Str && v.Type != Bin {
			// To text, a number is its digits; to binary (hex, bytes),
			// its 8 bytes in network order and an address its 4 or 16,
			// as HAProxy's c_int2bin and c_addr2bin.
			var b []byte
			if t == Bin {
				b = v.AsBinary(c.buf())
			} else {
				b = v.AsString(c.buf())
			}
			v.Bytes = c.keep(b)
		}
		v.Type = t
		return true
	case t == Int:
		n, ok := v.AsInt()
		v.Type, v.Int = Int, n
		return ok
	case t == IP:
		a, ok := v.AsIP()
		v.Type, v.IP = IP, a
		return ok
	}
	return false
}

func convCase(lower bool) func(*Ctx, []Arg, *Value) bool {
	return func(c *Ctx, _ []Arg, v *Value) bool {
		b := c.buf()
		for _, ch := range v.Bytes {
			if lower && ch >= 'A' && ch <= 'Z' {
				ch += 'a' - 'A'
			} else if !lower && ch >= 'a' && ch <= 'z' {
				ch -= 'a' - 'A'
			}
			b = append(b, ch)
		}
		v.Bytes = c.keep(b)
		return true
	}
}

func convHex(c *Ctx, _ []Arg, v *Value) bool {
	const digits = "0123456789ABCDEF"
	b := c.buf()
	for _, ch := range v.Bytes {
		b = append(b, digits[ch>>4], digits[ch&15])
	}
	v.Type, v.Bytes = Str, c.keep(b)
	return true
}

func convLength(c *Ctx, _ []Arg, v *Value) bool {
	return setInt(v, int64(len(v.Bytes)))
}

// convBytes extracts length bytes from offset (all the rest without one),
// as HAProxy's bytes(): a length past the end is cut to what remains, an
// offset past the end gives an empty sample.
func convBytes(c *Ctx, a []Arg, v *Value) bool {
	off := a[0].Int
	if off < 0 {
		return false
	}
	if off > int64(len(v.Bytes)) {
		off = int64(len(v.Bytes))
	}
	end := int64(len(v.Bytes))
	if len(a) == 2 {
		if a[1].Int < 0 {
			return false
		}
		end = min(end, off+a[1].Int)
	}
	v.Type, v.Bytes = Bin, v.Bytes[off:end]
	return true
}

// maskArgs reads ipmask's IPv4 mask (bits or dotted) and IPv6 bits.
func maskArgs(w []string) ([]Arg, error) {
	out := make([]Arg, 2)
	out[1].Int = -1 // no IPv6 mask: IPv6 addresses cannot be converted
	if n, err := strconv.Atoi(w[0]); err == nil && n >= 0 && n <= 32 {
		out[0].Int = int64(n)
	} else if a, err := netip.ParseAddr(w[0]); err == nil && a.Is4() {
		b := a.As4()
		m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		bits := 0
		for m&0x80000000 != 0 {
			bits++
			m <<= 1
		}
		if m != 0 {
			return nil, fmt.Errorf("'%s' is not a contiguous netmask", w[0])
		}
		out[0].Int = int64(bits)
	} else {
		return nil, fmt.Errorf("'%s' is not a valid IPv4 mask", w[0])
	}
	if len(w) == 2 {
		n, err := strconv.Atoi(w[1])
		if a, aerr := netip.ParseAddr(w[1]); err != nil && aerr == nil && a.Is6() {
			// An address-form mask: count its leading ones.
			n, err = contiguousOnes(a.AsSlice())
		}
		if err != nil || n < 0 || n > 128 {
			return nil, fmt.Errorf("'%s' is not a valid IPv6 mask", w[1])
		}
		out[1].Int = int64(n)
	}
	return out, nil
}

// contiguousOnes counts a netmask's leading one bits; holes are an error.
func contiguousOnes(b []byte) (int, error) {
	n, done := 0, false
	for _, x := range b {
		for bit := 7; bit >= 0; bit-- {
			one := x>>uint(bit)&1 == 1
			switch {
			case one && done:
				return 0, fmt.Errorf("not a contiguous netmask")
			case one:
				n++
			default:
				done = true
			}
		}
	}
	return n, nil
}

func convIPMask(c *Ctx, a []Arg, v *Value) bool {
	bits := a[0].Int
	if v.IP.Is6() {
		if a[1].Int < 0 {
			return false // HAProxy: IPv6 needs an IPv6 mask
		}
		bits = a[1].Int
	}
	p, err := v.IP.Prefix(int(bits))
	if err != nil {
		return false
	}
	v.IP = p.Addr()
	return true
}
