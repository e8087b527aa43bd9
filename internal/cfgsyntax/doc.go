// Package cfgsyntax is the lexer for HAProxy 2.6 configuration files.
//
// Sluice promises to read HAProxy's configuration language exactly as HAProxy
// 2.6 does, so this package is a behaviour-for-behaviour port of HAProxy's
// line reader (readcfgfile() in src/cfgparse.c), its word splitter
// (parse_line() in src/tools.c), its argument-list parser (make_arg_list() in
// src/arg.c) and its conditional-block language (src/cfgcond.c). Every
// subtle case was checked against the real haproxy 2.6.12 binary; the tests
// record what the binary did.
//
// The package knows nothing about keywords or sections beyond what the lexer
// itself needs (the ".SECTION" pseudo-variable): it turns bytes into
// statements ([Line]) made of words ([Word]), resolves .if/.elif/.else/.endif
// blocks, collects .diag/.notice/.warning messages and reports fatal problems
// as [*Error] values whose text follows HAProxy's "parsing [file:line] : ..."
// shape.
//
// Quirks of HAProxy 2.6 that are deliberately reproduced (all verified):
//
//   - A file whose last line lacks a line feed is a fatal error.
//   - A NUL byte ends the line; if anything follows it, parsing stops.
//   - A bare CR ends the line unless it directly follows a blank.
//   - "\<TAB>" is not an escape: it yields a backslash and a separator.
//   - "${VAR-default}" on the first line of a file, or on a line whose output
//     is larger than any line before it (in 1024-byte steps), fails with
//     "unmatched brace" because HAProxy reparses a line it has already
//     modified in place.
//   - An empty first word makes the whole line a no-op; other empty words
//     are kept (HAProxy's keyword parsers usually stop at them).
//   - There is no maximum line length, but at most 64 words per line.
package cfgsyntax
