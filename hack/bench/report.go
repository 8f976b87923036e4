package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// round is one measured round: a direct phase, a receiver phase and a
// receiver phase with the archive on.
type round struct {
	label string
	// first is the source of the phase that ran first.
	first    string
	direct   phaseResult
	receiver phaseResult
	archived phaseResult
}

// phaseOrder rotates which phase runs first, so that warm-up and slow drift
// (etcd growing, caches filling) favor no side.
func phaseOrder(round int) []string {
	sources := []string{sourceDirect, sourceReceiver, sourceArchived}
	k := (round - 1) % len(sources)
	return append(sources[k:], sources[:k]...)
}

// percentile is the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// combine is the phases taken as one: their time adds up, their latencies
// pool, so its rate is total objects over total time.
func combine(phases []phaseResult) phaseResult {
	all := phaseResult{cpu: cpuTimes{ok: true}}
	for _, p := range phases {
		all.elapsed += p.elapsed
		all.cpu = all.cpu.plus(p.cpu)
		all.allocated += p.allocated
		all.latencies = append(all.latencies, p.latencies...)
		all.failures += p.failures
	}
	slices.Sort(all.latencies)
	return all
}

// aggregate is every round taken as one.
func aggregate(rounds []round) round {
	var direct, receiver, archived []phaseResult
	for _, r := range rounds {
		direct = append(direct, r.direct)
		receiver = append(receiver, r.receiver)
		archived = append(archived, r.archived)
	}
	return round{label: "all", first: "-", direct: combine(direct), receiver: combine(receiver), archived: combine(archived)}
}

// ratio is the receiver's rate over the direct rate.
func (r round) ratio() float64 {
	if d := r.direct.rate(); d > 0 {
		return r.receiver.rate() / d
	}
	return 0
}

// archiveRatio is the receiver's rate with the archive on over its rate
// with the archive off.
func (r round) archiveRatio() float64 {
	if off := r.receiver.rate(); off > 0 {
		return r.archived.rate() / off
	}
	return 0
}

// writeTable prints the rounds, then their aggregate, as an aligned table.
func writeTable(w io.Writer, rounds []round) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\tfirst\tdirect obj/s\treceiver obj/s\treceiver/direct\tarchive-on obj/s\ton/off\tdirect p50\tdirect p99\treceiver p50\treceiver p99\tarchive-on p50\tarchive-on p99\tfailures\t")
	for _, r := range append(slices.Clone(rounds), aggregate(rounds)) {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.3f\t%.1f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t\n", r.label, r.first,
			r.direct.rate(), r.receiver.rate(), r.ratio(), r.archived.rate(), r.archiveRatio(),
			ms(percentile(r.direct.latencies, 50)), ms(percentile(r.direct.latencies, 99)),
			ms(percentile(r.receiver.latencies, 50)), ms(percentile(r.receiver.latencies, 99)),
			ms(percentile(r.archived.latencies, 50)), ms(percentile(r.archived.latencies, 99)),
			r.direct.failures+r.receiver.failures+r.archived.failures)
	}
	return tw.Flush()
}

// writeCPUTable prints what each phase cost per object: CPU time of this
// process and of the control plane, and heap allocated by this process. The
// control plane and this process share the machine, so the CPU ratio (direct
// CPU per object over receiver CPU per object) is what the throughput ratio
// tends to when nothing else runs; "others" is the share of the machine that
// other processes took during the direct/receiver/archive-on phase, which
// disturbs it (PostgreSQL, a separate process tree, counts among them).
func writeCPUTable(w io.Writer, rounds []round, cpus int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "per object\tdirect: process CPU\tcontrol plane CPU\talloc\treceiver: process CPU\tcontrol plane CPU\talloc\tprocess CPU extra\tCPU ratio\tarchive-on: process CPU\tcontrol plane CPU\talloc\tCPU on/off\tothers\t")
	for _, r := range append(slices.Clone(rounds), aggregate(rounds)) {
		d, rc, a := r.direct.cpuPerObject(), r.receiver.cpuPerObject(), r.archived.cpuPerObject()
		dAlloc, rAlloc, aAlloc := kib(r.direct.allocatedPerObject()), kib(r.receiver.allocatedPerObject()), kib(r.archived.allocatedPerObject())
		if !d.ok || !rc.ok || !a.ok {
			fmt.Fprintf(tw, "%s\t-\t-\t%s\t-\t-\t%s\t-\t-\t-\t-\t%s\t-\t-\t\n", r.label, dAlloc, rAlloc, aAlloc)
			continue
		}
		// CPU on/off is, like CPU ratio, the throughput ratio it tends to:
		// receiver CPU per object with the archive off over with it on.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%s\t%s\t%s\t%.3f\t%s/%s/%s\t\n", r.label,
			ms(d.self), ms(d.controlPlane), dAlloc, ms(rc.self), ms(rc.controlPlane), rAlloc,
			ms(rc.self-d.self), float64(d.self+d.controlPlane)/float64(rc.self+rc.controlPlane),
			ms(a.self), ms(a.controlPlane), aAlloc, float64(rc.self+rc.controlPlane)/float64(a.self+a.controlPlane),
			others(r.direct, cpus), others(r.receiver, cpus), others(r.archived, cpus))
	}
	return tw.Flush()
}

// others is the share of the machine's cpus that processes other than this
// one and its control plane used during the phase.
func others(r phaseResult, cpus int) string {
	if r.elapsed <= 0 || cpus <= 0 {
		return "-"
	}
	other := r.cpu.machine - r.cpu.self - r.cpu.controlPlane
	return fmt.Sprintf("%.0f%%", max(0, 100*other.Seconds()/r.elapsed.Seconds()/float64(cpus)))
}

// kib formats a byte count in KiB.
func kib(n uint64) string {
	return fmt.Sprintf("%.1fKiB", float64(n)/1024)
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}
