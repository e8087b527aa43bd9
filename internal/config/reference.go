package config

import (
	"fmt"
	"sort"
	"strings"
)

// KeywordReference renders every keyword table as Markdown: what Sluice does
// with each HAProxy keyword. The README embeds it and a test keeps the two
// identical, so the reference cannot drift from the code.
func KeywordReference() string {
	var b strings.Builder
	section := func(title string, rows [][3]string) {
		sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
		fmt.Fprintf(&b, "\n#### %s\n\n| keyword | status | notes |\n|---|---|---|\n", title)
		for _, r := range rows {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", r[0], r[1], r[2])
		}
	}
	section("global", tableRows(globalKeywords))
	section("defaults / frontend / backend / listen", tableRows(proxyKeywords))
	var opts [][3]string
	for n, o := range optionTable {
		opts = append(opts, [3]string{"option " + n, o.status.String(), o.doc})
	}
	section("option", opts)
	var binds [][3]string
	for n, p := range bindParams {
		binds = append(binds, [3]string{n, p.status.String(), ""})
	}
	section("bind parameters", binds)
	var srvs [][3]string
	for n, p := range serverParams {
		srvs = append(srvs, [3]string{n, p.status.String(), ""})
	}
	section("server parameters", srvs)
	var algos [][3]string
	for n, st := range balanceAlgos {
		algos = append(algos, [3]string{"balance " + n, st.String(), ""})
	}
	section("balance algorithms", algos)
	var rules [][3]string
	for fam, acts := range ruleActions {
		for n, a := range acts {
			rules = append(rules, [3]string{fam + " " + n, a.status.String(), ""})
		}
	}
	section("rule actions", rules)
	return b.String()
}

func tableRows(t table) [][3]string {
	var rows [][3]string
	for _, k := range t {
		rows = append(rows, [3]string{k.name, k.status.String(), k.doc})
	}
	return rows
}
