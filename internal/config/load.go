package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sluice/internal/cfgsyntax"
	"sluice/internal/httperr"
)

// Options tunes a load.
type Options struct {
	// LookupEnv reads environment variables; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Features are the names feature() reports true in conditional blocks.
	Features []string
	// ReadFile reads a configuration file; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// NoResolve skips resolving server host names (tests of pure syntax).
	NoResolve bool
	// DefaultMaxconn is -N: the maxconn of proxies that set none.
	DefaultMaxconn int
}

// Version is the HAProxy version Sluice reports in conditional blocks.
const Version = "2.6"

// loader carries the state of one load across files.
type loader struct {
	opt   Options
	cfg   *Config
	diags Diags

	sec      section
	proxy    *Proxy // current proxy section, if any
	other    *Section
	userlist *Userlist
	httperrs *HTTPErrors
	errPages *httperr.Loader // errorfiles read so far, shared by path
	// lastDefaults is what a proxy inherits when it names no defaults.
	lastDefaults *Proxy
	globalSeen   bool
	// ruledDefaultsUse records which side (frontend or backend) first
	// inherited each named defaults section that holds rules.
	ruledDefaultsUse map[*Proxy]Cap
}

// Load reads the files and directories in paths (directories contribute their
// non-hidden *.cfg files in C-locale order) as one configuration. The Config
// is returned even when there are alerts, so callers can report everything.
func Load(paths []string, opt Options) (*Config, Diags) {
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	l := &loader{opt: opt, cfg: &Config{}, ruledDefaultsUse: map[*Proxy]Cap{}}
	l.cfg.Global = defaultGlobal()
	l.lastDefaults = newDefaults(Pos{}, "")
	files, err := expandPaths(paths)
	if err != nil {
		l.diags.global(SevAlert, Pos{}, "%v", err)
		return l.cfg, l.diags
	}
	l.cfg.Files = files
	for _, f := range files {
		l.loadFile(f)
	}
	// Refusals leave the configuration otherwise valid, so the post-parse
	// checks still run and everything is reported at once.
	if l.alertCount() == 0 {
		l.postParse()
	}
	return l.cfg, l.diags
}

func (l *loader) alertCount() int {
	n := 0
	for _, d := range l.diags {
		if d.Sev == SevAlert && !d.NonFatal && !d.Refusal {
			n++
		}
	}
	return n
}

// expandPaths turns -f arguments into the ordered list of files to read.
func expandPaths(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("Could not open configuration file %s : %s", p, errText(err))
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("Cannot open configuration directory %s : %s", p, errText(err))
		}
		var names []string
		for _, e := range ents {
			n := e.Name()
			if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".cfg") || e.IsDir() {
				continue
			}
			names = append(names, n)
		}
		sort.Strings(names) // byte order, as LC_COLLATE=C
		for _, n := range names {
			files = append(files, filepath.Join(p, n))
		}
	}
	return files, nil
}

// errText gives the C library's wording for common file errors.
func errText(err error) string {
	switch {
	case os.IsNotExist(err):
		return "No such file or directory"
	case os.IsPermission(err):
		return "Permission denied"
	}
	return err.Error()
}

func (l *loader) loadFile(name string) {
	src, err := l.opt.ReadFile(name)
	if err != nil {
		l.diags.global(SevAlert, Pos{}, "Could not open configuration file %s : %s", name, errText(err))
		return
	}
	lines, msgs, err := cfgsyntax.Parse(name, src, &cfgsyntax.Options{
		LookupEnv: l.opt.LookupEnv, Version: Version, Features: l.opt.Features,
	})
	for _, m := range msgs {
		l.lexMessage(m)
	}
	if err != nil {
		for _, e := range unwrapAll(err) {
			pos := Pos{}
			msg := e.Error()
			if se, ok := e.(*cfgsyntax.Error); ok {
				pos = se.Pos
			}
			l.diags.global(SevAlert, pos, "%s", msg)
		}
		return
	}
	// Each file starts outside any section, as in HAProxy.
	l.sec, l.proxy, l.other, l.userlist, l.httperrs = secNone, nil, nil, nil, nil
	for i := range lines {
		l.line(&lines[i])
	}
}

// lexMessage turns .diag/.notice/.warning/.alert output into diagnostics.
func (l *loader) lexMessage(m cfgsyntax.Message) {
	sev := SevNotice
	switch m.Sev {
	case cfgsyntax.SevWarning:
		sev = SevWarning
	case cfgsyntax.SevAlert:
		sev = SevAlert
	case cfgsyntax.SevDiag:
		return // HAProxy prints .diag only with -dD
	}
	l.diags.global(sev, m.Pos, "parsing [%s:%d] : %s", m.Pos.File, m.Pos.Line, m.Text)
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
		return out
	}
	return []error{err}
}

// line dispatches one statement: a section header or a keyword of the
// current section.
func (l *loader) line(ln *cfgsyntax.Line) {
	w := ln.Words
	if len(w) == 0 {
		return
	}
	if h, ok := sectionHeaders[w[0].Text]; ok {
		l.header(h, ln)
		return
	}
	if l.sec == secNone {
		l.diags.global(SevAlert, ln.Pos, "parsing [%s:%d]: unknown keyword '%s' out of section.", ln.Pos.File, ln.Pos.Line, w[0].Text)
		return
	}
	c := &ctx{l: l, pos: ln.Pos, words: w}
	switch l.sec {
	case secGlobal:
		dispatch(c, globalKeywords, "global")
	case secDefaults, secFrontend, secBackend, secListen:
		c.proxy = l.proxy
		dispatch(c, proxyKeywords, sectionNames[l.sec])
	case secUserlist:
		dispatch(c, userlistKeywords, "userlist")
	case secHTTPErrors:
		dispatch(c, httpErrorsKeywords, "http-errors")
	default:
		l.otherLine(c)
	}
}
