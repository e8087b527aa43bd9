package cfgsyntax

import (
	"reflect"
	"strings"
	"testing"
)

// checkRelex rebuilds every line from its word texts wrapped in single
// quotes and checks that lexing it again gives the same texts. Texts that
// single quotes cannot carry (a quote, NUL, CR, LF) are skipped.
func checkRelex(t *testing.T, lines []Line) {
	t.Helper()
	for _, l := range lines {
		var quoted, want []string
		for _, w := range l.Words {
			if strings.ContainsAny(w.Text, "'\x00\r\n") {
				want = nil
				break
			}
			// No blank after the last word: with 64 words HAProxy would
			// count it as the start of a 65th (observed).
			quoted = append(quoted, "'"+w.Text+"'")
			want = append(want, w.Text)
		}
		if want == nil {
			continue
		}
		src := strings.Join(quoted, " ") + "\n"
		got, _, err := Parse("r.cfg", []byte(src), testOpts())
		if err != nil || len(got) != 1 {
			t.Fatalf("relex of %q: %d lines, %v", src, len(got), err)
		}
		var texts []string
		for _, w := range got[0].Words {
			texts = append(texts, w.Text)
		}
		if !reflect.DeepEqual(texts, want) {
			t.Fatalf("relex of %q: got %q, want %q", src, texts, want)
		}
	}
}

// checkLines verifies invariants every returned line must hold.
func checkLines(t *testing.T, src []byte, lines []Line) {
	t.Helper()
	nlines := strings.Count(string(src), "\n") + 1
	for _, l := range lines {
		if len(l.Words) == 0 || l.Words[0].Text == "" || l.Words[len(l.Words)-1].Text == "" {
			t.Fatalf("bad word list %+v", l.Words)
		}
		if len(l.Words) > maxLineArgs {
			t.Fatalf("%d words", len(l.Words))
		}
		for _, w := range l.Words {
			if w.Pos.Line < 1 || w.Pos.Line > nlines || w.Pos.Col < 1 || w.Pos != (Pos{l.Pos.File, l.Pos.Line, w.Pos.Col}) {
				t.Fatalf("bad position %+v", w.Pos)
			}
			if strings.IndexByte(w.Text, 0) >= 0 || !strings.Contains(string(src), w.Raw) {
				t.Fatalf("bad word %+v", w)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"global\n  log \"${V1-x}\" local0 # c\n",
		".if defined(V1) && (1 || !0)\n a 'b c' \"d$V1\"\n.elif 0\n.else\n.endif\n",
		"a\\x41\\ b\\#c \"${MULTI[*]}\" '' x\r\n",
		"[scope]\nfrontend fe\n .notice \"${.SECTION}:${.LINE}\"\n",
		"a \"unterminated\n.endif\n\x00\n",
		strings.Repeat("w ", 70) + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		lines, msgs, err := Parse("f.cfg", src, testOpts())
		checkLines(t, src, lines)
		for _, e := range flattenErrors(err) {
			if e.Pos.File != "f.cfg" || e.Error() == "" {
				t.Fatalf("bad error %+v", e)
			}
		}
		for _, m := range msgs {
			if m.Sev < SevDiag || m.Sev > SevAlert {
				t.Fatalf("bad message %+v", m)
			}
		}
		checkRelex(t, lines)
	})
}

func FuzzEvalCondition(f *testing.F) {
	for _, s := range []string{
		"1", "defined(V1) && !(0 || strneq(a,b))", "version_atleast(2.6-dev1)", "streq(\"a,b\",'c)')",
		"((((1))))", "!!! 0x1f", "feature(OPENSSL) || ", "streq(a\\", "openssl_version_before(3.0.0-beta2)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		opt := testOpts()
		opt.SSLLibVersion = "3.0.11"
		words, err := SplitArgs(s, opt)
		if err == nil {
			_, _ = EvalCondition(words, opt)
		}
		ok1, err1 := EvalCondition([]string{s}, opt)
		ok2, err2 := EvalCondition([]string{s}, opt)
		if ok1 != ok2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("non-deterministic result for %q", s)
		}
		if err1 != nil && ok1 {
			t.Fatalf("true with error for %q", s)
		}
	})
}
