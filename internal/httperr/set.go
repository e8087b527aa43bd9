package httperr

import "fmt"

// Set is a proxy's own pages by code: what its errorfile, errorfiles,
// errorloc* and http-error directives (its defaults' first) left it with.
// A nil *Set has no pages.
type Set struct {
	pages map[int]*Page
}

// Own returns the proxy's page for code, or nil when it has none (HAProxy
// then asks the next proxy in line, then its built-in page).
func (s *Set) Own(code int) *Page {
	if s == nil {
		return nil
	}
	return s.pages[code]
}

// Page returns the proxy's page for code, else HAProxy's built-in one
// (nil for a code HAProxy does not handle).
func (s *Set) Page(code int) *Page {
	if p := s.Own(code); p != nil {
		return p
	}
	return Default(code)
}

// Codes lists the codes the set overrides, ascending.
func (s *Set) Codes() []int {
	var out []int
	for _, c := range Codes {
		if s.Own(c) != nil {
			out = append(out, c)
		}
	}
	return out
}

// Lookup is http_error_message: the backend's page, else the frontend's,
// else the built-in one. Before a backend is chosen, pass the frontend as
// be too.
func Lookup(be, fe *Set, code int) *Page {
	if p := be.Own(code); p != nil {
		return p
	}
	if p := fe.Own(code); p != nil {
		return p
	}
	return Default(code)
}

// Section is an http-errors section: its errorfile pages by code.
type Section struct {
	Name  string
	File  string
	Line  int
	Pages map[int]*Page
}

// Decl is one error directive of a proxy, in the order HAProxy applies
// them (a defaults section's first, then the proxy's own).
type Decl struct {
	File string
	Line int
	// Code and Page: errorfile, errorloc*, or http-error without
	// errorfiles. A nil Page means the built-in page
	// (http-error ... default-errorfiles).
	Code int
	Page *Page
	// Section and Codes: errorfiles NAME [CODE...] (Codes empty: every
	// code the section has), or http-error status CODE errorfiles NAME
	// (Codes holds CODE).
	Section  string
	Codes    []int
	explicit bool
}

// ErrorfilesDecl builds the Decl of `errorfiles NAME [CODE...]`; codes are
// checked ("status code 'N' not handled.").
func ErrorfilesDecl(file string, line int, name string, codes []int) (Decl, error) {
	for _, c := range codes {
		if !Handled(c) {
			return Decl{}, fmt.Errorf("status code '%d' not handled.", c)
		}
	}
	return Decl{File: file, Line: line, Section: name, Codes: codes, explicit: len(codes) > 0}, nil
}

// ReplyDecl builds the Decl of an http-error reply.
func ReplyDecl(file string, line int, r *Reply) Decl {
	if r.Section != "" {
		return Decl{File: file, Line: line, Section: r.Section, Codes: []int{r.Code}, explicit: true}
	}
	return Decl{File: file, Line: line, Code: r.Code, Page: r.Page}
}

// Build applies a proxy's declarations (proxy_check_errors) against the
// http-errors sections. Alerts are fatal; both come as whole texts.
func Build(proxy string, decls []Decl, sections map[string]*Section) (s *Set, alerts, warnings []string) {
	s = &Set{pages: map[int]*Page{}}
	for _, d := range decls {
		if d.Section == "" {
			if d.Page == nil {
				delete(s.pages, d.Code)
			} else {
				s.pages[d.Code] = d.Page
			}
			continue
		}
		sec := sections[d.Section]
		if sec == nil {
			alerts = append(alerts, fmt.Sprintf("proxy '%s': unknown http-errors section '%s' (at %s:%d).", proxy, d.Section, d.File, d.Line))
			continue
		}
		codes := d.Codes
		if len(codes) == 0 {
			codes = Codes[:]
		}
		for _, c := range codes {
			if p := sec.Pages[c]; p != nil {
				s.pages[c] = p
			} else if d.explicit {
				warnings = append(warnings, fmt.Sprintf("config: proxy '%s' : status '%d' not declared in http-errors section '%s' (at %s:%d).", proxy, c, sec.Name, d.File, d.Line))
			}
		}
	}
	return s, alerts, warnings
}
