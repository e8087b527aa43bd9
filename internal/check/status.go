package check

import "errors"

// Status is a check's outcome, HAProxy's HCHK_STATUS_* values. Its Code is
// what the stats and logs show (L4OK, L7STS, ...), its Desc the "reason"
// of the server state messages.
type Status int

// The statuses HAProxy 2.6 reports. The order matters: statuses from
// L7OK on carry layer 5-7 data (an HTTP code), as in HAProxy.
const (
	Unknown   Status = iota // UNK: no check ran yet
	Init                    // INI: initializing
	Hana                    // HANA: health analysis of real traffic (observe)
	SockErr                 // SOCKERR: the check could not get a socket
	L4OK                    // L4OK: the TCP connection was accepted
	L4Timeout               // L4TOUT: connecting timed out
	L4Con                   // L4CON: connection refused, reset, unreachable
	L6OK                    // L6OK: TLS hello answered
	L6Timeout               // L6TOUT: TLS timeout
	L6Rsp                   // L6RSP: not a TLS answer
	L7Timeout               // L7TOUT: the reply did not come in time
	L7Rsp                   // L7RSP: the reply was not what the check expects
	L7OK                    // L7OK: the reply passed
	L7OKC                   // L7OKC: passed, with the server asking to drain
	L7Sts                   // L7STS: a reply with a wrong status
)

var statusNames = [...]struct{ code, desc string }{
	Unknown:   {"UNK", "Unknown"},
	Init:      {"INI", "Initializing"},
	Hana:      {"HANA", "Health analyze"},
	SockErr:   {"SOCKERR", "Socket error"},
	L4OK:      {"L4OK", "Layer4 check passed"},
	L4Timeout: {"L4TOUT", "Layer4 timeout"},
	L4Con:     {"L4CON", "Layer4 connection problem"},
	L6OK:      {"L6OK", "Layer6 check passed"},
	L6Timeout: {"L6TOUT", "Layer6 timeout"},
	L6Rsp:     {"L6RSP", "Layer6 invalid response"},
	L7Timeout: {"L7TOUT", "Layer7 timeout"},
	L7Rsp:     {"L7RSP", "Layer7 invalid response"},
	L7OK:      {"L7OK", "Layer7 check passed"},
	L7OKC:     {"L7OKC", "Layer7 check conditionally passed"},
	L7Sts:     {"L7STS", "Layer7 wrong status"},
}

// Code is the short name the stats show, e.g. "L4CON".
func (s Status) Code() string { return statusNames[s].code }

// Desc is HAProxy's description, e.g. "Layer4 connection problem".
func (s Status) Desc() string { return statusNames[s].desc }

// String is the Code.
func (s Status) String() string { return s.Code() }

// HasData reports whether the status carries a layer 7 code (HAProxy's
// status >= HCHK_STATUS_L57DATA): the messages then show "code: N".
func (s Status) HasData() bool { return s >= L7OK }

// Passed reports whether the status counts as a success.
func (s Status) Passed() bool { return s == L4OK || s == L6OK || s == L7OK || s == L7OKC }

// statusByCode maps the names accepted by ok-status, error-status and
// tout-status to statuses.
var statusByCode = map[string]Status{
	"L4OK": L4OK, "L4TOUT": L4Timeout, "L4CON": L4Con, "L6OK": L6OK, "L6TOUT": L6Timeout,
	"L6RSP": L6Rsp, "L7OK": L7OK, "L7OKC": L7OKC, "L7TOUT": L7Timeout, "L7RSP": L7Rsp, "L7STS": L7Sts,
}

// Result is one check's outcome.
type Result struct {
	Status Status
	// Code is the layer 7 code (an HTTP status) when Status.HasData.
	Code int
	// Info is the detail HAProxy quotes after "info:", e.g. "Connection
	// refused" or " at step 2 of tcp-check (expect string '+PONG')".
	Info string
	// Duration is how long the check took; negative when unknown.
	Duration int64 // milliseconds
	// First, when set, is a verdict HAProxy reports before this one in
	// the same check: mysql-check and ldap-check pass with their own
	// info (the server version, "Success"), then the end of the script
	// passes again with none. Each report counts for the server's
	// health; the last one's info is what state changes show.
	First *Result
}

// ErrNotSupported marks check settings Sluice parses but cannot run yet.
var ErrNotSupported = errors.New("not supported yet by Sluice")
