// Command l4backend is the server behind the proxies in Sluice's Layer 4
// benchmark (bench/run.sh). It listens on -addr, prints the address it got
// as one JSON line ({"addr":"127.0.0.1:PORT"}) and serves the benchmark
// protocol of package loadgen (echo, upload sink, download source) until
// SIGINT or SIGTERM.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"sluice/bench/loadgen"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	loadgen.RaiseFDLimit(1 << 20)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "l4backend:", err)
		os.Exit(1)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	b := loadgen.NewBackend(ln)
	json.NewEncoder(os.Stdout).Encode(map[string]string{"addr": ln.Addr().String()})
	<-sigs
	b.Close()
}
