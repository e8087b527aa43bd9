package sample

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Variables, as HAProxy 2.6's src/vars.c keeps them: set-var stores a
// sample with its type, var() reads it back. Each scope lives as long as
// what it names: proc the process, sess the client connection, txn one
// transaction, req and res its request and response halves (req variables
// are dropped when the request leaves for a server, and res ones cannot be
// set before).

// VarScope is a variable's scope.
type VarScope uint8

// Scopes, as the prefix of a variable's name says.
const (
	ScopeProc VarScope = iota + 1
	ScopeSess
	ScopeTxn
	ScopeReq
	ScopeRes
	ScopeCheck
)

// VarName is a parsed variable name: its scope, and the whole name as
// written ("txn.host").
type VarName struct {
	Scope VarScope
	Name  string
}

var scopePrefixes = []struct {
	p string
	s VarScope
}{{"proc.", ScopeProc}, {"sess.", ScopeSess}, {"txn.", ScopeTxn}, {"req.", ScopeReq}, {"res.", ScopeRes}, {"check.", ScopeCheck}}

// VarSyntaxError is a variable name with a character HAProxy refuses; At is
// its offset in the name. HAProxy quotes the rest of the text it parsed from
// there, which callers know better.
type VarSyntaxError struct{ At int }

func (e *VarSyntaxError) Error() string { return "invalid syntax" }

// ParseVarName checks a variable name as HAProxy's vars_fill_desc does: a
// scope prefix followed by at least one character among letters, digits,
// '_' and '.'.
func ParseVarName(s string) (VarName, error) {
	if s == "" {
		return VarName{}, fmt.Errorf("Empty variable name cannot be accepted")
	}
	for _, p := range scopePrefixes {
		if len(s) > len(p.p) && strings.HasPrefix(s, p.p) {
			for i := len(p.p); i < len(s); i++ {
				c := s[i]
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
					return VarName{}, &VarSyntaxError{At: i}
				}
			}
			n := VarName{Scope: p.s, Name: s}
			if n.Scope == ScopeProc {
				procVars.declare(s)
			}
			return n, nil
		}
	}
	return VarName{}, fmt.Errorf("invalid variable name '%s'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'", s)
}

// VarCond are set-var's conditions: all must hold for the value to be set.
type VarCond uint16

// set-var conditions.
const (
	IfExists VarCond = 1 << iota
	IfNotExists
	IfEmpty
	IfNotEmpty
	IfSet
	IfNotSet
	IfGT
	IfLT
)

var varConds = map[string]VarCond{"ifexists": IfExists, "ifnotexists": IfNotExists, "ifempty": IfEmpty,
	"ifnotempty": IfNotEmpty, "ifset": IfSet, "ifnotset": IfNotSet, "ifgt": IfGT, "iflt": IfLT}

// ParseVarCond reads one condition word.
func ParseVarCond(w string) (VarCond, error) {
	c, ok := varConds[w]
	if !ok {
		return 0, fmt.Errorf("unknown condition \"%s\"", w)
	}
	return c, nil
}

// variable is one stored variable. A variable that exists but holds
// nothing (HAProxy's SMP_T_ANY: a proc variable before its first set, or
// one a failed conditional set created) has set false.
type variable struct {
	name string
	set  bool
	val  Value
	buf  []byte
}

type varList []variable

func (l varList) find(name string) int {
	for i := range l {
		if l[i].name == name {
			return i
		}
	}
	return -1
}

// Vars are the variables of a client connection and its current
// transaction. The zero value is empty and in its request half.
type Vars struct {
	sess, txn, reqres varList
	// inResponse: the request half is over; res.* variables exist, req.*
	// ones are gone.
	inResponse bool
}

// procStore holds the process's variables.
type procStore struct {
	mu   sync.RWMutex
	vars varList
}

var procVars procStore

// declare creates a proc variable, unset, as HAProxy does for every proc
// variable its configuration names.
func (p *procStore) declare(name string) {
	p.mu.Lock()
	if p.vars.find(name) < 0 {
		p.vars = append(p.vars, variable{name: name})
	}
	p.mu.Unlock()
}

// list returns the store a scope lives in, or nil when it is not available
// at this point (req after the request, res before the response, check
// outside health checks).
func (c *Ctx) varList(s VarScope) *varList {
	switch s {
	case ScopeSess:
		return &c.Vars.sess
	case ScopeTxn:
		return &c.Vars.txn
	case ScopeReq:
		if c.Vars.inResponse {
			return nil
		}
		return &c.Vars.reqres
	case ScopeRes:
		if !c.Vars.inResponse {
			return nil
		}
		return &c.Vars.reqres
	}
	return nil
}

// ResetTxnVars starts a new transaction: its txn, req and res variables
// are gone.
func (c *Ctx) ResetTxnVars() {
	c.Vars.txn = clearVars(c.Vars.txn)
	c.Vars.reqres = clearVars(c.Vars.reqres)
	c.Vars.inResponse = false
}

// ResponseVars ends the request half: req variables are dropped and res
// ones may be set, as HAProxy does when the stream starts connecting to a
// server (or answers locally).
func (c *Ctx) ResponseVars() {
	if !c.Vars.inResponse {
		c.Vars.reqres = clearVars(c.Vars.reqres)
		c.Vars.inResponse = true
	}
}

func clearVars(l varList) varList {
	for i := range l {
		l[i].name, l[i].val = "", Value{}
	}
	return l[:0]
}

// GetVar reads a variable into v; false when it does not exist, holds
// nothing, or its scope is not available here.
func (c *Ctx) GetVar(n VarName, v *Value) bool {
	if n.Scope == ScopeProc {
		procVars.mu.RLock()
		defer procVars.mu.RUnlock()
		return getVar(procVars.vars, n.Name, v, c)
	}
	l := c.varList(n.Scope)
	return l != nil && getVar(*l, n.Name, v, c)
}

