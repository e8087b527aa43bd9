package config

import (
	"strconv"

	"sluice/internal/httperr"
	"sluice/internal/logfmt"
	"sluice/internal/sample"
)

// Error pages: errorfile, errorfiles, errorloc*, http-error in proxies and
// the http-errors section (src/http_htx.c). Pages are read and validated at
// load time; each proxy's ErrorDecls are applied in order after parsing
// (defaults' first) into its ErrorPages, as proxy_check_errors does.

// errLoader returns the load's errorfile reader, sized by tune.bufsize and
// tune.maxrewrite when the global section set them.
func (l *loader) errLoader() *httperr.Loader {
	if l.errPages == nil {
		l.errPages = &httperr.Loader{}
		if n, err := strconv.Atoi(l.cfg.Global.Tune["tune.bufsize"]); err == nil && n > 0 {
			l.errPages.BufSize = n
		}
		if n, err := strconv.Atoi(l.cfg.Global.Tune["tune.maxrewrite"]); err == nil && n > 0 {
			l.errPages.MaxRewrite = n
		}
	}
	return l.errPages
}

// loaderWarnings turns the loader's new global warnings into diagnostics.
func (c *ctx) loaderWarnings(before int) {
	ld := c.l.errLoader()
	for _, w := range ld.Warnings[before:] {
		c.l.diags.global(SevWarning, c.pos, "%s", w)
	}
}

func (c *ctx) addErrorDecl(d httperr.Decl) {
	d.File, d.Line = c.pos.File, c.pos.Line
	c.proxy.ErrorDecls = append(c.proxy.ErrorDecls, d)
}

// parseErrorfile is `errorfile <code> <file>` in a proxy.
func parseErrorfile(c *ctx) {
	if c.arg(1) == "" || c.arg(2) == "" {
		c.alertf("errorfile : expects <status_code> and <file> as arguments.")
		return
	}
	ld := c.l.errLoader()
	n := len(ld.Warnings)
	code := httperr.Atol(c.arg(1))
	p, err := ld.Errorfile(code, c.arg(2))
	c.loaderWarnings(n)
	if err != nil {
		c.alertf("errorfile : %v", err)
		return
	}
	c.addErrorDecl(httperr.Decl{Code: code, Page: p})
}

// parseErrorloc is `errorloc|errorloc302|errorloc303 <code> <url>`.
func parseErrorloc(c *ctx) {
	kw := c.arg(0)
	if c.arg(1) == "" || c.arg(2) == "" {
		c.alertf("%s : expects <status_code> and <url> as arguments.", kw)
		return
	}
	loc := 302
	if kw == "errorloc303" {
		loc = 303
	}
	code := httperr.Atol(c.arg(1))
	p, err := c.l.errLoader().Errorloc(loc, code, c.arg(2))
	if err != nil {
		c.alertf("%s : %v", kw, err)
		return
	}
	c.addErrorDecl(httperr.Decl{Code: code, Page: p})
}

// parseErrorfiles is `errorfiles <name> [<code> ...]`.
func parseErrorfiles(c *ctx) {
	if c.arg(1) == "" {
		c.alertf("errorfiles : expects <name> as argument.")
		return
	}
	var codes []int
	for _, a := range c.args(2) {
		codes = append(codes, httperr.Atol(a))
	}
	d, err := httperr.ErrorfilesDecl("", 0, c.arg(1), codes)
	if err != nil {
		c.alertf("errorfiles : %v", err)
		return
	}
	c.addErrorDecl(d)
}

// parseHTTPError is `http-error status <code> [content-type ...] [...]`.
func parseHTTPError(c *ctx) {
	ld := c.l.errLoader()
	n := len(ld.Warnings)
	r, err := ld.HTTPError(c.args(1))
	c.loaderWarnings(n)
	if err != nil {
		c.alertf("%v", err)
		return
	}
	for _, w := range r.Warnings {
		c.warnf("%s", w)
	}
	if r.Page != nil && r.Page.Reply != nil && !c.validHTTPErrorFormats(r.Page.Reply) {
		return
	}
	c.addErrorDecl(httperr.ReplyDecl("", 0, r))
}

