package sample

import (
	"os"
	"strings"
	"testing"
)

// TestUsableMatchesHAProxy checks Usable against what haproxy 2.6.12 -c
// reported for every fetch and ACL keyword at each rule checkpoint it
// can be probed at (testdata/checkpoints-haproxy26.txt).
func TestUsableMatchesHAProxy(t *testing.T) {
	probed := map[string]Checkpoint{
		"FE_CON_ACC": CkpFEConAcc, "FE_SES_ACC": CkpFESesAcc, "FE_REQ_CNT": CkpFEReqCnt,
		"FE_HRQ_HDR": CkpFEHrqHdr, "FE_SET_BCK": CkpFESetBck, "FE_HRS_HDR": CkpFEHrsHdr,
		"BE_REQ_CNT": CkpBEReqCnt, "BE_HRQ_HDR": CkpBEHrqHdr, "BE_RES_CNT": CkpBEResCnt, "BE_HRS_HDR": CkpBEHrsHdr,
	}
	var all Checkpoint
	for _, c := range probed {
		all |= c
	}
	data, err := os.ReadFile("testdata/checkpoints-haproxy26.txt")
	if err != nil {
		t.Fatal(err)
	}
	var want Checkpoint
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, " "):
			for _, name := range strings.Fields(line) {
				n++
				if got := Usable(name) & all; got != want {
					t.Errorf("Usable(%s) at the probed checkpoints = %#x, haproxy says %#x", name, got, want)
				}
			}
		default:
			want = 0
			for _, f := range strings.Fields(line) {
				c, ok := probed[f]
				if !ok && f != "none" {
					t.Fatalf("unknown checkpoint %q", f)
				}
				want |= c
			}
		}
	}
	if n < 250 {
		t.Errorf("only %d names in the oracle file", n)
	}
}

func TestCheckpointName(t *testing.T) {
	for c, want := range map[Checkpoint]string{
		CkpFEConAcc:               "frontend tcp-request connection rule",
		CkpFEReqCnt | CkpBEReqCnt: "frontend tcp-request content rule",
		CkpFEHrsHdr | CkpBEHrsHdr: "backend http-response header rule",
		CkpFEResCnt | CkpBEResCnt: "backend tcp-response content rule",
		CkpFESetBck:               "frontend use-backend rule",
		CkpBEChkRul:               "backend tcp-check rule",
		0:                         "unknown sample check place, please report this bug",
	} {
		if got := c.Name(); got != want {
			t.Errorf("%#x.Name() = %q, want %q", c, got, want)
		}
	}
}
