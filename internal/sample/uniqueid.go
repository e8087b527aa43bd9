package sample

// Renderer renders a log-format string with a stream's sample context:
// the engine's compiled unique-id-format.
type Renderer interface {
	Render(dst []byte, c *Ctx) []byte
}

// uniqueID is a transaction's unique id, generated once from the
// frontend's unique-id-format the first time something asks for it.
type uniqueID struct {
	val        []byte
	done, busy bool
}

// UniqueID returns the transaction's unique id, generating it on first use
// as HAProxy's stream_generate_unique_id does: a rule's unique-id fetch,
// the backend's processing of the request, or the log line, whichever
// comes first. It is absent without a unique-id-format.
func (c *Ctx) UniqueID() ([]byte, bool) {
	if c.UniqueIDFormat == nil {
		return nil, false
	}
	if !c.uid.done {
		if c.uid.busy {
			return nil, false // the format asks for the id itself
		}
		c.uid.busy = true
		c.uid.val = c.UniqueIDFormat.Render(c.uid.val[:0], c)
		c.uid.busy, c.uid.done = false, true
	}
	return c.uid.val, true
}

// ResetUniqueID forgets the id for a new transaction.
func (c *Ctx) ResetUniqueID() {
	c.uid.val, c.uid.done, c.uid.busy = c.uid.val[:0], false, false
}

func init() {
	eval("unique-id", Str, 0, 0, nil, func(c *Ctx, _ []Arg, v *Value) bool {
		id, ok := c.UniqueID()
		return ok && setBytes(v, Str, id)
	})
}
