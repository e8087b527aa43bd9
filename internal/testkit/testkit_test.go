package testkit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// A port FreePort hands to one test process is never handed to another
// running at the same time: 300 ports each from two processes drawn from
// the same 12000 would share several by chance.
func TestFreePortClaimsAcrossProcesses(t *testing.T) {
	if os.Getenv("SLUICE_FREEPORT_CHILD") != "" {
		for range 300 {
			fmt.Println(FreePort(t))
		}
		fmt.Println("done")
		io.Copy(io.Discard, os.Stdin) // hold the claims until the parent is done
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFreePortClaimsAcrossProcesses$")
	cmd.Env = append(os.Environ(), "SLUICE_FREEPORT_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	child := map[int]bool{}
	for sc := bufio.NewScanner(out); sc.Scan() && sc.Text() != "done"; {
		if p, err := strconv.Atoi(sc.Text()); err == nil {
			child[p] = true
		}
	}
	if len(child) != 300 {
		t.Fatalf("the child process handed out %d ports, want 300", len(child))
	}
	for range 300 {
		if p := FreePort(t); child[p] {
			t.Fatalf("port %d handed to both processes", p)
		}
	}
}
