package sample

import (
	"bytes"
	"strconv"
	"strings"
)

// testMsg is an HTTPMessage for tests, parsed minimally from a raw
// message: a start line and "name: value" header lines, values trimmed
// of blanks as an HTTP/1 parser does.
type testMsg struct {
	method, uri, version []byte
	status               int
	names, values        [][]byte
}

func (m *testMsg) Method() []byte               { return m.method }
func (m *testMsg) URI() []byte                  { return m.uri }
func (m *testMsg) Version() []byte              { return m.version }
func (m *testMsg) Status() int                  { return m.status }
func (m *testMsg) NumFields() int               { return len(m.names) }
func (m *testMsg) Field(i int) ([]byte, []byte) { return m.names[i], m.values[i] }

// parseTestMsg reads "GET /x HTTP/1.1\r\nA: b\r\n\r\n" or a response
// ("HTTP/1.1 200 OK ...").
func parseTestMsg(raw string) *testMsg {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	m := &testMsg{}
	sl := strings.SplitN(lines[0], " ", 3)
	if strings.HasPrefix(sl[0], "HTTP/") {
		m.version = []byte(sl[0])
		m.status, _ = strconv.Atoi(sl[1])
	} else {
		m.method, m.uri, m.version = []byte(sl[0]), []byte(sl[1]), []byte(sl[2])
	}
	for _, l := range lines[1:] {
		n, v, _ := strings.Cut(l, ":")
		m.names = append(m.names, []byte(n))
		m.values = append(m.values, bytes.Trim([]byte(v), " \t"))
	}
	return m
}
