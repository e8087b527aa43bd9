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
	"uri": Pending, "url_param": Pending, "hdr": Pending, "rdp-cookie": Unsupported, "hash": Pending,
}

// layer7Algos need HTTP; in a tcp proxy HAProxy falls back to round robin.
var layer7Algos = map[string]bool{"uri": true, "url_param": true, "hdr": true, "rdp-cookie": true}

func parseBalance(c *ctx) {
	raw := c.arg(1)
	algo, inner := raw, ""
	if i := strings.IndexByte(raw, '('); i >= 0 && strings.HasSuffix(raw, ")") {
		algo, inner = raw[:i], raw[i+1:len(raw)-1]
	}
	st, ok := balanceAlgos[algo]
	if !ok || (algo == "hdr" && inner == "") {
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
		if c.arg(2) == "" {
			c.alertf("'balance url_param' requires an URL parameter name.")
			return
		}
	case "uri":
		if !uriArgsOK(c, c.args(2)) {
			return
		}
	case "hash":
		if c.arg(2) == "" {
			c.alertf("'balance hash' expects a sample expression.")
			return
		}
	}
	c.proxy.Balance = b
	// Layer 7 algorithms fall back to round robin in tcp proxies (HAProxy's
	// warning, from checkModeDependent); http proxies are refused whole.
	if st != Supported && !layer7Algos[algo] {
		c.judge("balance "+algo, st)
	}
}

func uriArgsOK(c *ctx, args []string) bool {
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "len", "depth":
			if i+1 >= len(args) {
				c.alertf("'balance uri %s' expects a positive integer (got '').", args[i])
				return false
			}
			if n, err := strconv.Atoi(args[i+1]); err != nil || n < 0 {
				c.alertf("'balance uri %s' expects a positive integer (got '%s').", args[i], args[i+1])
				return false
			}
			i++
		case "whole", "path-only":
		default:
			c.alertf("'balance uri' only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '%s').", args[i])
			return false
		}
	}
	return true
}
