package l4test

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pgUser is who runs initdb and postgres: postgres refuses to run as root,
// so as root the cluster belongs to the "postgres" account when it exists
// (the Debian packages create it) and to nobody otherwise.
func pgUser(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	t.Fatal("running as root and neither a postgres nor a nobody account exists to run PostgreSQL")
	return nil
}

// pgCmd is a PostgreSQL client or server command with a clean environment.
func pgCmd(cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PGCONNECT_TIMEOUT=10")
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd
}

// A throwaway PostgreSQL cluster behind the sluice binary: psql runs a
// query through Sluice, and pgbench initialises its tables and runs 800
// transactions through it without a failure.
func TestPostgreSQL(t *testing.T) {
	t.Parallel()
	postgres := needProgram(t, "postgres", "/usr/lib/postgresql/*/bin/postgres")
	initdb := filepath.Join(filepath.Dir(postgres), "initdb")
	if _, err := os.Stat(initdb); err != nil {
		initdb = needProgram(t, "initdb", "/usr/lib/postgresql/*/bin/initdb")
	}
	psql := needProgram(t, "psql", "/usr/lib/postgresql/*/bin/psql")
	pgbench := needProgram(t, "pgbench", "/usr/lib/postgresql/*/bin/pgbench")
	cred := pgUser(t)

	// Not t.TempDir: its parent is private to root, and the cluster's
	// owner must be able to reach the directory.
	dir, err := os.MkdirTemp("", "l4test-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := pgCmd(cred, initdb, "-D", data, "-U", "postgres", "--auth=trust", "-N").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := strconv.Itoa(freePort(t))
	// Immediate shutdown (SIGQUIT) at the end: the cluster is thrown away.
	pg := startProc(t, syscall.SIGQUIT, pgCmd(cred, postgres, "-D", data, "-k", dir, "-p", port,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "shared_buffers=16MB"))
	if !waitFor(30*time.Second, func() bool {
		out, err := pgCmd(nil, psql, "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-tAc", "select 1").Output()
		return err == nil && strings.TrimSpace(string(out)) == "1" || pg.exited()
	}) || pg.exited() {
		t.Fatalf("postgres on port %s never answered:\n%s", port, pg.out)
	}

	addr := freeAddr(t)
	// The same Sluice checks the cluster with pgsql-check: the server asks
	// for authentication or accepts the user, which passes.
	sl := startSluice(t, longTimeouts+"listen pg\n bind "+addr+"\n server db 127.0.0.1:"+port+"\n"+
		"backend pgok\n option pgsql-check user postgres\n option log-health-checks\n server db 127.0.0.1:"+port+" check inter 200ms rise 1 fall 1\n")
	for _, want := range []string{
		`Health check for server pgok/db succeeded, reason: Layer7 check passed, code: 0, info: "PostgreSQL server is ok", check duration: `,
	} {
		if !waitFor(10*time.Second, func() bool { return strings.Contains(sl.out.String(), want) }) {
			t.Fatalf("sluice never said %q:\n%s", want, sl.out.String())
		}
	}
	via := []string{"-h", "127.0.0.1", "-p", portOf(addr), "-U", "postgres"}

	out, err := pgCmd(nil, psql, append(via, "-tAc", "select 1")...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Fatalf("psql through Sluice: %v\n%s", err, out)
	}
	if out, err := pgCmd(nil, pgbench, append(via, "-i", "-q", "postgres")...).CombinedOutput(); err != nil {
		t.Fatalf("pgbench -i through Sluice: %v\n%s", err, out)
	}
	out, err = pgCmd(nil, pgbench, append(via, "-c", "4", "-j", "2", "-t", "200", "postgres")...).CombinedOutput()
	if err != nil {
		t.Fatalf("pgbench through Sluice: %v\n%s", err, out)
	}
	for _, want := range []string{"number of transactions actually processed: 800/800", "number of failed transactions: 0 "} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("pgbench output lacks %q:\n%s", want, out)
		}
	}
	// The transactions really went through: the history table has a row
	// for each.
	out, err = pgCmd(nil, psql, append(via, "-tAc", "select count(*) from pgbench_history")...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "800" {
		t.Fatalf("pgbench_history rows through Sluice: %q, %v; want 800", out, err)
	}
}
