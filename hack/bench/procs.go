package main

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// partCPU is CPU time by part of the system under test: this process (the
// operator, with the load generator and the watch that times it) and each of
// its child processes by command name (etcd, kube-apiserver).
type partCPU struct {
	self     time.Duration
	children map[string]time.Duration
	// ok is false where /proc cannot be read (not Linux).
	ok bool
}

// readPartCPU reads the CPU time used so far by each part.
func readPartCPU() partCPU {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return partCPU{}
	}
	_, self, err := processCPU(string(stat))
	if err != nil {
		return partCPU{}
	}
	t := partCPU{self: self, children: map[string]time.Duration{}, ok: true}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	pid := os.Getpid()
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		if ppid, cpu, err := processCPU(string(b)); err == nil && ppid == pid {
			t.children[commandName(string(b))] += cpu
		}
	}
	return t
}

// commandName is the command name of a /proc/<pid>/stat line, which stands in
// parentheses and may hold both spaces and parentheses itself.
func commandName(stat string) string {
	open, end := strings.Index(stat, "("), strings.LastIndex(stat, ")")
	if open < 0 || end < open {
		return ""
	}
	return stat[open+1 : end]
}

// since is the CPU time each part used between earlier and t.
func (t partCPU) since(earlier partCPU) partCPU {
	d := partCPU{self: t.self - earlier.self, children: map[string]time.Duration{}, ok: t.ok && earlier.ok}
	for name, cpu := range t.children {
		d.children[name] = cpu - earlier.children[name]
	}
	return d
}

// idleWindow is how long the control plane's background CPU is measured
// before the phases, with nothing asked of it: leases, the operator's
// informers' resyncs, etcd's housekeeping. Each phase's CPU is given net of
// it, so what a short phase and a long one cost per object compare.
const idleWindow = 10 * time.Second

// idleCPU is the CPU time each part uses per second when idle.
func idleCPU(d time.Duration) partCPU {
	before := readPartCPU()
	time.Sleep(d)
	return readPartCPU().since(before).per(d)
}

// per is t spread over d: CPU time per second.
func (t partCPU) per(d time.Duration) partCPU {
	f := float64(time.Second) / float64(d)
	r := partCPU{self: time.Duration(float64(t.self) * f), children: map[string]time.Duration{}, ok: t.ok}
	for name, cpu := range t.children {
		r.children[name] = time.Duration(float64(cpu) * f)
	}
	return r
}

// net is t less the idle CPU rate over elapsed, never below zero.
func (t partCPU) net(idle partCPU, elapsed time.Duration) partCPU {
	r := partCPU{self: t.self, children: map[string]time.Duration{}, ok: t.ok && idle.ok}
	for name, cpu := range t.children {
		r.children[name] = max(0, cpu-time.Duration(float64(idle.children[name])*elapsed.Seconds()))
	}
	return r
}
