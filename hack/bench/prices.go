package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// replay is one kind of request an order costs, made alone on each of the
// baseline's orders so that its price is known apart from the others and
// from what serving them under load adds.
type replay struct {
	name string
	// request is the apiserver_request_total resource and verb it counts as,
	// how the load's requests are priced.
	request string
	do      func(ctx context.Context, c client.Client, o *commercev1alpha1.WhatsAppOrder) error
}

// replays are the order's requests in the order the load makes them: the
// controller's validating status write, the business's accept, the
// notification's intent (a status write that adds it), a delivery status
// (the receiver's status write), and the notification's Event.
var replays = []replay{
	{"the validating status write", "whatsapporders/status PUT", func(ctx context.Context, c client.Client, o *commercev1alpha1.WhatsAppOrder) error {
		now := metav1.Now()
		o.Status.Phase, o.Status.ItemCount, o.Status.Total, o.Status.Currency, o.Status.ObservedGeneration = "Pending", 3, "85", "USD", o.Generation
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionTrue, Reason: "CartValid", Message: "3 items, total 85 USD", ObservedGeneration: o.Generation, LastTransitionTime: now})
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "UpToDate", Message: "phase is Pending", ObservedGeneration: o.Generation, LastTransitionTime: now})
		return c.Status().Update(ctx, o)
	}},
	{"the accept (merge patch)", "whatsapporders PATCH", func(ctx context.Context, c client.Client, o *commercev1alpha1.WhatsAppOrder) error {
		return c.Patch(ctx, o, client.RawPatch(types.MergePatchType, acceptPatch))
	}},
	{"a notification's intent", "whatsapporders/status PUT", func(ctx context.Context, c client.Client, o *commercev1alpha1.WhatsAppOrder) error {
		now := metav1.Now()
		o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{State: commercev1alpha1.OrderAccepted,
			SentMessage: commercev1alpha1.SentMessage{CallbackData: "wco1|WhatsAppOrder|" + o.Namespace + "|" + o.Name + "|Accepted", SentAt: &now}})
		return c.Status().Update(ctx, o)
	}},
	{"a delivery status", "whatsapporders/status PUT", func(ctx context.Context, c client.Client, o *commercev1alpha1.WhatsAppOrder) error {
		if len(o.Status.Notifications) == 0 {
			return fmt.Errorf("%s has no notification to report on: its intent failed", o.Name)
		}
		now := metav1.Now()
		n := &o.Status.Notifications[len(o.Status.Notifications)-1]
		n.MessageID, n.DeliveryStatus, n.UpdatedAt = "wamid."+o.Name, commercev1alpha1.DeliverySent, &now
		return c.Status().Update(ctx, o)
	}},
	{"an Event", "events POST", func(ctx context.Context, c client.Client, o *commercev1alpha1.WhatsAppOrder) error {
		return c.Create(ctx, &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: o.Namespace, GenerateName: o.Name + "."},
			InvolvedObject: corev1.ObjectReference{APIVersion: commercev1alpha1.GroupVersion.String(), Kind: "WhatsAppOrder", Namespace: o.Namespace, Name: o.Name, UID: o.UID},
			Type:           corev1.EventTypeNormal, Reason: commercev1alpha1.ConditionCustomerNotified, Message: "told the customer the order is Accepted",
			Source: corev1.EventSource{Component: "whatsapp-commerce-operator"}, FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(), Count: 1,
		})
	}},
}

// acceptPatch is the business accepting an order, as `kubectl patch` would.
var acceptPatch = []byte(`{"spec":{"state":"` + string(commercev1alpha1.OrderAccepted) + `"}}`)

// price is what one replay cost.
type price struct {
	replay
	n, failures int
	cpu         partCPU
	errors      []string
}

// apiServer is kube-apiserver's CPU per request.
func (p price) apiServer() time.Duration { return apiServerPer(p.cpu, p.n) }

// apiServerPer is kube-apiserver's CPU in cpu spread over n requests; 0 for none.
func apiServerPer(cpu partCPU, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return cpu.children[apiServerCommand] / time.Duration(n)
}

// measurePrices replays each request kind on every order of the baseline
// (namespace ns, which the operator does not watch), one kind after the
// other at the baseline's concurrency, each net of the idle control plane.
func measurePrices(ctx context.Context, c client.Client, ns string, concurrency int, idle partCPU, con *console) ([]price, error) {
	var list commercev1alpha1.WhatsAppOrderList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{commercev1alpha1.LabelCustomer: customerWaID(sourceDirect, 1)}); err != nil {
		return nil, fmt.Errorf("listing the baseline's orders: %w", err)
	}
	orders := list.Items
	prices := make([]price, 0, len(replays))
	for _, r := range replays {
		if err := settleDown(ctx); err != nil {
			return nil, err
		}
		before := readPartCPU()
		res := runPhase(ctx, len(orders), concurrency, func(ctx context.Context, i int) error { return r.do(ctx, c, &orders[i]) },
			con.counter("price of "+r.name, len(orders)))
		prices = append(prices, price{replay: r, n: len(res.latencies), failures: res.failures, errors: res.errors,
			cpu: readPartCPU().since(before).net(idle, res.elapsed)})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return prices, nil
}

