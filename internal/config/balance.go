package config

import (
	"strconv"
	"strings"
)

// balanceAlgos says which algorithms Sluice runs; the others are parsed and
// refused until their issue lands.
var balanceAlgos = map[string]Status{
	"roundrobin": Supported, "static-rr": Supported, "leastconn": Supported,
	"first": Supported, "source": Supported, "random": Supported,
	"uri": Supported, "url_param": Supported, "hdr": Supported, "rdp-cookie": Unsupported, "hash": Supported,
}

// layer7Algos need HTTP; in a tcp proxy HAProxy falls back to round robin.
var layer7Algos = map[string]bool{"uri": true, "url_param": true, "hdr": true, "rdp-cookie": true}

func parseBalance(c *ctx) {
	raw := c.arg(1)
	algo, inner := raw, ""
	if rest, ok := strings.CutPrefix(raw, "hdr("); ok {
		// As backend_parse_balance(): the name runs to the first ')' and
		// anything after it is ignored.
		name, _, found := strings.Cut(rest, ")")
		if !found || name == "" {
			c.alertf("balance hdr requires an http header field name.")
			return
		}
		algo, inner = "hdr", name
	} else if i := strings.IndexByte(raw, '('); i >= 0 && strings.HasSuffix(raw, ")") {
		algo, inner = raw[:i], raw[i+1:len(raw)-1]
	}
	st, ok := balanceAlgos[algo]
	if !ok || raw == "hdr" {
		c.alertf("balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.")
		return
	}
	b := Balance{Pos: c.pos, Algo: algo, Args: c.args(2), Draws: 2}
	if inner != "" {
		b.Args = append([]string{inner}, b.Args...)
	}
	switch algo {
	case "random":
		if inner != "" {
			n, err := strconv.Atoi(inner)
			if err != nil || n < 1 {
				c.alertf("'balance random' expects a positive number of draws (got '%s').", inner)
				return
			}
			b.Draws = n
		}
	case "url_param":
		b.Name = c.arg(2)
		if b.Name == "" {
			c.alertf("balance url_param requires an URL parameter name.")
			return
		}
		// Further words (check_post's old <max_wait>) are ignored, and
		// check_post changes nothing in HAProxy 2.6: every POST's body
		// is looked at when its query string lacks the parameter.
		if m := c.arg(3); m != "" && m != "check_post" {
			c.alertf("balance url_param only accepts 'check_post' modifier (got '%s').", m)
			return
		}
	case "hdr":
		b.Name = inner
		if m := c.arg(2); m != "" {
			if m != "use_domain_only" {
				c.alertf("balance %s only accepts 'use_domain_only' modifier (got '%s').", raw, m)
				return
			}
			b.DomainOnly = true
		}
	case "uri":
		if !parseURIArgs(c, &b, c.args(2)) {
			return
		}
	case "hash":
		// As backend_parse_balance(): one word, compiled once every
		// section is read (checkBalanceHash).
		if c.arg(2) == "" {
			c.alertf("balance hash requires a sample expression.")
			return
		}
		if extra := c.arg(3); extra != "" {
			c.alertf("balance hash takes no other argument (got '%s').", extra)
			return
		}
		b.Name = c.arg(2)
	}
	c.proxy.Balance = b
	// Layer 7 algorithms fall back to round robin in tcp proxies (HAProxy's
	// warning, from checkModeDependent); http proxies are refused whole.
	if st != Supported && !layer7Algos[algo] {
		c.judge("balance "+algo, st)
	}
}

// parseURIArgs reads "balance uri"'s options with HAProxy's texts; numbers
// are read as C's atoi does ("5x" is 5), and must be positive.
func parseURIArgs(c *ctx, b *Balance, args []string) bool {
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "len", "depth":
			v := ""
			if i+1 < len(args) {
				v = args[i+1]
			}
			n, _ := atoi(v)
			if n <= 0 {
				c.alertf("balance uri : '%s' expects a positive integer (got '%s').", args[i], v)
				return false
			}
			if args[i] == "len" {
				b.URILen = n
			} else {
				b.URIDepth = n
			}
			i++
		case "whole":
			b.URIWhole = true
		case "path-only":
			b.URIPathOnly = true
		default:
			c.alertf("balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '%s').", args[i])
			return false
		}
	}
	return true
}
