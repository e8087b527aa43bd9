package h1

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzDiffNetHTTP parses each input with Sluice and with net/http's
// http.ReadRequest. Where one accepts a request and the other refuses it,
// the input must show one of the differences of allowedDiff, each a
// choice HAProxy makes (probed) or a check net/http does not make; where
// both accept, they must agree on the method, the target and the body's
// framing: a disagreement on framing is request smuggling.
func FuzzDiffNetHTTP(f *testing.F) {
	for _, s := range requestSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var h Head
		_, err := ParseRequest(bytes.Clone(in), &h, Limits{})
		if err == ErrIncomplete {
			return
		}
		req, stdErr := http.ReadRequest(bufio.NewReader(bytes.NewReader(in)))
		if err != nil || stdErr != nil {
			if (err == nil) != (stdErr == nil) {
				if why := allowedDiff(in, err); why == "" {
					t.Fatalf("%q: Sluice %v, net/http %v: no allowed difference explains it", in, err, stdErr)
				}
			}
			return
		}
		if string(h.Method()) != req.Method || string(h.URI()) != req.RequestURI && !defaultPortRemoved(h.URI(), req.RequestURI) {
			t.Fatalf("%q: Sluice reads %q %q, net/http %q %q", in, h.Method(), h.URI(), req.Method, req.RequestURI)
		}
		chunked := len(req.TransferEncoding) > 0 && req.TransferEncoding[0] == "chunked"
		var n int64
		if h.Framing == Length {
			n = h.ContentLength
		}
		if (h.Framing == Chunked) != chunked || !chunked && n != req.ContentLength {
			if why := allowedFramingDiff(in, &h); why == "" {
				t.Fatalf("%q: Sluice frames the body %d/%d, net/http chunked=%v length %d", in, h.Framing, h.ContentLength, chunked, req.ContentLength)
			}
		}
	})
}

// defaultPortRemoved: Sluice's target is net/http's without its scheme's
// default port, which HAProxy's scheme-based normalization removes.
func defaultPortRemoved(ours []byte, std string) bool {
	u, err := url.Parse(std)
	if err != nil || u.Port() == "" && !strings.HasSuffix(u.Host, ":") {
		return false
	}
	if !(strings.EqualFold(u.Scheme, "http") && u.Port() == "80" || strings.EqualFold(u.Scheme, "https") && u.Port() == "443" || u.Port() == "") {
		return false
	}
	i := strings.Index(std, "://") + 3
	if k := strings.Index(std[i:], u.Host); i < 3 || k < 0 {
		return false
	} else {
		i += k
	}
	host := u.Host[:strings.LastIndexByte(u.Host, ':')]
	return string(ours) == std[:i]+host+std[i+len(u.Host):]
}

// allowedFramingDiff explains why both accept a request but frame its body
// differently.
func allowedFramingDiff(in []byte, h *Head) string {
	switch {
	case !h.Is11() && h.Lookup("transfer-encoding", 0) >= 0:
		// RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 means the
		// framing is faulty. net/http ignores the field; HAProxy reads
		// it as chunked and closes the connection afterwards (ConnClose),
		// so nothing can follow the body either way.
		return "Transfer-Encoding in HTTP/1.0"
	case string(h.Method()) == "CONNECT":
		// HAProxy: what follows a CONNECT request is the tunnel.
		return "CONNECT has no body"
	}
	return ""
}

