//go:build race

package engine

// raceEnabled: the race detector changes allocation counts (sync.Pool
// drops a random quarter of what is put back), so allocation guards only
// report under it.
const raceEnabled = true
