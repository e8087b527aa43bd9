package difftest

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The queue differential puts a connection in a server's queue behind a
// slow request holding the server's only slot, lets its client close,
// reset or half-close while it waits, and compares what haproxy and
// Sluice do: whether the wait is given up at once (and how it is
// logged), or the request still served. The cases are haproxy 2.6's
// rules for a client that leaves while queued, with and without option
// abortonclose, in mode tcp and mode http.

type queueCase struct {
	name string
	cfg  string // the proxies: %BIND and %SRV as in featCase
	raw  string // what the queued client sends
	// act is what the client does while queued: "shutwr" (then reads
	// until the proxy closes), "close" or "rst".
	act string
}

const queueHTTP = `frontend f
 bind %BIND
 log-format "%ST %tsc %b/%s %sq/%bq %B %U Tw=%Tw Tc=%Tc %{+Q}r"
 default_backend b
backend b
 timeout queue 3s
 timeout server 3s
 server s1 %SRV maxconn 1
`

const queueTCP = `listen l
 bind %BIND
 mode tcp
 log-format "%ts %b/%s %sq/%bq %B %U Tw=%Tw Tc=%Tc"
 timeout queue 3s
 timeout server 3s
 server s1 %SRV maxconn 1
`

var queueCases = func() []queueCase {
	abort := func(cfg string) string { return cfg + " option abortonclose\n" }
	const post = "POST /p HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nhello"
	const chunked = "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n"
	const getReq = "GET /g HTTP/1.1\r\nhost: a\r\n\r\n"
	var cs []queueCase
	for _, act := range []string{"shutwr", "close", "rst"} {
		cs = append(cs,
			queueCase{name: "http body unfinished " + act, cfg: queueHTTP, raw: post, act: act},
			queueCase{name: "http chunked unfinished " + act, cfg: queueHTTP, raw: chunked, act: act},
			queueCase{name: "http whole request " + act, cfg: queueHTTP, raw: getReq, act: act},
			queueCase{name: "http abortonclose whole request " + act, cfg: abort(queueHTTP), raw: getReq, act: act},
			queueCase{name: "tcp nothing sent " + act, cfg: queueTCP, raw: "", act: act},
			queueCase{name: "tcp data sent " + act, cfg: queueTCP, raw: getReq, act: act},
			queueCase{name: "tcp abortonclose data sent " + act, cfg: abort(queueTCP), raw: getReq, act: act},
		)
	}
	cs = append(cs, queueCase{name: "http abortonclose body unfinished close", cfg: abort(queueHTTP), raw: post, act: "close"},
		queueCase{name: "http whole body shutwr", cfg: queueHTTP, raw: post + "12345", act: "shutwr"})
	return cs
}()

// queueResult is what one proxy did with one case.
type queueResult struct {
	holder, client string   // what each client received
	backend        []string // what the backend received, per connection
}

func TestQueueAbortDifferential(t *testing.T) {
	hap := haproxyPath()
	if hap == "" {
		t.Skip("haproxy not installed")
	}
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	// The wait's length depends on the schedule: only whether there was
	// one is compared.
	timers := regexp.MustCompile(`(Tw|Tc)=\d+`)
	for _, qc := range queueCases {
		t.Run(qc.name, func(t *testing.T) {
			t.Parallel()
			var res [2]queueResult
			var logs [2]string
			var wg sync.WaitGroup
			for i, bin := range []string{hap, sluiceBin} {
				fp := startFeatProxy(t, bin, qc.cfg)
				defer fp.stop()
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, l := runQueueCase(t, fp, qc)
					// The holder's line and a served client's may come in
					// either order: each proxy logs a stream when it ends.
					slices.Sort(l)
					res[i], logs[i] = r, timers.ReplaceAllString(strings.Join(l, "\n"), "$1=N")
				}()
			}
			wg.Wait()
			if a, b := fmt.Sprintf("%q", res[0]), fmt.Sprintf("%q", res[1]); a != b {
				t.Errorf("clients or backend differ\nhaproxy: %s\nsluice:  %s", a, b)
			}
			if logs[0] != logs[1] {
				t.Errorf("log lines differ\nhaproxy:\n%s\nsluice:\n%s", logs[0], logs[1])
			}
			if testing.Verbose() {
				t.Logf("logs:\n%s", logs[0])
			}
		})
	}
}

// runQueueCase runs the case's clients through a started proxy (not on
// the test's goroutine: it does not stop the test).
func runQueueCase(t *testing.T, fp *featProxy, qc queueCase) (queueResult, []string) {
	var r queueResult
	addr := fp.bind[0]
	holder, err := dialTCP(addr)
	if err != nil {
		t.Error(err)
		return r, nil
	}
	defer holder.Close()
	io.WriteString(holder, "GET /s/sleep HTTP/1.1\r\nhost: a\r\n\r\n")
	held := make(chan string, 1)
	go func() {
		holder.SetReadDeadline(time.Now().Add(5 * time.Second))
		rd := &respReader{c: holder}
		rd.next(false)
		holder.Close() // a tcp proxy's slot is free once the holder leaves
		held <- string(rd.got)
	}()
	time.Sleep(100 * time.Millisecond) // the holder takes the slot first
	c, err := dialTCP(addr)
	if err != nil {
		t.Error(err)
		return r, nil
	}
	io.WriteString(c, qc.raw)
	time.Sleep(200 * time.Millisecond) // queued by now
	switch qc.act {
	case "shutwr":
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(c)
		r.client = string(got)
	case "rst":
		c.(*net.TCPConn).SetLinger(0)
	}
	c.Close()
	r.holder = <-held
	logs := settleLogs(fp.rx, 400*time.Millisecond)
	r.backend = fp.be.reset()
	return r, logs
}
