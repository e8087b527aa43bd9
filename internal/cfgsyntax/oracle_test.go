package cfgsyntax

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The differential test below runs the real haproxy 2.6 binary (when it is
// installed) on random files made of tricky fragments and checks that Parse
// reports the same .notice/.warning/.alert output and the same errors, with
// the same file:line and "position" numbers.

var oracleEnv = map[string]string{
	"V1": "v1", "EMPTY": "", "MULTI": "  a  b c ", "SP": "x y", "NUM": "1",
}

func oracleLookup(name string) (string, bool) {
	v, ok := oracleEnv[name]
	return v, ok
}

var oracleFragments = []string{
	"a", "b", " ", " ", "\t", "\"", "\"", "'", "\\", "\\\\", "\\x41", "\\x4", "\\x00",
	"$", "${", "}", "V1", "NOPE", "EMPTY", "MULTI", "SP", "NUM", "-", "[*]", "#", "\r",
	"\"$V1\"", "\"${NOPE-d e}\"", "\"${MULTI[*]}\"", "\\ ", "\\#", "\\'", "\\\"", "\\n",
	"\\$", "\\t", "\"\"", "''", "x\"y z\"w", "\v", ".LINE", ".FILE", ".SECTION",
	"\"${.SECTION}\"", "\"${.LINE}${.SECTION-none}\"", "\x00", strings.Repeat("z", 700),
	"\"${NOPE-dflt}\"", strings.Repeat(" w", 20), "[", "]",
}

var oracleHeads = []string{
	".notice ", ".notice ", ".warning ", ".diag ", ".if ", ".elif ", ".else", ".endif",
	".alert ", ".foo ", "[sc]", "", " .notice ", "global\n", "frontend fe\n",
	"backend be\n", "[", "\"\" ",
}

var oracleCond = []string{
	"1", "0", "!", "(", ")", " && ", " || ", "defined(V1)", "defined(NOPE)", "streq(a,a)",
	"strneq(a,b)", "feature(OPENSSL)", "feature(QUIC)", "version_atleast(2.6)", "version_before(2.6.1)", "\"$NUM\"",
	"foo(1)", "streq(a", ",", "0x1", "08", " ", "\\\"a,b\\\"",
}

func randomOracleFile(r *rand.Rand) string {
	var b strings.Builder
	for n := r.Intn(8) + 1; n > 0; n-- {
		head := oracleHeads[r.Intn(len(oracleHeads))]
		b.WriteString(head)
		pool := oracleFragments
		if head == ".if " || head == ".elif " {
			pool = oracleCond
		}
		for k := r.Intn(6); k > 0; k-- {
			b.WriteString(pool[r.Intn(len(pool))])
		}
		if r.Intn(30) > 0 || n > 1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// normalizeOutput keeps the message and error lines of haproxy's output in
// a comparable form.
func normalizeOutput(out string) []string {
	var res []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "[") || !strings.Contains(l, "parsing [") ||
			strings.Contains(l, "unknown keyword") || strings.Contains(l, "negation/default") ||
			strings.Contains(l, "global section detected") || strings.Contains(l, "has the same name") ||
			strings.Contains(l, "cannot handle unexpected argument") {
			// Section parsers' messages: the config package's business.
			continue
		}
		tag := l[1:strings.IndexByte(l, ']')]
		l = l[strings.Index(l, "parsing ["):]
		l = strings.Replace(l, "] : ", "]: ", 1)
		res = append(res, tag+" "+strings.TrimSuffix(l, ":"))
	}
	return res
}

// renderParse prints Parse's results the way haproxy would.
func renderParse(msgs []Message, err error) string {
	type item struct {
		line int
		ord  int
		text string
	}
	var items []item
	for _, m := range msgs {
		if m.Sev != SevAlert {
			items = append(items, item{m.Pos.Line, 0, fmt.Sprintf("[%s] parsing [%s]: '%s'.", m.Sev, m.Pos, m.Text)})
		}
	}
	for _, e := range flattenErrors(err) {
		items = append(items, item{e.Pos.Line, 1, "[ALERT] " + e.Error()})
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].line != items[j].line {
			return items[i].line < items[j].line
		}
		return items[i].ord < items[j].ord
	})
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.text + "\n")
	}
	return b.String()
}

func flattenErrors(err error) []*Error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var res []*Error
		for _, e := range j.Unwrap() {
			res = append(res, flattenErrors(e)...)
		}
		return res
	}
	var e *Error
	if errors.As(err, &e) {
		return []*Error{e}
	}
	return nil
}

func runHAProxy(t *testing.T, path string) string {
	t.Helper()
	cmd := exec.Command("haproxy", "-dD", "-c", "-f", path)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin"}
	for k, v := range oracleEnv {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func TestOracleDifferential(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy binary not installed")
	}
	n := 150
	if testing.Short() {
		n = 20
	}
	if v, err := strconv.Atoi(os.Getenv("CFGSYNTAX_ORACLE_N")); err == nil {
		n = v
	}
	dir := t.TempDir()
	r := rand.New(rand.NewSource(int64(os.Getpid())))
	for i := 0; i < n; i++ {
		src := randomOracleFile(r)
		path := filepath.Join(dir, "o.cfg")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		want := normalizeOutput(runHAProxy(t, path))
		_, msgs, err := Parse(path, []byte(src), &Options{LookupEnv: oracleLookup, Version: "2.6.12-1+deb12u4", Features: []string{"OPENSSL"}})
		got := normalizeOutput(renderParse(msgs, err))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("input %q\n got: %q\nwant: %q", src, got, want)
		}
	}
}

// TestOracleCC compares SplitArgs+EvalCondition with "haproxy -cc": the
// outcome (true, false, error) and, for condition errors, the message.
func TestOracleCC(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy binary not installed")
	}
	n := 150
	if testing.Short() {
		n = 20
	}
	if v, err := strconv.Atoi(os.Getenv("CFGSYNTAX_ORACLE_N")); err == nil {
		n = v
	}
	r := rand.New(rand.NewSource(int64(os.Getpid())))
	pool := append(append([]string{}, oracleCond...), "\"", "'", "\\", "#", "\t", "'a,b'", "streq(", "version_atleast(", "2.6.12-1")
	opt := &Options{LookupEnv: oracleLookup, Version: "2.6.12-1+deb12u4", Features: []string{"OPENSSL"}}
	for i := 0; i < n; i++ {
		var b strings.Builder
		for k := r.Intn(7) + 1; k > 0; k-- {
			b.WriteString(pool[r.Intn(len(pool))])
		}
		expr := b.String()
		cmd := exec.Command("haproxy", "-cc", expr)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin", "V1=v1", "NUM=1"}
		out, _ := cmd.CombinedOutput()
		want := fmt.Sprint(cmd.ProcessState.ExitCode())
		if k := strings.Index(string(out), "Failed to evaluate condition: "); k >= 0 {
			want += " " + strings.TrimSpace(string(out[k+30:]))
		}
		got := "2"
		if words, err := SplitArgs(expr, opt); err == nil {
			ok, err := EvalCondition(words, opt)
			switch {
			case err != nil:
				got = "2 " + err.Error()
			case ok:
				got = "0"
			default:
				got = "1"
			}
		}
		if got != want {
			t.Errorf("-cc %q: got %q, want %q", expr, got, want)
		}
	}
}
