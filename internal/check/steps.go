package check

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Action is what a step of a check script does.
type Action int

// Step actions, as HAProxy's tcpcheck rules.
const (
	Connect Action = iota
	Send
	Expect
	Comment
)

// Match is what an expect step looks for.
type Match int

// Expect matches. The tcp-check ones look at the raw bytes received, the
// HTTP ones at a parsed response.
const (
	MatchString  Match = iota // tcp: the bytes contain the string
	MatchRString              // tcp: a regular expression matches the bytes
	MatchBinary               // tcp: the bytes contain the hex-given bytes
	MatchRBinary              // tcp: a regular expression matches the hex form of the bytes
	MatchStatus               // http: the status is in a list of codes and ranges
	MatchRStatus              // http: a regular expression matches the status
	MatchBody                 // http: the body contains the string
	MatchRBody                // http: a regular expression matches the body
	MatchHdr                  // http: a header (name, and maybe value) is present
	MatchCustom               // a built-in protocol check (redis, pgsql, ...)
)

// Step is one rule of a check script.
type Step struct {
	Action Action
	// Index is the step's number in messages, 1-based; 0 for the implicit
	// first connect.
	Index    int
	Implicit bool
	Comment  string

	// Connect.
	Port      int    // 0: the server's check port
	Addr      string // "": the server's check address
	SendProxy bool   // send the server's PROXY header kind (LOCAL for v2)
	Default   bool   // "connect default": the server's own check settings

	// Send: Data is sent as is; an HTTP send builds a request instead.
	Data    []byte
	HTTP    *HTTPRequest
	RawText string // the send's argument as written, for messages

	// Expect.
	Match    Match
	Negate   bool
	Pattern  string // as written (string, regex, hex text, codes)
	bytes    []byte
	re       *regexp.Regexp
	codes    []codeRange
	hdr      *hdrMatch
	MinRecv  int // -1: unset
	OK, Err  Status
	Tout     Status
	custom   func(buf []byte, closed bool) (done bool, r Result)
	reports  bool                    // custom reports its success itself (Result.First)
	errInfo  func(buf []byte) string // the failure's info from the reply
	okInfo   func(buf []byte) string // the success's info from the reply
	code     func(buf []byte) int    // the check code from the reply
	Linger   bool                    // connect: close cleanly, not with a reset
	OnOK     string                  // on-success text (literal)
	OnErr    string                  // on-error text (literal)
	HTTPMode bool                    // an http-check step
}

// HTTPRequest is an http-check send's request.
type HTTPRequest struct {
	Method, URI, Version string
	Headers              [][2]string
	Body                 string
}

type codeRange struct{ lo, hi int }

func (e *Step) matchText() string {
	names := map[Match]string{MatchString: "string", MatchRString: "rstring", MatchBinary: "binary",
		MatchRBinary: "rbinary", MatchStatus: "status", MatchRStatus: "rstatus", MatchBody: "string",
		MatchRBody: "rstring", MatchHdr: "hdr"}
	return names[e.Match]
}

// parseExpect compiles an expect step's words (after "expect"), HAProxy's
// `[min-recv N] [comment C] [ok-status S] [error-status S] [tout-status S]
// [on-success F] [on-error F] [status-code E] [!] <match> <pattern>`, the
// options coming before or after the match.
func parseExpect(words []string, http bool) (*Step, error) {
	st := &Step{Action: Expect, MinRecv: -1, OK: L7OK, Err: L7Rsp, Tout: L7Timeout, HTTPMode: http}
	if http {
		st.Err = Unknown // by match: L7STS for status, L7RSP for the others
	}
	matched := false
	for i := 0; i < len(words); i++ {
		w := words[i]
		val := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("'%s' expects an argument", w)
			}
			i++
			return words[i], nil
		}
		switch w {
		case "min-recv":
			v, err := val()
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < -1 {
				return nil, fmt.Errorf("'min-recv' expects an integer >= -1 (got '%s')", v)
			}
			st.MinRecv = n
		case "comment":
			v, err := val()
			if err != nil {
				return nil, err
			}
			st.Comment = v
		case "ok-status", "error-status", "tout-status":
			v, err := val()
			if err != nil {
				return nil, err
			}
			s, ok := statusByCode[v]
			if !ok {
				return nil, fmt.Errorf("'%s' only supports 'L4OK', 'L6OK', 'L7OK', 'L7OKC', 'L4TOUT', 'L4CON', 'L6TOUT', 'L6RSP', 'L7TOUT', 'L7RSP' or 'L7STS' (got '%s')", w, v)
			}
			switch w {
			case "ok-status":
				st.OK = s
			case "error-status":
				st.Err = s
			default:
				st.Tout = s
			}
		case "on-success", "on-error":
			v, err := val()
			if err != nil {
				return nil, err
			}
			if strings.Contains(v, "%") {
				return nil, fmt.Errorf("'%s' with a log-format expression is %w", w, ErrNotSupported)
			}
			if w == "on-success" {
				st.OnOK = v
			} else {
				st.OnErr = v
			}
		case "status-code":
			return nil, fmt.Errorf("'status-code' is %w", ErrNotSupported)
		case "!":
			st.Negate = true
		default:
			// The options may also follow the pattern, as in HAProxy's
			// `expect string +PONG comment "want pong"`.
			if matched {
				return nil, fmt.Errorf("only on pattern expected")
			}
			n, err := st.setMatch(w, words[i+1:], http)
			if err != nil {
				return nil, err
			}
			matched = true
			i += n
		}
	}
	if !matched {
		return nil, fmt.Errorf("expects a match type and a pattern")
	}
	return st, nil
}

