package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// offTerminalEvery is how often a phase's progress is printed when stderr is
// not a terminal.
const offTerminalEvery = 5 * time.Second

// console shows progress on stderr: a line per step and, on a terminal, a
// counter that updates in place while a phase runs.
type console struct {
	mu sync.Mutex
	w  io.Writer
	// live is true on a terminal, where a line can be rewritten.
	live bool
	// open is true while a counter line waits for its end.
	open bool
}

func newConsole(f *os.File) *console {
	fi, err := f.Stat()
	return &console{w: f, live: err == nil && fi.Mode()&os.ModeCharDevice != 0}
}

// printf prints a line, over the counter if one is showing.
func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open {
		fmt.Fprint(c.w, "\r\033[K")
		c.open = false
	}
	fmt.Fprintf(c.w, format+"\n", args...)
}

// counter returns a progress function for a phase of n operations. Off a
// terminal it prints a line at most every offTerminalEvery.
func (c *console) counter(name string, n int) func(done int) {
	last := time.Now()
	return func(done int) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case c.live:
			fmt.Fprintf(c.w, "\r\033[K%-18s %5d/%d", name, done, n)
			c.open = true
		case time.Since(last) >= offTerminalEvery && done < n:
			fmt.Fprintf(c.w, "%-18s %5d/%d\n", name, done, n)
			last = time.Now()
		}
	}
}
