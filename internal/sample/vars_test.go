package sample

import (
	"net/netip"
	"testing"
)

func mustVar(t *testing.T, s string) VarName {
	t.Helper()
	n, err := ParseVarName(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestParseVarName(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"txn.x", ""}, {"sess.a.b_c9", ""}, {"proc.p", ""}, {"req.r", ""}, {"res.r", ""}, {"check.c", ""},
		{"", "Empty variable name cannot be accepted"},
		{"x", "invalid variable name 'x'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"},
		{"txn.", "invalid variable name 'txn.'"},
		{"txn.a-b", "invalid syntax"},
	} {
		_, err := ParseVarName(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || len(err.Error()) < len(tc.err) || err.Error()[:len(tc.err)] != tc.err):
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.err)
		}
	}
	var se *VarSyntaxError
	if _, err := ParseVarName("txn.a-b"); err == nil || !asSyntax(err, &se) || se.At != 5 {
		t.Errorf("syntax error position: %v", err)
	}
}

func asSyntax(err error, se **VarSyntaxError) bool {
	e, ok := err.(*VarSyntaxError)
	*se = e
	return ok
}

func str(s string) *Value { return &Value{Type: Str, Bytes: []byte(s)} }
func num(n int64) *Value  { return &Value{Type: Int, Int: n} }

// TestSetVarConditions follows HAProxy 2.6's var_set: a variable is
// created before its other conditions are checked, scalars are never
// empty, and ifgt/iflt compare integers only.
func TestSetVarConditions(t *testing.T) {
	var c Ctx
	x := mustVar(t, "txn.x")
	get := func(n VarName) string {
		var v Value
		if !c.GetVar(n, &v) {
			return "<none>"
		}
		return string(v.AsString(nil))
	}
	steps := []struct {
		v    *Value
		cond VarCond
		ok   bool
		want string
	}{
		{str("a"), IfExists, false, "<none>"},
		{str("a"), IfSet, false, "<none>"}, // created, unset
		{str("b"), IfExists, true, "b"},    // so it exists now
		{str("c"), IfNotExists, false, "b"},
		{str(""), IfNotEmpty, false, "b"},
		{str(""), IfEmpty, true, ""},
		{num(3), IfEmpty, false, ""},
		{num(5), 0, true, "5"},
		{num(9), IfGT, false, "5"}, // set only when the variable is greater
		{num(1), IfGT, true, "1"},
		{num(0), IfLT, false, "1"},
		{num(7), IfLT, true, "7"},
		{str("s"), IfGT, true, "s"}, // not two integers: the condition holds
		{str("t"), IfNotSet, false, "s"},
	}
	for i, st := range steps {
		if ok := c.SetVar(x, st.v, st.cond); ok != st.ok || get(x) != st.want {
			t.Errorf("step %d: set %v cond %b: ok %v value %q, want %v %q", i, st.v.AsString(nil), st.cond, ok, get(x), st.ok, st.want)
		}
	}
	c.UnsetVar(x)
	if get(x) != "<none>" || c.SetVar(x, str("z"), IfExists) {
		t.Error("unset-var removes a txn variable")
	}
}

func TestVarScopes(t *testing.T) {
	var c Ctx
	req, res, sess, txn := mustVar(t, "req.a"), mustVar(t, "res.a"), mustVar(t, "sess.a"), mustVar(t, "txn.a")
	if c.SetVar(res, str("r"), 0) {
		t.Error("res variables cannot be set in the request")
	}
	for _, n := range []VarName{req, sess, txn} {
		if !c.SetVar(n, str(n.Name), 0) {
			t.Errorf("%s not set", n.Name)
		}
	}
	var v Value
	c.ResponseVars()
	if c.GetVar(req, &v) || !c.SetVar(res, str("r"), 0) || !c.GetVar(res, &v) {
		t.Error("after the request, req variables are gone and res ones usable")
	}
	c.ResetTxnVars()
	if c.GetVar(txn, &v) || c.GetVar(res, &v) || !c.GetVar(sess, &v) || string(v.Bytes) != "sess.a" {
		t.Error("a new transaction keeps sess variables only")
	}
	if c.SetVar(res, str("r"), 0) {
		t.Error("a new transaction is back in its request half")
	}
}

func TestVarTypesAndFetch(t *testing.T) {
	c := &Ctx{Src: netip.MustParseAddrPort("10.0.0.1:5")}
	for _, tc := range []struct{ fetch, args, convs, want string }{
		{"src", "", ",set-var(txn.ip)", "10.0.0.1"},
		{"var", "txn.ip", ",ipmask(8)", "10.0.0.0"}, // stored as an address
		{"var", "txn.nope,def", "", "def"},
		{"str", "v", ",set-var(proc.pv),unset-var(txn.ip)", "v"},
		{"var", "proc.pv", "", "v"},
	} {
		v, found, _ := evalExpr(t, c, tc.fetch, tc.args, tc.convs)
		if !found || string(v.AsString(nil)) != tc.want {
			t.Errorf("%s(%s)%s = %q %v, want %q", tc.fetch, tc.args, tc.convs, v.AsString(nil), found, tc.want)
		}
	}
	if _, found, _ := evalExpr(t, c, "var", "txn.ip", ""); found {
		t.Error("unset-var converter")
	}
	// A proc variable the configuration names exists before it is set.
	c2 := &Ctx{}
	pn := mustVar(t, "proc.declared")
	if c2.SetVar(pn, str("x"), IfNotExists) || !c2.SetVar(pn, str("y"), IfExists) {
		t.Error("proc variables are created when their name is parsed")
	}
}

// A transaction that sets and reads the same variables as the previous
// one allocates nothing.
func TestVarsNoAllocInSteadyState(t *testing.T) {
	var c Ctx
	x, y := mustVar(t, "txn.x"), mustVar(t, "req.y")
	v := str("some value")
	var out Value
	run := func() {
		c.ResetTxnVars()
		c.SetVar(x, v, 0)
		c.SetVar(y, num(3), 0)
		c.GetVar(x, &out)
		c.ResponseVars()
	}
	run()
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Errorf("%v allocations per transaction", a)
	}
}
