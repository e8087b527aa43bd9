// Command l7load is the client of Sluice's Layer 7 benchmark
// (bench/http.sh). Each scenario subcommand drives HTTP/1.1 traffic
// through a proxy, measures the proxy process named by -pid, and prints
// one JSON line:
//
//	l7load keepalive -addr A -pid P -c 64 -d 5s      keep-alive, closed loop
//	l7load close     -addr A -pid P -c 64 -d 5s      a connection per request
//	l7load latency   -addr A -pid P -c 64 -rate R    open loop at R requests/s
//	l7load idle      -addr A -pid P -c 5000          memory per idle connection
//
// Helpers for the script:
//
//	l7load backend                                   the Go HTTP backend; prints {"addr":...}
//	l7load wait -addr A [-timeout 10s]               until A accepts
//	l7load freeport                                  print a free TCP port
//	l7load rate -label haproxy -scenario S FILE      median rate of S's runs in FILE
//	l7load report -base haproxy -cand sluice,nginx FILE...  Markdown ratio table
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"sluice/bench/loadgen"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	loadgen.RaiseFDLimit(1 << 20)
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "keepalive", "close", "latency", "idle":
		err = scenario(cmd, args)
	case "backend":
		err = backend()
	case "wait":
		fs := flag.NewFlagSet(cmd, flag.ExitOnError)
		addr := fs.String("addr", "", "address to poll")
		timeout := fs.Duration("timeout", 10*time.Second, "give up after")
		fs.Parse(args)
		err = loadgen.WaitListening(*addr, *timeout)
	case "freeport":
		err = freePort()
	case "rate":
		err = medianRate(args)
	case "report":
		err = report(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "l7load %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: l7load keepalive|close|latency|idle|backend|wait|freeport|rate|report [flags] (see -h of each)")
	os.Exit(2)
}

func scenario(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	var o loadgen.Options
	fs.StringVar(&o.Addr, "addr", "", "the proxy's address")
	fs.IntVar(&o.PID, "pid", 0, "the proxy's process id, for CPU and memory")
	fs.StringVar(&o.Label, "label", "", "the proxy's name in the result")
	fs.IntVar(&o.Conns, "c", 64, "connections (workers for close)")
	fs.DurationVar(&o.Duration, "d", 5*time.Second, "measured window")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "traffic before the window")
	rate := fs.Float64("rate", 0, "latency: requests per second, all connections together")
	hold := fs.Duration("hold", 0, "idle: print the result, then keep the connections open this long")
	fs.Parse(args)
	if o.Addr == "" || o.Conns < 1 {
		return errors.New("-addr and a positive -c are required")
	}
	var res loadgen.Result
	var err error
	switch name {
	case "keepalive":
		res, err = loadgen.HTTPKeepAlive(o)
	case "close":
		res, err = loadgen.HTTPClose(o)
	case "latency":
		res, err = loadgen.HTTPLatency(o, *rate)
	case "idle":
		if *hold > 0 {
			_, err = loadgen.HTTPIdle(o, func(r loadgen.Result) {
				json.NewEncoder(os.Stdout).Encode(r)
				time.Sleep(*hold)
			})
			return err
		}
		res, err = loadgen.HTTPIdle(o, nil)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// backend serves loadgen.HTTPBackend on a free loopback port until
// SIGINT or SIGTERM.
func backend() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b := loadgen.NewHTTPBackend(ln)
	json.NewEncoder(os.Stdout).Encode(map[string]string{"addr": b.Addr().String()})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	b.Close()
	return nil
}

func freePort() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

func readAll(paths []string) ([]loadgen.Result, error) {
	var all []loadgen.Result
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		rs, err := loadgen.ReadResults(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		all = append(all, rs...)
	}
	return all, nil
}

// medianRate prints the median rate of a proxy's runs of a scenario, for
// the script to derive the latency scenario's rate from.
func medianRate(args []string) error {
	fs := flag.NewFlagSet("rate", flag.ExitOnError)
	label := fs.String("label", "haproxy", "the proxy")
	sc := fs.String("scenario", "http-keepalive", "the scenario")
	fs.Parse(args)
	all, err := readAll(fs.Args())
	if err != nil {
		return err
	}
	var rates []float64
	for _, r := range all {
		if r.Label == *label && r.Scenario == *sc && r.Rate > 0 {
			rates = append(rates, r.Rate)
		}
	}
	if len(rates) == 0 {
		return fmt.Errorf("no %s result for %s", *sc, *label)
	}
	slices.Sort(rates)
	fmt.Printf("%.0f\n", (rates[(len(rates)-1)/2]+rates[len(rates)/2])/2)
	return nil
}

func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	base := fs.String("base", "haproxy", "label of the reference proxy")
	cand := fs.String("cand", "sluice,nginx", "labels of the proxies compared to it, comma-separated")
	fs.Parse(args)
	all, err := readAll(fs.Args())
	if err != nil {
		return err
	}
	loadgen.WriteTable(os.Stdout, all, *base, strings.Split(*cand, ",")...)
	return nil
}
