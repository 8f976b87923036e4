// Command pause is the sandbox ("pause") container of the local node's pods: it holds
// the pod's namespaces open, reaps the zombies of a shared PID namespace, and exits on
// SIGINT or SIGTERM. It exists so that the node needs no image from a registry.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			return
		}
		reap()
	}
}

// reap collects every exited child: as PID 1 of a shared PID namespace, the pause
// process inherits every orphan of the pod.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
