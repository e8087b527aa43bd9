package peertest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// cdp drives headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: JSON messages ending in NUL, the browser
// reading on its fd 3 and writing on its fd 4), so that a test waits for
// what a page does in real time, WebSockets included, without a
// WebSocket client of its own.
type cdp struct {
	t      *testing.T
	p      *proc
	w      *os.File
	mu     sync.Mutex
	nextID int
	resp   map[int]chan cdpMsg
	events chan cdpMsg
}

// cdpMsg is one message from the browser: a reply (ID set) or an event.
type cdpMsg struct {
	ID        int             `json:"id"`
	Method    string          `json:"method"`
	SessionID string          `json:"sessionId"`
	Params    json.RawMessage `json:"params"`
	Result    json.RawMessage `json:"result"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// startCDP starts headless Chromium with a fresh profile and the protocol
// on a pipe.
func startCDP(t *testing.T) *cdp {
	t.Helper()
	bin := chromium(t)
	prof := t.TempDir()
	toBrowser, ours, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	theirs, fromBrowser, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, chromiumArgs(prof, "--remote-debugging-pipe", "about:blank")...)
	cmd.Env = append(os.Environ(), "HOME="+prof)
	cmd.ExtraFiles = []*os.File{toBrowser, fromBrowser} // fd 3, fd 4
	c := &cdp{t: t, w: ours, resp: map[int]chan cdpMsg{}, events: make(chan cdpMsg, 256)}
	c.p = startProc(t, cmd)
	toBrowser.Close()
	fromBrowser.Close()
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	go c.read(theirs)
	return c
}

// read splits the browser's output into messages and hands them out.
func (c *cdp) read(r *os.File) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		b, err := br.ReadBytes(0)
		if err != nil {
			close(c.events)
			return
		}
		var m cdpMsg
		if json.Unmarshal(b[:len(b)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			c.mu.Lock()
			ch := c.resp[m.ID]
			delete(c.resp, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case c.events <- m:
		default: // nobody waits for this kind; drop it rather than block
		}
	}
}

// call sends method with params (in session, if not empty), waits up to
// 30s for the reply and decodes its result into out (when not nil).
func (c *cdp) call(session, method string, params any, out any) {
	c.t.Helper()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan cdpMsg, 1)
	c.resp[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		c.t.Fatalf("sending %s to chromium: %v\n%s", method, err, tail(c.p.out.String(), 4000))
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			c.t.Fatalf("chromium answered %s with error %d: %s", method, m.Error.Code, m.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				c.t.Fatalf("%s: result %s: %v", method, m.Result, err)
			}
		}
	case <-time.After(30 * time.Second):
		c.t.Fatalf("chromium did not answer %s within 30s\n%s", method, tail(c.p.out.String(), 4000))
	}
}

// waitEvent waits up to 30s for an event named method in session.
func (c *cdp) waitEvent(session, method string) cdpMsg {
	c.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-c.events:
			if !ok {
				c.t.Fatalf("chromium closed the protocol pipe waiting for %s\n%s", method, tail(c.p.out.String(), 4000))
			}
			if m.Method == method && m.SessionID == session {
				return m
			}
		case <-timeout:
			c.t.Fatalf("no %s within 30s", method)
		}
	}
}

// openPage opens a new tab, attaches to it and loads url; it returns the
// tab's session once the page's load event fired.
func (c *cdp) openPage(url string) string {
	c.t.Helper()
	var target struct {
		TargetID string `json:"targetId"`
	}
	c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att)
	c.call(att.SessionID, "Page.enable", nil, nil)
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	c.call(att.SessionID, "Page.navigate", map[string]any{"url": url}, &nav)
	if nav.ErrorText != "" {
		c.t.Fatalf("navigating to %s: %s", url, nav.ErrorText)
	}
	// The load event of the blank tab can come after Page.enable and be
	// taken for the page's: wait until the document is the one asked for
	// and loaded.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.waitEvent(att.SessionID, "Page.loadEventFired")
		var loaded bool
		c.eval(att.SessionID, `location.href !== "about:blank" && document.readyState === "complete"`, &loaded)
		if loaded {
			return att.SessionID
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s did not load within 30s", url)
		}
	}
}

// eval evaluates expr in the page, awaiting it if it is a promise, and
// decodes its value (returned by value) into out.
func (c *cdp) eval(session, expr string, out any) {
	c.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	c.call(session, "Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &r)
	if r.ExceptionDetails != nil {
		c.t.Fatalf("%s threw: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if err := json.Unmarshal(r.Result.Value, out); err != nil {
		c.t.Fatalf("%s = %s: %v", expr, r.Result.Value, err)
	}
}

// close asks the browser to close; the process group is killed at the
// test's end in any case.
func (c *cdp) close() {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"id": id, "method": "Browser.close"})
	c.w.Write(append(b, 0))
	select {
	case <-c.p.done:
	case <-time.After(10 * time.Second):
		c.t.Errorf("chromium did not exit within 10s of Browser.close")
	}
}
