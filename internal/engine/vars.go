package engine

import (
	"strings"

	"sluice/internal/config"
	"sluice/internal/sample"
)

// actionName is a rule action without its parenthesised argument:
// set-var(txn.x) -> set-var.
func actionName(a string) string {
	if i := strings.IndexByte(a, '('); i > 0 {
		return a[:i]
	}
	return a
}

// varAction is a compiled set-var, set-var-fmt or unset-var action.
type varAction struct {
	name  sample.VarName
	cond  sample.VarCond
	unset bool
	expr  *sample.Expr // set-var
	fmt   *valueFmt    // set-var-fmt
	// noStream: the rule runs before a stream exists (tcp-request
	// connection and session), where HAProxy has no txn, req or res
	// variables.
	noStream bool
}

func compileVarAction(r *config.Rule, noStream bool) (*varAction, error) {
	va := &varAction{name: r.Var, cond: r.VarCond, noStream: noStream}
	var err error
	switch actionName(r.Action) {
	case "unset-var":
		va.unset = true
	case "set-var":
		va.expr, err = sample.CompileExpr(r.Args[0])
	case "set-var-fmt":
		src := ""
		if len(r.Args) > 0 {
			src = r.Args[0]
		}
		va.fmt, err = compileValue(src)
	}
	return va, err
}

// run applies the action with the stream's sample context.
func (va *varAction) run(c *sample.Ctx) {
	if va.noStream && va.name.Scope != sample.ScopeSess && va.name.Scope != sample.ScopeProc {
		return
	}
	if va.unset {
		c.UnsetVar(va.name)
		return
	}
	v := c.Value()
	if va.expr != nil {
		if found, _ := va.expr.Eval(c, v); !found {
			return
		}
		c.SetVar(va.name, v, va.cond)
		return
	}
	c.FmtBuf = va.fmt.renderCtx(c.FmtBuf[:0], c)
	*v = sample.Value{Type: sample.Str, Bytes: c.FmtBuf}
	c.SetVar(va.name, v, va.cond)
}
