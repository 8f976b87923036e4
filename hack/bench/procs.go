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
