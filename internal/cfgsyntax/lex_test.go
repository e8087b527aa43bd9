package cfgsyntax

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// testEnv is the environment every test sees through Options.LookupEnv.
var testEnv = map[string]string{
	"V1":    "v1",
	"EMPTY": "",
	"MULTI": "  a  b c ",
	"SP":    "x y",
	"NUM":   "1",
	"ZERO":  "0",
}

func testOpts() *Options {
	return &Options{
		LookupEnv: func(n string) (string, bool) { v, ok := testEnv[n]; return v, ok },
		Version:   "2.6.12-1+deb12u4",
		Features:  []string{"OPENSSL", "LUA"},
	}
}

// lexWords parses one line (as line 2, after a comment, since
// "${VAR-default}" fails on line 1) and returns its words.
func lexWords(t *testing.T, line string) ([]string, error) {
	t.Helper()
	lines, _, err := Parse("t.cfg", []byte("#\n"+line+"\n"), testOpts())
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, nil
	}
	if len(lines) != 1 {
		t.Fatalf("%q: got %d lines", line, len(lines))
	}
	var words []string
	for _, w := range lines[0].Words {
		words = append(words, w.Text)
	}
	return words, nil
}

// lexCases states the haproxy 2.6.12 behaviour each input reproduces; the
// cases marked "observed" were checked with `.notice` lines and `haproxy -c`.
var lexCases = []struct {
	name string
	in   string
	want []string
}{
	{"plain", "bind :80", []string{"bind", ":80"}},
	{"leading blanks and tabs", " \t\v\f bind\t:80", []string{"bind", ":80"}},
	{"vt and ff separate words (observed)", "a\vb\fc", []string{"a", "b", "c"}},
	{"high bytes are not blanks (observed)", "a\xa0b\x85c", []string{"a\xa0b\x85c"}},
	{"escaped space", `a\ b`, []string{"a b"}},
	{"escaped hash", `a\#b`, []string{"a#b"}},
	{"escaped backslash", `a\\b`, []string{`a\b`}},
	{"escaped quotes", `a\'b\"c`, []string{`a'b"c`}},
	{"escaped controls", `a\nb\rc\td`, []string{"a\nb\rc\td"}},
	{"hex escapes (observed)", `\x41\x4a\x4F\x7e`, []string{"AJO~"}},
	{"unknown escape kept (observed)", `a\qb`, []string{`a\qb`}},
	{"trailing backslash kept (observed)", `x\`, []string{`x\`}},
	{"backslash-tab is not an escape (observed)", "a\\\tb", []string{`a\`, "b"}},
	{"dollar escape outside quotes kept (observed)", `a\$b`, []string{`a\$b`}},
	{"dollar escape in double quotes", `"a\$b"`, []string{"a$b"}},
	{"hash escape in double quotes", `"a\#b"`, []string{"a#b"}},
	{"double quotes keep blanks", `"a b"  c`, []string{"a b", "c"}},
	{"single quotes keep everything", `'a\x41 $V1 "#'`, []string{`a\x41 $V1 "#`}},
	{"quotes concatenate (observed)", `a"b c"d'e f'g`, []string{"ab cde fg"}},
	{"single quote in double quotes", `"a'b"`, []string{"a'b"}},
	{"double quote in single quotes", `'a"b'`, []string{`a"b`}},
	{"backslash in single quotes", `'a\'b`, []string{`a\b`}},
	{"comment", "a b # c d", []string{"a", "b"}},
	{"comment glued to word (observed)", "a#b", []string{"a"}},
	{"quoted hash is not a comment", `"a#b"c`, []string{"a#bc"}},
	{"env not expanded outside quotes (observed)", "$V1 ${V1}", []string{"$V1", "${V1}"}},
	{"env in double quotes", `"x${V1}y" "x$V1.y"`, []string{"xv1y", "xv1.y"}},
	{"env not expanded in single quotes", `'$V1'`, []string{"$V1"}},
	{"undefined env is empty (observed)", `"x${NOPE}y" "$NOPE"z`, []string{"xy", "z"}},
	{"default for undefined (observed)", `"x${NOPE-def ault}y"`, []string{"xdef aulty"}},
	{"default not used for empty (observed)", `"x${EMPTY-def}y"`, []string{"xy"}},
	{"default not used for set", `"x${V1-def}y"`, []string{"xv1y"}},
	{"default is raw text (observed)", `"x${NOPE-a\"b}y"`, []string{`xa\"by`}},
	{"empty default", `"a${NOPE-}b"`, []string{"ab"}},
	{"word expansion (observed)", `x"${MULTI[*]}"y`, []string{"x", "a", "b", "c", "y"}},
	{"word expansion of default (observed)", `"${NOPE[*]-p q}" z`, []string{"p", "q", "z"}},
	{"word expansion only in braces", `"$SP[*]"`, []string{"x y[*]"}},
	{"empty word kept inside (observed)", `a "" b`, []string{"a", "", "b"}},
	{"trailing empty word dropped", `a "" `, []string{"a"}},
	{"NUL from hex cuts the word (observed)", `a\x00b c`, []string{"a", "c"}},
	{"bare CR ends the line (observed)", "a b\rc d", []string{"a", "b"}},
	{"CR after a blank is a blank", "a \rb", []string{"a", "b"}},
	{"CRLF", "a b\r", []string{"a", "b"}},
	{"pseudo variables", `"${.LINE}:${.FILE}"`, []string{"2:t.cfg"}},
	{"64 words is the maximum", strings.TrimSpace(strings.Repeat("w ", 64)), strings.Fields(strings.Repeat("w ", 64))},
}

func TestLexWords(t *testing.T) {
	for _, tc := range lexCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lexWords(t, tc.in)
			if err != nil {
				t.Fatalf("%q: unexpected error %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestLexNoLine(t *testing.T) {
	for _, in := range []string{"", "   ", "# comment", "  # comment", `"" foo bar`, `'' x`, `"$NOPE" x`, "\r", `\x00x y`} {
		got, err := lexWords(t, in)
		if err != nil || got != nil {
			t.Errorf("%q: got %q, %v; want no line (an empty first word voids the line, observed)", in, got, err)
		}
	}
}

// Lexer errors and the "position" HAProxy prints (observed).
func TestLexErrors(t *testing.T) {
	tests := []struct {
		in  string
		msg string
		col int
	}{
		{` .notice "a`, "unmatched quote at position 10", 10},
		{` .notice "a'b"c'd`, "unmatched quote at position 16", 16},
		{` .notice "${E1"`, "unmatched brace in environment variable name at position 12", 12},
		{` .notice "${NOPE-abc"`, "unmatched brace in environment variable name at position 12", 12},
		{` .notice "$1"`, "forbidden first char in environment variable name at position 12", 12},
		{` .notice "a$"`, "forbidden first char in environment variable name at position 13", 13},
		{` .notice "${}"`, "forbidden first char in environment variable name at position 13", 13},
		{` .notice "${.FOO}"`, "forbidden first char in environment variable name at position 13", 13},
		{` .notice \xZZ`, "truncated or invalid hexadecimal sequence at position 10", 10},
		{` .notice "\x4g"`, "truncated or invalid hexadecimal sequence at position 11", 11},
		{` .notice "${E1[x]}"`, "truncated or invalid word expansion sequence at position 15", 15},
		{".notice " + strings.Repeat("w ", 64), "too many words, truncating after word 64, position 133: <w>.", 133},
	}
	for _, tc := range tests {
		_, err := lexWords(t, tc.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%q: got %v, want *Error", tc.in, err)
		}
		if e.Msg != tc.msg || e.Pos.Line != 2 || e.Pos.Col != tc.col || e.Pos.File != "t.cfg" {
			t.Errorf("%q: got %+v, want line 2 col %d %q", tc.in, e, tc.col, tc.msg)
		}
	}
}

func TestWordPositions(t *testing.T) {
	lines, _, err := Parse("p.cfg", []byte("global\n\t  log  \"a b\"\\ c 'x'#z\n"), testOpts())
	if err != nil {
		t.Fatal(err)
	}
	want := []Word{
		{"log", "log", Pos{"p.cfg", 2, 4}},
		{"a b c", `"a b"\ c`, Pos{"p.cfg", 2, 9}},
		{"x", "'x'", Pos{"p.cfg", 2, 18}},
	}
	if !reflect.DeepEqual(lines[1].Words, want) {
		t.Errorf("got %+v, want %+v", lines[1].Words, want)
	}
	if lines[1].Pos != want[0].Pos || lines[1].Pos.String() != "p.cfg:2" {
		t.Errorf("line pos %v", lines[1].Pos)
	}
}

func TestLineArgs(t *testing.T) {
	l := Line{Words: []Word{{Text: "a"}, {Text: ""}, {Text: "b"}}}
	if got := l.Args(); len(got) != 1 || got[0].Text != "a" {
		t.Errorf("Args() = %+v", got)
	}
	l.Words[1].Text = "x"
	if len(l.Args()) != 3 {
		t.Errorf("Args() should keep all non-empty words")
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"1", []string{"1"}},
		{`streq("a b",'c d') # x`, []string{"streq(a b,c d)", "#", "x"}}, // -cc has no comments (observed)
		{" 1", []string{"", "1"}},
		{"1 ", []string{"1", ""}},
		{`"${MULTI[*]}"`, []string{"", "a", "b", "c", ""}},
		{`"$V1" \x41`, []string{"v1", "A"}},
	}
	for _, tc := range tests {
		got, err := SplitArgs(tc.in, testOpts())
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{`"a`, `\x4`, strings.Repeat("1 ", 65), `"$1"`} {
		var e *Error
		if _, err := SplitArgs(in, testOpts()); !errors.As(err, &e) {
			t.Errorf("SplitArgs(%q): got %v, want *Error", in, err)
		}
	}
}
