package logfmt

// Cause says what ended a stream: the first character of %ts and %tsc
// (HAProxy's SF_ERR_* values, manual section 8.5). The zero value is a
// normal end.
type Cause uint8

// Causes, in HAProxy's order ("-LcCsSPRIDKU").
const (
	CauseNone          Cause = iota // '-': normal end
	CauseLocal                      // 'L': handled locally (stats, redirect, return)
	CauseClientTimeout              // 'c': client-side timeout
	CauseClientAbort                // 'C': client closed or reset, or client-side error
	CauseServerTimeout              // 's': server-side timeout
	CauseServerAbort                // 'S': server refused, closed or reset, or server-side error
	CauseProxy                      // 'P': the proxy blocked it (deny, reject, invalid message)
	CauseResource                   // 'R': a local resource ran out (memory, sockets, ports)
	CauseInternal                   // 'I': internal error
	CauseDown                       // 'D': server marked down with on-marked-down shutdown-sessions
	CauseKilled                     // 'K': killed by an administrator
	CauseUp                         // 'U': backup server killed when an active one came up
)

// Phase says where the stream was when it ended: the second character of
// %ts and %tsc (HAProxy's SF_FINST_* values). The zero value means the
// stream went through all phases.
type Phase uint8

// Phases, in HAProxy's order ("-RCHDLQT").
const (
	PhaseNone    Phase = iota // '-': normal end
	PhaseRequest              // 'R': waiting for the request
	PhaseConnect              // 'C': connecting to the server
	PhaseHeaders              // 'H': waiting for the response headers
	PhaseData                 // 'D': transferring data
	PhaseLast                 // 'L': sending the last data to the client
	PhaseQueue                // 'Q': waiting in a queue
	PhaseTarpit               // 'T': tarpitted
)

// CookieState is what the request's persistence cookie said: the third
// character of %tsc. The zero value means the backend has no cookie
// persistence, which HAProxy writes '-'.
type CookieState uint8

// Request cookie states (HAProxy's TX_CK_* shifted by one for CookieNA).
const (
	CookieNA      CookieState = iota // '-': no cookie persistence
	CookieNone                       // 'N': no cookie in the request
	CookieInvalid                    // 'I': invalid cookie
	CookieDown                       // 'D': cookie for a server that is down
	CookieValid                      // 'V': valid cookie
	CookieExpired                    // 'E': expired (maxidle)
	CookieOld                        // 'O': too old (maxlife)
	CookieUnused                     // 'U': present but not used (use-server)
)

// SetCookieState is what happened to the response's persistence cookie:
// the fourth character of %tsc. The zero value means no cookie
// persistence ('-').
type SetCookieState uint8

// Response cookie states (HAProxy's TX_SCK_* shifted by one).
const (
	SetCookieNA        SetCookieState = iota // '-': no cookie persistence
	SetCookieNone                            // 'N': none
	SetCookiePassive                         // 'P': set by the server, left unchanged
	SetCookieDeleted                         // 'D': deleted
	SetCookieInserted                        // 'I': inserted
	SetCookieRewritten                       // 'R': rewritten
	SetCookieUpdated                         // 'U': updated (maxidle refresh)
)

const (
	causeChars     = "-LcCsSPRIDKU"
	phaseChars     = "-RCHDLQT"
	cookieChars    = "-NIDVEOU"
	setCookieChars = "-NPDIRU"
)

// Char returns the %ts character of the cause; unknown values are 'I', as
// in HAProxy's table.
func (c Cause) Char() byte {
	if int(c) < len(causeChars) {
		return causeChars[c]
	}
	return 'I'
}

// Char returns the %ts character of the phase.
func (p Phase) Char() byte {
	if int(p) < len(phaseChars) {
		return phaseChars[p]
	}
	return '-'
}

// Char returns the %tsc character of the request cookie state.
func (s CookieState) Char() byte {
	if int(s) < len(cookieChars) {
		return cookieChars[s]
	}
	return '-'
}

// Char returns the %tsc character of the response cookie state.
func (s SetCookieState) Char() byte {
	if int(s) < len(setCookieChars) {
		return setCookieChars[s]
	}
	return '-'
}

// TermState composes the two-character %ts.
func TermState(c Cause, p Phase) [2]byte {
	return [2]byte{c.Char(), p.Char()}
}

// TermStateCookie composes the four-character %tsc.
func TermStateCookie(c Cause, p Phase, req CookieState, resp SetCookieState) [4]byte {
	return [4]byte{c.Char(), p.Char(), req.Char(), resp.Char()}
}

// ParseTermState splits a %ts or %tsc string such as "sD" or "SC--" back
// into its parts; ok is false for anything HAProxy cannot write.
func ParseTermState(s string) (c Cause, p Phase, req CookieState, resp SetCookieState, ok bool) {
	if len(s) != 2 && len(s) != 4 {
		return 0, 0, 0, 0, false
	}
	ci, pi := indexByte(causeChars, s[0]), indexByte(phaseChars, s[1])
	if ci < 0 || pi < 0 {
		return 0, 0, 0, 0, false
	}
	c, p = Cause(ci), Phase(pi)
	if len(s) == 4 {
		ri, si := indexByte(cookieChars, s[2]), indexByte(setCookieChars, s[3])
		if ri < 0 || si < 0 {
			return 0, 0, 0, 0, false
		}
		req, resp = CookieState(ri), SetCookieState(si)
	}
	return c, p, req, resp, true
}

func indexByte(s string, b byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return i
		}
	}
	return -1
}
