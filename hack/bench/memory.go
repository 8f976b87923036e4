package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The memory phase: what each live order costs the API server, etcd and the
// operator, next to ConfigMaps holding the same JSON, which is what the API
// server costs per object of that size anyway. Orders are created as the
// receiver creates them, then get the status the order controller writes
// (totals, conditions, one notification), measured apart: what a live order
// carries, two writers' managed fields included, and what one more write of
// it costs.

// rss is the resident memory of the control plane's processes and this one.
type rss struct {
	apiServer, etcd, operator uint64
}

// readRSS reads VmRSS of this process and of its children named
// kube-apiserver and etcd, after a garbage collection here (the operator's
// caches are what stays).
func readRSS() (rss, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var r rss
	self, err := vmRSS("/proc/self/status")
	if err != nil {
		return r, err
	}
	r.operator = self
	procs, _ := filepath.Glob("/proc/[0-9]*")
	pid := os.Getpid()
	for _, p := range procs {
		stat, err := os.ReadFile(p + "/stat")
		if err != nil {
			continue
		}
		ppid, _, err := processCPU(string(stat))
		if err != nil || ppid != pid {
			continue
		}
		comm, _ := os.ReadFile(p + "/comm")
		kb, err := vmRSS(p + "/status")
		if err != nil {
			continue
		}
		switch strings.TrimSpace(string(comm)) {
		case "kube-apiserver":
			r.apiServer += kb
		case "etcd":
			r.etcd += kb
		}
	}
	if r.apiServer == 0 || r.etcd == 0 {
		return r, fmt.Errorf("kube-apiserver or etcd not found among this process's children")
	}
	return r, nil
}

// vmRSS reads VmRSS, in bytes, from a /proc/<pid>/status file.
func vmRSS(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in %s", path)
}

// liveStatus is what the order controller writes on an accepted order whose
// notification was read: totals, three conditions, one notification.
// bare leaves the conditions' messages and observedGeneration out.
func liveStatus(namespace, name string, now time.Time, bare bool) commercev1alpha1.WhatsAppOrderStatus {
	t := metav1.NewTime(now)
	cond := func(typ, reason, msg string) metav1.Condition {
		c := metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: 2, LastTransitionTime: t}
		if bare {
			c.Message, c.ObservedGeneration = "", 0
		}
		return c
	}
	const messageID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
	return commercev1alpha1.WhatsAppOrderStatus{
		ObservedGeneration: 2, Phase: commercev1alpha1.OrderPhase(commercev1alpha1.OrderAccepted), ItemCount: 3, Total: "85", Currency: "USD",
		Notifications: []commercev1alpha1.OrderNotification{{State: commercev1alpha1.OrderAccepted, SentMessage: commercev1alpha1.SentMessage{
			MessageID: messageID, SentAt: &t, UpdatedAt: &t, DeliveryStatus: commercev1alpha1.DeliveryRead, PricingCategory: "service",
			CallbackData: "wco1|WhatsAppOrder|" + namespace + "|" + name + "|Accepted",
		}}},
		Conditions: []metav1.Condition{
			cond(commercev1alpha1.ConditionValidated, commercev1alpha1.ReasonCartValid, "3 items, total 85 USD"),
			cond(commercev1alpha1.ConditionCustomerNotified, commercev1alpha1.ReasonSent, "told the customer the order is Accepted (message "+messageID+")"),
			cond(commercev1alpha1.ConditionReady, commercev1alpha1.ReasonUpToDate, "phase is Accepted"),
		},
	}
}

// memoryStep is one measurement: the live objects, the step that made them,
// and the memory of each process after it.
type memoryStep struct {
	live int
	step string
	// profile names the heap profile saved after the step.
	profile string
	// made is how many objects the step created or wrote.
	made int
	rss  rss
	heap liveHeap
}

// liveHeap is the Go heap in use after a collection: what the objects really
// hold, where resident memory adds what the collector has yet to reclaim or
// hand back (up to as much again with the default GOGC).
type liveHeap struct {
	apiServer, operator uint64
}

