package netaddr

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// LookupFunc resolves a hostname for a network ("ip", "ip4" or "ip6") in
// the order the system prefers, like net.Resolver.LookupNetIP.
type LookupFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

// Lookup is the resolver used by the Resolve methods: the system resolver
// (nsswitch, /etc/hosts, DNS), standing in for HAProxy's getaddrinfo() at
// start-up. Tests may replace it.
var Lookup LookupFunc = net.DefaultResolver.LookupNetIP

// Resolve sets IP (and Kind, for an address without ipv4@/ipv6@) from Host
// using the first address the system resolver returns, as HAProxy's "libc"
// init-addr method does. It does nothing for literals and non-IP kinds. The
// error reads like HAProxy's: "could not resolve address 'name'.".
func (a *ServerAddr) Resolve(ctx context.Context) error {
	if !a.NeedsResolve() {
		return nil
	}
	ip, err := resolveHost(ctx, a.Host, a.Kind)
	if err != nil {
		return fmt.Errorf("could not resolve address '%s'.", a.Host)
	}
	a.IP, a.Kind = ip, kindOf(ip)
	return nil
}

// Resolve sets IP (and Kind) from Host for a bind address written with a
// hostname; HAProxy resolves those while parsing the configuration and
// fails with "invalid address: 'name' in 'text'" when it cannot.
func (a *BindAddr) Resolve(ctx context.Context) error {
	if !a.NeedsResolve() {
		return nil
	}
	ip, err := resolveHost(ctx, a.Host, a.Kind)
	if err != nil {
		return fmt.Errorf("invalid address: '%s' in '%s'", a.Host, a.Raw)
	}
	a.IP, a.Kind = ip, kindOf(ip)
	a.Wildcard = ip.IsUnspecified()
	return nil
}

// resolveHost validates host like str2ip2(..., resolve=1) and looks it up
// restricted to the family forced by k.
func resolveHost(ctx context.Context, host string, k Kind) (netip.Addr, error) {
	ip, literal, ok := parseLiteral(host, k)
	if literal {
		return ip, nil
	}
	if !ok {
		return netip.Addr{}, fmt.Errorf("invalid hostname %q", host)
	}
	network := "ip"
	switch k {
	case KindIPv4:
		network = "ip4"
	case KindIPv6:
		network = "ip6"
	}
	addrs, err := Lookup(ctx, network, host)
	if err != nil {
		return netip.Addr{}, err
	}
	for _, a := range addrs {
		a = a.Unmap()
		if (k == KindIPv4 && !a.Is4()) || (k == KindIPv6 && !a.Is6()) {
			continue
		}
		return a.WithZone(""), nil
	}
	return netip.Addr{}, fmt.Errorf("no %s address for %q", network, host)
}

func kindOf(ip netip.Addr) Kind {
	if ip.Is4() {
		return KindIPv4
	}
	return KindIPv6
}
