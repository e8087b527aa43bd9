package check

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// protoCheck builds the scripts of HAProxy's protocol checks: redis-check,
// pgsql-check, mysql-check, smtpchk, ldap-check and ssl-hello-chk.
func protoCheck(name string, args []string) (*Spec, error) {
	sp := &Spec{Kind: KindProto}
	add := func(st *Step) { sp.Steps = append(sp.Steps, st) }
	switch name {
	case "redis-check":
		add(&Step{Action: Send, Data: []byte("*1\r\n$4\r\nPING\r\n")})
		st := tcpExpect(MatchString, "+PONG\r\n")
		st.Err, st.OnOK = L7Sts, "Redis server is ok"
		st.errInfo = firstLine
		add(st)
	case "pgsql-check":
		user := ""
		if len(args) >= 2 && args[0] == "user" {
			user = args[1]
		} else if len(args) > 0 {
			return nil, fmt.Errorf("only supports optional values: 'user'")
		}
		if user == "" {
			return nil, fmt.Errorf("'user' is required")
		}
		add(lingerConnect())
		add(&Step{Action: Send, Data: pgsqlStartup(user)})
		e := tcpExpect(MatchRString, "^E")
		e.Negate, e.MinRecv, e.Err = true, 5, L7Rsp
		e.errInfo = func(b []byte) string { return cString(b, 6) }
		add(e)
		ok := tcpExpect(MatchRBinary, "^52000000[A-Za-z0-9]{2}000000(00|02|03|04|05|06|07|09|0A|0a)")
		ok.MinRecv, ok.Err, ok.OnOK, ok.OnErr = 9, L7Sts, "PostgreSQL server is ok", "PostgreSQL unknown error"
		add(ok)
	case "mysql-check":
		user, post41 := "", false
		for i := 0; i < len(args); i++ {
			switch {
			case args[i] == "user" && i+1 < len(args):
				user = args[i+1]
				i++
			case args[i] == "post-41":
				post41 = true
			default:
				return nil, fmt.Errorf("only supports optional values: 'user' and 'post-41'")
			}
		}
		// As HAProxy, the login goes out at once, without waiting for
		// the greeting; both replies are then read from one buffer.
		add(lingerConnect())
		if user != "" {
			add(&Step{Action: Send, Data: mysqlLogin(user, post41)})
		}
		add(customExpect(L7Sts, mysqlPacket(0, user == "")))
		if user != "" {
			add(customExpect(L7Sts, mysqlPacket(-1, true)))
		}
		sp.Steps[len(sp.Steps)-1].reports = true
	case "smtpchk":
		// HAProxy 2.6's script: a 3-digit banner, which must be 2xx, then
		// HELO (or EHLO) with a 2xx reply, then QUIT with a 2xx reply,
		// whose code and text are the check's.
		cmd := "HELO localhost"
		if len(args) >= 2 && (strings.EqualFold(args[0], "HELO") || strings.EqualFold(args[0], "EHLO")) {
			cmd = args[0] + " " + args[1]
		}
		add(lingerConnect())
		e := tcpExpect(MatchRString, `^[0-9]{3}[ \r]`)
		e.MinRecv, e.errInfo = 4, firstLine
		add(e)
		add(smtpExpect(`^2[0-9]{2}[ \r]`, 4))
		add(&Step{Action: Send, Data: []byte(cmd + "\r\n")})
		add(smtpExpect(`^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]`, -1))
		add(&Step{Action: Send, Data: []byte("QUIT\r\n")})
		last := smtpExpect(`^2[0-9]{2}[- \r]`, 4)
		last.okInfo = smtpText
		add(last)
	case "ldap-check":
		b, _ := hexBytes("300C020101600702010304008000")
		add(&Step{Action: Send, Data: b})
		add(customExpect(L7Rsp, ldapBindResponse))
		sp.Steps[len(sp.Steps)-1].reports = true
	case "ssl-hello-chk":
		add(&Step{Action: Send, Data: tlsHello()})
		e := tcpExpect(MatchRBinary, "^1[56]")
		e.MinRecv, e.OK, e.Err, e.Tout = 5, L6OK, L6Rsp, L6Timeout
		add(e)
	default:
		return nil, fmt.Errorf("is %w", ErrNotSupported)
	}
	sp.number()
	return sp, nil
}

