package engine

import (
	"sluice/internal/logfmt"
	"sluice/internal/logsink"
)

// streamLevel is the level of a stream's log line, as HAProxy's strm_log
// decides it: a stream that ended with an error (any termination cause
// but a normal or local end), was redispatched, needed connection retries
// without an error, or got a 5xx answer in an http frontend, is an error.
// option dontlog-normal drops the others; option log-separate-errors
// logs the errors at "err" instead of "info". ok is false when the line
// is not written.
//
// A set-log-level rule's choice (override, as sample.Ctx.LogLevel holds
// it) replaces the level, or drops the line for "silent", after
// dontlog-normal had its say.
func (l *feLog) streamLevel(http bool, cause logfmt.Cause, status, retries int, redispatched bool, override int) (level int, ok bool) {
	err := redispatched || cause > logfmt.CauseLocal ||
		(cause == logfmt.CauseNone && retries > 0) || (http && status >= 500)
	if !err && l.dontNormal {
		return 0, false
	}
	switch {
	case override < 0:
		return 0, false
	case override > 0:
		return override - 1, true
	}
	if err && l.separateErrors {
		return logsink.LevelErr, true
	}
	return logsink.LevelInfo, true
}

// logLevelArg reads set-log-level's argument (checked at load) as
// sample.Ctx.LogLevel holds it.
func logLevelArg(s string) int {
	if s == "silent" {
		return -1
	}
	n, _ := logsink.ParseLevel(s)
	return n + 1
}
