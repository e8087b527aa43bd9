package engine

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"sluice/internal/config"
	"sluice/internal/testkit"
)

func loadCfg(t *testing.T, src string) *config.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "t.cfg")
	os.WriteFile(p, []byte(src), 0o644)
	cfg, ds := config.Load([]string{p}, config.Options{})
	if ds.HasAlerts() {
		t.Fatal(ds)
	}
	return cfg
}

func TestStartListensAndStops(t *testing.T) {
	before := runtime.NumGoroutine()
	sock := filepath.Join(t.TempDir(), "e.sock")
	port := testkit.FreePort(t)
	cfg := loadCfg(t, "frontend f\n bind 127.0.0.1:"+itoa(port)+"\n bind unix@"+sock+"\nfrontend off\n bind 127.0.0.1:"+itoa(port+1)+"\n disabled\n")
	e, err := Start(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.Addrs()); n != 2 {
		t.Fatalf("listening on %d addresses, want 2 (the disabled frontend opens nothing)", n)
	}
	for _, a := range e.Addrs() {
		c, err := net.Dial(a.Network(), a.String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("%s: read err %v, want EOF (closed: no backend)", a, err)
		}
		c.Close()
	}
	e.SoftStop()
	if !e.Wait(5 * time.Second) {
		t.Fatal("engine did not finish after soft stop")
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+itoa(port)); err == nil {
		t.Error("still listening after SoftStop")
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("goroutines: %d before, %d after", before, n)
	}
}

// A failing bind closes what was already opened and names the frontend.
func TestStartFailureClosesEverything(t *testing.T) {
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	free := freeAddr(t)
	cfg := loadCfg(t, "frontend a\n bind "+free+"\nfrontend b\n bind "+busy.Addr().String()+"\n")
	if _, err := Start(cfg, Options{}); err == nil {
		t.Fatal("Start succeeded on a busy port")
	} else if got := err.Error(); len(got) < 20 || got[:19] != "Starting frontend b" {
		t.Fatalf("error = %q", got)
	}
	if c, err := net.Listen("tcp", free); err != nil {
		t.Fatalf("first listener left open: %v", err)
	} else {
		c.Close()
	}
}

func TestGlobalMaxconn(t *testing.T) {
	cfg := &config.Config{}
	cfg.Global.Maxconn = 123
	if got := GlobalMaxconn(cfg); got != 123 {
		t.Errorf("configured maxconn: got %d", got)
	}
	cfg.Global.Maxconn = 0
	if got := GlobalMaxconn(cfg); got < 1 {
		t.Errorf("derived maxconn %d", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
