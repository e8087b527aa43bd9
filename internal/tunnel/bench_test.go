package tunnel

import (
	"io"
	"testing"
	"time"
)

// BenchmarkBulk measures one-way throughput through a relay (splice path).
func BenchmarkBulk(b *testing.B) {
	benchBulk(b, Timeouts{})
}

// BenchmarkBulkWithTimeouts is the same with the inactivity watchdog armed,
// to show it costs nothing on the data path.
func BenchmarkBulkWithTimeouts(b *testing.B) {
	benchBulk(b, Timeouts{Client: time.Second, Server: time.Second})
}

func benchBulk(b *testing.B, t Timeouts) {
	r := newRig(b, t)
	drained := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, r.server)
		drained <- n
	}()
	block := pattern(10, 1<<20)
	b.SetBytes(int64(len(block)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.client.Write(block); err != nil {
			b.Fatal(err)
		}
	}
	r.client.CloseWrite()
	<-drained
	r.server.Close()
	r.wait(b)
}

// BenchmarkRequestResponse measures a small request/response exchange
// (64 bytes each way) over an established relay: latency, not bandwidth.
func BenchmarkRequestResponse(b *testing.B) {
	r := newRig(b, Timeouts{Client: time.Second, Server: time.Second})
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(r.server, buf); err != nil {
				r.server.Close()
				return
			}
			if _, err := r.server.Write(buf); err != nil {
				return
			}
		}
	}()
	req, resp := pattern(11, 64), make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.client.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(r.client, resp); err != nil {
			b.Fatal(err)
		}
	}
	r.client.Close()
	r.wait(b)
}
