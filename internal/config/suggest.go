package config

// suggest returns the candidate closest to word, or "" when none is close
// enough to be a plausible typo. HAProxy makes the same kind of guess
// ("did you mean 'balance' maybe ?"); Sluice uses an edit distance, which
// finds transpositions and single-letter slips reliably.
func suggest(word string, candidates []string) string {
	// One slip in a short word, two in a longer one: beyond that the
	// "suggestion" is a different keyword and only misleads.
	best, bestDist := "", 2
	if len(word) >= 6 {
		bestDist = 3
	}
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean formats suggest's answer as HAProxy's message tail.
func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return "; did you mean '" + s + "' maybe ?"
	}
	return ""
}

// editDistance is the optimal string alignment distance (Levenshtein with
// adjacent transpositions counted as one edit).
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
