package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// window is the width of the windows the POST -> Validated delay is shown
// by: growth from one window to the next means the operator falls behind.
const window = 10 * time.Second

func writeSustainedHeader(w io.Writer, p params, apiServer, loadBefore, loadAfter string) {
	fmt.Fprintf(w, "Sustained load: signed single-order Cloud webhooks at %.1f/s for %s, open loop, %d status webhooks per order\n",
		p.load.rate, p.load.duration, p.load.statusRatio)
	if p.load.statusRatio > 0 {
		delays := make([]string, p.load.statusRatio)
		for j := range delays {
			delays[j] = fmt.Sprintf("%s %s", deliveryStatuses[j], p.load.statusDelays[j])
		}
		fmt.Fprintf(w, "each status in its own webhook, after WhatsApp accepted the notification: %s\n", strings.Join(delays, ", "))
	}
	fmt.Fprintf(w, "GOMAXPROCS %d (NumCPU %d), %s %s/%s, kube-apiserver %s, client-side rate limit off\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, apiServer)
	fmt.Fprintf(w, "load average before %s, after %s\n\n", loadBefore, loadAfter)
}

// writeIdle prints the control plane's background CPU, which every phase's
// CPU is given net of.
func writeIdle(w io.Writer, idle partCPU) {
	fmt.Fprintf(w, "idle over %s, CPU per second (subtracted from every phase below): %s\n", idleWindow, cpuPer(idle, 1))
}

// writeCeiling prints the direct-create baseline: how fast the API server
// takes plain creates, and what each costs.
func writeCeiling(w io.Writer, p params, r phaseResult, cpu partCPU, reqs apiRequests) {
	fmt.Fprintf(w, "direct-create ceiling: %d creates at concurrency %d: %.1f/s, p50 %s, p99 %s, %d failed\n",
		len(r.latencies)+r.failures, p.concurrency, r.rate(), ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 99)), r.failures)
	fmt.Fprintf(w, "  CPU per create: %s\n", cpuPer(cpu, len(r.latencies)))
	fmt.Fprintf(w, "  kube-apiserver requests per create: %s\n\n", strings.Join(reqs.perObject(len(r.latencies)), ", "))
}

// cpuPer is each part's CPU time divided by n.
func cpuPer(cpu partCPU, n int) string {
	if !cpu.ok || n == 0 {
		return "-"
	}
	parts := []string{"process " + ms(cpu.self/time.Duration(n))}
	names := make([]string, 0, len(cpu.children))
	for name := range cpu.children {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		parts = append(parts, name+" "+ms(cpu.children[name]/time.Duration(n)))
	}
	return strings.Join(parts, ", ")
}

