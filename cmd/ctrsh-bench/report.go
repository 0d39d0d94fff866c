package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxRSS is the peak RSS every ctrsh process must stay under (issue 13).
const maxRSS = 30 << 20

// Row is one measured operation at one N: the table's row and bench.json's.
type Row struct {
	Operation string `json:"operation"`
	// N is the number of benchmark containers running.
	N int `json:"n"`
	// PerContainer marks the rows of the cost curve: operations over every
	// running container.
	PerContainer bool `json:"per_container"`
	// Running is what `docker ps -q` counted when the row was measured; more
	// than N means containers of others were running too.
	Running  int     `json:"running"`
	Ctrsh    string  `json:"ctrsh"`
	Docker   string  `json:"docker"`
	Rounds   int     `json:"rounds"`
	CtrshMs  float64 `json:"ctrsh_ms"`
	DockerMs float64 `json:"docker_ms"`
	// PerContainerMs is CtrshMs over the containers it covered (Running, all
	// of the engine's) for the rows of the cost curve.
	PerContainerMs float64 `json:"ctrsh_ms_per_container,omitempty"`
	// MarginalMs is what one more container cost ctrsh: the slope of its
	// median from the row of the same operation at the next smaller N.
	MarginalMs float64 `json:"ctrsh_ms_per_added_container,omitempty"`
	Ratio      float64 `json:"ratio"`
	Target     float64 `json:"target"`
	PeakRSSMiB float64 `json:"ctrsh_peak_rss_mib"`
	Met        bool    `json:"met"`
	// Miss says why Met is false: "ratio", "rss" or both.
	Miss string `json:"miss,omitempty"`
	// Check is set when the two sides' answers differed (a count, say).
	Check string `json:"check,omitempty"`
}

// Report is the whole run, as bench.json holds it.
type Report struct {
	Date    string   `json:"date"`
	Machine Machine  `json:"machine"`
	N       int      `json:"n"`
	Curve   []int    `json:"curve"`
	Rounds  int      `json:"rounds"`
	Elapsed string   `json:"elapsed"`
	Rows    []Row    `json:"rows"`
	Events  *Latency `json:"events,omitempty"`
}

// Machine names where the run happened; Load is /proc/loadavg's first three
// fields at the start and at the end.
type Machine struct {
	Host      string `json:"host"`
	Cores     int    `json:"cores"`
	Kernel    string `json:"kernel"`
	Engine    string `json:"engine"`
	LoadStart string `json:"load_start"`
	LoadEnd   string `json:"load_end"`
}

// Latency is the delay from an event's engine timestamp to its delivery.
type Latency struct {
	CtrshMs  float64 `json:"ctrsh_ms"`
	DockerMs float64 `json:"docker_ms"`
	Count    int     `json:"count"`
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// newRow fills in the figures derived from the medians and the peak RSS:
// ratio (docker / ctrsh), cost per container, and whether the target holds.
func newRow(op op, running int, ctrsh, docker time.Duration, rss int64) Row {
	r := Row{
		Operation: op.name, N: op.n, PerContainer: op.perContainer, Running: running, Ctrsh: op.ctrshDesc, Docker: op.dockerDesc,
		Rounds: op.rounds, CtrshMs: ms(ctrsh), DockerMs: ms(docker), Target: op.target,
		PeakRSSMiB: float64(rss) / (1 << 20),
	}
	if covered := max(op.n, running); op.perContainer && covered > 0 {
		r.PerContainerMs = r.CtrshMs / float64(covered)
	}
	if ctrsh > 0 {
		r.Ratio = float64(docker) / float64(ctrsh)
	}
	var miss []string
	if r.Ratio < r.Target {
		miss = append(miss, "ratio")
	}
	if rss > maxRSS {
		miss = append(miss, "rss")
	}
	r.Met, r.Miss = len(miss) == 0, strings.Join(miss, "+")
	return r
}

func fmtMs(v float64) string {
	if v < 0 { // a slope where the machine's noise outweighed the added containers
		return "−" + fmtMs(-v)
	}
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", v)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%d µs", d.Microseconds())
	}
}

func fmtRatio(v float64) string {
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.1f×", v)
}

func fmtTarget(v float64) string {
	return "≥ " + strconv.FormatFloat(v, 'f', -1, 64) + "×"
}

func fmtMet(r Row) string {
	if r.Met {
		return "yes"
	}
	return "**no** (" + r.Miss + ")"
}

// writeTable prints the rows as a Markdown table, README-ready.
func writeTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| operation | N | ctrsh | median | docker CLI | median | ratio | target | met | ctrsh peak RSS |")
	fmt.Fprintln(w, "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | --- | ---: |")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | `%s` | %s | `%s` | %s | %s | %s | %s | %.1f MiB |\n",
			r.Operation, r.N, escapePipes(r.Ctrsh), fmtMs(r.CtrshMs), escapePipes(r.Docker), fmtMs(r.DockerMs),
			fmtRatio(r.Ratio), fmtTarget(r.Target), fmtMet(r), r.PeakRSSMiB)
	}
}

