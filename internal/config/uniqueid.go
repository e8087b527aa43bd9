package config

import (
	"sluice/internal/logfmt"
	"sluice/internal/sample"
)

// parseUniqueIDFormat handles `unique-id-format <fmt>`: a log-format
// compiled as HAProxy compiles it for a header (LOG_OPT_HTTP), with its
// messages. A backend ignores it silently, as HAProxy does.
func parseUniqueIDFormat(c *ctx) {
	switch {
	case c.nargs() < 1:
		c.alertf("%s expects an argument.", c.arg(0))
		return
	case c.nargs() > 1:
		c.alertf("%s expects only one argument, don't forget to escape spaces!", c.arg(0))
		return
	}
	check := func(e *logfmt.Expr) error {
		if _, err := sample.Compile(e.Fetch.Name, e.Fetch.Args, e.ConverterChain()); err != nil {
			return err
		}
		if needs := sample.Unavailable(e.Fetch.Name, false); needs != "" {
			return &logfmt.NotAvailableError{Needs: needs}
		}
		return nil
	}
	mode := logfmt.TCP
	if c.proxy.Mode == ModeHTTP {
		mode = logfmt.HTTP
	}
	if _, _, err := logfmt.CompileWith(c.arg(1), logfmt.Options{Mode: mode, UniqueID: true, CheckSample: check}); err != nil {
		c.alerts++
		c.l.diags.global(SevAlert, c.pos, "Parsing [%s:%d]: failed to parse unique-id : %v.", c.pos.File, c.pos.Line, err)
		return
	}
	c.proxy.UniqueIDFormat = c.arg(1)
}

// parseUniqueIDHeader handles `unique-id-header <name>`; HAProxy ignores
// further words.
func parseUniqueIDHeader(c *ctx) {
	if c.nargs() < 1 {
		c.alertf("%s expects an argument.", c.arg(0))
		return
	}
	c.proxy.UniqueIDHeader = c.arg(1)
}