// lingerConnect is the first step of HAProxy's smtpchk, pgsql-check and
// mysql-check: `connect default linger`, which closes the connection
// cleanly instead of resetting it.
func lingerConnect() *Step {
	return &Step{Action: Connect, Default: true, Linger: true}
}

// customExpect is an expect step that a protocol's own function decides;
// err is its failure status, and waiting too long is a Layer7 timeout.
func customExpect(err Status, f func(buf []byte, closed bool) (bool, Result)) *Step {
	return &Step{Action: Expect, MinRecv: -1, OK: L7OK, Err: err, Tout: L7Timeout, custom: f}
}

func tcpExpect(m Match, pat string) *Step {
	st := &Step{Action: Expect, Match: m, Pattern: pat, MinRecv: -1, OK: L7OK, Err: L7Rsp, Tout: L7Timeout}
	switch m {
	case MatchString:
		st.bytes = []byte(pat)
	case MatchRString, MatchRBinary:
		st.re = regexp.MustCompile(pat)
	}
	return st
}

// firstLine is the reply up to its first CR or LF (HAProxy's cut_crlf).
func firstLine(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// cString is the bytes from off up to a NUL, as HAProxy's description
// (a C string) keeps them.
func cString(b []byte, off int) string {
	if off >= len(b) {
		return ""
	}
	b = b[off:]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

func hexBytes(s string) ([]byte, error) {
	out := make([]byte, len(s)/2)
	for i := range out {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(v)
	}
	return out, nil
}

// pgsqlStartup is a PostgreSQL v3.0 StartupMessage for user.
func pgsqlStartup(user string) []byte {
	body := []byte{0, 3, 0, 0}
	body = append(body, "user\x00"...)
	body = append(body, user...)
	body = append(body, 0, 0)
	out := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	return append(out, body...)
}

// mysqlPacket checks one MySQL packet at offset off (-1: after the first
// packet): an error packet (0xff) fails with L7STS and the server's
// message; otherwise, on the last step, the check passes with the
// server's version as its information.
func mysqlPacket(off int, last bool) func([]byte, bool) (bool, Result) {
	return func(b []byte, closed bool) (bool, Result) {
		o := off
		if o < 0 {
			if len(b) < 4 {
				return mysqlShort(closed)
			}
			o = int(b[0]) | int(b[1])<<8 | int(b[2])<<16 + 4
		}
		if len(b) < o+4 {
			return mysqlShort(closed)
		}
		n := int(b[o]) | int(b[o+1])<<8 | int(b[o+2])<<16
		if len(b) < o+4+n {
			return mysqlShort(closed)
		}
		if n > 0 && b[o+4] == 0xff {
			code := 0
			if n >= 3 {
				code = int(b[o+5]) | int(b[o+6])<<8
			}
			return true, Result{Status: L7Sts, Code: code, Info: cString(b, o+7)}
		}
		if !last {
			return true, Result{Status: L7OK}
		}
		return true, Result{Status: L7OK, Info: cString(b, 5)}
	}
}

func mysqlShort(closed bool) (bool, Result) {
	if !closed {
		return false, Result{}
	}
	return true, Result{Status: L7Rsp}
}

// mysqlLogin is the client authentication packet HAProxy's mysql-check
// sends for user (4.1 format, sequence 1, empty password), followed by
// COM_QUIT.
func mysqlLogin(user string, post41 bool) []byte {
	body := []byte{0x00, 0x82, 0x00, 0x00}      // client capabilities
	body = append(body, 0x00, 0x80, 0x00, 0x01) // max packet
	body = append(body, 0x21)                   // UTF-8
	body = append(body, make([]byte, 23)...)
	body = append(body, user...)
	body = append(body, 0, 0)
	n := len(body)
	out := append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 1}, body...)
	return append(out, 0x01, 0x00, 0x00, 0x00, 0x01)
}

