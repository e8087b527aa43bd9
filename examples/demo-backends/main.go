// Command demo-backends runs small TCP servers for Sluice's quick start.
// Each answers any connection with a minimal HTTP/1.0 response naming
// itself, so `curl` through a `mode tcp` proxy shows which server it hit.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	addrs := flag.String("listen", "127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003", "comma-separated addresses, one server each")
	flag.Parse()
	for i, a := range strings.Split(*addrs, ",") {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			log.Fatalf("demo backend %d: %v", i+1, err)
		}
		name := fmt.Sprintf("backend %d (%s)", i+1, a)
		log.Printf("%s listening", name)
		go serve(ln, name)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}

func serve(ln net.Listener, name string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			// Read the request head if one comes; plain TCP clients get
			// the answer as soon as they send a line or half-close.
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil || strings.TrimSpace(line) == "" {
					break
				}
			}
			body := "hello from " + name + "\n"
			fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}()
	}
}
