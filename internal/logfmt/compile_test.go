package logfmt

import (
	"errors"
	"strings"
	"testing"

	"sluice/internal/sample"
)

// testConverters is the converter list the test checker knows.
var testConverters = map[string]bool{"lower": true, "upper": true, "hex": true, "concat": true, "base64": true}

// checkSample validates expressions with the project's fetch registry, as
// the engine will, and words failures as HAProxy does.
func checkSample(mode Mode) func(e *Expr) error {
	return func(e *Expr) error {
		f, ok := sample.LookupFetch(e.Fetch.Name)
		if e.Fetch.Name == "fc_err" { // not in the registry yet
			f, ok = &sample.Fetch{Name: "fc_err", Layer: sample.L4}, true
		}
		if !ok {
			return errors.New("unknown fetch method '" + e.Fetch.Name + "'")
		}
		for _, c := range e.Converters {
			if !testConverters[c.Name] {
				return errors.New("unknown converter '" + c.Name + "'")
			}
		}
		// At log time HAProxy 2.6 has no HTTP headers left to fetch from,
		// in any mode; what was captured or kept in the transaction is.
		if f.Layer == sample.L7 && !logTimeFetches[f.Name] {
			return &NotAvailableError{Needs: "HTTP request headers"}
		}
		return nil
	}
}

var logTimeFetches = map[string]bool{"capture.req.hdr": true, "method": true, "status": true}

type compileCase struct {
	mode Mode
	fmt  string
	err  string // "" when valid
	// warns is the number of warnings Sluice adds to what HAProxy accepts
	// silently.
	warns int
	// own marks texts that depend on the sample engine's argument
	// parsers, which Sluice words differently; skipped by the oracle.
	own bool
}

