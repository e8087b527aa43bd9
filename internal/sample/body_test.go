package sample

import (
	"strings"
	"testing"
)

// TestBodyFetches: the body fetches read the buffered body de-chunked and
// capped, as HAProxy's read its HTX data.
func TestBodyFetches(t *testing.T) {
	req := parseTestMsg("POST / HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, tc := range []struct {
		name    string
		body    string
		chunked bool
		length  int64
		max     int64
		fetch   string
		args    string
		want    string
	}{
		{"whole", "a=1&b=2", false, 7, 100, "req.body", "", "a=1&b=2"},
		{"partial length", "a=1", false, 10, 100, "req.body_len", "", "3"},
		{"partial size", "a=1", false, 10, 100, "req.body_size", "", "10"},
		{"capped", "abcdef", false, 6, 4, "req.body", "", "abcd"},
		{"chunked", "3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n", true, 0, 100, "req.body", "", "a=1&b=2"},
		{"chunked partial", "3\r\na=1\r\n8\r\n&b", true, 0, 100, "req.body_len", "", "5"},
		{"chunked size", "3\r\na=1\r\n8\r\n&b", true, 0, 100, "req.body_size", "", "11"},
		{"chunked capped", "3\r\na=1\r\n4\r\n&b=2\r\n0\r\n\r\n", true, 0, 5, "req.body", "", "a=1&b"},
		{"param", "x=1;a=5&a=6", false, 11, 100, "req.body_param", "a", "5"},
		{"param case", "A=9&a=1", false, 7, 100, "req.body_param", "a", "1"},
		{"param undecoded", "a=%41b+c", false, 8, 100, "req.body_param", "a", "%41b+c"},
		{"param unnamed", "zzz&a=7", false, 7, 100, "req.body_param", "", "7"},
		{"no body", "", false, 0, 100, "req.body_len", "", "0"},
	} {
		c := &Ctx{Req: req, Final: true, Body: &Body{Data: []byte(tc.body), Chunked: tc.chunked, Length: tc.length, Max: tc.max}}
		if tc.body == "" {
			c.Body = nil
		}
		v, found, _ := evalExpr(t, c, tc.fetch, tc.args, "")
		if !found {
			t.Errorf("%s: not found", tc.name)
			continue
		}
		if got := string(v.AsString(nil)); got != tc.want {
			t.Errorf("%s: %s(%s) = %q, want %q", tc.name, tc.fetch, tc.args, got, tc.want)
		}
	}
	for _, body := range []string{"b=1&a", "a&b=1"} {
		c := &Ctx{Req: req, Final: true, Body: &Body{Data: []byte(body), Length: int64(len(body)), Max: 100}}
		if _, found, _ := evalExpr(t, c, "req.body_param", "a", ""); found {
			t.Errorf("req.body_param(a) found in %q", body)
		}
	}
	if _, found, _ := evalExpr(t, &Ctx{Body: &Body{Data: []byte("x"), Length: 1, Max: 1}}, "req.body", "", ""); found {
		t.Error("req.body found without a request")
	}
}

// TestBodyParamIterateChunked: an ACL's walk over a chunked body's
// parameters sees every value, converters in between included.
func TestBodyParamIterateChunked(t *testing.T) {
	req := parseTestMsg("POST / HTTP/1.1\r\nHost: a\r\n\r\n")
	body := "14\r\na=AAAA&a=BBBB&a=CCCC\r\n0\r\n\r\n"
	c := &Ctx{Req: req, Final: true, Body: &Body{Data: []byte(body), Chunked: true, Max: 100}}
	e, err := Compile("req.body_param", "a", ",hex,lower")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var v Value
	for next := false; ; next = true {
		found, _, more := e.Iterate(c, &v, next)
		if found {
			got = append(got, string(v.AsString(nil)))
		}
		if !more {
			break
		}
	}
	if want := "41414141 42424242 43434343"; strings.Join(got, " ") != want {
		t.Fatalf("values %q, want %s", got, want)
	}
}