// priceOf is the mean kube-apiserver CPU of the replays that count as request.
func priceOf(prices []price, request string) (time.Duration, bool) {
	var sum time.Duration
	var n int
	for _, p := range prices {
		if p.request == request && p.n > 0 {
			sum += p.apiServer()
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / time.Duration(n), true
}

// writePrices prints what each request kind costs kube-apiserver and etcd,
// in direct creates of the same control plane.
func writePrices(w io.Writer, prices []price, create time.Duration) {
	if len(prices) == 0 || create <= 0 {
		return
	}
	fmt.Fprintf(w, "what each request costs, replayed alone on the baseline's %d orders (no watcher but the API server's own, net of idle):\n", prices[0].n+prices[0].failures)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "request\tcounts as\tkube-apiserver\tdirect creates\tetcd\tfailed\t")
	fmt.Fprintf(tw, "the direct create\twhatsapporders POST\t%s\t1.00\t\t\t\n", ms(create))
	for _, p := range prices {
		etcd := "-"
		if p.n > 0 {
			etcd = ms(p.cpu.children["etcd"] / time.Duration(p.n))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%d\t\n", p.name, p.request, ms(p.apiServer()), float64(p.apiServer())/float64(create), etcd, p.failures)
	}
	_ = tw.Flush()
	for _, p := range prices {
		for _, e := range p.errors {
			fmt.Fprintf(w, "  %s: %s\n", p.name, e)
		}
	}
	fmt.Fprintln(w)
}

// pricedLoad is what the load's requests per order come to at prices, in
// direct creates, and the requests that no replay priced.
func pricedLoad(reqs apiRequests, orders int, prices []price, create time.Duration) (creates float64, unpriced []string) {
	perKey := map[string]float64{}
	for k, v := range reqs {
		if k.verb == "WATCH" || k.verb == "LIST" || k.verb == "GET" {
			continue
		}
		perKey[k.resource+" "+k.verb] += v / float64(orders)
	}
	for key, per := range perKey {
		switch p, ok := priceOf(prices, key); {
		case ok:
			creates += per * float64(p) / float64(create)
		case key == "whatsapporders POST":
			creates += per
		case per >= 0.01:
			unpriced = append(unpriced, fmt.Sprintf("%s %.2f", key, per))
		}
	}
	return creates, unpriced
}

// writePricedLoad says how much of the load's kube-apiserver CPU per order its
// requests account for at the replayed prices; the rest is what serving them
// under load adds: the watch events to the operator and the business,
// garbage collection of a busier heap, contention.
func writePricedLoad(w io.Writer, reqs apiRequests, orders int, prices []price, create time.Duration, measured float64, paced pacedCreates, order time.Duration) {
	if paced.n > 0 && paced.apiServer() > 0 {
		fmt.Fprintf(w, "  = %.1f direct creates made at the load's own pace (%.0f/s open loop, the load's writes per second; %s each, %d failed)\n",
			float64(order)/float64(paced.apiServer()), paced.rate, ms(paced.apiServer()), paced.failures)
	}
	if len(prices) == 0 || create <= 0 || orders == 0 {
		return
	}
	creates, unpriced := pricedLoad(reqs, orders, prices, create)
	line := fmt.Sprintf("  its requests at the replayed prices: %.1f direct creates; serving them under load added %.1f", creates, measured-creates)
	if len(unpriced) > 0 {
		line += " (not priced: " + strings.Join(unpriced, ", ") + ")"
	}
	fmt.Fprintln(w, line)
}

// pacedCreates is the direct create again, at the load's own pace.
type pacedCreates struct {
	rate        float64
	n, failures int
	cpu         partCPU
}

// apiServer is kube-apiserver's CPU per paced create.
func (p pacedCreates) apiServer() time.Duration { return apiServerPer(p.cpu, p.n) }

// measurePacedCreates creates n more orders in ns open loop at rate per
// second. The baseline's creates come in a burst at full concurrency, where
// kube-apiserver spends least on each; the load's requests come spread out,
// and a request spread out costs it more (fewer to share each wake-up,
// write and flush). Paced at the load's own write rate, a direct create
// shows how much of what the load costs is that pace rather than its
// requests.
func measurePacedCreates(ctx context.Context, c client.Client, ns string, n int, rate float64, idle partCPU, con *console) pacedCreates {
	specs := orderSpecs(sourceDirect, 2, n)
	if settleDown(ctx) != nil {
		return pacedCreates{}
	}
	progress := con.counter(fmt.Sprintf("direct creates at %.0f/s", rate), n)
	var done, failed atomic.Int64
	before, start := readPartCPU(), time.Now()
	openLoop(ctx, start, n, rate, func(i int) {
		if err := c.Create(ctx, orderObject(ns, specs[i])); err != nil {
			failed.Add(1)
		}
		progress(int(done.Add(1)))
	})
	return pacedCreates{rate: rate, n: n - int(failed.Load()), failures: int(failed.Load()), cpu: readPartCPU().since(before).net(idle, time.Since(start))}
}
