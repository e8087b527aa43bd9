package check

import (
	"fmt"
	"strings"
)

// Options are the options that choose a backend's check family; the last
// one set wins, as in HAProxy.
var Options = []string{"tcp-check", "httpchk", "redis-check", "mysql-check", "pgsql-check",
	"smtpchk", "ldap-check", "ssl-hello-chk"}

// Rules is what a backend says about its checks.
type Rules struct {
	Option string   // one of Options, or "" for a plain connect check
	Args   []string // the option's arguments
	Lines  []Line   // tcp-check and http-check lines, in file order
}

// Line is one tcp-check or http-check line.
type Line struct {
	Family, Action string
	Args           []string
	Where          string // file:line, for errors
}

// Build compiles a backend's check script. Errors name the line at fault.
func Build(r Rules) (*Spec, error) {
	var lines []Line
	for _, l := range r.Lines {
		if (l.Family == "tcp-check" && r.Option == "tcp-check") || (l.Family == "http-check" && r.Option == "httpchk") {
			lines = append(lines, l)
		}
	}
	switch r.Option {
	case "":
		return &Spec{Kind: KindConnect}, nil
	case "tcp-check":
		sp := &Spec{Kind: KindTCPCheck}
		return sp, sp.addRules(lines, false)
	case "httpchk":
		return compileHTTP(r.Args, lines)
	}
	sp, err := protoCheck(r.Option, r.Args)
	if err != nil {
		return nil, fmt.Errorf("'option %s': %v", r.Option, err)
	}
	return sp, nil
}

// ParseLine validates one tcp-check or http-check line; the error says
// what is wrong with it.
func ParseLine(family, action string, args []string) error {
	_, err := compileRule(Line{Family: family, Action: action, Args: args}, family == "http-check")
	return err
}

// addRules compiles tcp-check or http-check rule lines, numbering the
// steps as HAProxy does (1-based, in file order).
func (sp *Spec) addRules(rules []Line, http bool) error {
	for _, r := range rules {
		st, err := compileRule(r, http)
		if err != nil {
			return fmt.Errorf("%s: '%s %s': %v", r.Where, r.Family, r.Action, err)
		}
		sp.Steps = append(sp.Steps, st)
	}
	sp.number()
	sp.spreadComments()
	return nil
}

// spreadComments gives a `comment` line's text to the rules after it, as
// HAProxy does: the following rules of the same action that have none of
// their own, or the first connect.
func (sp *Spec) spreadComments() {
	comment, prev := "", Action(-1)
	for _, st := range sp.Steps {
		if st.Action != prev && prev != Comment {
			comment = ""
		}
		prev = st.Action
		switch st.Action {
		case Comment:
			comment = st.Comment
		case Connect:
			if st.Comment == "" {
				st.Comment = comment
			}
			comment = ""
		default:
			if st.Comment == "" {
				st.Comment = comment
			}
		}
	}
}

func (sp *Spec) number() {
	for i, st := range sp.Steps {
		st.Index = i + 1
	}
}

func compileRule(r Line, http bool) (*Step, error) {
	switch r.Action {
	case "connect":
		return parseConnect(r.Args)
	case "send":
		if http {
			return parseHTTPSend(r.Args)
		}
		return parseSend("send", r.Args)
	case "send-binary", "send-lf", "send-binary-lf":
		return parseSend(r.Action, r.Args)
	case "expect":
		return parseExpect(r.Args, http)
	case "comment":
		st := &Step{Action: Comment}
		if len(r.Args) > 0 {
			st.Comment = r.Args[0]
		}
		return st, nil
	}
	return nil, fmt.Errorf("is %w", ErrNotSupported)
}

// compileHTTP builds an HTTP check: the request of `option httpchk`
// (completed by the first `http-check send`), the http-check steps, and
// HAProxy's implicit expectation of a 2xx or 3xx status when the last
// request has no expect after it.
func compileHTTP(args []string, lines []Line) (*Spec, error) {
	req := &HTTPRequest{}
	switch a := args; len(a) {
	case 1:
		req.URI = a[0]
	case 2:
		req.Method, req.URI = a[0], a[1]
	case 3:
		req.Method, req.URI, req.Version = a[0], a[1], a[2]
	}
	// HAProxy still takes headers glued to the version with "\r\n".
	if v, hdrs, ok := strings.Cut(req.Version, "\r\n"); ok {
		req.Version = v
		hdrs, body, _ := strings.Cut(hdrs, "\r\n\r\n")
		for _, l := range strings.Split(hdrs, "\r\n") {
			if n, val, ok := strings.Cut(l, ":"); ok {
				req.Headers = append(req.Headers, [2]string{strings.TrimSpace(n), strings.TrimSpace(val)})
			}
		}
		req.Body = body
	}
	sp := &Spec{Kind: KindHTTP}
	if err := sp.addRules(lines, true); err != nil {
		return nil, err
	}
	// The option's request is the first send: an explicit first send
	// overrides what it sets, otherwise it is placed after any leading
	// connect.
	first := -1
	for i, st := range sp.Steps {
		if st.Action == Send {
			first = i
			break
		}
		if st.Action == Expect {
			break
		}
	}
	if first >= 0 {
		merge(req, sp.Steps[first].HTTP)
		sp.Steps[first].HTTP = req
	} else {
		at := 0
		for at < len(sp.Steps) && (sp.Steps[at].Action == Connect || sp.Steps[at].Action == Comment) {
			at++
		}
		send := &Step{Action: Send, HTTP: req}
		sp.Steps = append(sp.Steps[:at], append([]*Step{send}, sp.Steps[at:]...)...)
	}
	if last := sp.Steps[len(sp.Steps)-1]; last.Action != Expect {
		st, _ := parseExpect([]string{"status", "200-399"}, true)
		sp.Steps = append(sp.Steps, st)
	}
	sp.number()
	return sp, nil
}

// merge lays the explicit send's settings over the option's request.
func merge(base, over *HTTPRequest) {
	if over.Method != "" {
		base.Method = over.Method
	}
	if over.URI != "" {
		base.URI = over.URI
	}
	if over.Version != "" {
		base.Version = over.Version
	}
	base.Headers = append(base.Headers, over.Headers...)
	if over.Body != "" {
		base.Body = over.Body
	}
}
