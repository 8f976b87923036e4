package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The memory phase: what each live order costs the API server, etcd and the
// operator, next to ConfigMaps holding the same JSON, which is what the API
// server costs per object of that size anyway. Orders get the status the
// order controller writes (totals, conditions, one notification), so they
// carry what a live order carries: two writers' managed fields included.

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

// liveStatus is what the order controller writes on an accepted order.
func liveStatus(now time.Time) commercev1alpha1.WhatsAppOrderStatus {
	t := metav1.NewTime(now)
	cond := func(typ, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: 2, LastTransitionTime: t}
	}
	return commercev1alpha1.WhatsAppOrderStatus{
		ObservedGeneration: 2, Phase: commercev1alpha1.OrderPhase(commercev1alpha1.OrderAccepted), ItemCount: 3, Total: "85", Currency: "USD",
		Notifications: []commercev1alpha1.OrderNotification{{State: commercev1alpha1.OrderAccepted, SentMessage: commercev1alpha1.SentMessage{
			MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", SentAt: &t, DeliveryStatus: commercev1alpha1.DeliveryRead,
		}}},
		Conditions: []metav1.Condition{
			cond(commercev1alpha1.ConditionValidated, commercev1alpha1.ReasonCartValid, "3 items, 85 USD"),
			cond(commercev1alpha1.ConditionCustomerNotified, commercev1alpha1.ReasonSent, "told the customer the order is Accepted"),
			cond(commercev1alpha1.ConditionReady, commercev1alpha1.ReasonUpToDate, "phase is Accepted"),
		},
	}
}

// memoryStep is one measurement: the live objects of each kind, and the RSS.
type memoryStep struct {
	orders, configMaps int
	rss                rss
}

// memory creates orders and ConfigMaps up to each of counts, alternately, and
// measures after each.
func (b *bench) memory(ctx context.Context, counts []int) ([]memoryStep, error) {
	nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-memory-"}}
	if err := b.direct.Create(ctx, nsObj); err != nil {
		return nil, fmt.Errorf("creating the namespace: %w", err)
	}
	ns := nsObj.Name
	base, err := readRSS()
	if err != nil {
		return nil, err
	}
	b.con.printf("before the memory phase: kube-apiserver %s, etcd %s, operator %s", mib(base.apiServer), mib(base.etcd), mib(base.operator))
	steps := []memoryStep{{rss: base}}
	status := liveStatus(time.Now())
	have := 0
	for _, n := range counts {
		specs := orderSpecs("memory", n, n-have)
		orders := make([]*commercev1alpha1.WhatsAppOrder, len(specs))
		docs := make([]string, len(specs))
		for i, spec := range specs {
			orders[i] = orderObject(ns, spec)
		}
		res := runPhase(ctx, len(orders), b.p.concurrency, func(ctx context.Context, i int) error {
			if err := b.direct.Create(ctx, orders[i]); err != nil {
				return err
			}
			orders[i].Status = status
			if err := b.direct.Status().Update(ctx, orders[i], client.FieldOwner("whatsapporder-controller")); err != nil {
				return err
			}
			o := orders[i].DeepCopy()
			o.ManagedFields = nil
			doc, err := json.Marshal(o)
			docs[i] = string(doc)
			return err
		}, b.con.counter(fmt.Sprintf("orders to %d", n), len(orders)))
		if res.failures > 0 {
			return steps, fmt.Errorf("%d orders failed: %v", res.failures, res.errors)
		}
		if steps, err = b.measureMemory(ctx, steps, n, have); err != nil {
			return steps, err
		}
		res = runPhase(ctx, len(docs), b.p.concurrency, func(ctx context.Context, i int) error {
			return b.direct.Create(ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: orders[i].Name, Labels: orders[i].Labels},
				Data:       map[string]string{"order.json": docs[i]},
			})
		}, b.con.counter(fmt.Sprintf("configmaps to %d", n), len(docs)))
		if res.failures > 0 {
			return steps, fmt.Errorf("%d ConfigMaps failed: %v", res.failures, res.errors)
		}
		if steps, err = b.measureMemory(ctx, steps, n, n); err != nil {
			return steps, err
		}
		have = n
	}
	return steps, nil
}

// measureMemory waits for the operator's cache and the API server's to settle,
// then appends a measurement.
func (b *bench) measureMemory(ctx context.Context, steps []memoryStep, orders, configMaps int) ([]memoryStep, error) {
	select {
	case <-ctx.Done():
		return steps, ctx.Err()
	case <-time.After(5 * time.Second):
	}
	r, err := readRSS()
	if err != nil {
		return steps, err
	}
	b.con.printf("live orders %d, ConfigMaps %d: kube-apiserver %s, etcd %s, operator %s", orders, configMaps, mib(r.apiServer), mib(r.etcd), mib(r.operator))
	return append(steps, memoryStep{orders: orders, configMaps: configMaps, rss: r}), nil
}

// writeMemoryTable prints, for each count, what the orders and then the same
// number of ConfigMaps added to each process, per object.
func writeMemoryTable(w io.Writer, steps []memoryStep) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "live objects\tkind\tkube-apiserver RSS\tetcd RSS\toperator RSS\tapiserver/object\tetcd/object\toperator/object\t")
	for i := 1; i < len(steps); i++ {
		prev, cur := steps[i-1], steps[i]
		kind, added := "WhatsAppOrder", cur.orders-prev.orders
		if added == 0 {
			kind, added = "ConfigMap", cur.configMaps-prev.configMaps
		}
		per := func(a, b uint64) string {
			return fmt.Sprintf("%.1fKiB", (float64(a)-float64(b))/1024/float64(added))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", max(cur.orders, cur.configMaps), kind,
			mib(cur.rss.apiServer), mib(cur.rss.etcd), mib(cur.rss.operator),
			per(cur.rss.apiServer, prev.rss.apiServer), per(cur.rss.etcd, prev.rss.etcd), per(cur.rss.operator, prev.rss.operator))
	}
	return tw.Flush()
}

func mib(n uint64) string { return fmt.Sprintf("%.0fMiB", float64(n)/(1<<20)) }
