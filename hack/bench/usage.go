package main

import (
	"errors"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// heapAllocated is the number of bytes this process has allocated on the heap
// so far; what a phase allocates, the garbage collector pays for.
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// clockTick is the unit of /proc's CPU times (USER_HZ), 1/100 s on Linux.
const clockTick = 10 * time.Millisecond

// cpuTimes is CPU time used by this process (manager, receiver and load
// generator), by its child processes (etcd and kube-apiserver) and by the whole
// machine, which includes whatever else runs on it. The control plane shares
// the machine's cpus with this process, so throughput is CPU-bound and CPU per
// object says where a slower phase spent its time.
type cpuTimes struct {
	self, controlPlane, machine time.Duration
	// ok is false where /proc cannot be read (not Linux).
	ok bool
}

// readCPU reads the CPU time used so far.
func readCPU() cpuTimes {
	parts := readPartCPU()
	if !parts.ok {
		return cpuTimes{}
	}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	machine, err := machineCPU(string(stat))
	if err != nil {
		return cpuTimes{}
	}
	t := cpuTimes{self: parts.self, machine: machine, ok: true}
	for _, cpu := range parts.children {
		t.controlPlane += cpu
	}
	return t
}

// since is the CPU time used between earlier and t.
func (t cpuTimes) since(earlier cpuTimes) cpuTimes {
	return cpuTimes{
		self:         t.self - earlier.self,
		controlPlane: t.controlPlane - earlier.controlPlane,
		machine:      t.machine - earlier.machine,
		ok:           t.ok && earlier.ok,
	}
}

// plus is the CPU time of t and u together.
func (t cpuTimes) plus(u cpuTimes) cpuTimes {
	return cpuTimes{
		self:         t.self + u.self,
		controlPlane: t.controlPlane + u.controlPlane,
		machine:      t.machine + u.machine,
		ok:           t.ok && u.ok,
	}
}

// processCPU reads the parent pid and utime+stime of a /proc/<pid>/stat line.
func processCPU(stat string) (int, time.Duration, error) {
	// The command name, in parentheses, may hold spaces and parentheses: count
	// the fields after the last ") ", which start at field 3 (state). The parent
	// pid is field 4, utime and stime are fields 14 and 15.
	i := strings.LastIndex(stat, ") ")
	if i < 0 {
		return 0, 0, errors.New("no command name in /proc/<pid>/stat")
	}
	f := strings.Fields(stat[i+2:])
	if len(f) < 13 {
		return 0, 0, errors.New("short /proc/<pid>/stat")
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, err
	}
	cpu, err := ticks(f[11:13])
	return ppid, cpu, err
}

// machineCPU is the busy time (all but idle and iowait) on the "cpu" line of /proc/stat.
func machineCPU(stat string) (time.Duration, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("no cpu line in /proc/stat")
	}
	return ticks([]string{f[1], f[2], f[3], f[6], f[7], f[8]})
}

// ticks is the sum of the clock tick counts in fields.
func ticks(fields []string) (time.Duration, error) {
	var sum time.Duration
	for _, s := range fields {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, err
		}
		sum += time.Duration(n) * clockTick
	}
	return sum, nil
}