func getVar(l varList, name string, v *Value, c *Ctx) bool {
	i := l.find(name)
	if i < 0 || !l[i].set {
		return false
	}
	*v = l[i].val
	if v.Type == Str || v.Type == Bin || v.Type == Meth {
		// A copy the caller may keep: the variable can change under it.
		v.Bytes = c.keep(append(c.buf(), v.Bytes...))
	}
	return true
}

// SetVar stores v in a variable when every condition holds, with HAProxy
// 2.6's var_set semantics. It reports whether the value was stored.
func (c *Ctx) SetVar(n VarName, v *Value, cond VarCond) bool {
	if n.Scope == ScopeProc {
		procVars.mu.Lock()
		defer procVars.mu.Unlock()
		return setVar(&procVars.vars, n.Name, v, cond)
	}
	l := c.varList(n.Scope)
	return l != nil && setVar(l, n.Name, v, cond)
}

func setVar(l *varList, name string, v *Value, cond VarCond) bool {
	i := l.find(name)
	if i >= 0 && cond&IfNotExists != 0 {
		return false
	}
	if i < 0 {
		if cond&IfExists != 0 {
			return false
		}
		// The variable is created before the other conditions are
		// looked at: one they refuse still exists, unset. A slot an
		// earlier transaction used keeps its buffer.
		if len(*l) < cap(*l) {
			*l = (*l)[:len(*l)+1]
			x := &(*l)[len(*l)-1]
			x.name, x.set, x.val = name, false, Value{}
		} else {
			*l = append(*l, variable{name: name})
		}
		i = len(*l) - 1
	}
	x := &(*l)[i]
	if cond&IfSet != 0 && !x.set || cond&IfNotSet != 0 && x.set {
		return false
	}
	str := v.Type == Str || v.Type == Bin
	if cond&IfEmpty != 0 && !str {
		return false // a scalar is never empty
	}
	if str && (cond&IfNotEmpty != 0 && len(v.Bytes) == 0 || cond&IfEmpty != 0 && len(v.Bytes) != 0) {
		return false
	}
	if v.Type == Int && x.set && x.val.Type == Int &&
		(cond&IfGT != 0 && !(x.val.Int > v.Int) || cond&IfLT != 0 && !(x.val.Int < v.Int)) {
		return false
	}
	x.val, x.set = *v, true
	if v.Type == Str || v.Type == Bin || v.Type == Meth {
		x.buf = append(x.buf[:0], v.Bytes...)
		x.val.Bytes = x.buf
	}
	return true
}

// UnsetVar removes a variable; a proc variable stays, holding nothing.
func (c *Ctx) UnsetVar(n VarName) {
	if n.Scope == ScopeProc {
		procVars.mu.Lock()
		if i := procVars.vars.find(n.Name); i >= 0 {
			procVars.vars[i].set = false
		}
		procVars.mu.Unlock()
		return
	}
	l := c.varList(n.Scope)
	if l == nil {
		return
	}
	if i := l.find(n.Name); i >= 0 {
		last := len(*l) - 1
		(*l)[i], (*l)[last] = (*l)[last], (*l)[i]
		(*l)[last].name, (*l)[last].val = "", Value{}
		*l = (*l)[:last]
	}
}

func init() {
	eval("var", Str, 0, 2, varArgs, fetchVar)
	converters["set-var"] = &converter{in: anyType, out: anyType, min: 1, max: 9, parse: setVarConvArgs, fn: convSetVar}
	converters["unset-var"] = &converter{in: anyType, out: anyType, min: 1, max: 1, parse: varArgs, fn: convUnsetVar}
}

// setVarConvArgs parses the set-var converter's name and conditions.
func setVarConvArgs(w []string) ([]Arg, error) {
	a, err := varArgs(w[:1])
	if err != nil {
		return nil, err
	}
	var cond VarCond
	for _, c := range w[1:] {
		x, err := ParseVarCond(c)
		if err != nil {
			return nil, err
		}
		cond |= x
	}
	return append(a, Arg{Int: int64(cond)}), nil
}

// convSetVar stores its input in a variable and passes it on unchanged.
func convSetVar(c *Ctx, a []Arg, v *Value) bool {
	c.SetVar(VarName{Scope: VarScope(a[0].Int), Name: a[0].Str}, v, VarCond(a[1].Int))
	return true
}

// convUnsetVar removes a variable and passes its input on.
func convUnsetVar(c *Ctx, a []Arg, v *Value) bool {
	c.UnsetVar(VarName{Scope: VarScope(a[0].Int), Name: a[0].Str})
	return true
}

// varArgs parses var(<name>[,<default>]).
func varArgs(w []string) ([]Arg, error) {
	if len(w) == 0 {
		w = []string{""}
	}
	n, err := ParseVarName(w[0])
	if err != nil {
		var se *VarSyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid syntax at char '%s'", w[0][se.At:])
		}
		return nil, err
	}
	a := []Arg{{Str: n.Name, Int: int64(n.Scope)}}
	if len(w) == 2 {
		a = append(a, Arg{Str: w[1], Int: 1})
	}
	return a, nil
}

// fetchVar is var(): the variable with its stored type, or the default
// as a string when it holds nothing.
func fetchVar(c *Ctx, a []Arg, v *Value) bool {
	if c.GetVar(VarName{Scope: VarScope(a[0].Int), Name: a[0].Str}, v) {
		return true
	}
	if len(a) == 2 {
		return setStr(c, v, a[1].Str)
	}
	return false
}
