package cfgsyntax

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// firstWords returns the first word of every line, to check which lines
// survived conditional blocks.
func firstWords(lines []Line) []string {
	var res []string
	for _, l := range lines {
		res = append(res, l.Words[0].Text)
	}
	return res
}

func parseOK(t *testing.T, src string) ([]Line, []Message) {
	t.Helper()
	lines, msgs, err := Parse("t.cfg", []byte(src), testOpts())
	if err != nil {
		t.Fatalf("%q: unexpected error %v", src, err)
	}
	return lines, msgs
}

func TestConditionalBlocks(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"if true", ".if 1\na\n.endif\nb\n", []string{"a", "b"}},
		{"if false", ".if 0\na\n.endif\nb\n", []string{"b"}},
		{"else", ".if 0\na\n.else\nb\n.endif\n", []string{"b"}},
		{"else not taken", ".if 1\na\n.else\nb\n.endif\n", []string{"a"}},
		{"elif chain", ".if 0\na\n.elif 0\nb\n.elif 1\nc\n.elif 1\nd\n.else\ne\n.endif\n", []string{"c"}},
		{"elif after taken if is not evaluated", ".if 1\na\n.elif foo(\nb\n.endif\n", []string{"a"}},
		{"nested", ".if 1\n.if 0\na\n.else\nb\n.endif\nc\n.endif\n", []string{"b", "c"}},
		{"nested in false branch is never evaluated", ".if 0\n.if bar(\n.elif baz\n.else\n.alert x\n.endif\n.endif\nz\n", []string{"z"}},
		{"unknown directive in false branch ignored", ".if 0\n.foo\n.endif\nz\n", []string{"z"}},
		{"env in condition", ".if \"$NUM\"\na\n.endif\n.if \"$ZERO\"\nb\n.endif\n", []string{"a"}},
		{"empty condition is false", ".if\na\n.endif\n.if \"$NOPE\"\nb\n.endif\n", nil},
		{"words are rejoined with spaces (observed)", ".if streq(a b,a b) && \"1\" \"&&\" 1\na\n.endif\n", []string{"a"}},
		{"comment after condition", ".if 1 # because\na\n.endif # done\n", []string{"a"}},
		{"99 nested levels", strings.Repeat(".if 1\n", 99) + "a\n" + strings.Repeat(".endif\n", 99), []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lines, _ := parseOK(t, tc.src)
			if got := firstWords(lines); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	src := "global\n.diag d\n  .notice \"a b\"\n.warning ''\n.if 0\n.warning hidden\n.endif\n.notice x \"\" y\n"
	_, msgs := parseOK(t, src)
	want := []Message{
		{SevDiag, Pos{"t.cfg", 2, 1}, "d"},
		{SevNotice, Pos{"t.cfg", 3, 3}, "a b"},
		{SevWarning, Pos{"t.cfg", 4, 1}, ""},
		{SevNotice, Pos{"t.cfg", 8, 1}, "x"}, // words after an empty one are not seen (observed)
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("got %+v\nwant %+v", msgs, want)
	}
	if SevWarning.String() != "WARNING" || Severity(9).String() != "Severity(9)" {
		t.Error("Severity.String")
	}
}

func TestAlertStopsParsing(t *testing.T) {
	lines, msgs, err := Parse("t.cfg", []byte("a\n.alert \"boom\"\nb\n.if 1\n"), testOpts())
	var e *Error
	if !errors.As(err, &e) || e.Msg != "'boom'." || e.Pos.Line != 2 {
		t.Fatalf("got %v", err)
	}
	// Stopping skips the end-of-file checks: no "non-terminated" error.
	if err.Error() != "parsing [t.cfg:2] : 'boom'." || len(lines) != 1 || len(msgs) != 1 || msgs[0].Sev != SevAlert {
		t.Errorf("got %v, %+v, %+v", err, lines, msgs)
	}
}

