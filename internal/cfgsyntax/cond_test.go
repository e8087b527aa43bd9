package cfgsyntax

import (
	"errors"
	"strings"
	"testing"
)

// evalCC evaluates an expression the way "haproxy -cc EXPR" does.
func evalCC(t *testing.T, expr string, opt *Options) (bool, error) {
	t.Helper()
	words, err := SplitArgs(expr, opt)
	if err != nil {
		return false, err
	}
	return EvalCondition(words, opt)
}

// Results observed with "haproxy -cc" (2.6.12-1+deb12u4, +OPENSSL +LUA).
func TestEvalCondition(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{"", false}, {"1", true}, {"0", false}, {" 1", true}, {"-1", true}, {"+0", false},
		{"0x10", true}, {"0x0", false}, {"010", true}, {"99999999999999999999999", true},
		{"!0", true}, {"!!1", true}, {"! 1", false}, {"!(0)", true}, {"( 1 )", true},
		{"1 && 0", false}, {"1&&1&&0", false}, {"0 || 1", true}, {"1||0", true},
		{"0 && 1 || 1", true}, {"1 || 0 && 0", true}, {"(1 || 0) && 0", false},
		{"(0 || 1) && !0", true}, {"(1 && (0 || !0))", true}, {"1\t&&\t1", true},
		{"defined(V1)", true}, {"defined(EMPTY)", true}, {"defined(NOPE)", false},
		{"!defined(NOPE)", true}, {"defined", false}, {"defined()", false},
		{"feature(OPENSSL)", true}, {"feature(QUIC)", false}, {"feature(OPENSS)", false},
		{"streq(a,a)", true}, {"streq(a,b)", false}, {"strneq(a,b)", true}, {"strneq(a,a)", false},
		{`streq("a b","a b")`, true}, {"streq(,)", true}, {`streq("$V1",v1)`, true},
		{`streq(\"a,b\",'"a,b"')`, true}, {`streq(a\\ b,'a b')`, true},
		{"version_atleast(2.6)", true}, {"version_atleast(2.6.12)", true},
		{"version_atleast(2.6.13)", false}, {"version_before(2.6.13)", true},
		{"version_atleast(2.6-dev1)", true}, {"version_atleast(2.6.12-1)", false},
		{"version_atleast(foo)", true}, {"version_before(foo)", false},
		{"version_atleast()", true}, {"version_before()", false},
		{"version_atleast(2.5) && version_before(2.7)", true},
		{"0 && openssl_version_atleast(x)", false}, // evaluation short-circuits
		{"ssllib_name_startswith(Open)", true}, {"ssllib_name_startswith(Libre)", false},
		{"openssl_version_atleast(1.1.1w)", true}, {"openssl_version_before(3.0.0-beta2)", false},
		{strings.Repeat("(", 340) + "1" + strings.Repeat(")", 340), true},
		{strings.TrimSuffix(strings.Repeat("1&&", 1022), "&&"), true},
		{strings.TrimSuffix(strings.Repeat("0||", 1022), "||"), false},
		{strings.Repeat("!", 5000) + "1", true},
	}
	opt := testOpts()
	opt.SSLLibName, opt.SSLLibVersion = "OpenSSL", "3.0.11"
	for _, tc := range tests {
		got, err := evalCC(t, tc.expr, opt)
		if err != nil || got != tc.want {
			t.Errorf("%.60q: got %v, %v; want %v", tc.expr, got, err, tc.want)
		}
	}
}