var compileCases = []compileCase{
	{mode: TCP, fmt: TCPLog},
	{mode: HTTP, fmt: HTTPLog},
	{mode: HTTP, fmt: CLFLog},
	{mode: HTTP, fmt: HTTPSLog},
	{mode: HTTP, fmt: "%r"},
	{mode: TCP, fmt: "%r", err: "format variable 'r' is reserved for HTTP mode"},
	{mode: TCP, fmt: "%ci %HM %tsc %CC", err: "format variable 'HM' is reserved for HTTP mode"},
	{mode: TCP, fmt: "%tr", err: "format variable 'tr' is reserved for HTTP mode"},
	{mode: TCP, fmt: "%Ta", err: "format variable 'Ta' is reserved for HTTP mode"},
	{mode: TCP, fmt: "%foo", err: "no such format variable 'foo'. If you wanted to emit the '%' character verbatim, you need to use '%%'"},
	{mode: TCP, fmt: "%Ci", err: "no such format variable 'Ci'. If you wanted to emit the '%' character verbatim, you need to use '%%'"},
	{mode: TCP, fmt: "%{+Q}", err: "parse argument modifier without variable name near '%{+Q}'"},
	{mode: TCP, fmt: "%{+Q} x", err: "parse argument modifier without variable name near '%{+Q}'"},
	{mode: TCP, fmt: "%{+Q}%ci", err: "parse argument modifier without variable name near '%{+Q}'"},
	{mode: TCP, fmt: "%{+Q}1", err: "no such format variable '1'. If you wanted to emit the '%' character verbatim, you need to use '%%'"},
	{mode: TCP, fmt: "%{", err: "truncated line after ''"},
	{mode: TCP, fmt: "a %{+Q", err: "truncated line after '+Q'"},
	{mode: TCP, fmt: "a %", err: "truncated line after '%'"},
	{mode: TCP, fmt: "%ci%", err: "truncated line after '%'"},
	{mode: TCP, fmt: "a % b", err: "unexpected variable name near ' ' at position 3 line : 'a % b'. Maybe you want to write a single '%', use the syntax '%%'"},
	{mode: TCP, fmt: "a %1", err: "unexpected variable name near '1' at position 3 line : 'a %1'. Maybe you want to write a single '%', use the syntax '%%'"},
	{mode: TCP, fmt: "x\t%\ty", err: "unexpected variable name near '\t' at position 3 line : 'x\t%\ty'. Maybe you want to write a single '%', use the syntax '%%'"},
	{mode: TCP, fmt: "a %-x", warns: 1},
	{mode: TCP, fmt: "%{+Q,+Z}ci", warns: 1},
	{mode: TCP, fmt: "%{Q}ci", warns: 1},
	{mode: TCP, fmt: "%{+Q+X}ci", warns: 1},
	{mode: TCP, fmt: "%{}ci %{,,}ci %{-M}o %ci"},
	{mode: TCP, fmt: "100%% %%ci"},
	{mode: TCP, fmt: "%[src", err: "missing ']' after 'src'"},
	{mode: TCP, fmt: "%[src x", err: "expected ']' after 'src', but found ' '"},
	{mode: TCP, fmt: "%[src ,lower]", err: "expected ']' after 'src', but found ' '"},
	{mode: TCP, fmt: "%[", err: "failed to parse sample expression <> : missing fetch method"},
	{mode: TCP, fmt: "%{+Q}[", err: "failed to parse sample expression <> : missing fetch method"},
	{mode: TCP, fmt: "%[]", err: "failed to parse sample expression <]> : missing fetch method"},
	{mode: TCP, fmt: "%[] x", err: "failed to parse sample expression <] x> : missing fetch method"},
	{mode: TCP, fmt: "%[src,]", err: "failed to parse sample expression <src,]> : unknown converter ''"},
	{mode: TCP, fmt: "%[src,,lower]"},
	{mode: TCP, fmt: "%[src,lower x]", err: "expected ']' after 'src,lower', but found ' '"},
	{mode: TCP, fmt: "%[src,lower(),upper]"},
	{mode: TCP, fmt: "%[src,lower()x]", err: "expected ']' after 'src,lower()', but found 'x'"},
	{mode: TCP, fmt: "%[src()]"},
	{mode: TCP, fmt: "%[src]x%[dst]"},
	{mode: TCP, fmt: "%[str(a)b]", err: "expected ']' after 'str(a)', but found 'b'"},
	{mode: TCP, fmt: "%[str(a) ]", err: "expected ']' after 'str(a)', but found ' '"},
	{mode: TCP, fmt: "%[str(a)", err: "missing ']' after 'str(a)'"},
	{mode: TCP, fmt: `%[str(a\)b)]`, err: `expected ']' after 'str(a\)', but found 'b'`},
	{mode: TCP, fmt: `%[str("a)b")]`},
	{mode: TCP, fmt: `%[str("a\)b")]`},
	{mode: TCP, fmt: `%[str("a\")b")]`},
	{mode: TCP, fmt: `%[str(a"b)c")]`},
	{mode: TCP, fmt: `%[str(\"a)]`},
	{mode: TCP, fmt: `%[str(\a)]`},
	{mode: TCP, fmt: "%[str(a(b)]"},
	{mode: TCP, fmt: `%[str(a),concat("x)y")]`},
	{mode: TCP, fmt: "%[str(a]", err: "failed to parse sample expression <str(a]> : fetch method 'str' : expected ')'"},
	{mode: TCP, fmt: `%[str("a)]`, err: `failed to parse sample expression <str("a)]> : fetch method 'str' : expected ')'`},
	{mode: TCP, fmt: "%[src(", err: "failed to parse sample expression <src(> : fetch method 'src' : expected ')'"},
	{mode: TCP, fmt: "%[nosuchfetch]", err: "failed to parse sample expression <nosuchfetch]> : unknown fetch method 'nosuchfetch'"},
	{mode: TCP, fmt: "%[.src] %ci", err: "failed to parse sample expression <.src] %ci> : unknown fetch method '.src'"},
	{mode: TCP, fmt: "%[src.]", err: "failed to parse sample expression <src.]> : unknown fetch method 'src.'"},
	{mode: TCP, fmt: "%[src,nosuch]", err: "failed to parse sample expression <src,nosuch]> : unknown converter 'nosuch'"},
	{mode: TCP, fmt: "%[req.hdr(host)]", err: "sample fetch <req.hdr(host)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here"},
	{mode: HTTP, fmt: "%[req.hdr(host)]", err: "sample fetch <req.hdr(host)]> may not be reliably used here because it needs 'HTTP request headers' which is not available here"},
	{mode: HTTP, fmt: "%[capture.req.hdr(0)] %[method] %[status]"},
	// HAProxy words these after the converter's argument types.
	{mode: TCP, fmt: "%[src,lower(]", err: "failed to parse sample expression <src,lower(]> : invalid arg 1 in converter 'lower' : expected ')'", own: true},
}