// Errors and the lines HAProxy reports them on (all observed with haproxy -c).
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // "line:message"
	}{
		{"unterminated if", "global\n.if 1\n", []string{"2:non-terminated '.if' block."}},
		{"lone endif stops", ".endif\n.notice after\n", []string{"1:lone '.endif' with no matching '.if'."}},
		{"lone else", ".else\n", []string{"1:lone '.else' with no matching '.if'."}},
		{"lone elif", ".elif 1\n", []string{"1:lone '.elif' with no matching '.if'."}},
		{"else with argument", ".if 1\n.else x\n.notice after\n", []string{
			"2:Unexpected argument 'x' for '.else'.", "2:non-terminated '.if' block."}},
		{"endif with argument even in false branch", ".if 0\n.endif x\n", []string{
			"2:Unexpected argument 'x' for '.endif'.", "2:non-terminated '.if' block."}},
		{"else after else", ".if 1\n.else\n.else\n", []string{"3:'.else' after '.else' is not permitted."}},
		{"elif after else", ".if 1\n.else\n.elif 1\n", []string{"3:'.elif' after '.else' is not permitted."}},
		{"unknown directive stops", ".foo\n.notice a\n", []string{"1:unknown directive '.foo'."}},
		{"unknown function", ".if foo(1)\n", []string{"1:unparsable conditional expression 'foo(1)' in '.if' at position 1"}},
		{"bad elif", ".if 0\n.elif 1 1\n", []string{"2:unexpected character '1' at the end of conditional expression '1 1' in '.elif' at position 3"}},
		{"trailing blank after empty word (observed)", ".if \"\" \n", []string{"1:unparsable conditional sub-expression ' ' in '.if' at position 1"}},
		{"too deep", strings.Repeat(".if 1\n", 100), []string{"100:too many nested '.if', max is 100."}},
		{"extra message argument continues", ".notice a b\n.warning x\n", []string{
			"1:Unexpected argument 'b' for '.notice'. Use quotes if the message should contain spaces."}},
		{"lexer errors even in false branches, parsing goes on", ".if 0\nfoo \"bar\n .notice \"$1\"\n.endif\n", []string{
			"2:unmatched quote at position 5", "3:forbidden first char in environment variable name at position 12"}},
		{"missing LF", "global\n.notice x", []string{"2:Missing LF on last line, file might have been truncated at position 10."}},
		{"missing LF then unterminated", ".if 1\nx", []string{
			"2:Missing LF on last line, file might have been truncated at position 2.", "2:non-terminated '.if' block."}},
		{"NUL then more lines", "a\n .notice ab\x00cd\nb\n", []string{"2:Stray NUL character at position 12."}},
		{"NUL on last line", " .notice ab\x00cd\n", []string{"1:Missing LF on last line, file might have been truncated at position 12."}},
		{"default on first line (HAProxy reparse quirk, observed)", ".notice \"${V1-x}\"\n.notice \"${V1-x}\"\n", []string{
			"1:unmatched brace in environment variable name at position 11"}},
		{"default on first long line (observed)", "#\n.notice \"" + strings.Repeat("a", 1100) + "${NOPE-d}\"\n.notice \"" + strings.Repeat("a", 1100) + "${NOPE-d}\"\n", []string{
			"2:unmatched brace in environment variable name at position 1111"}},
		{"empty scope", "[]\n", []string{"1:empty scope name is forbidden."}},
		{"bad scope stops at next statement (observed)", "global\n[a b]\nx\ny\n", []string{"2:character ' ' is not permitted in a scope name."}},
		{"text after scope", " [ok] x\n", []string{"1:character 'x' is not permitted after scope declaration."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, msgs, err := Parse("t.cfg", []byte(tc.src), testOpts())
			var got []string
			for _, e := range flattenErrors(err) {
				got = append(got, strings.TrimPrefix(e.Pos.String(), "t.cfg:")+":"+e.Msg)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
			for _, m := range msgs {
				if m.Text == "after" {
					t.Errorf("parsing should have stopped before %v", m.Pos)
				}
			}
		})
	}
}

func TestTooManyFatalErrors(t *testing.T) {
	src := strings.Repeat("x \"\n", 52) + ".notice after\n"
	_, msgs, err := Parse("t.cfg", []byte(src), testOpts())
	errs := flattenErrors(err)
	if len(errs) != 51 || errs[50].Msg != "too many fatal errors (50), stopping now." || errs[50].Pos.Line != 51 || len(msgs) != 0 {
		t.Errorf("got %d errors, last %+v", len(errs), errs[len(errs)-1])
	}
}

