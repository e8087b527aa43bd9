package config

import "testing"

// Server addresses the relay cannot dial yet are refused, not misrouted.
func TestUnsupportedServerAddresses(t *testing.T) {
	for _, addr := range []string{"/run/app.sock", "unix@/run/app.sock", "abns@app"} {
		_, ds := load(t, timeouts+"listen l\n bind :1\n server s "+addr+"\n")
		if !hasMsg(ds, SevAlert, 7, "is not supported yet by Sluice") {
			t.Errorf("server %s: got %s", addr, ds)
		}
	}
}

// A Layer 7 hash in a tcp proxy falls back to round robin with HAProxy's
// warning, rather than being refused.
func TestLayer7BalanceFallsBackInTCP(t *testing.T) {
	cfg, ds := load(t, timeouts+"listen l\n bind :1\n balance uri\n server s 127.0.0.1:80\n")
	if ds.HasAlerts() || !hasMsg(ds, SevWarning, 7, "Falling back to round robin.") {
		t.Fatalf("got %s", ds)
	}
	if algo := cfg.Proxies[0].Balance.Algo; algo != "roundrobin" {
		t.Fatalf("algo = %s, want roundrobin", algo)
	}
}
