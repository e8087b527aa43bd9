package httperr

import (
	"fmt"
	"strings"
)

// ReplySpec is an http reply as HAProxy's http_parse_http_reply reads it,
// for `http-request return|deny|tarpit`, `http-response deny|return` and
// `http-error`: a status, and either a page (errorfile, errorfiles,
// default-errorfiles), a payload (string, file) or a log-format payload
// (lf-string, lf-file), with headers whose values are log-format strings.
type ReplySpec struct {
	// Code is the status given, 0 when none was.
	Code int
	// Kind is "errorfiles", "default-errorfiles", "errorfile", "file",
	// "string", "lf-file", "lf-string", or "" for no payload.
	Kind string
	// CType is the content-type, "" when none applies.
	CType string
	// Body is the payload of string and file, or the log-format of
	// lf-string and lf-file (the file's contents).
	Body string
	// Hdrs are the hdr arguments kept, values as written (log-format).
	Hdrs []ReplyHeader
	// Page is an errorfile's message; Section an errorfiles name.
	Page    *Page
	Section string
	// SectionPages are the errorfiles section's pages, once the
	// configuration resolved its name.
	SectionPages map[int]*Page
	// Warnings are HAProxy's, for "parsing [file:line] : <w>".
	Warnings []string
	// Rest holds the words after the last one understood: a rule's
	// caller reports the first.
	Rest []string
}

// LogFormat reports whether the reply is built anew for each response: a
// log-format payload (lf-string, lf-file) or a header value holding '%'.
func (r *ReplySpec) LogFormat() bool {
	if r.Kind == "lf-string" || r.Kind == "lf-file" {
		return true
	}
	for _, h := range r.Hdrs {
		if strings.Contains(h.Value, "%") {
			return true
		}
	}
	return false
}

// ReplyHeader is one hdr argument.
type ReplyHeader struct {
	Name, Value string
}

// ParseReply reads an http reply's arguments. defaultCode is the action's
// status when none is given (200 for return, 403 for deny, 500 for
// tarpit; 0 for http-error, which requires one). impliedErrorfiles is set
// for deny and tarpit: with no argument, or deny_status alone, they answer
// with the proxy's error page (HAProxy's implied default-errorfiles),
// while `status` alone gives an empty reply, as HAProxy 2.6 does.
func (l *Loader) ParseReply(args []string, defaultCode int, impliedErrorfiles bool) (*ReplySpec, error) {
	r := &ReplySpec{}
	hasCT, onlyStatus := false, true
	i := 0
	for i < len(args) {
		a := args[i]
		switch a {
		case "status", "deny_status":
			if a == "deny_status" && !impliedErrorfiles {
				r.Rest = args[i:]
				i = len(args)
				continue
			}
			if i+1 >= len(args) || args[i+1] == "" {
				return nil, fmt.Errorf("'%s' expects <status_code> as argument", a)
			}
			r.Code = atol(args[i+1])
			if r.Code < 200 || r.Code > 599 {
				return nil, fmt.Errorf("Unexpected status code '%d'", r.Code)
			}
			i += 2
			if a == "deny_status" {
				continue // the legacy form keeps the error page (below)
			}
		case "content-type":
			if i+1 >= len(args) || args[i+1] == "" {
				return nil, fmt.Errorf("'%s' expects <ctype> as argument", a)
			}
			r.CType, hasCT = args[i+1], true
			i += 2
		case "errorfiles", "default-errorfiles", "errorfile", "file", "string", "lf-file", "lf-string":
			if r.Kind != "" {
				return nil, fmt.Errorf("unexpected '%s' argument, '%s' already defined", a, r.Kind)
			}
			r.Kind = a
			if a == "default-errorfiles" {
				i++
				break
			}
			if i+1 >= len(args) || args[i+1] == "" {
				what := map[string]string{"errorfiles": "<name>", "errorfile": "<fmt>", "file": "<file>", "string": "<str>", "lf-file": "<file>", "lf-string": "<fmt>"}[a]
				return nil, fmt.Errorf("'%s' expects %s as argument", a, what)
			}
			arg := args[i+1]
			i += 2
			switch a {
			case "errorfiles":
				r.Section = arg
			case "errorfile":
				p, err := l.File(arg)
				if err != nil {
					return nil, err
				}
				r.Page = p
			case "file", "lf-file":
				b, err := l.rawFile(arg)
				if err != nil {
					return nil, err
				}
				r.Body = b
			default:
				r.Body = arg
			}
		case "hdr":
			if i+2 >= len(args) || args[i+1] == "" || args[i+2] == "" {
				return nil, fmt.Errorf("'%s' expects <name> and <value> as arguments", a)
			}
			n, v := args[i+1], args[i+2]
			i += 3
			if strings.EqualFold(n, "content-length") || strings.EqualFold(n, "transfer-encoding") || strings.EqualFold(n, "content-type") {
				r.Warnings = append(r.Warnings, fmt.Sprintf("header '%s' always ignored by the http reply.", n))
				break
			}
			r.Hdrs = append(r.Hdrs, ReplyHeader{n, v})
		default:
			r.Rest = args[i:]
			i = len(args)
			continue
		}
		onlyStatus = false
	}
	code := r.Code
	if code == 0 {
		code = defaultCode
	}
	if r.Kind == "" && onlyStatus && impliedErrorfiles {
		r.Kind = "default-errorfiles"
		return r, nil
	}
	switch r.Kind {
	case "":
		if hasCT {
			r.Warnings = append(r.Warnings, fmt.Sprintf("content-type '%s' ignored by the http reply because neither errorfile nor payload defined.", r.CType))
			r.CType = ""
		}
	case "errorfiles", "default-errorfiles", "errorfile":
		if r.Page == nil && !Handled(code) {
			return nil, fmt.Errorf("status code '%d' not handled by default with '%s' argument.", code, r.Kind)
		}
		if hasCT {
			r.Warnings = append(r.Warnings, fmt.Sprintf("content-type '%s' ignored by the http reply when used with an erorrfile.", r.CType))
			r.CType = ""
		}
		if len(r.Hdrs) > 0 {
			r.Warnings = append(r.Warnings, "hdr parameters ignored by the http reply when used with an erorrfile.")
			r.Hdrs = nil
		}
	case "file", "string":
		if (code == 204 || code == 304) && r.Body != "" {
			return nil, fmt.Errorf("No body expected for %d responses", code)
		}
		if !hasCT && r.Body != "" {
			return nil, fmt.Errorf("a content type must be defined when non-empty payload is configured")
		}
		if hasCT && r.Body == "" {
			r.Warnings = append(r.Warnings, fmt.Sprintf("content-type '%s' ignored by the http reply when used with an empty payload.", r.CType))
			r.CType = ""
		}
		if l.bufSize()-len(r.Body) < l.maxRewrite() {
			r.Warnings = append(r.Warnings, "http reply payload runs over the buffer space reserved to headers rewriting. It may lead to internal errors if strict rewriting mode is enabled.")
		}
	case "lf-file", "lf-string":
		if code == 204 || code == 304 {
			return nil, fmt.Errorf("No body expected for %d responses", code)
		}
		if !hasCT {
			return nil, fmt.Errorf("a content type must be defined with a log-format payload")
		}
	}
	return r, nil
}