// writeCurve prints the cost curve: for each operation with per-container
// rows, ctrsh's median and its cost per container at each N.
func writeCurve(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| operation | N | running | ctrsh | per container | per added container | docker CLI | ratio | ctrsh peak RSS |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		if !r.PerContainer {
			continue
		}
		marginal := "—"
		if r.MarginalMs != 0 {
			marginal = fmtMs(r.MarginalMs)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %s | %.1f MiB |\n", r.Operation, r.N, r.Running,
			fmtMs(r.CtrshMs), fmtMs(r.PerContainerMs), marginal, fmtMs(r.DockerMs), fmtRatio(r.Ratio), r.PeakRSSMiB)
	}
}

// fillMarginal sets each cost-curve row's MarginalMs from the row of the
// same operation at the next smaller N (by the containers running).
func fillMarginal(rows []Row) {
	prev := map[string]*Row{}
	for _, i := range curveOrder(rows) {
		r := &rows[i]
		if p := prev[r.Operation]; p != nil && r.Running > p.Running {
			r.MarginalMs = (r.CtrshMs - p.CtrshMs) / float64(r.Running-p.Running)
		}
		prev[r.Operation] = r
	}
}

// escapePipes keeps a shell pipe inside a Markdown table cell.
func escapePipes(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// writeReport prints the heading, the main table (rows at N and those
// without an N), the cost curve and the notes.
func writeReport(w io.Writer, rep *Report) {
	m := rep.Machine
	fmt.Fprintf(w, "ctrsh-bench %s: %s, %d cores, %s, engine %s, N=%d, %d pairs after a warm-up, load %s → %s, took %s\n\n",
		rep.Date, m.Host, m.Cores, m.Kernel, m.Engine, rep.N, rep.Rounds, m.LoadStart, m.LoadEnd, rep.Elapsed)
	var main, curve []Row
	for _, r := range rep.Rows {
		if r.N == rep.N {
			main = append(main, r)
		}
	}
	for _, i := range curveOrder(rep.Rows) {
		curve = append(curve, rep.Rows[i])
	}
	writeTable(w, main)
	if len(curve) > 0 {
		fmt.Fprint(w, "\nCost as N grows (per container: ctrsh's median over the running containers it covered):\n\n")
		writeCurve(w, curve)
	}
	if e := rep.Events; e != nil {
		fmt.Fprintf(w, "\nEvent delay, engine timestamp of a pause/unpause → delivery (%d events, medians): events.watch callback %s, `docker events` on a pipe %s\n",
			e.Count, fmtMs(e.CtrshMs), fmtMs(e.DockerMs))
	}
	for _, r := range rep.Rows {
		if r.Check != "" {
			fmt.Fprintf(w, "\nNOTE %s (N=%d): the answers differ: %s\n", r.Operation, r.N, r.Check)
		}
	}
	if s := othersRunning(rep.Rows); s != "" {
		fmt.Fprintf(w, "\nNOTE containers not the benchmark's were running too (they count in \"every running container\"): %s\n", s)
	}
}

// othersRunning says, for each N where more containers ran than the
// benchmark's, the most that did: "at N=1 up to 26, at N=5 up to 31".
func othersRunning(rows []Row) string {
	most := map[int]int{}
	var ns []int
	for _, r := range rows {
		if r.Running <= r.N {
			continue
		}
		if _, ok := most[r.N]; !ok {
			ns = append(ns, r.N)
		}
		most[r.N] = max(most[r.N], r.Running)
	}
	var parts []string
	for _, n := range ns {
		parts = append(parts, fmt.Sprintf("at N=%d up to %d", n, most[n]))
	}
	return strings.Join(parts, ", ")
}

// curveOrder returns the indexes of the cost curve's rows, by operation
// (first seen first), then N.
func curveOrder(rows []Row) []int {
	order := map[string]int{}
	var idx []int
	for i, r := range rows {
		if !r.PerContainer {
			continue
		}
		if _, ok := order[r.Operation]; !ok {
			order[r.Operation] = len(order)
		}
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ra, rb := rows[idx[a]], rows[idx[b]]
		if order[ra.Operation] != order[rb.Operation] {
			return order[ra.Operation] < order[rb.Operation]
		}
		return ra.N < rb.N
	})
	return idx
}

func writeJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// parseList reads "1,20,100" into sorted, distinct positive numbers.
func parseList(s string) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("bad N %q in %q (want positive numbers separated by commas)", f, s)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out, nil
}
