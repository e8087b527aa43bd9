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
	name   string
	higher bool // higher is better (throughput); otherwise a cost
	get    func(Result) float64
	format string
}

var (
	load  = metric{"proxy CPU load (cores busy)", false, func(r Result) float64 { return r.ProxyLoad }, "%.2f"}
	cpuOp = func(what string) metric {
		return metric{"proxy CPU µs per " + what, false, func(r Result) float64 { return r.CPUPerOp }, "%.2f"}
	}
	bulkRows = []metric{
		{"throughput GB/s", true, func(r Result) float64 { return r.Rate / 1e9 }, "%.2f"},
		{"proxy CPU ms per GB", false, func(r Result) float64 { return r.CPUPerGB }, "%.0f"},
		load,
	}
)

// metrics lists the rows shown for each scenario.
var metrics = map[string][]metric{
	"exchange": {
		{"exchanges/s", true, func(r Result) float64 { return r.Rate }, "%.0f"},
		cpuOp("exchange"), load,
	},
	"connect": {
		{"connections/s", true, func(r Result) float64 { return r.Rate }, "%.0f"},
		cpuOp("connection"), load,
	},
	"bulk-down": bulkRows,
	"bulk-up":   bulkRows,
	"bulk-both": bulkRows,
	"idle": {
		{"proxy RSS KiB per idle connection", false, func(r Result) float64 { return r.KiBPerConn }, "%.1f"},
		{"proxy descriptors per connection", false, func(r Result) float64 { return r.FDsPerConn }, "%.2f"},
		{"kernel slab KiB per connection (whole machine)", false, func(r Result) float64 { return r.SlabPerConn }, "%.1f"},
	},
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

// WriteTable writes a Markdown table comparing proxy cand against proxy
// base, scenario by scenario, in the order the scenarios first appear.
// Where a scenario ran several times per proxy, each cell is the median.
// The ratio column is cand/base: above 1 is better for a throughput,
// worse for a cost.
func WriteTable(w io.Writer, results []Result, base, cand string) {
	var order []string
	for _, r := range results {
		if !slices.Contains(order, r.Scenario) {
			order = append(order, r.Scenario)
		}
	}
	fmt.Fprintf(w, "| scenario | metric | %s | %s | %s/%s | better |\n", base, cand, cand, base)
	fmt.Fprintf(w, "|---|---|---:|---:|---:|---|\n")
	for _, sc := range order {
		for _, m := range metrics[sc] {
			b, nb := median(results, base, sc, m.get)
			c, nc := median(results, cand, sc, m.get)
			ratio := "n/a"
			if nb > 0 && nc > 0 && b != 0 {
				ratio = fmt.Sprintf("%.2f", c/b)
			}
			better := "lower"
			if m.higher {
				better = "higher"
			}
			if m.name == load.name {
				better = "(context)"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", sc, m.name,
				cell(m.format, b, nb), cell(m.format, c, nc), ratio, better)
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
