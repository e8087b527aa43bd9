// Command l4load is the client of Sluice's Layer 4 benchmark
// (bench/run.sh). Each scenario subcommand drives traffic through a proxy,
// measures the proxy process named by -pid, and prints one JSON line:
//
//	l4load exchange -addr A -pid P -c 32 -d 5s   persistent ping-pong
//	l4load connect  -addr A -pid P -c 32 -d 5s   one connection per exchange
//	l4load bulk     -addr A -pid P -c 4 -dir down|up|both
//	l4load idle     -addr A -pid P -c 5000       memory per idle connection
//
// Helpers for the script:
//
//	l4load wait -addr A [-timeout 10s]            until A accepts
//	l4load freeport                               print a free TCP port
//	l4load report -base haproxy -cand sluice FILE...  Markdown ratio table
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
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
	case "exchange", "connect", "bulk", "idle":
		err = scenario(cmd, args)
	case "wait":
		fs := flag.NewFlagSet(cmd, flag.ExitOnError)
		addr := fs.String("addr", "", "address to poll")
		timeout := fs.Duration("timeout", 10*time.Second, "give up after")
		fs.Parse(args)
		err = loadgen.WaitListening(*addr, *timeout)
	case "freeport":
		err = freePort()
	case "report":
		err = report(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "l4load %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: l4load exchange|connect|bulk|idle|wait|freeport|report [flags] (see -h of each)")
	os.Exit(2)
}

func scenario(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	var o loadgen.Options
	fs.StringVar(&o.Addr, "addr", "", "the proxy's address")
	fs.IntVar(&o.PID, "pid", 0, "the proxy's process id, for CPU and memory")
	fs.StringVar(&o.Label, "label", "", "the proxy's name in the result")
	fs.IntVar(&o.Conns, "c", 32, "connections (workers for connect)")
	fs.DurationVar(&o.Duration, "d", 5*time.Second, "measured window")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "traffic before the window")
	fs.IntVar(&o.Size, "size", 64, "request and reply size in bytes")
	hold := fs.Duration("hold", 0, "idle: print the result, then keep the connections open this long")
	dir := fs.String("dir", "down", "bulk direction: down, up or both")
	fs.Parse(args)
	if o.Addr == "" || o.Conns < 1 {
		return errors.New("-addr and a positive -c are required")
	}
	var res loadgen.Result
	var err error
	switch name {
	case "exchange":
		res, err = loadgen.Exchange(o)
	case "connect":
		res, err = loadgen.Connect(o)
	case "bulk":
		var m loadgen.Mode
		if m, err = loadgen.ParseBulkMode(*dir); err == nil {
			res, err = loadgen.Bulk(o, m)
		}
	case "idle":
		if *hold > 0 {
			_, err = loadgen.Idle(o, func(r loadgen.Result) {
				json.NewEncoder(os.Stdout).Encode(r)
				time.Sleep(*hold)
			})
			return err
		}
		res, err = loadgen.Idle(o, nil)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
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

func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	base := fs.String("base", "haproxy", "label of the reference proxy")
	cand := fs.String("cand", "sluice", "label of the proxy compared to it")
	fs.Parse(args)
	var all []loadgen.Result
	for _, p := range fs.Args() {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		rs, err := loadgen.ReadResults(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		all = append(all, rs...)
	}
	if len(fs.Args()) == 0 {
		rs, err := loadgen.ReadResults(io.Reader(os.Stdin))
		if err != nil {
			return err
		}
		all = rs
	}
	loadgen.WriteTable(os.Stdout, all, *base, *cand)
	return nil
}
