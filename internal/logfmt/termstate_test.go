package logfmt

import "testing"

// The combinations a TCP proxy produces, with the scenario that produced
// each one on haproxy 2.6.12 (see oracle_test.go) or the manual's
// section 8.5 where noted.
var termStateCases = []struct {
	cause Cause
	phase Phase
	ts    string
	why   string
}{
	{CauseNone, PhaseNone, "--", "normal end, either side closing first"},
	{CauseClientTimeout, PhaseData, "cD", "timeout client while both sides idle"},
	{CauseServerTimeout, PhaseData, "sD", "timeout server while the server stays silent"},
	{CauseClientAbort, PhaseData, "CD", "client reset during data"},
	{CauseServerAbort, PhaseData, "SD", "server reset during data"},
	{CauseServerAbort, PhaseConnect, "SC", "connection refused after retries, and no usable server"},
	{CauseServerTimeout, PhaseConnect, "sC", "timeout connect"},
	{CauseServerTimeout, PhaseQueue, "sQ", "timeout queue behind a maxconn server"},
	{CauseProxy, PhaseRequest, "PR", "tcp-request content reject"},
	{CauseClientAbort, PhaseConnect, "CC", "client aborted while connecting (manual)"},
	{CauseClientAbort, PhaseQueue, "CQ", "client aborted while queued (manual)"},
	{CauseResource, PhaseConnect, "RC", "local port or socket exhausted (manual)"},
	{CauseInternal, PhaseRequest, "IR", "internal error (manual)"},
	{CauseKilled, PhaseData, "KD", "shutdown session from the CLI (manual)"},
	{CauseDown, PhaseData, "DD", "server marked down with shutdown-sessions (manual)"},
	{CauseUp, PhaseData, "UD", "backup killed when an active server came up (manual)"},
	{CauseLocal, PhaseRequest, "LR", "handled locally (manual)"},
	{CauseProxy, PhaseTarpit, "PT", "tarpitted (manual)"},
	{CauseNone, PhaseLast, "-L", "last data to the client (manual)"},
	{CauseServerAbort, PhaseHeaders, "SH", "server closed before the response headers (HTTP)"},
}

func TestTermState(t *testing.T) {
	for _, tc := range termStateCases {
		ts := TermState(tc.cause, tc.phase)
		if string(ts[:]) != tc.ts {
			t.Errorf("%s: TermState = %q, want %q", tc.why, ts[:], tc.ts)
		}
		tsc := TermStateCookie(tc.cause, tc.phase, CookieNA, SetCookieNA)
		if string(tsc[:]) != tc.ts+"--" {
			t.Errorf("%s: TermStateCookie = %q", tc.why, tsc[:])
		}
		c, p, _, _, ok := ParseTermState(tc.ts)
		if !ok || c != tc.cause || p != tc.phase {
			t.Errorf("ParseTermState(%q) = %v %v %v", tc.ts, c, p, ok)
		}
	}
}

func TestTermStateCookie(t *testing.T) {
	for _, tc := range []struct {
		req  CookieState
		resp SetCookieState
		want string
	}{
		{CookieNone, SetCookieNone, "--NN"},
		{CookieNone, SetCookieInserted, "--NI"},
		{CookieInvalid, SetCookieInserted, "--II"},
		{CookieValid, SetCookieNone, "--VN"},
		{CookieValid, SetCookieUpdated, "--VU"},
		{CookieExpired, SetCookieInserted, "--EI"},
		{CookieOld, SetCookieInserted, "--OI"},
		{CookieDown, SetCookieInserted, "--DI"},
		{CookieUnused, SetCookiePassive, "--UP"},
		{CookieValid, SetCookieRewritten, "--VR"},
		{CookieValid, SetCookieDeleted, "--VD"},
	} {
		got := TermStateCookie(CauseNone, PhaseNone, tc.req, tc.resp)
		if string(got[:]) != tc.want {
			t.Errorf("TermStateCookie(%v, %v) = %q, want %q", tc.req, tc.resp, got[:], tc.want)
		}
		_, _, req, resp, ok := ParseTermState(tc.want)
		if !ok || req != tc.req || resp != tc.resp {
			t.Errorf("ParseTermState(%q) = %v %v %v", tc.want, req, resp, ok)
		}
	}
	for _, bad := range []string{"", "-", "---", "xD", "-x", "--x-", "---x", "-----"} {
		if _, _, _, _, ok := ParseTermState(bad); ok {
			t.Errorf("ParseTermState(%q) accepted", bad)
		}
	}
	if Cause(200).Char() != 'I' || Phase(200).Char() != '-' {
		t.Error("out-of-range values")
	}
}