// validHTTPErrorFormats compiles the log-format parts of an http-error
// reply. HAProxy checks only that their samples exist: an error page may
// be sent at any point of a transaction.
func (c *ctx) validHTTPErrorFormats(spec *httperr.ReplySpec) bool {
	formats := make([]string, 0, len(spec.Hdrs)+1)
	if spec.Kind == "lf-string" || spec.Kind == "lf-file" {
		formats = append(formats, spec.Body)
	}
	for _, h := range spec.Hdrs {
		formats = append(formats, h.Value)
	}
	check := func(e *logfmt.Expr) error {
		_, err := sample.Compile(e.Fetch.Name, e.Fetch.Args, e.ConverterChain())
		return err
	}
	for _, f := range formats {
		if _, _, err := logfmt.CompileWith(f, logfmt.Options{Mode: logfmt.HTTP, CheckSample: check}); err != nil {
			c.alertf("http-error : %v", err)
			return false
		}
	}
	return true
}

// parseHTTPErrorsErrorfile is `errorfile <code> <file>` in an http-errors
// section.
func parseHTTPErrorsErrorfile(c *ctx) {
	if c.arg(1) == "" || c.arg(2) == "" {
		c.alertf("errorfile: expects <status_code> and <file> as arguments.")
		return
	}
	ld := c.l.errLoader()
	n := len(ld.Warnings)
	code := httperr.Atol(c.arg(1))
	p, err := ld.Errorfile(code, c.arg(2))
	c.loaderWarnings(n)
	if err != nil {
		c.alertf("errorfile : %v", err)
		return
	}
	s := c.l.httperrs
	s.Errorfiles[code] = c.arg(2)
	if s.Pages == nil {
		s.Pages = map[int]*httperr.Page{}
	}
	s.Pages[code] = p
}

// checkHTTPErrorsHeader applies HAProxy's checks to an http-errors section
// header: allowed name characters, unique names.
func (l *loader) checkHTTPErrorsHeader(c *ctx) {
	name := c.arg(1)
	if ch, ok := validProxyName(name); !ok {
		c.alertf("character '%c' is not permitted in 'http-errors' name '%s'.", ch, name)
	}
	for _, s := range l.cfg.HTTPErrors {
		if s.Name == name {
			l.diags.global(SevAlert, c.pos, "parsing [%s:%d]: http-errors section '%s' already exists (declared at %s:%d).", c.pos.File, c.pos.Line, name, s.Pos.File, s.Pos.Line)
			return
		}
	}
}

// buildErrorPages resolves every proxy's error declarations against the
// http-errors sections (proxy_check_errors), then reports the loaded
// messages that leave too little buffer room (post_check_errors).
func (l *loader) buildErrorPages() {
	sections := map[string]*httperr.Section{}
	for _, s := range l.cfg.HTTPErrors {
		if _, dup := sections[s.Name]; dup {
			continue
		}
		sections[s.Name] = &httperr.Section{Name: s.Name, File: s.Pos.File, Line: s.Pos.Line, Pages: s.Pages}
	}
	for _, p := range l.cfg.Proxies {
		set, alerts, warns := httperr.Build(p.Name, p.ErrorDecls, sections)
		p.ErrorPages = set
		for _, a := range alerts {
			l.diags.global(SevAlert, p.Pos, "%s", a)
		}
		for _, w := range warns {
			l.diags.global(SevWarning, p.Pos, "%s", w)
		}
	}
	if l.errPages != nil {
		for _, w := range l.errPages.PostCheckWarnings() {
			l.diags.global(SevWarning, Pos{}, "%s", w)
		}
	}
}
