// Command sluiceprof runs Sluice's engine in-process under Go's CPU
// profiler, for bench/profile.sh: the same configuration loading and
// engine as cmd/sluice (nbthread sets GOMAXPROCS), minus signals'
// HAProxy semantics, plus a CPU profile written on SIGINT or SIGTERM. On
// SIGUSR1 it writes the in-use heap profile and prints the Go runtime's
// memory split (heap, goroutine stacks, goroutines) to stderr, to see
// where an idle connection's memory goes.
//
//	sluiceprof -f bench.cfg -cpuprofile cpu.pprof [-memprofile mem.pprof]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"sluice/internal/config"
	"sluice/internal/engine"
)

// memStats prints where the Go runtime's memory is.
func memStats(when string) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Fprintf(os.Stderr, "%s: goroutines %d  heap in use %d KiB  stacks in use %d KiB  sys %d KiB  GCs %d\n",
		when, runtime.NumGoroutine(), m.HeapInuse>>10, m.StackInuse>>10, m.Sys>>10, m.NumGC)
}

func main() {
	cfgPath := flag.String("f", "", "configuration file")
	cpuOut := flag.String("cpuprofile", "", "write a CPU profile here")
	memOut := flag.String("memprofile", "", "write an in-use heap profile here on exit")
	flag.Parse()
	if err := run(*cfgPath, *cpuOut, *memOut); err != nil {
		fmt.Fprintln(os.Stderr, "sluiceprof:", err)
		os.Exit(1)
	}
}

func run(cfgPath, cpuOut, memOut string) error {
	cfg, diags := config.Load([]string{cfgPath}, config.Options{})
	if diags.HasAlerts() {
		return fmt.Errorf("%v", diags)
	}
	if n := cfg.Global.Nbthread; n > 0 {
		runtime.GOMAXPROCS(n)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1)
	eng, err := engine.Start(cfg, engine.Options{})
	if err != nil {
		return err
	}
	if cpuOut != "" {
		f, err := os.Create(cpuOut)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	for sig := range sigs {
		if sig != syscall.SIGUSR1 {
			break
		}
		memStats("now")
		runtime.GC() // the heap profile shows the state as of the last GC
		memStats("after a GC")
		if memOut != "" {
			if err := writeHeap(memOut); err != nil {
				return err
			}
		}
	}
	if cpuOut != "" {
		pprof.StopCPUProfile()
	}
	eng.HardStop()
	eng.Wait(5 * time.Second)
	return nil
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}