// allowedDiff explains why exactly one of Sluice (err) and net/http
// accepted in, or returns "".
func allowedDiff(in []byte, err error) string {
	line, head := firstLine(in)
	var e *Error
	if errors.As(err, &e) {
		// Refusals that are HAProxy's own checks, made after the head
		// parsed; net/http does not make them.
		switch {
		case e.Status == 413:
			return "HTTP/1.0 GET, HEAD or DELETE with a body (HAProxy: 413)"
		case e.Status == 422:
			return "transfer coding other than chunked (HAProxy: 422)"
		case e.Msg == msgTooManyHeaders:
			return "tune.http.maxhdr (net/http has no field count limit)"
		case e.Msg == msgTargetHost || e.Msg == msgConnectTarget:
			return "target authority and Host disagree (HAProxy)"
		case e.Msg == msgWebSocketKey:
			return "WebSocket upgrade without a key (HAProxy)"
		case e.Msg == msgFragment:
			return "'#' in the target (HAProxy, CVE-2023-45539)"
		}
	}
	switch {
	case len(in) > 0 && (in[0] == '\r' || in[0] == '\n'):
		// RFC 9112 section 2.2: a server SHOULD ignore at least one
		// empty line before the request line; net/http does not.
		return "empty lines before the request line"
	case bytes.Contains(line, []byte("  ")) || bytes.IndexByte(line, '\t') >= 0:
		// RFC 9112 section 3 lets a recipient split the request line on
		// any whitespace run, as HAProxy does; net/http wants single SP.
		return "request line separated by more than one SP"
	case targetDiffers(line):
		// Sluice, like HAProxy, checks only the target's bytes
		// (visible ASCII, no '#'); net/http parses it as a URL and
		// refuses bad percent-escapes, some forms, 8-bit bytes.
		return "target syntax"
	case spaceInName(head):
		// RFC 9112 section 5.1: a server MUST refuse whitespace between
		// a field name and its colon, and HAProxy does; net/http's
		// ReadRequest keeps "Content-Length " as another field
		// (go.dev/issue/34540), so it frames such a request as bodiless.
		return "whitespace before a colon"
	case hasFold(head):
		// RFC 9112 section 5.2: obs-fold. HAProxy and Sluice turn it into
		// spaces; net/http joins the lines differently and may then
		// accept or refuse other fields.
		return "obs-fold"
	case hasCTL(head):
		// HAProxy forwards CTLs and NUL in field values (probed);
		// net/http refuses them (RFC 9110 section 5.5 allows either).
		return "CTL in a field value"
	case countFields(head, "host") > 1:
		// HAProxy merges identical Host fields; net/http refuses any
		// repeated Host.
		return "repeated Host"
	case listValue(head, "content-length"):
		// HAProxy merges "3, 3"; net/http refuses a list in one field.
		return "Content-Length list"
	case teUnusual(head):
		// net/http accepts only one Transfer-Encoding field holding
		// exactly "chunked"; HAProxy reads lists ("chunked,") and
		// refuses the rest with 400 or 422 on its own terms.
		return "Transfer-Encoding other than a lone \"chunked\""
	case versionDiffers(line):
		// HAProxy reads HTTP/0.9 with a version; net/http's own rules
		// for "PRI * HTTP/2.0" and versions differ.
		return "version"
	}
	return ""
}

func firstLine(in []byte) (line, rest []byte) {
	i := bytes.IndexByte(in, '\n')
	if i < 0 {
		return in, nil
	}
	return bytes.TrimRight(in[:i], "\r"), in[i+1:]
}

func targetDiffers(line []byte) bool {
	parts := strings.Split(string(line), " ")
	if len(parts) != 3 {
		return false
	}
	m, u := parts[0], parts[1]
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] >= 0x7f || u[i] == '#' {
			return true
		}
	}
	if m == "CONNECT" && !strings.HasPrefix(u, "/") {
		_, err := url.ParseRequestURI("http://" + u)
		return err != nil
	}
	_, err := url.ParseRequestURI(u)
	return err != nil
}

func versionDiffers(line []byte) bool {
	parts := strings.Split(string(line), " ")
	if len(parts) != 3 {
		return false
	}
	v := parts[2]
	return strings.HasPrefix(v, "HTTP/0.") || strings.HasPrefix(v, "HTTP/2.") || parts[0] == "PRI"
}

// headLines returns the field lines up to the empty line.
func headLines(head []byte) [][]byte {
	var out [][]byte
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		var l []byte
		if i < 0 {
			l, head = head, nil
		} else {
			l, head = head[:i], head[i+1:]
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) == 0 {
			break
		}
		out = append(out, l)
	}
	return out
}

func hasFold(head []byte) bool {
	for _, l := range headLines(head) {
		if l[0] == ' ' || l[0] == '\t' {
			return true
		}
	}
	return false
}

func spaceInName(head []byte) bool {
	for _, l := range headLines(head) {
		if n, _, ok := bytes.Cut(l, []byte(":")); ok && bytes.ContainsAny(n, " \t") {
			return true
		}
	}
	return false
}

func hasCTL(head []byte) bool {
	for _, l := range headLines(head) {
		for _, c := range l {
			if c < ' ' && c != '\t' || c == 0x7f {
				return true
			}
		}
	}
	return false
}

func fieldValues(head []byte, name string) []string {
	var vs []string
	for _, l := range headLines(head) {
		n, v, ok := bytes.Cut(l, []byte(":"))
		if ok && EqualFold(n, name) {
			vs = append(vs, strings.Trim(string(v), " \t"))
		}
	}
	return vs
}

func countFields(head []byte, name string) int { return len(fieldValues(head, name)) }

func listValue(head []byte, name string) bool {
	for _, v := range fieldValues(head, name) {
		if strings.Contains(v, ",") {
			return true
		}
	}
	return false
}

func teUnusual(head []byte) bool {
	vs := fieldValues(head, "transfer-encoding")
	return len(vs) > 1 || len(vs) == 1 && !strings.EqualFold(vs[0], "chunked")
}