// memory creates orders up to each of counts as the receiver does, measures,
// writes each its status as the order controller does, measures, then creates
// as many ConfigMaps holding the orders' JSON and measures again. Every object
// is made from its index, so the bench holds none of them while measuring.
func (b *bench) memory(ctx context.Context, cfg *rest.Config, counts []int) ([]memoryStep, error) {
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-memory-"}}
	if err := b.direct.Create(ctx, nsObj); err != nil {
		return nil, fmt.Errorf("creating the namespace: %w", err)
	}
	ns := nsObj.Name
	heap, err := newHeapReader(cfg, b.p.heapProfiles)
	if err != nil {
		return nil, err
	}
	steps, err := b.measureMemory(ctx, heap, nil, memoryStep{profile: "start"})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	order := func(i int) *commercev1alpha1.WhatsAppOrder {
		return orderObject(ns, orderSpec("memory", 0, i))
	}
	// stored is order i as the API server holds it.
	stored := func(ctx context.Context, i int) (*commercev1alpha1.WhatsAppOrder, error) {
		o := order(i)
		return o, b.direct.Get(ctx, client.ObjectKeyFromObject(o), o)
	}
	have := 0
	for _, n := range counts {
		stages := []struct {
			added, profile string
			do             func(ctx context.Context, i int) error
		}{
			{"WhatsAppOrder, as received", "created", func(ctx context.Context, i int) error { return b.direct.Create(ctx, order(i)) }},
			{"+ the controller's status", "status", func(ctx context.Context, i int) error {
				o, err := stored(ctx, i)
				if err != nil {
					return err
				}
				o.Status = liveStatus(ns, o.Name, now, b.p.bareConditions)
				return b.direct.Status().Update(ctx, o, client.FieldOwner("whatsapporder-controller"))
			}},
			{"ConfigMap, same JSON", "configmaps", func(ctx context.Context, i int) error {
				o, err := stored(ctx, i)
				if err != nil {
					return err
				}
				o.ManagedFields = nil
				doc, err := json.Marshal(o)
				if err != nil {
					return err
				}
				return b.direct.Create(ctx, &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: o.Name, Labels: o.Labels},
					Data:       map[string]string{"order.json": string(doc)},
				})
			}},
		}
		for _, st := range stages {
			res := runPhase(ctx, n-have, b.p.concurrency, func(ctx context.Context, i int) error { return st.do(ctx, have+i) },
				b.con.counter(fmt.Sprintf("%s to %d", st.added, n), n-have))
			if res.failures > 0 {
				return steps, fmt.Errorf("%s: %d failed: %v", st.added, res.failures, res.errors)
			}
			if steps, err = b.measureMemory(ctx, heap, steps, memoryStep{live: n, step: st.added, profile: fmt.Sprintf("%d-%s", n, st.profile), made: n - have}); err != nil {
				return steps, err
			}
		}
		have = n
	}
	return steps, nil
}

// measureMemory waits for the operator's cache and the API server's to settle,
// then appends a measurement.
func (b *bench) measureMemory(ctx context.Context, heap *heapReader, steps []memoryStep, step memoryStep) ([]memoryStep, error) {
	select {
	case <-ctx.Done():
		return steps, ctx.Err()
	case <-time.After(5 * time.Second):
	}
	var err error
	if step.rss, err = readRSS(); err != nil {
		return steps, err
	}
	if step.heap, err = heap.read(ctx, step.profile); err != nil {
		return steps, err
	}
	b.con.printf("%d live, %s: kube-apiserver %s (heap %s), etcd %s, operator %s (heap %s)", step.live, step.step,
		mib(step.rss.apiServer), mib(step.heap.apiServer), mib(step.rss.etcd), mib(step.rss.operator), mib(step.heap.operator))
	return append(steps, step), nil
}

// heapReader reads the live heap of kube-apiserver, after making it collect
// (its /debug/pprof/heap?gc=1), and of this process.
type heapReader struct {
	apiServer rest.Interface
	// profiles is where to save each heap profile; "" saves none.
	profiles string
}

func newHeapReader(cfg *rest.Config, profiles string) (*heapReader, error) {
	apiServer, err := apiServerClient(cfg)
	if err != nil {
		return nil, err
	}
	if profiles != "" {
		if err := os.MkdirAll(profiles, 0o755); err != nil {
			return nil, err
		}
	}
	return &heapReader{apiServer: apiServer, profiles: profiles}, nil
}

// read reads both heaps, saving kube-apiserver's profile as name.pprof.
func (h *heapReader) read(ctx context.Context, name string) (liveHeap, error) {
	var l liveHeap
	profile, err := h.apiServer.Get().AbsPath("/debug/pprof/heap").Param("gc", "1").DoRaw(ctx)
	if err != nil {
		return l, fmt.Errorf("the API server's heap profile: %w", err)
	}
	if h.profiles != "" {
		if err := os.WriteFile(filepath.Join(h.profiles, name+".pprof"), profile, 0o644); err != nil {
			return l, err
		}
	}
	metrics, err := h.apiServer.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return l, fmt.Errorf("the API server's metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(metrics))
	if err != nil {
		return l, fmt.Errorf("the API server's metrics: %w", err)
	}
	alloc := families["go_memstats_heap_alloc_bytes"].GetMetric()
	if len(alloc) == 0 {
		return l, errors.New("the API server's metrics have no go_memstats_heap_alloc_bytes")
	}
	l.apiServer = uint64(alloc[0].GetGauge().GetValue())
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	l.operator = ms.HeapAlloc
	return l, nil
}

// writeMemoryTable prints each step's memory and what it added per object.
func writeMemoryTable(w io.Writer, steps []memoryStep) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "live\tstep\tkube-apiserver RSS\theap\tetcd RSS\toperator RSS\theap\t"+
		"per object: apiserver RSS\theap\tetcd RSS\toperator RSS\theap\t")
	for i := 1; i < len(steps); i++ {
		prev, cur := steps[i-1], steps[i]
		per := func(a, b uint64) string {
			return fmt.Sprintf("%.1fKiB", (float64(a)-float64(b))/1024/float64(cur.made))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", cur.live, cur.step,
			mib(cur.rss.apiServer), mib(cur.heap.apiServer), mib(cur.rss.etcd), mib(cur.rss.operator), mib(cur.heap.operator),
			per(cur.rss.apiServer, prev.rss.apiServer), per(cur.heap.apiServer, prev.heap.apiServer),
			per(cur.rss.etcd, prev.rss.etcd), per(cur.rss.operator, prev.rss.operator), per(cur.heap.operator, prev.heap.operator))
	}
	return tw.Flush()
}

func mib(n uint64) string { return fmt.Sprintf("%.0fMiB", float64(n)/(1<<20)) }
