package cfgsyntax

// condState is the state of one conditional-block level, as in HAProxy's
// enum nested_cond_state.
type condState int

const (
	condIfTake   condState = iota // .if whose condition was true
	condIfDrop                    // .if whose condition was false
	condIfSkip                    // .if inside a dropped block: never evaluated
	condElifTake                  // .elif whose condition was true
	condElifDrop                  // .elif whose condition was false
	condElifSkip                  // .elif after a taken branch: never evaluated
	condElseTake                  // .else after only false branches
	condElseDrop                  // .else after a taken or skipped branch
)

// dropped reports whether lines under this state are ignored.
func (s condState) dropped() bool {
	return s != condIfTake && s != condElifTake && s != condElseTake
}

// settled reports whether a branch of this block was already taken (or the
// whole block is skipped), so later .elif/.else branches are not taken.
func (s condState) settled() bool {
	return s == condIfTake || s == condIfSkip || s == condElifTake || s == condElifSkip
}

func (s condState) isElse() bool { return s == condElseTake || s == condElseDrop }

func (p *parser) masked() bool {
	return len(p.conds) > 0 && p.conds[len(p.conds)-1].dropped()
}

// condDirective handles .if/.elif/.else/.endif, which are processed even in
// dropped blocks. done is false when the line is not one of them.
func (p *parser) condDirective(res *lexResult) (f flow, done bool) {
	col := res.args[0].rawStart + 1
	switch kw := res.cText(0); kw {
	case ".if":
		return p.ifDirective(res), true
	case ".elif":
		return p.elifDirective(res), true
	case ".else", ".endif":
		if a := res.cText(1); a != "" {
			p.errorf(col, "Unexpected argument '%s' for '%s'.", a, kw)
			return flowBreak, true
		}
		if len(p.conds) == 0 {
			p.errorf(col, "lone '%s' with no matching '.if'.", kw)
			if kw == ".endif" {
				return flowBreak, true
			}
			return flowAbort, true
		}
		top := &p.conds[len(p.conds)-1]
		switch {
		case kw == ".endif":
			p.conds = p.conds[:len(p.conds)-1]
		case top.isElse():
			p.errorf(col, "'.else' after '.else' is not permitted.")
			return flowAbort, true
		case top.settled():
			*top = condElseDrop
		default:
			*top = condElseTake
		}
		return flowNext, true
	}
	return flowNext, false
}

func (p *parser) ifDirective(res *lexResult) flow {
	if len(p.conds)+1 >= maxNestedConds {
		p.errorf(res.args[0].rawStart+1, "too many nested '.if', max is %d.", maxNestedConds)
		return flowAbort
	}
	if p.masked() {
		p.conds = append(p.conds, condIfSkip)
		return flowNext
	}
	ok, good := p.evalDirective(".if", res)
	if !good {
		return flowAbort
	}
	p.conds = append(p.conds, map[bool]condState{true: condIfTake, false: condIfDrop}[ok])
	return flowNext
}

func (p *parser) elifDirective(res *lexResult) flow {
	col := res.args[0].rawStart + 1
	if len(p.conds) == 0 {
		p.errorf(col, "lone '.elif' with no matching '.if'.")
		return flowAbort
	}
	top := &p.conds[len(p.conds)-1]
	if top.isElse() {
		p.errorf(col, "'.elif' after '.else' is not permitted.")
		return flowAbort
	}
	if top.settled() {
		*top = condElifSkip
		return flowNext
	}
	ok, good := p.evalDirective(".elif", res)
	if !good {
		return flowAbort
	}
	*top = map[bool]condState{true: condElifTake, false: condElifDrop}[ok]
	return flowNext
}

// evalDirective evaluates the condition of an .if/.elif line, which HAProxy
// rebuilds by joining the words after the directive with spaces.
func (p *parser) evalDirective(kw string, res *lexResult) (result, good bool) {
	text := res.mergedFrom(1)
	ok, err := evalText(text, p.opt)
	if err == nil {
		return ok, true
	}
	e := err.(*condError)
	if e.pos < 0 {
		p.errorf(res.args[0].rawStart+1, "%s in '%s'", e.msg, kw)
		return false, false
	}
	p.errorf(res.colOfMerged(1, e.pos), "%s in '%s' at position %d", e.msg, kw, e.pos+1)
	return false, false
}

// colOfMerged maps an offset in mergedFrom(k) back to the source column of
// the word that produced it.
func (r *lexResult) colOfMerged(k, off int) int {
	if k >= r.nbargs || k >= len(r.args) {
		return r.args[0].rawEnd + 1
	}
	idx := r.args[k].out + off
	col := r.args[k].rawStart + 1
	for j := k; j < len(r.args) && r.args[j].out <= idx; j++ {
		col = r.args[j].rawStart + 1
	}
	return col
}

// msgDirective handles .diag/.notice/.warning/.alert and unknown directives
// in a taken branch.
func (p *parser) msgDirective(res *lexResult) flow {
	kw := res.cText(0)
	pos := Pos{File: p.file, Line: p.linenum, Col: res.args[0].rawStart + 1}
	sev, known := map[string]Severity{".diag": SevDiag, ".notice": SevNotice, ".warning": SevWarning, ".alert": SevAlert}[kw]
	if !known {
		p.fatal++
		p.errorf(pos.Col, "unknown directive '%s'.", kw)
		return flowBreak
	}
	if extra := res.cText(2); extra != "" {
		p.errorf(pos.Col, "Unexpected argument '%s' for '%s'. Use quotes if the message should contain spaces.", extra, kw)
		return flowNext
	}
	text := res.cText(1)
	p.msgs = append(p.msgs, Message{Sev: sev, Pos: pos, Text: text})
	if sev == SevAlert {
		p.errorf(pos.Col, "'%s'.", text)
		return flowAbort
	}
	return flowNext
}
