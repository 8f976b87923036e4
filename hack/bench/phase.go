package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
)

// op does the i-th operation of a phase: one create, or one webhook request.
type op func(ctx context.Context, i int) error

// keptErrors is how many failures of a phase are kept to show.
const keptErrors = 5

// phaseResult is what one timed phase did.
type phaseResult struct {
	elapsed time.Duration
	// latencies are those of the successful operations, sorted.
	latencies []time.Duration
	failures  int
	// errors are the first few failures.
	errors []string
	// cpu is the CPU time used during the phase.
	cpu cpuTimes
	// allocated is what this process allocated on the heap during the phase.
	allocated uint64
}

// rate is successful operations per second.
func (r phaseResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.latencies)) / r.elapsed.Seconds()
}

// cpuPerObject is the CPU time used per successful operation.
func (r phaseResult) cpuPerObject() cpuTimes {
	n := time.Duration(len(r.latencies))
	if n == 0 {
		return cpuTimes{}
	}
	return cpuTimes{self: r.cpu.self / n, controlPlane: r.cpu.controlPlane / n, machine: r.cpu.machine / n, ok: r.cpu.ok}
}

// allocatedPerObject is the heap allocated per successful operation, in bytes.
func (r phaseResult) allocatedPerObject() uint64 {
	if n := uint64(len(r.latencies)); n > 0 {
		return r.allocated / n
	}
	return 0
}

// runPhase does operations 0..n-1 with concurrency workers, each taking the
// next index as soon as it is free, timing every operation and the whole. It
// calls progress with the number done so far every second and once at the end.
// When ctx ends, no new operation starts and the result is partial.
func runPhase(ctx context.Context, n, concurrency int, do op, progress func(done int)) phaseResult {
	type worker struct {
		latencies []time.Duration
		errors    []string
		failures  int
	}
	workers := make([]worker, concurrency)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	cpuStart, allocStart, start := readCPU(), heapAllocated(), time.Now()
	for w := range workers {
		wg.Go(func() {
			me := &workers[w]
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				err := do(ctx, i)
				d := time.Since(t)
				done.Add(1)
				if err != nil {
					me.failures++
					if len(me.errors) < keptErrors {
						me.errors = append(me.errors, err.Error())
					}
					continue
				}
				me.latencies = append(me.latencies, d)
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case <-tick.C:
			progress(int(done.Load()))
		case <-finished:
			waiting = false
		}
	}
	res := phaseResult{elapsed: time.Since(start), cpu: readCPU().since(cpuStart), allocated: heapAllocated() - allocStart}
	progress(int(done.Load()))
	for _, w := range workers {
		res.latencies = append(res.latencies, w.latencies...)
		res.failures += w.failures
		res.errors = append(res.errors, w.errors...)
	}
	slices.Sort(res.latencies)
	if len(res.errors) > keptErrors {
		res.errors = res.errors[:keptErrors]
	}
	return res
}

// createOrders creates objs[i] with c: the baseline.
func createOrders(c client.Client, objs []*commercev1alpha1.WhatsAppOrder) op {
	return func(ctx context.Context, i int) error {
		return c.Create(ctx, objs[i])
	}
}

// postWebhooks posts bodies[i] to url, as Meta does, and wants a 200.
func postWebhooks(hc *http.Client, url string, bodies []webhookbody.Signed) op {
	return func(ctx context.Context, i int) error {
		req, err := bodies[i].Request(ctx, url)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		// Read to the end so the connection is reused.
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("answer %d: %s", resp.StatusCode, bytes.TrimSpace(answer))
		}
		return nil
	}
}

// verifyStored checks that the API server holds exactly one WhatsAppOrder for
// every spec, and no other order of the same customer (the phase's label).
func verifyStored(ctx context.Context, c client.Reader, namespace string, specs []commercev1alpha1.WhatsAppOrderSpec) error {
	if len(specs) == 0 {
		return nil
	}
	var list commercev1alpha1.WhatsAppOrderList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels(orderLabels(specs[0]))); err != nil {
		return fmt.Errorf("listing the orders: %w", err)
	}
	want := make([]string, len(specs))
	for i := range specs {
		want[i] = specs[i].MessageID
	}
	got := make([]string, len(list.Items))
	for i := range list.Items {
		got[i] = list.Items[i].Spec.MessageID
	}
	return sameMessages(want, got)
}

// sameMessages says how got, the message ids of the stored orders, differs
// from want, the ids sent once each.
func sameMessages(want, got []string) error {
	count := make(map[string]int, len(got))
	for _, id := range got {
		count[id]++
	}
	var missing, duplicated int
	for _, id := range want {
		switch n := count[id]; {
		case n == 0:
			missing++
		case n > 1:
			duplicated++
		}
		delete(count, id)
	}
	if missing == 0 && duplicated == 0 && len(count) == 0 {
		return nil
	}
	return fmt.Errorf("sent %d orders, found %d: %d missing, %d stored more than once, %d never sent",
		len(want), len(got), missing, duplicated, len(count))
}