func TestCompile(t *testing.T) {
	for _, tc := range compileCases {
		f, warns, err := CompileWith(tc.fmt, Options{Mode: tc.mode, CheckSample: checkSample(tc.mode)})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("Compile(%q, %v): error %q, want %q", tc.fmt, tc.mode, got, tc.err)
			continue
		}
		if len(warns) != tc.warns {
			t.Errorf("Compile(%q): warnings %q, want %d", tc.fmt, warns, tc.warns)
		}
		if err == nil && f.String() != tc.fmt {
			t.Errorf("Compile(%q).String() = %q", tc.fmt, f.String())
		}
	}
}

func TestCompileErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		fmt  string
		kind error
	}{
		{"%r", ErrHTTPOnly},
		{"%zz", ErrUnknownVariable},
		{"%", ErrSyntax},
		{"%[src", ErrSyntax},
		{"%[", ErrSample},
		{"%[nosuch]", ErrSample},
	} {
		_, _, err := CompileWith(tc.fmt, Options{Mode: TCP, CheckSample: checkSample(TCP)})
		if !errors.Is(err, tc.kind) {
			t.Errorf("Compile(%q) = %v, want errors.Is %v", tc.fmt, err, tc.kind)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Compile(%q) = %T, want *Error", tc.fmt, err)
		}
	}
	sentinel := errors.New("checker says no")
	_, _, err := CompileWith("%[src]", Options{CheckSample: func(*Expr) error { return sentinel }})
	if !errors.Is(err, sentinel) || !errors.Is(err, ErrSample) {
		t.Errorf("checker error not wrapped: %v", err)
	}
}

func TestCompileExprs(t *testing.T) {
	f, _, err := Compile(`%[src] %{+Q,-M}[req.hdr(x-a\"b),lower,concat("a,b)",,),hex] %[str()]`, HTTP)
	if err != nil {
		t.Fatal(err)
	}
	ex := f.Exprs()
	if len(ex) != 3 {
		t.Fatalf("got %d exprs", len(ex))
	}
	e := ex[1]
	if e.Index != 1 || e.Text != `req.hdr(x-a\"b),lower,concat("a,b)",,),hex` || e.Flags != FlagQuote {
		t.Errorf("expr 1 = %+v", e)
	}
	if e.Fetch != (Term{Name: "req.hdr", Args: `x-a\"b`, HasArgs: true}) {
		t.Errorf("fetch = %+v", e.Fetch)
	}
	want := []Term{{Name: "lower"}, {Name: "concat", Args: `"a,b)",,`, HasArgs: true}, {Name: "hex"}}
	if len(e.Converters) != len(want) {
		t.Fatalf("converters = %+v", e.Converters)
	}
	for i := range want {
		if e.Converters[i] != want[i] {
			t.Errorf("converter %d = %+v, want %+v", i, e.Converters[i], want[i])
		}
	}
	if ex[2].Fetch != (Term{Name: "str", HasArgs: true}) || ex[0].Flags != FlagMandatory {
		t.Errorf("exprs = %+v", ex)
	}
}

func TestVarTable(t *testing.T) {
	names := VarNames()
	if len(names) != 64 {
		t.Errorf("%d variables, HAProxy 2.6 has 64", len(names))
	}
	for _, n := range names {
		if n == "o" {
			continue
		}
		_, _, errTCP := Compile("%"+n, TCP)
		_, _, errHTTP := Compile("%"+n, HTTP)
		if errHTTP != nil {
			t.Errorf("%%%s in HTTP: %v", n, errHTTP)
		}
		if (errTCP != nil) != IsHTTPOnly(n) {
			t.Errorf("%%%s in TCP: %v, http-only %v", n, errTCP, IsHTTPOnly(n))
		}
		f, _, _ := Compile("%"+n, HTTP)
		if !f.Uses(n) {
			t.Errorf("Uses(%q) false", n)
		}
	}
	if strings.Join(names[:3], " ") != "o B CC" {
		t.Errorf("table order: %v", names[:3])
	}
}