// Error messages observed with "haproxy -cc" ("Failed to evaluate
// condition: MSG") and the position haproxy reports in .if lines.
func TestEvalConditionErrors(t *testing.T) {
	tests := []struct {
		expr string
		msg  string
		col  int
	}{
		{"foo(1)", "unparsable conditional expression 'foo(1)'", 1},
		{"yes", "unparsable conditional expression 'yes'", 1},
		{"strstr(abc,b)", "unparsable conditional expression 'strstr(abc,b)'", 1}, // 2.8+ only
		{"enabled(POLL)", "unparsable conditional expression 'enabled(POLL)'", 1}, // 2.8+ only
		{"1 1", "unexpected character '1' at the end of conditional expression '1 1'", 3},
		{"08", "unexpected character '8' at the end of conditional expression '08'", 2},
		{"0x", "unexpected character 'x' at the end of conditional expression '0x'", 2},
		{"1a", "unexpected character 'a' at the end of conditional expression '1a'", 2},
		{"1 # x", "unexpected character '#' at the end of conditional expression '1 # x'", 3},
		{"1 &&", "unparsable conditional expression '&&'", 3},
		{"1 && 1 &&", "unparsable conditional expression '&& 1 &&'", 3},
		{"1 || ", "unparsable conditional expression '1 || '", 3},
		{"1 &", "unexpected character '&' at the end of conditional expression '1 &'", 3},
		{"1 ||| 1", "unparsable conditional expression '| 1'", 5},
		{"0 && x", "unparsable conditional expression 'x'", 6},
		{"(1", "expected ')' after conditional expression '(1'", 1},
		{"1)", "unexpected character ')' at the end of conditional expression '1)'", 2},
		{"()", "unparsable conditional expression ')'", 2},
		{"(", "unparsable conditional expression '('", 1},
		{"!", "unparsable conditional expression '!'", 1},
		{"- 1", "unparsable conditional expression '- 1'", 1},
		{"\t", "unparsable conditional sub-expression ' '", 1},
		{"defined (V1)", "unexpected character '(' at the end of conditional expression 'defined (V1)'", 9},
		{"streq(a)", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression", 8},
		{"0 && streq", "missing arguments (got 1/2), type 'string' expected in argument 1 of predicate 'streq' used in conditional expression", 11},
		{"streq(a,b", "expected ')' in argument 1 of predicate 'streq' used in conditional expression", 10},
		{"streq(a,b,c)", "expected ')' before ',c)' in argument 1 of predicate 'streq' used in conditional expression", 10},
		{`streq(a\`, `failed to parse '\' after 'a' as type 'string' at position 1 in argument 0 of predicate 'streq' used in conditional expression`, 8},
		{"defined(" + strings.Repeat("x", trashSize) + ")", "too small buffer size to store decoded argument 1, increase bufsize ? in argument 0 of predicate 'defined' used in conditional expression", 16392},
		{strings.Repeat("(", 341) + "1" + strings.Repeat(")", 341), "unparsable conditional sub-expression '1" + strings.Repeat(")", 341) + "'", 342},
		{strings.TrimSuffix(strings.Repeat("1&&", 1023), "&&"), "unparsable conditional expression '1'", 3067},
		{"openssl_version_atleast(1.0.0)", "'openssl_version_atleast' needs an SSL library version, none is known", 0},
	}
	for _, tc := range tests {
		_, err := evalCC(t, tc.expr, testOpts())
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%.50q: got %v, want *Error", tc.expr, err)
		}
		if e.Msg != tc.msg || e.Pos.Col != tc.col || e.Error() != tc.msg {
			t.Errorf("%.50q:\n got %d %q\nwant %d %q", tc.expr, e.Pos.Col, e.Msg, tc.col, tc.msg)
		}
	}
}

func TestSplitVersion(t *testing.T) {
	tests := []struct {
		in   string
		want [7]uint32
		ok   bool
	}{
		{"1.2.1-pre2", [7]uint32{1, 2, 1, 0, 2, 2, 0}, true},
		{"1.2.10.1", [7]uint32{1, 2, 10, 1, 3, 0, 0}, true},
		{"1.3.16-rc1", [7]uint32{1, 3, 16, 0, 2, 1, 0}, true},
		{"1.5-dev18-43", [7]uint32{1, 5, 0, 0, 1, 18, 43}, true},
		{"2.4-dev18-f6818d-20", [7]uint32{2, 4, 0, 0, 1, 18, 20}, true},
		{"2.6.12-1+deb12u4", [7]uint32{2, 6, 12, 0, 3, 0, 0}, true},
		{"2.6", [7]uint32{2, 6, 0, 0, 3, 0, 0}, true},
		{"2.6.12-1", [7]uint32{2, 6, 12, 0, 3, 0, 1}, true},
		{"", [7]uint32{0, 0, 0, 0, 3, 0, 0}, false},
		{"foo", [7]uint32{0, 0, 0, 0, 3, 0, 0}, false},
		{"1.2.3.4.5", [7]uint32{1, 2, 3, 4, 3, 0, 0}, false},
		{"1-", [7]uint32{1, 0, 0, 0, 3, 0, 0}, true},
		{"1-x-", [7]uint32{1, 0, 0, 0, 3, 0, 0}, false},
	}
	for _, tc := range tests {
		got, ok := splitVersion(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("splitVersion(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if compareVersion("2.6", "2.6.0") != 0 || compareVersion("x", "2.6") != -2 || compareVersion("2.6", "") != -3 {
		t.Error("compareVersion")
	}
}

func TestDefaultOptions(t *testing.T) {
	// nil options: version "2.6", no features, os.LookupEnv.
	tests := map[string]bool{
		"version_atleast(2.6)": true, "version_atleast(2.6.1)": false, "feature(OPENSSL)": false,
		"defined(CFGSYNTAX_SURELY_UNSET_VARIABLE)": false,
	}
	for expr, want := range tests {
		if got, err := EvalCondition([]string{expr}, nil); err != nil || got != want {
			t.Errorf("%s: got %v, %v", expr, got, err)
		}
	}
}
