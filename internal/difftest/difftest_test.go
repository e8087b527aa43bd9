package difftest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sluice/internal/testkit"
)

// testdataDir is where the corpus lives; both binaries run with it as their
// working directory so that relative paths inside the configs resolve.
const testdataDir = "testdata"

// runTimeout bounds each `-c` run.
const runTimeout = 20 * time.Second

// minCorpusFiles is the corpus size the project promises.
const minCorpusFiles = 80

var update = flag.Bool("update", false, "rewrite each corpus file's '# haproxy:' line from haproxy's actual outcome")

var (
	// sluiceBin is the binary under test: $SLUICE_BIN or a fresh build.
	sluiceBin string
	// buildErr, when set, holds why sluiceBin is unusable (with go build's output).
	buildErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	var tmp string
	if !*update {
		sluiceBin, tmp, buildErr = prepareSluice()
	}
	code := m.Run()
	if tmp != "" {
		os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// prepareSluice returns the sluice binary to test: $SLUICE_BIN when set,
// otherwise sluice/cmd/sluice built into a temporary directory (returned so
// that it can be removed).
func prepareSluice() (bin, tmp string, err error) {
	if p := os.Getenv("SLUICE_BIN"); p != "" {
		if !strings.ContainsRune(p, os.PathSeparator) {
			return lookPath(p)
		}
		abs, err := filepath.Abs(p)
		return abs, "", err
	}
	tmp, err = os.MkdirTemp("", "difftest-sluice-")
	if err != nil {
		return "", "", err
	}
	bin = filepath.Join(tmp, "sluice")
	out, err := exec.Command("go", "build", "-o", bin, "sluice/cmd/sluice").CombinedOutput()
	if err != nil {
		return "", tmp, fmt.Errorf("go build -o %s sluice/cmd/sluice: %v\n%s", bin, err, out)
	}
	return bin, tmp, nil
}

func lookPath(name string) (string, string, error) {
	p, err := exec.LookPath(name)
	return p, "", err
}

// haproxyPath is testkit's: $HAPROXY_BIN, PATH, then Debian's path.
func haproxyPath() string { return testkit.HAProxyPath() }

// outcome is what a `-c` run amounts to for the comparison.
type outcome struct {
	exit   int
	alerts []int // sorted, distinct line numbers named in [ALERT] lines
}

func (o outcome) String() string {
	s := "exit=" + strconv.Itoa(o.exit)
	if len(o.alerts) > 0 {
		s += " alerts=" + joinInts(o.alerts)
	}
	return s
}

func (o outcome) equal(p outcome) bool {
	return o.exit == p.exit && slices.Equal(o.alerts, p.alerts)
}

// deviation is a "# sluice:" header line: where sluice deliberately differs.
type deviation struct {
	kind   string // "stricter" or "unsupported"
	alerts []int  // lines where sluice must raise an alert
	why    string
}

// header is what a corpus file's leading comment block declares.
type header struct {
	what    string
	env     []string   // NAME=value pairs from "# env:" lines
	fds     int        // listening sockets passed as fd 3, 4, ... ("# listen-fds: N")
	haproxy *outcome   // from "# haproxy:"; nil when absent
	sluice  *deviation // from "# sluice:"; nil when sluice must agree with haproxy
}

// readHeader parses the leading comment block (comments and blank lines up to
// the first statement) of a corpus file.
func readHeader(path string) (header, error) {
	var h header
	data, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "#") {
			break
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line[1:]), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if err := h.set(key, val); err != nil {
			return h, fmt.Errorf("%s:%d: %v", path, i+1, err)
		}
	}
	return h, nil
}

// set records one "# key: value" header line; unknown keys are prose.
func (h *header) set(key, val string) error {
	switch key {
	case "what":
		h.what = val
	case "env":
		name, _, ok := strings.Cut(val, "=")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("env line %q is not NAME=value", val)
		}
		h.env = append(h.env, val)
	case "listen-fds":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return fmt.Errorf("listen-fds %q is not a count", val)
		}
		h.fds = n
	case "haproxy":
		o, err := parseOutcome(val)
		if err != nil {
			return err
		}
		h.haproxy = &o
	case "sluice":
		d, err := parseDeviation(val)
		if err != nil {
			return err
		}
		h.sluice = &d
	}
	return nil
}

