// Package memlimit gives the Go runtime a soft memory limit below the container's
// (its cgroup's) memory limit, so that the garbage collector works harder as the
// process nears the limit instead of the kernel killing it there.
package memlimit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// Fraction of the container's limit the Go runtime may use; the rest is for
// memory it does not account for (kernel stacks, buffers, mapped files).
const Fraction = 0.9

// unlimited: cgroup v1 reports "no limit" as a number near 2^63.
const unlimited = 1 << 60

// Set sets the runtime's limit to Fraction of the container's, unless the
// GOMEMLIMIT environment variable sets one itself, and returns the limit it set
// (0 when it set none: GOMEMLIMIT is set, or the container has no limit).
func Set() (int64, error) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0, nil
	}
	limit, err := Container("/sys/fs/cgroup")
	if err != nil || limit == 0 {
		return 0, err
	}
	soft := int64(float64(limit) * Fraction)
	debug.SetMemoryLimit(soft)
	return soft, nil
}

// Container is the memory limit of the cgroup mounted at root, as a container
// sees its own: cgroup v2's memory.max, or cgroup v1's memory/memory.limit_in_bytes.
// It is 0 when there is no limit, or no cgroup file to read one from.
func Container(root string) (int64, error) {
	for _, file := range []string{"memory.max", filepath.Join("memory", "memory.limit_in_bytes")} {
		raw, err := os.ReadFile(filepath.Join(root, file))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("reading the container's memory limit: %w", err)
		}
		value := strings.TrimSpace(string(raw))
		if value == "max" {
			return 0, nil
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading the container's memory limit from %s: %w", file, err)
		}
		if n >= unlimited {
			return 0, nil
		}
		return n, nil
	}
	return 0, nil
}
