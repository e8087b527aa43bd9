package main

import (
	"fmt"
	"strconv"
)

// args is the parsed command line, in HAProxy's terms.
type args struct {
	files        []string
	check        bool   // -c
	checkCond    string // -cc
	hasCheckCond bool
	debug        bool // -d / -db: stay in the foreground
	daemon       bool // -D
	pidfile      string
	quiet        bool
	verbose      bool
	version      int // 1 for -v, 2 for -vv
	localPeer    string
	softStop     []int // -sf
	hardStop     []int // -st
	maxconn      int   // -n
	proxyMaxconn int   // -N
	warnFatal    bool  // -dW
}

// usageError is a command-line mistake; main prints usage and exits 1.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parseArgs reads HAProxy's flags. Like HAProxy, -sf and -st take every
// following number until the next option, and "--" makes all remaining
// arguments configuration files.
func parseArgs(argv []string) (*args, error) {
	a := &args{}
	for i := 0; i < len(argv); i++ {
		s := argv[i]
		next := func() (string, error) {
			if i+1 >= len(argv) {
				return "", &usageError{fmt.Sprintf("option '%s' requires an argument", s)}
			}
			i++
			return argv[i], nil
		}
		var err error
		switch s {
		case "--":
			a.files = append(a.files, argv[i+1:]...)
			return a, nil
		case "-f":
			var f string
			if f, err = next(); err == nil {
				a.files = append(a.files, f)
			}
		case "-c":
			a.check = true
		case "-cc":
			a.hasCheckCond = true
			a.checkCond, err = next()
		case "-d", "-db", "-dr", "-dV", "-dS", "-de", "-dp", "-dR", "-dG", "-dD", "-dL", "-dM":
			a.debug = a.debug || s == "-d" || s == "-db"
		case "-dW":
			a.warnFatal = true
		case "-D":
			a.daemon = true
		case "-W", "-Ws":
			err = &usageError{fmt.Sprintf("option '%s' (master-worker mode) is not supported yet by Sluice", s)}
		case "-p":
			a.pidfile, err = next()
		case "-q":
			a.quiet = true
		case "-V":
			a.verbose = true
		case "-v":
			a.version = max(a.version, 1)
		case "-vv":
			a.version = 2
		case "-L":
			a.localPeer, err = next()
		case "-n", "-N":
			var v string
			if v, err = next(); err == nil {
				n, perr := strconv.Atoi(v)
				if perr != nil || n < 0 {
					return nil, &usageError{fmt.Sprintf("option '%s' expects a positive integer, got '%s'", s, v)}
				}
				if s == "-n" {
					a.maxconn = n
				} else {
					a.proxyMaxconn = n
				}
			}
		case "-sf", "-st":
			var pids []int
			for i+1 < len(argv) {
				n, perr := strconv.Atoi(argv[i+1])
				if perr != nil || n <= 0 {
					break
				}
				pids = append(pids, n)
				i++
			}
			if s == "-sf" {
				a.softStop = append(a.softStop, pids...)
			} else {
				a.hardStop = append(a.hardStop, pids...)
			}
		case "-x", "-S", "-C", "-m":
			if _, err = next(); err == nil {
				err = &usageError{fmt.Sprintf("option '%s' is not supported by Sluice", s)}
			}
		default:
			return nil, &usageError{fmt.Sprintf("unknown option '%s'", s)}
		}
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

const usageText = `Usage : %s [-f <cfgfile|cfgdir>]* [ -vdV -D ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -dW fails if any warning is emitted
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -C changes to <dir> before loading files.
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections
        -N sets the default, per-proxy maximum # of connections
        -L set local peer name (default to hostname)
        -sf/-st [pid ]* finishes/terminates old pids.
        -- <cfgfile>* all remaining args are configuration files
`
