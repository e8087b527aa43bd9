package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// metric is one row of the comparison table.
type metric struct {
	name    string
	higher  bool // higher is better (throughput); otherwise a cost
	get     func(Result) float64
	format  string
	context bool // shown for context: neither higher nor lower is better
}

var (
	load  = metric{"proxy CPU load (cores busy)", false, func(r Result) float64 { return r.ProxyLoad }, "%.2f", true}
	cpuOp = func(what string) metric {
		return metric{"proxy CPU µs per " + what, false, func(r Result) float64 { return r.CPUPerOp }, "%.2f", false}
	}
	rate = func(what string) metric {
		return metric{what + "/s", true, func(r Result) float64 { return r.Rate }, "%.0f", false}
	}
	bulkRows = []metric{
		{"throughput GB/s", true, func(r Result) float64 { return r.Rate / 1e9 }, "%.2f", false},
		{"proxy CPU ms per GB", false, func(r Result) float64 { return r.CPUPerGB }, "%.0f", false},
		load,
	}
	idleRows = []metric{
		{"proxy RSS KiB per idle connection", false, func(r Result) float64 { return r.KiBPerConn }, "%.1f", false},
		{"proxy descriptors per connection", false, func(r Result) float64 { return r.FDsPerConn }, "%.2f", false},
		{"kernel slab KiB per connection (whole machine)", false, func(r Result) float64 { return r.SlabPerConn }, "%.1f", false},
	}
	latency = func(name string, get func(Result) float64) metric {
		return metric{name, false, get, "%.0f", false}
	}
)

// metrics lists the rows shown for each scenario.
var metrics = map[string][]metric{
	"exchange":       {rate("exchanges"), cpuOp("exchange"), load},
	"connect":        {rate("connections"), cpuOp("connection"), load},
	"bulk-down":      bulkRows,
	"bulk-up":        bulkRows,
	"bulk-both":      bulkRows,
	"idle":           idleRows,
	"http-keepalive": {rate("requests"), cpuOp("request"), load},
	"http-close":     {rate("requests"), cpuOp("request"), load},
	"http-latency": {
		{"target requests/s", false, func(r Result) float64 { return r.TargetRate }, "%.0f", true},
		{"requests/s", false, func(r Result) float64 { return r.Rate }, "%.0f", true},
		latency("latency p50 µs", func(r Result) float64 { return r.P50 }),
		latency("latency p99 µs", func(r Result) float64 { return r.P99 }),
		latency("latency p99.9 µs", func(r Result) float64 { return r.P999 }),
		cpuOp("request"), load,
	},
	"http-idle": idleRows,
}

// ReadResults parses the JSON lines the scenarios print; other lines are
// skipped.
func ReadResults(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return nil, fmt.Errorf("%q: %w", line, err)
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// WriteTable writes a Markdown table comparing each proxy of cands
// against proxy base, scenario by scenario, in the order the scenarios
// first appear. Where a scenario ran several times per proxy, each cell
// is the median. A ratio column is cand/base: above 1 is better for a
// throughput, worse for a cost. A candidate without results is left out.
func WriteTable(w io.Writer, results []Result, base string, cands ...string) {
	var order []string
	present := map[string]bool{}
	for _, r := range results {
		if !slices.Contains(order, r.Scenario) {
			order = append(order, r.Scenario)
		}
		present[r.Label] = true
	}
	cands = slices.DeleteFunc(slices.Clone(cands), func(c string) bool { return !present[c] })
	head, rule, ratios := "| scenario | metric | "+base+" |", "|---|---|---:|", ""
	for _, c := range cands {
		head += " " + c + " |"
		rule += "---:|"
		ratios += " " + c + "/" + base + " |"
	}
	for range cands {
		rule += "---:|"
	}
	fmt.Fprintf(w, "%s%s better |\n%s---|\n", head, ratios, rule)
	for _, sc := range order {
		for _, m := range metrics[sc] {
			b, nb := median(results, base, sc, m.get)
			row := fmt.Sprintf("| %s | %s | %s |", sc, m.name, cell(m.format, b, nb))
			ratio := ""
			for _, cand := range cands {
				c, nc := median(results, cand, sc, m.get)
				row += " " + cell(m.format, c, nc) + " |"
				r := "n/a"
				if nb > 0 && nc > 0 && b != 0 {
					r = fmt.Sprintf("%.2f", c/b)
				}
				ratio += " " + r + " |"
			}
			better := "lower"
			switch {
			case m.context:
				better = "(context)"
			case m.higher:
				better = "higher"
			}
			fmt.Fprintf(w, "%s%s %s |\n", row, ratio, better)
		}
	}
	for _, r := range results {
		if r.Errors > 0 {
			fmt.Fprintf(w, "\nwarning: %s %s: %d errors (first: %s)\n", r.Label, r.Scenario, r.Errors, r.FirstErr)
		}
	}
}

func cell(format string, v float64, n int) string {
	if n == 0 {
		return "-"
	}
	s := fmt.Sprintf(format, v)
	if n > 1 {
		s += fmt.Sprintf(" (med. of %d)", n)
	}
	return s
}

// median of metric get over label's runs of scenario, and how many runs
// there were.
func median(results []Result, label, scenario string, get func(Result) float64) (float64, int) {
	var vs []float64
	for _, r := range results {
		if r.Label == label && r.Scenario == scenario {
			vs = append(vs, get(r))
		}
	}
	if len(vs) == 0 {
		return math.NaN(), 0
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], len(vs)
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, len(vs)
}