// parseOutcome parses "exit=N [alerts=L1,L2...]".
func parseOutcome(s string) (outcome, error) {
	var o outcome
	seenExit := false
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "exit":
			o.exit, err = strconv.Atoi(v)
			seenExit = true
		case "alerts":
			o.alerts, err = parseInts(v)
		default:
			err = fmt.Errorf("unexpected %q", f)
		}
		if err != nil {
			return o, fmt.Errorf("haproxy line %q: %v", s, err)
		}
	}
	if !seenExit {
		return o, fmt.Errorf("haproxy line %q has no exit=", s)
	}
	return o, nil
}

// parseDeviation parses "stricter alerts=N <why>" or "unsupported alerts=N <keyword>".
func parseDeviation(s string) (deviation, error) {
	f := strings.Fields(s)
	if len(f) < 2 || (f[0] != "stricter" && f[0] != "unsupported") || !strings.HasPrefix(f[1], "alerts=") {
		return deviation{}, fmt.Errorf("sluice line %q: want 'stricter alerts=N <why>' or 'unsupported alerts=N <keyword>'", s)
	}
	alerts, err := parseInts(strings.TrimPrefix(f[1], "alerts="))
	if err != nil || len(alerts) == 0 {
		return deviation{}, fmt.Errorf("sluice line %q: bad alerts= list", s)
	}
	return deviation{kind: f[0], alerts: alerts, why: strings.Join(f[2:], " ")}, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// result is one `-c` run of a binary on a corpus file.
type result struct {
	cmd    string
	file   string
	stdout string
	stderr string
	outcome
}

// String renders the run in full, for failure messages.
func (r result) String() string {
	return fmt.Sprintf("=== %s  (exit %d)\n--- stdout:\n%s--- stderr:\n%s=== end\n", r.cmd, r.exit, r.stdout, r.stderr)
}

// runCheck runs `bin -c -f file` in testdata/ with the header's environment
// and inherited listening sockets.
func runCheck(bin, file string, h header) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", "-f", file)
	cmd.Dir = testdataDir
	cmd.Env = commandEnv(h.env)
	fds, err := listeningFiles(h.fds)
	defer closeAll(fds)
	if err != nil {
		return result{}, err
	}
	cmd.ExtraFiles = fds
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	r := result{cmd: bin + " -c -f " + file, file: file, stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s: no answer within %v\n%s", r.cmd, runTimeout, r)
	case errors.As(err, &exitErr):
		r.exit = exitErr.ExitCode()
	case err != nil:
		return r, fmt.Errorf("%s: %v", r.cmd, err)
	}
	r.alerts = alertLines(r.stderr, file)
	return r, nil
}