// setMatch sets the match kind and its pattern from the words after
// kind, and reports how many of them it took.
func (st *Step) setMatch(kind string, rest []string, http bool) (int, error) {
	if len(rest) == 0 {
		return 0, fmt.Errorf("'%s' expects <pattern> as an argument", kind)
	}
	pat := rest[0]
	st.Pattern = pat
	var err error
	switch {
	case kind == "string" && !http:
		st.Match, st.bytes = MatchString, []byte(pat)
	case kind == "string":
		st.Match, st.bytes = MatchBody, []byte(pat)
	case kind == "binary":
		st.Match = MatchBinary
		if st.bytes, err = hex.DecodeString(pat); err != nil {
			return 0, fmt.Errorf("invalid binary pattern '%s'", pat)
		}
	case kind == "rstring" || kind == "rbinary" || kind == "rstatus":
		st.Match = map[string]Match{"rstring": MatchRString, "rbinary": MatchRBinary, "rstatus": MatchRStatus}[kind]
		if kind == "rstring" && http {
			st.Match = MatchRBody
		}
		if st.re, err = regexp.Compile(pat); err != nil {
			return 0, fmt.Errorf("invalid regex '%s': %v", pat, err)
		}
	case kind == "status":
		st.Match = MatchStatus
		for _, part := range strings.Split(pat, ",") {
			lo, hi, ok := strings.Cut(part, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if ok {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a > b {
				return 0, fmt.Errorf("invalid status code list '%s'", pat)
			}
			st.codes = append(st.codes, codeRange{a, b})
		}
	case kind == "hdr" || kind == "fhdr":
		st.Match = MatchHdr
		h, n, err := parseHdrMatch(kind == "fhdr", rest)
		if err != nil {
			return 0, err
		}
		st.hdr = h
		st.Pattern = h.text
		return n, nil
	default:
		return 0, fmt.Errorf("'%s' is %w", kind, ErrNotSupported)
	}
	return 1, nil
}

// hdrMatch is `hdr name [-m meth] <name> [value [-m meth] <value>]`.
type hdrMatch struct {
	full       bool // fhdr: the value is the whole line, commas included
	name       strMatcher
	value      *strMatcher
	text       string
	nameString string
}

type strMatcher struct {
	meth string // str, beg, end, sub, reg
	s    string
	re   *regexp.Regexp
	fold bool
}

func (m *strMatcher) match(v string) bool {
	s := m.s
	if m.fold {
		v, s = strings.ToLower(v), strings.ToLower(s)
	}
	switch m.meth {
	case "beg":
		return strings.HasPrefix(v, s)
	case "end":
		return strings.HasSuffix(v, s)
	case "sub":
		return strings.Contains(v, s)
	case "reg":
		return m.re.MatchString(v)
	}
	return v == s
}

func parseStrMatcher(words []string, i *int, fold bool) (strMatcher, error) {
	m := strMatcher{meth: "str", fold: fold}
	if *i < len(words) && words[*i] == "-m" {
		if *i+1 >= len(words) {
			return m, fmt.Errorf("'-m' expects a method")
		}
		m.meth = words[*i+1]
		switch m.meth {
		case "str", "beg", "end", "sub", "reg":
		default:
			return m, fmt.Errorf("'-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '%s')", m.meth)
		}
		*i += 2
	}
	if *i >= len(words) {
		return m, fmt.Errorf("missing pattern")
	}
	m.s = words[*i]
	*i++
	if m.meth == "reg" {
		re, err := regexp.Compile(m.s)
		if err != nil {
			return m, fmt.Errorf("invalid regex '%s': %v", m.s, err)
		}
		m.re = re
	}
	return m, nil
}

// parseHdrMatch parses the words after hdr or fhdr and reports how many
// it took.
func parseHdrMatch(full bool, words []string) (*hdrMatch, int, error) {
	h := &hdrMatch{full: full}
	i := 0
	if i >= len(words) || words[i] != "name" {
		return nil, 0, fmt.Errorf("'hdr' expects 'name' followed by a header name")
	}
	i++
	var err error
	if h.name, err = parseStrMatcher(words, &i, true); err != nil {
		return nil, 0, err
	}
	h.text = h.name.s
	if i < len(words) && words[i] == "value" {
		i++
		v, err := parseStrMatcher(words, &i, false)
		if err != nil {
			return nil, 0, err
		}
		h.value = &v
	}
	return h, i, nil
}

// parseSend compiles a tcp-check send step.
func parseSend(kind string, words []string) (*Step, error) {
	st := &Step{Action: Send}
	if len(words) == 0 {
		return nil, fmt.Errorf("'%s' expects a <data> as argument", kind)
	}
	st.RawText = words[0]
	switch kind {
	case "send":
		st.Data = []byte(words[0])
	case "send-binary":
		b, err := hex.DecodeString(words[0])
		if err != nil {
			return nil, fmt.Errorf("'send-binary' invalid hexadecimal string '%s'", words[0])
		}
		st.Data = b
	default:
		return nil, fmt.Errorf("'%s' is %w", kind, ErrNotSupported)
	}
	for i := 1; i < len(words); i++ {
		if words[i] == "comment" && i+1 < len(words) {
			st.Comment = words[i+1]
			i++
			continue
		}
		return nil, fmt.Errorf("unexpected argument '%s'", words[i])
	}
	return st, nil
}

// parseConnect compiles a tcp-check or http-check connect step.
func parseConnect(words []string) (*Step, error) {
	st := &Step{Action: Connect}
	for i := 0; i < len(words); i++ {
		w := words[i]
		val := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("'%s' expects an argument", w)
			}
			i++
			return words[i], nil
		}
		switch w {
		case "default":
			st.Default = true
		case "port":
			v, err := val()
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return nil, fmt.Errorf("'port' expects a port number between 1 and 65535 (got '%s')", v)
			}
			st.Port = n
		case "addr":
			v, err := val()
			if err != nil {
				return nil, err
			}
			st.Addr = v
		case "send-proxy":
			st.SendProxy = true
		case "comment":
			v, err := val()
			if err != nil {
				return nil, err
			}
			st.Comment = v
		case "linger":
			st.Linger = true
		default:
			return nil, fmt.Errorf("'%s' is %w", w, ErrNotSupported)
		}
	}
	return st, nil
}

// parseHTTPSend compiles `http-check send [meth M] [uri U] [ver V]
// [hdr N V]* [body B] [comment C]`.
func parseHTTPSend(words []string) (*Step, error) {
	st := &Step{Action: Send, HTTP: &HTTPRequest{}}
	r := st.HTTP
	for i := 0; i < len(words); i++ {
		w := words[i]
		if i+1 >= len(words) {
			return nil, fmt.Errorf("'%s' expects an argument", w)
		}
		switch w {
		case "meth":
			r.Method = words[i+1]
		case "uri":
			r.URI = words[i+1]
		case "ver":
			r.Version = words[i+1]
		case "body":
			r.Body = words[i+1]
		case "comment":
			st.Comment = words[i+1]
		case "hdr":
			if i+2 >= len(words) {
				return nil, fmt.Errorf("'hdr' expects <name> and <value> as arguments")
			}
			r.Headers = append(r.Headers, [2]string{words[i+1], words[i+2]})
			i++
		default:
			return nil, fmt.Errorf("'%s' is %w", w, ErrNotSupported)
		}
		i++
	}
	return st, nil
}
