package netaddr

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// fakeLookup answers like a resolver whose hosts file maps "dual" to ::1
// then 127.0.0.1 and "v4only" to 127.0.0.1.
func fakeLookup(_ context.Context, network, host string) ([]netip.Addr, error) {
	var all []netip.Addr
	switch host {
	case "dual":
		all = []netip.Addr{v6loop, netip.AddrFrom16(v4loop.As16())}
	case "v4only":
		all = []netip.Addr{v4loop}
	default:
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range all {
		if network == "ip" || (network == "ip4") == a.Unmap().Is4() {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no such host")
	}
	return out, nil
}

func withFakeLookup(t *testing.T) {
	old := Lookup
	Lookup = fakeLookup
	t.Cleanup(func() { Lookup = old })
}

func TestServerResolve(t *testing.T) {
	withFakeLookup(t)
	tests := []struct {
		in, wantErr string
		want        netip.Addr
		kind        Kind
	}{
		{"dual:80", "", v6loop, KindIPv6},
		{"ipv4@dual:80", "", v4loop, KindIPv4},
		{"v4only", "", v4loop, KindIPv4},
		{"127.0.0.1:80", "", v4loop, KindIPv4},
		// haproxy -c printed, for each: [t.cfg:10] : 'server be/s1' : could not resolve address '...'.
		{"ipv6@v4only:80", "could not resolve address 'v4only'.", netip.Addr{}, 0},
		{"nonexistent.invalid:80", "could not resolve address 'nonexistent.invalid'.", netip.Addr{}, 0},
		{"::1", "could not resolve address ':'.", netip.Addr{}, 0},
		{"ipv4@::1", "could not resolve address ':'.", netip.Addr{}, 0},
		{"256.1.1.1:80", "could not resolve address '256.1.1.1'.", netip.Addr{}, 0},
		{"foo@1.2.3.4:80", "could not resolve address 'foo@1.2.3.4'.", netip.Addr{}, 0},
		{"127.0.0.1:8080,127.0.0.2:80", "could not resolve address '127.0.0.1:8080,127.0.0.2'.", netip.Addr{}, 0},
	}
	for _, tt := range tests {
		a, err := ParseServer(tt.in)
		if err != nil {
			t.Fatalf("ParseServer(%q): %v", tt.in, err)
		}
		err = a.Resolve(context.Background())
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Resolve(%q) = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || a.IP != tt.want || a.Kind != tt.kind {
			t.Errorf("Resolve(%q) = %v, %v %v; want %v %v", tt.in, err, a.IP, a.Kind, tt.want, tt.kind)
		}
	}
}

func TestBindResolve(t *testing.T) {
	withFakeLookup(t)
	addrs, err := ParseBind("v4only:80,ipv6@v4only:81,nonexistent.invalid:80")
	if err != nil {
		t.Fatal(err)
	}
	if err := addrs[0].Resolve(context.Background()); err != nil || addrs[0].IP != v4loop || addrs[0].Kind != KindIPv4 {
		t.Errorf("Resolve v4only: %v %+v", err, addrs[0])
	}
	// haproxy -c: 'bind' : invalid address: 'localhost' in 'ipv6@localhost:80' (no IPv6 entry)
	if err := addrs[1].Resolve(context.Background()); err == nil || err.Error() != "invalid address: 'v4only' in 'ipv6@v4only:81'" {
		t.Errorf("Resolve ipv6@v4only: %v", err)
	}
	// haproxy -c: 'bind' : invalid address: 'nonexistent.invalid' in 'nonexistent.invalid:80'
	if err := addrs[2].Resolve(context.Background()); err == nil || err.Error() != "invalid address: 'nonexistent.invalid' in 'nonexistent.invalid:80'" {
		t.Errorf("Resolve nonexistent: %v", err)
	}
}

// TestResolveSystem uses the real resolver on "localhost", which every
// system maps to a loopback address without DNS.
func TestResolveSystem(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a, err := ParseServer("localhost:80")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Resolve(ctx); err != nil {
		t.Fatalf("Resolve(localhost): %v", err)
	}
	if !a.IP.IsLoopback() || a.Port != 80 {
		t.Errorf("localhost resolved to %v port %d", a.IP, a.Port)
	}
}
