package lb

// node is one entry of an ordered tree: a server index and its sort key.
type node struct {
	key uint32
	seq uint64 // insertion order, to order duplicate keys
	idx int
}

// ebtree stands in for HAProxy's eb32 trees with duplicates allowed: entries
// are ordered by key and equal keys keep insertion order (eb32_insert appends
// duplicates after existing ones), which is what makes round robin among
// equals work in leastconn and fwrr. It is a sorted slice: the trees hold at
// most one node per server, and the backing array is sized once so that
// insert/delete never allocate.
type ebtree struct {
	nodes []node
	seq   *uint64
}

func newTree(capacity int, seq *uint64) ebtree {
	return ebtree{nodes: make([]node, 0, capacity), seq: seq}
}

func (t *ebtree) len() int { return len(t.nodes) }

// first mirrors eb32_first(); it returns -1 on an empty tree.
func (t *ebtree) first() int {
	if len(t.nodes) == 0 {
		return -1
	}
	return t.nodes[0].idx
}

// insert mirrors eb32_insert(): after all nodes with a key <= key.
func (t *ebtree) insert(idx int, key uint32) {
	*t.seq++
	n := node{key: key, seq: *t.seq, idx: idx}
	lo, hi := 0, len(t.nodes)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.nodes[m].key > key {
			hi = m
		} else {
			lo = m + 1
		}
	}
	pos := lo
	t.nodes = append(t.nodes, node{})
	copy(t.nodes[pos+1:], t.nodes[pos:])
	t.nodes[pos] = n
}

// remove mirrors eb32_delete(); removing an absent index is a no-op.
func (t *ebtree) remove(idx int) bool {
	for i := range t.nodes {
		if t.nodes[i].idx == idx {
			t.nodes = append(t.nodes[:i], t.nodes[i+1:]...)
			return true
		}
	}
	return false
}

func (t *ebtree) clear() { t.nodes = t.nodes[:0] }
