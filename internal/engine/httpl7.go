package engine

// l7txn is what the Layer 7 features keep about one HTTP transaction.
type l7txn struct {
	// captured: the request was parsed and its captures taken; the log
	// line shows the capture slots only then.
	captured bool
}