func writeLoadResult(w io.Writer, p sustainedParams, r *loadResult, create time.Duration, prices []price, paced pacedCreates) {
	orders, statuses := summarize(r.orders), summarize(r.statuses)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "webhooks\toffered/s\tsent\tachieved/s\tanswers\tp50\tp99\tmax\t")
	for _, k := range []struct {
		name    string
		offered float64
		s       answerStats
	}{{"orders", p.rate, orders}, {"statuses", p.rate * float64(p.statusRatio), statuses}} {
		if k.s.n == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%.1f\t%s\t%s\t%s\t%s\t\n", k.name, k.offered, len(k.s.latencies), k.s.rate, k.s.codesText(),
			ms(percentile(k.s.latencies, 50)), ms(percentile(k.s.latencies, 99)), ms(percentile(k.s.latencies, 100)))
	}
	_ = tw.Flush()
	for _, s := range []answerStats{orders, statuses} {
		for _, r := range s.refusals {
			fmt.Fprintf(w, "  refused: %s\n", r)
		}
	}
	for _, k := range []struct {
		name string
		as   []answer
	}{{"orders", r.orders}, {"statuses", r.statuses}} {
		if refused, posts, never := redeliveries(k.as); refused > 0 {
			fmt.Fprintf(w, "  %s refused at first: %d, posted again %d times after Retry-After as WhatsApp does; never taken: %d\n", k.name, refused, posts, never)
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "POST -> Validated (phase Pending, Validated=True, seen by a watch), by 10-second window of the POST;")
	fmt.Fprintln(w, "watch: POST -> the order first seen by that watch, the API server's share of the delay:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "window\torders\tanswer p99\twatch p99\tvalidated\tp50\tp99\t"
	if p.statusRatio > 0 {
		header += "accept -> sent p50\tp99\tstatus answer p99\t"
	}
	fmt.Fprintln(tw, header)
	for _, win := range r.windows() {
		line := fmt.Sprintf("%s\t%d\t%s\t%s\t%d\t%s\t%s\t", win.label, win.orders, ms(percentile(win.answers, 99)), ms(percentile(win.seen, 99)), len(win.validated),
			ms(percentile(win.validated, 50)), ms(percentile(win.validated, 99)))
		if p.statusRatio > 0 {
			line += fmt.Sprintf("%s\t%s\t%s\t", ms(percentile(win.told, 50)), ms(percentile(win.told, 99)), ms(percentile(win.statusAnswers, 99)))
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)

	stored := "every order stored once"
	if r.stored != nil {
		stored = r.stored.Error()
	}
	fmt.Fprintf(w, "%s; %d of %d validated\n", stored, countSeen(r.validated), len(r.specs))
	if p.statusRatio > 0 {
		var updated, unmatched int
		for _, a := range r.statuses {
			updated += a.report.Updated
			unmatched += a.report.Unmatched
		}
		fmt.Fprintf(w, "statuses: %d of %d posted; receiver: %d updated, %d unmatched\n",
			len(statuses.latencies), len(r.statuses), updated, unmatched)
		fmt.Fprintf(w, "notifications showing the last status posted (%s): %d of %d; accepts failed: %d\n",
			deliveryStatuses[p.statusRatio-1], r.applied, r.notifiedCount, r.acceptErrors)
	}
	n := len(r.specs)
	fmt.Fprintf(w, "CPU per order over %s: %s (process: the operator, the load generator and its watch)\n",
		r.elapsed.Round(time.Millisecond), cpuPer(r.cpu, n))
	if r.cpu.ok && r.elapsed > 0 {
		total := r.cpu.self
		for _, c := range r.cpu.children {
			total += c
		}
		fmt.Fprintf(w, "  busy: %.2f of %d cpus (net of idle)\n", total.Seconds()/r.elapsed.Seconds(), runtime.NumCPU())
	}
	if r.cpu.ok && create > 0 {
		order := apiServerPer(r.cpu, n)
		ratio := float64(order) / float64(create)
		fmt.Fprintf(w, "kube-apiserver CPU per order %s = %.1f direct creates (%s each, same run)\n", ms(order), ratio, ms(create))
		writePricedLoad(w, r.requests, n, prices, create, ratio, paced, order)
	}
	fmt.Fprintf(w, "kube-apiserver requests per order: %s\n", strings.Join(r.requests.perObject(n), ", "))
	fmt.Fprintf(w, "  writes per order %.2f, of which Events %.2f\n", r.requests.writes("")/float64(n), r.requests.writes("events")/float64(n))
	writeCounters(w, r.counters, n)
}

// apiServerCommand is kube-apiserver's command name in /proc.
const apiServerCommand = "kube-apiserver"

// writeCounters prints the controllers' work and the API requests per order.
func writeCounters(w io.Writer, c counters, orders int) {
	var controllers, requests []string
	for k := range c {
		if name, ok := strings.CutPrefix(k, keyReconciles); ok {
			controllers = append(controllers, name)
		}
		if method, ok := strings.CutPrefix(k, keyRequests); ok {
			requests = append(requests, method)
		}
	}
	slices.Sort(controllers)
	slices.Sort(requests)
	average := func(sum, count string) string {
		if n := c[count]; n > 0 {
			return ms(time.Duration(c[sum] / n * float64(time.Second)))
		}
		return "-"
	}
	for _, name := range controllers {
		fmt.Fprintf(w, "controller %s: %.0f reconciles (%.2f per order), average queue wait %s, average reconcile %s\n", name,
			c[keyReconciles+name], c[keyReconciles+name]/float64(orders), average(keyQueueSum+name, keyQueueCount+name), average(keyWorkSum+name, keyWorkCount+name))
	}
	parts := make([]string, 0, len(requests))
	for _, m := range requests {
		parts = append(parts, fmt.Sprintf("%s %.2f (%.0f conflicts)", m, c[keyRequests+m]/float64(orders), c[keyConflicts+m]))
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "API requests per order from this process: %s\n", strings.Join(parts, ", "))
	}
}

// loadWindow is what happened to the orders POSTed in one window.
type loadWindow struct {
	label  string
	orders int
	// answers, seen, validated, told and statusAnswers are sorted delays.
	answers, seen, validated, told, statusAnswers []time.Duration
}

// windows groups the orders by the window of their POST, with a last line
// for all of them.
func (r *loadResult) windows() []loadWindow {
	var wins []loadWindow
	all := loadWindow{label: "all"}
	at := func(sent time.Time) *loadWindow {
		k := int(max(0, sent.Sub(r.start)) / window)
		for len(wins) <= k {
			from := time.Duration(len(wins)) * window
			wins = append(wins, loadWindow{label: fmt.Sprintf("%.0f-%.0fs", from.Seconds(), (from + window).Seconds())})
		}
		return &wins[k]
	}
	for i, a := range r.orders {
		if a.sent.IsZero() {
			continue
		}
		win := at(a.sent)
		for _, w := range []*loadWindow{win, &all} {
			w.orders++
			w.answers = append(w.answers, a.latency)
			if d, ok := since(a.sent, r.seen[i]); ok {
				w.seen = append(w.seen, d)
			}
			if d, ok := since(a.sent, r.validated[i]); ok {
				w.validated = append(w.validated, d)
			}
			if r.accepted[i] != 0 {
				if d, ok := since(time.Unix(0, r.accepted[i]), r.told[i]); ok {
					w.told = append(w.told, d)
				}
			}
		}
	}
	for k, a := range r.statuses {
		if a.sent.IsZero() {
			continue
		}
		// A status counts in the window of the order it reports on.
		win := at(r.orders[k/r.ratio].sent)
		win.statusAnswers = append(win.statusAnswers, a.latency)
		all.statusAnswers = append(all.statusAnswers, a.latency)
	}
	wins = append(wins, all)
	for i := range wins {
		w := &wins[i]
		slices.Sort(w.answers)
		slices.Sort(w.seen)
		slices.Sort(w.validated)
		slices.Sort(w.told)
		slices.Sort(w.statusAnswers)
	}
	return wins
}

// redeliveries counts the webhooks first answered other than 200, the posts
// made again for them, and those never answered 200.
func redeliveries(as []answer) (refused, posts, never int) {
	for _, a := range as {
		if a.sent.IsZero() || a.code == 200 {
			continue
		}
		refused++
		posts += a.redelivered
		if a.final != 200 {
			never++
		}
	}
	return refused, posts, never
}

func countSeen(times []int64) int {
	n := 0
	for _, t := range times {
		if t != 0 {
			n++
		}
	}
	return n
}

// problems fails the run for what a user would call broken: an answer other
// than 200, an order stored other than once or never validated, a status
// never shown.
func (r *loadResult) problems() error {
	var errs []error
	for name, as := range map[string][]answer{"order": r.orders, "status": r.statuses} {
		s := summarize(as)
		if bad := len(s.latencies) - s.codes["200"]; bad > 0 {
			errs = append(errs, fmt.Errorf("%d %s webhooks answered other than 200 (%s)", bad, name, s.codesText()))
		}
	}
	if r.stored != nil {
		errs = append(errs, r.stored)
	}
	if v := countSeen(r.validated); v < len(r.specs) {
		errs = append(errs, fmt.Errorf("%d of %d orders never seen validated", len(r.specs)-v, len(r.specs)))
	}
	if len(r.statuses) > 0 && r.applied < len(r.specs) {
		errs = append(errs, fmt.Errorf("%d of %d notifications do not show the last status posted", len(r.specs)-r.applied, len(r.specs)))
	}
	return errors.Join(errs...)
}