// smtpExpect is an SMTP reply expectation: a failure is L7STS with the
// reply's code and text.
func smtpExpect(re string, minRecv int) *Step {
	e := tcpExpect(MatchRString, re)
	e.MinRecv, e.Err, e.errInfo, e.code = minRecv, L7Sts, smtpText, smtpCodeOf
	return e
}

// smtpText is an SMTP reply's text: after the code, blanks trimmed, up to
// the line end (HAProxy's res.payload(4,0),ltrim(' '),cut_crlf).
func smtpText(b []byte) string {
	if len(b) <= 4 {
		return ""
	}
	return strings.TrimLeft(firstLine(b[4:]), " ")
}

// smtpCodeOf is the reply's 3-digit code (res.payload(0,3)).
func smtpCodeOf(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(string(b[:3]))
	return n
}

// ldapBindResponse checks an LDAPv3 bind response with result code 0.
func ldapBindResponse(b []byte, closed bool) (bool, Result) {
	if len(b) < 14 && !closed {
		return false, Result{}
	}
	if len(b) < 14 || b[0] != 0x30 {
		return true, Result{Status: L7Rsp, Info: "Not LDAPv3 protocol"}
	}
	// SEQUENCE len, INTEGER msgid, [APPLICATION 1] BindResponse, ENUM result.
	i := 2
	if b[1]&0x80 != 0 {
		i += int(b[1] & 0x7f)
	}
	if i+2 >= len(b) || b[i] != 0x02 {
		return true, Result{Status: L7Rsp, Info: "Not LDAPv3 protocol"}
	}
	i += 2 + int(b[i+1])
	if i >= len(b) || b[i] != 0x61 {
		return true, Result{Status: L7Rsp, Info: "Not LDAPv3 protocol"}
	}
	i += 2
	if i+2 >= len(b) || b[i] != 0x0a {
		return true, Result{Status: L7Rsp, Info: "Not LDAPv3 protocol"}
	}
	if b[i+2] != 0 {
		return true, Result{Status: L7Sts, Code: int(b[i+2]), Info: "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"}
	}
	return true, Result{Status: L7OK, Info: "Success"}
}

// tlsHello is the SSLv3 ClientHello HAProxy's ssl-hello-chk sends: any
// TLS server answers it with a handshake or an alert record, which is all
// the check looks for. The random starts with the current time.
func tlsHello() []byte {
	b := []byte{0x16, 0x03, 0x00, 0x00, 0x79, 0x01, 0x00, 0x00, 0x75, 0x03, 0x00}
	b = binary.BigEndian.AppendUint32(b, uint32(time.Now().Unix()))
	b = append(b, "HAPROXYSSLCHK\nHAPROXYSSLCHK\n"...)
	b = append(b, 0x00, 0x00, 0x4e)
	for c := 0x01; c <= 0x1b; c++ {
		b = append(b, 0, byte(c))
	}
	for c := 0x2f; c <= 0x3a; c++ {
		b = append(b, 0, byte(c))
	}
	return append(b, 0x01, 0x00)
}

// AgentSpec is an agent check: connect, send the agent-send string if any,
// and read the agent's one-line reply, which the engine interprets.
func AgentSpec(send string) *Spec {
	sp := &Spec{Kind: KindProto}
	if send != "" {
		sp.Steps = append(sp.Steps, &Step{Action: Send, Data: []byte(send)})
	}
	e := &Step{Action: Expect, MinRecv: -1, OK: L7OK, Err: L7Rsp, Tout: L7Timeout}
	e.custom = func(b []byte, closed bool) (bool, Result) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 && !closed {
			return false, Result{}
		}
		if i < 0 {
			return true, Result{Status: Unknown, Info: "Ignoring incomplete line from agent"}
		}
		return true, Result{Status: L7OK, Info: strings.TrimRight(string(b[:i]), "\r")}
	}
	sp.Steps = append(sp.Steps, e)
	sp.number()
	return sp
}
