package engine

import (
	"net/netip"

	"sluice/internal/config"
)

// originalTo is option originalto: the header that carries the address
// the client connected to, and the destination network exempt from it.
type originalTo struct {
	header []byte
	except netip.Prefix
}

func newOriginalTo(p *config.Proxy) *originalTo {
	o := p.Options["originalto"]
	if o == nil || o.Disabled {
		return nil
	}
	ot := &originalTo{header: []byte("x-original-to")}
	for i := 0; i < len(o.Args); i++ {
		switch o.Args[i] {
		case "header":
			i++
			ot.header = []byte(o.Args[i])
		case "except":
			i++
			ot.except, _ = config.ParseNet(o.Args[i])
		}
	}
	return ot
}

// addOriginalTo applies the backend's option originalto, else the
// frontend's (either enables it; the backend's settings win), after
// X-Forwarded-For, as HAProxy's http_process_request does. The header is
// appended: a client's own stays before it.
func (s *stream) addOriginalTo(t *httpTxn) {
	ot := s.be.originalTo
	if ot == nil {
		ot = s.fe.originalTo
	}
	if ot == nil {
		return
	}
	dst := s.smp.Dst.Addr()
	if !dst.IsValid() || (ot.except.IsValid() && ot.except.Contains(dst)) {
		return
	}
	start := len(t.arena)
	t.arena = dst.AppendTo(t.arena)
	t.req.Add(ot.header, t.arenaFrom(start))
}