func TestSectionsAndScope(t *testing.T) {
	src := ".notice \"[${.SECTION-none}]\"\nglobal\n .notice \"[${.SECTION}]\"\n[sc1]\nfrontend fe\n" +
		" .notice \"[${.SECTION}]\"\ndefaults\n .notice \"[${.SECTION}]\"\nno backend be x\n .notice \"[${.SECTION}]\"\n" +
		"global x y\n .notice \"[${.SECTION}]\"\n"
	lines, msgs := parseOK(t, "#\n"+src)
	var got []string
	for _, m := range msgs {
		got = append(got, m.Text)
	}
	want := []string{"[none]", "[global]", "[fe]", "[defaults]", "[be]", "[x]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if lines[0].Scope != "" || lines[1].Scope != "sc1" {
		t.Errorf("scopes %q %q", lines[0].Scope, lines[1].Scope)
	}
}

func TestLongLinesAndBuffers(t *testing.T) {
	long := strings.Repeat("x", 200000)
	lines, _ := parseOK(t, "a "+long+"\nb\n")
	if len(lines) != 2 || lines[0].Words[1].Text != long || lines[1].Pos.Line != 2 {
		t.Fatalf("long line mis-read")
	}
	// A last line of exactly 2047 bytes without LF fills fgets' buffer; HAProxy
	// then hits EOF while growing it and silently drops the line.
	lines, _, err := Parse("t.cfg", []byte("a\n"+strings.Repeat("y", 2047)), testOpts())
	if err != nil || len(lines) != 1 {
		t.Errorf("got %d lines, %v", len(lines), err)
	}
}

func TestRealWorldConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.cfg")
	if len(files) < 3 {
		t.Fatalf("testdata missing: %v", files)
	}
	env := map[string]string{"BACKENDS": "10.0.0.1:80 10.0.0.2:80", "SRV_ADDR": "10.1.1.1:8000"}
	opt := &Options{LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }, Features: []string{"OPENSSL"}}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines, _, err := Parse(f, src, opt)
		if err != nil || len(lines) == 0 {
			t.Errorf("%s: %d lines, %v", f, len(lines), err)
		}
		checkRelex(t, lines)
	}
}

// TestFeatureSample checks words of testdata/features.cfg (accepted by
// haproxy -c) that exercise quoting the way real configurations do.
func TestFeatureSample(t *testing.T) {
	src, err := os.ReadFile("testdata/features.cfg")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRUSTED": "10.0.0.1 10.0.0.2"}
	opt := &Options{LookupEnv: func(n string) (string, bool) { v, ok := env[n]; return v, ok }, Version: "2.6.12"}
	lines, msgs, err := Parse("features.cfg", src, opt)
	if err != nil {
		t.Fatal(err)
	}
	byLine := map[int][]string{}
	for _, l := range lines {
		for _, w := range l.Words {
			byLine[l.Pos.Line] = append(byLine[l.Pos.Line], w.Text)
		}
	}
	checks := map[int][]string{
		3:  {"log", "127.0.0.1:514", "local0"},
		11: {"maxconn", "2000"},
		18: {"log-format", "%ci:%cp [%tr] %ft %{+Q}r"},
		19: {"timeout", "connect", "5s"},
		25: {"http-request", "set-path", `%[path,regsub("^/(here)(/|$)","my/\1",g)]`},
		26: {"http-request", "set-var(txn.foo)", `str("'foo'")`},
		27: {"acl", "bad_ua", "hdr_sub(user-agent)", "-i", "curl bot"},
		28: {"acl", "trusted", "src", "10.0.0.1", "10.0.0.2"},
		33: {"server-template", "srv", "2", "127.0.0.1:8000", "check"},
	}
	for n, want := range checks {
		if !reflect.DeepEqual(byLine[n], want) {
			t.Errorf("line %d: got %q, want %q", n, byLine[n], want)
		}
	}
	if byLine[6] != nil || byLine[13] != nil {
		t.Errorf("false branches leaked")
	}
	if len(msgs) != 1 || msgs[0].Text != "no OpenSSL: plain HTTP only" {
		t.Errorf("messages %+v", msgs)
	}
}
