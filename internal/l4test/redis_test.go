package l4test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisCmd sends one command on a new connection and returns the reply:
// a simple string, an integer, a bulk string ("(nil)" for none); an error
// reply is returned as an error.
func redisCmd(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading the reply: %v", err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch {
	case line == "":
		return "", fmt.Errorf("empty reply")
	case line[0] == '+' || line[0] == ':':
		return line[1:], nil
	case line[0] == '-':
		return "", fmt.Errorf("redis error: %s", line[1:])
	case line == "$-1":
		return "(nil)", nil
	case line[0] == '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", fmt.Errorf("bad reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// startRedis runs a throwaway redis-server and waits until it answers.
func startRedis(t *testing.T, server string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir())
	p := startProc(t, nil, cmd)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if !waitFor(15*time.Second, func() bool {
		r, err := redisCmd(addr, "PING")
		return err == nil && r == "PONG" || p.exited()
	}) || p.exited() {
		t.Fatalf("redis-server on %s did not answer PING:\n%s", addr, p.out)
	}
	return addr
}

// redisCLI runs redis-cli with args and returns its trimmed output.
func redisCLI(t *testing.T, cli string, args ...string) string {
	t.Helper()
	out, err := exec.Command(cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// Real redis-server instances behind the sluice binary: redis-cli round
// trips, redis-benchmark, and where keys land with balance source (every
// key of one client on one server, all readable back through Sluice) and
// with roundrobin (spread evenly over the servers).
func TestRedis(t *testing.T) {
	t.Parallel()
	server := needProgram(t, "redis-server")
	cli := needProgram(t, "redis-cli")
	bench := needProgram(t, "redis-benchmark")
	servers := []string{startRedis(t, server), startRedis(t, server), startRedis(t, server)}
	src, rr := freeAddr(t), freeAddr(t)
	cfg := longTimeouts + "listen src\n bind " + src + "\n balance source\n"
	for i, s := range servers {
		cfg += fmt.Sprintf(" server r%d %s\n", i, s)
	}
	cfg += "listen rr\n bind " + rr + "\n balance roundrobin\n"
	for i, s := range servers {
		cfg += fmt.Sprintf(" server r%d %s\n", i, s)
	}
	startSluice(t, cfg)
	dbsize := func() []int {
		var n []int
		for _, s := range servers {
			v, err := strconv.Atoi(redisCLI(t, cli, "-h", "127.0.0.1", "-p", portOf(s), "DBSIZE"))
			if err != nil {
				t.Fatalf("DBSIZE on %s: %v", s, err)
			}
			n = append(n, v)
		}
		return n
	}

	// redis-cli round trips, each command its own connection.
	if got := redisCLI(t, cli, "-h", "127.0.0.1", "-p", portOf(src), "SET", "greeting", "hello"); got != "OK" {
		t.Fatalf("SET through Sluice: %q", got)
	}
	if got := redisCLI(t, cli, "-h", "127.0.0.1", "-p", portOf(src), "GET", "greeting"); got != "hello" {
		t.Fatalf("GET through Sluice: %q, want hello", got)
	}

	// balance source: 60 keys, one connection each, all from 127.0.0.1.
	const keys = 60
	for i := range keys {
		if r, err := redisCmd(src, "SET", fmt.Sprintf("src:%d", i), fmt.Sprintf("value-%d", i*i)); err != nil || r != "OK" {
			t.Fatalf("SET src:%d through Sluice: %q, %v", i, r, err)
		}
	}
	for i := range keys {
		want := fmt.Sprintf("value-%d", i*i)
		if r, err := redisCmd(src, "GET", fmt.Sprintf("src:%d", i)); err != nil || r != want {
			t.Fatalf("GET src:%d through Sluice: %q, %v; want %q (the client must keep its server)", i, r, err, want)
		}
	}
	sizes := dbsize()
	holders := 0
	for _, n := range sizes {
		if n != 0 {
			holders++
			if n != keys+1 {
				t.Errorf("keys per server %v: the one server holding keys must hold all %d", sizes, keys+1)
			}
		}
	}
	if holders != 1 {
		t.Errorf("keys per server %v: with balance source one client address must land on one server", sizes)
	}

	// roundrobin: 30 connections, one key each, spread evenly.
	for _, s := range servers {
		if got := redisCLI(t, cli, "-h", "127.0.0.1", "-p", portOf(s), "FLUSHALL"); got != "OK" {
			t.Fatalf("FLUSHALL on %s: %q", s, got)
		}
	}
	for i := range 30 {
		if r, err := redisCmd(rr, "SET", fmt.Sprintf("rr:%d", i), "x"); err != nil || r != "OK" {
			t.Fatalf("SET rr:%d through Sluice: %q, %v", i, r, err)
		}
	}
	if sizes := dbsize(); sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 10 {
		t.Errorf("keys per server %v: roundrobin over 3 servers must put 10 of 30 connections on each", sizes)
	}

	// redis-benchmark through Sluice.
	out, err := exec.Command(bench, "-h", "127.0.0.1", "-p", portOf(rr), "-n", "20000", "-c", "20", "-q", "-t", "set,get").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	if strings.Contains(strings.ToLower(string(out)), "error") {
		t.Fatalf("redis-benchmark reported errors:\n%s", out)
	}
	for _, test := range []string{"SET", "GET"} {
		m := regexp.MustCompile(`(?m)` + test + `: ([0-9.]+) requests per second`).FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("redis-benchmark output has no %s result:\n%q", test, out)
		}
		if rps, _ := strconv.ParseFloat(m[1], 64); rps <= 0 {
			t.Errorf("redis-benchmark %s: %s requests per second", test, m[1])
		} else {
			t.Logf("redis-benchmark through Sluice: %s %.0f requests/s", test, rps)
		}
	}
}
