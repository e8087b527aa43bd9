package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"sluice/internal/config"
	"sluice/internal/engine"
	"sluice/internal/logsink"
)

// daemonEnv marks the re-executed child of -D / `daemon`: Go cannot fork a
// running process safely, so the parent starts a copy of itself in a new
// session and exits once the copy reports that it listens.
const daemonEnv = "SLUICE_DAEMON_CHILD"

func serve(a *args, cfg *config.Config, out *printer) int {
	g := &cfg.Global
	if (a.daemon || g.Daemon) && !a.debug && os.Getenv(daemonEnv) == "" {
		return daemonize(out)
	}
	if g.Nbthread > 0 {
		runtime.GOMAXPROCS(g.Nbthread)
	}
	// Catch signals before the first socket opens: one sent as soon as we
	// listen must stop us cleanly, not kill us with the default action.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	// SIGHUP dumps server states in HAProxy and SIGTTOU/SIGTTIN pause and
	// resume listeners; Sluice has neither yet, and none may kill it.
	signal.Ignore(syscall.SIGHUP, syscall.SIGTTOU, syscall.SIGTTIN)
	sink, err := openLogs(cfg)
	if err != nil {
		out.alert("%v", err)
		return 1
	}
	defer sink.Close()
	// Bind first, then write the pidfile and give up root, and only then
	// accept: no connection is ever handled with root's privileges.
	eng, err := engine.Open(cfg, engine.Options{Log: sink, Warn: out.warning, Alert: out.alert})
	if err != nil {
		out.alert("%v", err)
		return 1
	}
	if err := afterBind(cfg, out); err != nil {
		eng.HardStop()
		if cfg.Global.Pidfile != "" {
			os.Remove(cfg.Global.Pidfile)
		}
		out.alert("%v", err)
		return 1
	}
	eng.Serve()
	signalOld(a, out)
	notifyDaemonParent()
	code := waitSignals(sigs, eng, cfg, sink)
	eng.Close()
	return code
}

// openLogs opens the global log targets with the process's tag.
func openLogs(cfg *config.Config) (*logsink.Sink, error) {
	var targets []logsink.Target
	for _, l := range cfg.Global.Logs {
		targets = append(targets, l.Target)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	host := cfg.Global.LogSendHost
	return logsink.Open(targets, logsink.Options{Tag: cfg.Global.LogTag, Hostname: host})
}

// afterBind writes the pidfile, then chroots and drops privileges, in that
// order: sockets are bound as root, the pidfile is written where the
// administrator asked, and only then does the process give up root.
func afterBind(cfg *config.Config, out *printer) error {
	g := &cfg.Global
	if g.Pidfile != "" {
		if err := os.WriteFile(g.Pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return fmt.Errorf("[%s.main()] Cannot create pidfile %s", "sluice", g.Pidfile)
		}
	}
	uid, gid, err := wantedIDs(g)
	if err != nil {
		return err
	}
	if g.Chroot != "" {
		if err := syscall.Chroot(g.Chroot); err != nil {
			return fmt.Errorf("[sluice.main()] Cannot chroot(%s).", g.Chroot)
		}
		if err := os.Chdir("/"); err != nil {
			return err
		}
	}
	if gid >= 0 && gid != os.Getgid() {
		if err := syscall.Setgroups(nil); err != nil {
			out.warning("[sluice.main()] Failed to drop supplementary groups. Using 'gid'/'group' without 'uid'/'user' is generally useless.")
		}
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("[sluice.main()] Cannot set gid %d.", gid)
		}
	}
	if uid >= 0 && uid != os.Getuid() {
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("[sluice.main()] Cannot set uid %d.", uid)
		}
	}
	return nil
}

// wantedIDs resolves user/group names; numeric uid/gid win when both appear.
func wantedIDs(g *config.Global) (uid, gid int, err error) {
	uid, gid = g.UID, g.GID
	if g.User != "" && uid < 0 {
		u, err := user.Lookup(g.User)
		if err != nil {
			return 0, 0, fmt.Errorf("cannot find user id for '%s'", g.User)
		}
		uid, _ = strconv.Atoi(u.Uid)
		if gid < 0 && g.Group == "" {
			gid, _ = strconv.Atoi(u.Gid)
		}
	}
	if g.Group != "" && gid < 0 {
		gr, err := user.LookupGroup(g.Group)
		if err != nil {
			return 0, 0, fmt.Errorf("cannot find group id for '%s'", g.Group)
		}
		gid, _ = strconv.Atoi(gr.Gid)
	}
	return uid, gid, nil
}

// signalOld tells earlier instances to finish (-sf) or stop (-st) now that
// this one listens.
func signalOld(a *args, out *printer) {
	for _, pid := range a.softStop {
		if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
			out.warning("Failed to send signal to old pid %d: %v", pid, err)
		}
	}
	for _, pid := range a.hardStop {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			out.warning("Failed to send signal to old pid %d: %v", pid, err)
		}
	}
}

// waitSignals runs until a signal ends the process: SIGUSR1 is a soft stop
// (stop listening, let connections finish, bounded by hard-stop-after),
// SIGTERM a hard stop, SIGINT a clean exit.
func waitSignals(ch <-chan os.Signal, eng *engine.Engine, cfg *config.Config, sink *logsink.Sink) int {
	sig := <-ch
	if sig != syscall.SIGUSR1 {
		eng.HardStop()
		eng.Wait(5 * time.Second)
		return 0
	}
	eng.SoftStop()
	for _, p := range cfg.Frontends() {
		sink.Logf(logsink.LevelWarning, "Proxy %s stopped.", p.Name)
	}
	done := make(chan bool, 1)
	go func() { done <- eng.Wait(cfg.Global.HardStopAfter) }()
	for {
		select {
		case <-done:
			eng.HardStop()
			return 0
		case s := <-ch:
			// A repeated SIGUSR1 changes nothing; SIGTERM or SIGINT
			// during a soft stop turn it into a hard one.
			if s != syscall.SIGUSR1 {
				eng.HardStop()
			}
		}
	}
}

// daemonize starts this program again in a new session, detached from the
// terminal, and returns once the child listens (0) or has failed (1).
func daemonize(out *printer) int {
	r, w, err := os.Pipe()
	if err != nil {
		out.alert("[sluice.main()] Cannot fork: %v", err)
		return 1
	}
	null, _ := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), daemonEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, os.Stderr
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		out.alert("[sluice.main()] Cannot fork: %v", err)
		return 1
	}
	w.Close()
	line, _ := bufio.NewReader(r).ReadString('\n')
	if line != "ready\n" {
		cmd.Wait()
		return 1
	}
	cmd.Process.Release()
	return 0
}

// notifyDaemonParent tells a waiting -D parent that this process listens,
// then detaches stderr so the terminal is free.
func notifyDaemonParent() {
	if os.Getenv(daemonEnv) == "" {
		return
	}
	f := os.NewFile(3, "daemon-ready")
	if f == nil {
		return
	}
	f.WriteString("ready\n")
	f.Close()
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		syscall.Dup2(int(null.Fd()), 2)
	}
}