// listeningFiles opens n TCP listeners on 127.0.0.1 (ephemeral ports) and
// returns their descriptors, for `bind fd@3` and the like: the child sees
// them as fd 3, 4, ...
func listeningFiles(n int) ([]*os.File, error) {
	var files []*os.File
	for range n {
		l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return files, err
		}
		f, err := l.File()
		l.Close()
		if err != nil {
			return files, err
		}
		files = append(files, f)
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// commandEnv is the caller's environment without SLUICE_TEST_* variables,
// plus the file's own "# env:" settings.
func commandEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLUICE_TEST_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// alertLines returns the sorted, distinct line numbers of file named in the
// lines of stderr that start with "[ALERT]": "[file:line]", "(file:line)"
// and "declared at file:line" alike.
func alertLines(stderr, file string) []int {
	re := regexp.MustCompile(`(?:^|[^\w./-])` + regexp.QuoteMeta(file) + `:(\d+)`)
	var lines []int
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(l, "[ALERT]") {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(l, -1) {
			n, _ := strconv.Atoi(m[1])
			lines = append(lines, n)
		}
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

// corpusFiles lists testdata/*.cfg by name.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(testdataDir, "*.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// TestCorpus runs haproxy and sluice on every corpus file and checks that
// haproxy still gives the recorded outcome and that sluice agrees with it.
func TestCorpus(t *testing.T) {
	hap := haproxyPath()
	switch {
	case hap == "" && (*update || os.Getenv("CI") != ""):
		t.Fatal("haproxy 2.6 is not installed (apt-get install haproxy); it is required with -update or when CI is set")
	case hap == "":
		t.Log("haproxy not installed: comparing sluice with the recorded '# haproxy:' headers only")
	}
	if buildErr != nil {
		t.Errorf("sluice is unusable, only haproxy's side is checked:\n%v", buildErr)
	}
	for _, name := range corpusFiles(t) {
		t.Run(strings.TrimSuffix(name, ".cfg"), func(t *testing.T) {
			t.Parallel()
			if *update {
				updateFile(t, hap, name)
				return
			}
			checkFile(t, hap, name)
		})
	}
}

// checkFile is TestCorpus for one file.
func checkFile(t *testing.T, hap, name string) {
	h, err := readHeader(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if h.haproxy == nil {
		t.Fatalf("%s has no '# haproxy: exit=N alerts=...' header line; run go test -update", name)
	}
	want := *h.haproxy
	var ref *result
	if hap != "" {
		r, err := runCheck(hap, name, h)
		if err != nil {
			t.Fatal(err)
		}
		ref = &r
		if !r.equal(want) {
			t.Errorf("haproxy no longer gives the recorded outcome (the corpus is stale; see -update)\nrecorded: %v\nactual:   %v\n%v", want, r.outcome, r)
		}
		want = r.outcome
	}
	if buildErr != nil {
		t.Skip("sluice unusable (see TestCorpus)")
	}
	got, err := runCheck(sluiceBin, name, h)
	if err != nil {
		t.Fatal(err)
	}
	if h.sluice != nil {
		checkDeviation(t, *h.sluice, got)
		if h.sluice.kind == "unsupported" {
			// Apart from refusing what it cannot do yet, sluice must find
			// exactly what haproxy finds.
			if core := got.coreAlerts(); !slices.Equal(core, want.alerts) {
				t.Errorf("sluice's other alerts differ from haproxy's on %s\nhaproxy: %v\nsluice (without 'not supported' alerts): %v\n%s%v", name, want, core, refText(ref, want), got)
			}
		}
		return
	}
	if want.exit == 1 && got.exit == 1 {
		// On an invalid file Sluice must reject every line haproxy rejects,
		// and raise no other alert of substance. It may also refuse valid
		// keywords it does not run yet ("not supported"); such a refusal at
		// the line haproxy rejects stands in for validation Sluice has not
		// built yet for that keyword.
		core := got.coreAlerts()
		for _, n := range want.alerts {
			if !slices.Contains(got.alerts, n) {
				t.Errorf("sluice raises no alert at line %d of %s, where haproxy does\nhaproxy: %v\n%s%v", n, name, want, refText(ref, want), got)
			}
		}
		for _, n := range core {
			if !slices.Contains(want.alerts, n) {
				t.Errorf("sluice raises an alert at line %d of %s, where haproxy does not\nhaproxy: %v\n%s%v", n, name, want, refText(ref, want), got)
			}
		}
		return
	}
	if !got.equal(want) {
		t.Errorf("sluice disagrees with haproxy on %s (%s)\nhaproxy: %v\nsluice:  %v\n%s%v", name, h.what, want, got.outcome, refText(ref, want), got)
	}
}

// refText renders haproxy's run for a failure message, or the recorded header
// when haproxy was not run.
func refText(ref *result, want outcome) string {
	if ref == nil {
		return fmt.Sprintf("=== haproxy not run; recorded outcome: %v\n", want)
	}
	return ref.String()
}

// checkDeviation checks a run of sluice on a file where sluice deliberately
// differs from haproxy: it must exit 1 with an alert at each listed line, and
// for "unsupported" that alert must say "not supported".
func checkDeviation(t *testing.T, d deviation, got result) {
	t.Helper()
	if got.exit != 1 {
		t.Errorf("sluice: %s (%s): want exit 1, got %d\n%v", d.kind, d.why, got.exit, got)
	}
	for _, line := range d.alerts {
		if !slices.Contains(got.alerts, line) {
			t.Errorf("sluice: %s (%s): want an [ALERT] at line %d, got alerts at %v\n%v", d.kind, d.why, line, got.alerts, got)
			continue
		}
		if d.kind == "unsupported" && !alertSays(got, line, "not supported") {
			t.Errorf("sluice: unsupported %s: the [ALERT] at line %d must say \"not supported\"\n%v", d.why, line, got)
		}
	}
}

// coreAlerts is the sorted set of lines named by sluice's [ALERT] lines that
// do not merely say a keyword is "not supported" (yet).
func (r result) coreAlerts() []int {
	var out []int
	for _, l := range strings.Split(r.stderr, "\n") {
		if !strings.HasPrefix(l, "[ALERT]") || strings.Contains(l, "is not supported") {
			continue
		}
		for _, n := range alertLines(l, r.file) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// alertSays reports whether one of r's [ALERT] lines naming line of its file
// contains text.
func alertSays(r result, line int, text string) bool {
	for _, l := range strings.Split(r.stderr, "\n") {
		if slices.Contains(alertLines(l, r.file), line) && strings.Contains(l, text) {
			return true
		}
	}
	return false
}

// updateFile rewrites name's "# haproxy:" line with haproxy's actual outcome.
// A missing line is first inserted after the "# what:" line, so that the
// line numbers haproxy reports are those of the final file.
func updateFile(t *testing.T, hap, name string) {
	path := filepath.Join(testdataDir, name)
	h, err := readHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.haproxy == nil {
		setHaproxyLine(t, path, "# haproxy: exit=0")
	}
	r, err := runCheck(hap, name, h)
	if err != nil {
		t.Fatal(err)
	}
	setHaproxyLine(t, path, "# haproxy: "+r.outcome.String())
}

// setHaproxyLine replaces the "# haproxy:" line of the file at path, or
// inserts it after the "# what:" line (at the top when there is none).
func setHaproxyLine(t *testing.T, path, line string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if at := slices.IndexFunc(lines, hasPrefix("# haproxy:")); at >= 0 {
		lines[at] = line
	} else {
		what := slices.IndexFunc(lines, hasPrefix("# what:"))
		lines = slices.Insert(lines, what+1, line)
	}
	if out := strings.Join(lines, "\n"); out != string(data) {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", filepath.Base(path), line)
	}
}

func hasPrefix(p string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, p) }
}

// TestCorpusFiles checks the corpus's own rules: enough files, names of the
// form NNN-short-description.cfg, a "# what:" and a "# haproxy:" header, and
// no IPv4 address outside 127.0.0.0/8 (or the 0.0.0.0 wildcard).
func TestCorpusFiles(t *testing.T) {
	names := corpusFiles(t)
	if len(names) < minCorpusFiles {
		t.Errorf("corpus has %d files, want at least %d", len(names), minCorpusFiles)
	}
	nameRE := regexp.MustCompile(`^\d{3}-[a-z0-9][a-z0-9-]*\.cfg$`)
	ipRE := regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	for _, name := range names {
		if !nameRE.MatchString(name) {
			t.Errorf("%s: name is not NNN-short-description.cfg", name)
		}
		h, err := readHeader(filepath.Join(testdataDir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if h.what == "" || h.haproxy == nil {
			t.Errorf("%s: header needs '# what:' and '# haproxy:' lines", name)
		}
		for _, ip := range ipRE.FindAllString(statements(t, name), -1) {
			if !strings.HasPrefix(ip, "127.") && ip != "0.0.0.0" {
				t.Errorf("%s: address %s outside 127.0.0.0/8", name, ip)
			}
		}
	}
}

// statements returns a corpus file without its full-line comments.
func statements(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestKeywordCoverage checks that every keyword of testdata/keywords.txt (the
// HAProxy keywords named in the open issues) is used by at least one corpus
// file, outside comments, as whole words.
func TestKeywordCoverage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "keywords.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus strings.Builder
	for _, name := range corpusFiles(t) {
		corpus.WriteString(statements(t, name))
	}
	text := corpus.String()
	n := 0
	for _, kw := range strings.Split(string(data), "\n") {
		kw = strings.TrimSpace(kw)
		if kw == "" || strings.HasPrefix(kw, "#") {
			continue
		}
		n++
		if !keywordRE(kw).MatchString(text) {
			t.Errorf("keyword %q (testdata/keywords.txt) is used by no corpus file", kw)
		}
	}
	if n == 0 {
		t.Error("testdata/keywords.txt lists no keyword")
	}
}

// keywordRE matches kw's words in sequence, separated by blanks, as whole
// words: an end made of word characters must sit next to a blank, a line
// end, or the punctuation around fetches, converters and conditions
// ({ } ( ) , [ ] ! % :), so "check" does not match "httpchk" or "check-send-proxy".
// An end such as the "@" of "ipv4@" needs no boundary.
func keywordRE(kw string) *regexp.Regexp {
	words := strings.Fields(kw)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	re := strings.Join(words, `[ \t]+`)
	if isWordByte(kw[0]) {
		re = `(?:^|[\s{(,\[!%])` + re
	}
	if isWordByte(kw[len(kw)-1]) {
		re += `(?:$|[\s})(,\]:])`
	}
	return regexp.MustCompile(`(?m)` + re)
}

// isWordByte reports whether c can be part of a keyword word.
func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
