package logsink

import (
	"fmt"
	"strconv"
	"time"
)

// Format selects the syslog header written in front of every line, as
// HAProxy's "format" argument of the "log" keyword does.
type Format int

// The formats accepted by HAProxy 2.6. FormatDefault is the zero value: it is
// what a "log" line without "format" gets, and it is not the same as an
// explicit "format rfc3164" (see FormatDefault).
const (
	// FormatDefault is HAProxy's behaviour when no format is given: rfc3164
	// when a hostname is configured (log-send-hostname), otherwise local
	// (rfc3164 without the hostname field). Example:
	// "<134>Nov 23 10:55:53 mytag[3811]: msg".
	FormatDefault Format = iota
	// FormatRFC3164 always writes a hostname field, "localhost" when none
	// is configured: "<134>Nov 23 10:57:35 localhost haproxy[6675]: msg".
	FormatRFC3164
	// FormatRFC5424: "<142>1 2026-11-23T10:55:53.418875+00:00 - mytag 3811 - - msg".
	FormatRFC5424
	// FormatShort: severity only, for systemd: "<6>msg".
	FormatShort
	// FormatRaw: the message alone: "msg".
	FormatRaw
	// FormatISO: ISO-8601 date then the message: "2026-11-23T10:55:53.418967+00:00 msg".
	FormatISO
	// FormatTimed: severity and ISO date: "<6>2026-11-23T10:55:53.418970+00:00 msg".
	FormatTimed
	// FormatPriority: facility*8+severity only: "<182>msg".
	FormatPriority
	// FormatLocal is rfc3164 without the hostname: "<190>Nov 23 10:55:53 mytag[3811]: msg".
	FormatLocal
)

var formatNames = [...]string{
	FormatDefault:  "",
	FormatRFC3164:  "rfc3164",
	FormatRFC5424:  "rfc5424",
	FormatShort:    "short",
	FormatRaw:      "raw",
	FormatISO:      "iso",
	FormatTimed:    "timed",
	FormatPriority: "priority",
	FormatLocal:    "local",
}

// String returns the configuration keyword of the format ("" for
// FormatDefault), so a Target can be printed back as configuration.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return "Format(" + strconv.Itoa(int(f)) + ")"
	}
	return formatNames[f]
}

// ParseFormat maps a "format" argument to a Format. Names are case-sensitive
// like in HAProxy; the error text is HAProxy's.
func ParseFormat(s string) (Format, error) {
	for f, name := range formatNames {
		if name != "" && name == s {
			return Format(f), nil
		}
	}
	return FormatDefault, fmt.Errorf("unknown log format '%s'", s)
}

// Syslog severities, in HAProxy's (and syslog's) numbering: lower is more
// severe. They are exported so callers can pass a level to Log without
// parsing names.
const (
	LevelEmerg = iota
	LevelAlert
	LevelCrit
	LevelErr
	LevelWarning
	LevelNotice
	LevelInfo
	LevelDebug
)

var levelNames = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

var facilityNames = [...]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// ParseFacility returns the number (0..23) of a syslog facility name as
// HAProxy 2.6 spells them (kern .. local7, with auth2, audit, alert, cron2).
// HAProxy accepts names only, case-sensitively, so numbers are rejected too.
func ParseFacility(s string) (int, error) {
	for i, name := range facilityNames {
		if name == s {
			return i, nil
		}
	}
	return -1, fmt.Errorf("unknown log facility '%s'", s)
}

// ParseLevel returns the number (0..7) of a severity name (emerg alert crit
// err warning notice info debug). Like HAProxy, names only, case-sensitive.
func ParseLevel(s string) (int, error) {
	for i, name := range levelNames {
		if name == s {
			return i, nil
		}
	}
	return -1, fmt.Errorf("unknown log level '%s'", s)
}

// LevelName returns the name of a severity, or "" when out of range; it lets
// callers print levels the way the configuration spells them.
func LevelName(level int) string {
	if level < 0 || level >= len(levelNames) {
		return ""
	}
	return levelNames[level]
}

// FacilityName returns the name of a facility number, or "" when out of range.
func FacilityName(facility int) string {
	if facility < 0 || facility >= len(facilityNames) {
		return ""
	}
	return facilityNames[facility]
}

// Timestamp layouts: rfc3164's space-padded day ("%s %2d %02d:%02d:%02d")
// and the microsecond ISO-8601 date with numeric offset that HAProxy writes
// for rfc5424, iso and timed ("+00:00", never "Z").
const (
	legacyLayout = "Jan _2 15:04:05"
	isoLayout    = "2006-01-02T15:04:05.000000-07:00"
)

// header holds what is fixed for one target: everything in the syslog
// header except the priority, the date and the tag.
type header struct {
	format   Format // never FormatDefault: resolved at Open
	facility int
	host     string // "" when no hostname is configured
	pid      string
}

// resolveFormat turns FormatDefault into what HAProxy picks for a logger
// without "format": rfc3164 when a hostname is sent, local otherwise.
func resolveFormat(f Format, host string) Format {
	if f != FormatDefault {
		return f
	}
	if host != "" {
		return FormatRFC3164
	}
	return FormatLocal
}

// appendHeader appends the header of one line at severity level, stamped
// with now, for tag. It mirrors build_log_header() in HAProxy's log.c.
func (h *header) appendHeader(dst []byte, level int, now time.Time, tag string) []byte {
	switch h.format {
	case FormatLocal, FormatRFC3164, FormatRFC5424, FormatPriority:
		dst = appendPri(dst, h.facility*8+level)
	case FormatTimed, FormatShort:
		dst = appendPri(dst, level)
	}
	switch h.format {
	case FormatLocal, FormatRFC3164:
		dst = now.AppendFormat(dst, legacyLayout)
		dst = append(dst, ' ')
	case FormatRFC5424:
		dst = append(dst, "1 "...)
		dst = now.AppendFormat(dst, isoLayout)
		dst = append(dst, ' ')
	case FormatTimed, FormatISO:
		dst = now.AppendFormat(dst, isoLayout)
		dst = append(dst, ' ')
	}
	switch h.format {
	case FormatRFC3164:
		dst = appendOr(dst, h.host, "localhost")
		dst = append(dst, ' ')
		dst = h.appendTag(dst, tag)
	case FormatLocal:
		dst = h.appendTag(dst, tag)
	case FormatRFC5424:
		dst = appendOr(dst, h.host, "-")
		dst = append(dst, ' ')
		dst = appendOr(dst, tag, "-")
		dst = append(dst, ' ')
		dst = append(dst, h.pid...)
		// No MSGID and no structured data: HAProxy's default "- - ".
		dst = append(dst, " - - "...)
	}
	return dst
}

// appendTag writes "tag[pid]: ", or nothing when the tag is empty, as
// HAProxy does for the legacy formats.
func (h *header) appendTag(dst []byte, tag string) []byte {
	if tag == "" {
		return dst
	}
	dst = append(dst, tag...)
	dst = append(dst, '[')
	dst = append(dst, h.pid...)
	return append(dst, "]: "...)
}

func appendOr(dst []byte, s, alt string) []byte {
	if s == "" {
		return append(dst, alt...)
	}
	return append(dst, s...)
}

func appendPri(dst []byte, pri int) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(pri), 10)
	return append(dst, '>')
}

// trimMessage drops trailing LF and NUL bytes: HAProxy removes them because
// historical callers put them there, and it adds its own single LF.
func trimMessage(msg []byte) []byte {
	n := len(msg)
	for n > 0 && (msg[n-1] == '\n' || msg[n-1] == 0) {
		n--
	}
	return msg[:n]
}
