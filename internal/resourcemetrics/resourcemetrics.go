// Package resourcemetrics exports gauges about the operator's resources as the
// informer caches hold them: how many carry each condition, so that alerts can
// fire on resources stuck Reconciling or Stalled without anyone watching
// kubectl, and the product-message funnel (messages sent and delivered, the
// inquiries and orders that reply to them, their revenue) for dashboards.
//
// The gauges are sums over live objects, kept from the informers' events: an
// event takes away what the object's old version contributed and adds what its
// new version does. A scrape then reads a few sums, whatever the number of live
// objects, where listing the cache at every scrape cost 0.85 s and 247 MB at
// 30,000 orders. No state is kept per object: the informer hands every handler
// the version an event replaces, also when it relists (an update, or a delete
// of the last version it knew) and on resyncs (an update to the same version),
// so the sums stay those of the objects in the cache.
package resourcemetrics

import (
	"context"
	"fmt"
	"math/big"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// ConditionsName is the gauge of resources by kind, condition type and status.
const ConditionsName = "whatsapp_resource_conditions"

var (
	conditionsDesc = prometheus.NewDesc(ConditionsName,
		"Resources of the operator's kinds that carry a condition, by kind, condition type and status, as the informer cache holds them.",
		[]string{"kind", "type", "status"}, nil)
	messagesDesc = prometheus.NewDesc("whatsapp_product_messages",
		"ProductMessages by phase and delivery status.", []string{"phase", "delivery"}, nil)
	inquiriesDesc = prometheus.NewDesc("whatsapp_product_message_inquiries",
		"ProductInquiries that reply to a ProductMessage (the sum of status.inquiries).", nil, nil)
	ordersDesc = prometheus.NewDesc("whatsapp_product_message_orders",
		"WhatsAppOrders that reply to a ProductMessage (the sum of status.orders).", nil, nil)
	revenueDesc = prometheus.NewDesc("whatsapp_product_message_revenue",
		"Revenue of the orders that reply to ProductMessages and are not Invalid, Rejected or Cancelled, by currency (status.revenue; exact there, a float here).",
		[]string{"currency"}, nil)
)

// alwaysReported are reported for status True even when no resource has them,
// so that an alert on them has a series to resolve on.
var alwaysReported = []string{commercev1alpha1.ConditionReady, commercev1alpha1.ConditionReconciling, commercev1alpha1.ConditionStalled}

// kinds are the kinds counted, each with an empty object of it.
var kinds = map[string]client.Object{
	"WhatsAppChannel": &commercev1alpha1.WhatsAppChannel{},
	"WhatsAppOrder":   &commercev1alpha1.WhatsAppOrder{},
	"ProductInquiry":  &commercev1alpha1.ProductInquiry{},
	"ProductMessage":  &commercev1alpha1.ProductMessage{},
}

type conditionKey struct{ kind, typ, status string }

type messageKey struct{ phase, delivery string }

// revenue is one currency's: the sum is exact, since adding and later taking
// away the same decimal in floating point would not leave it where it was.
type revenue struct {
	messages int // ProductMessages with revenue in this currency
	sum      big.Rat
}

// Gauges is the sums, and the prometheus.Collector that reports them.
type Gauges struct {
	mu         sync.Mutex
	conditions map[conditionKey]int
	messages   map[messageKey]int
	inquiries  int64
	orders     int64
	revenue    map[string]*revenue
	// synced tells, per kind, whether the handler has seen the informer's
	// initial list: until then a kind has no samples, as a partial count
	// would resolve alerts that should fire.
	synced map[string]func() bool
}

// New returns empty gauges; Watch feeds them.
func New() *Gauges {
	return &Gauges{
		conditions: map[conditionKey]int{},
		messages:   map[messageKey]int{},
		revenue:    map[string]*revenue{},
		synced:     map[string]func() bool{},
	}
}

// Setup keeps gauges from the informers of informers (the manager's cache,
// started or not) and registers them with reg, in place of those of a manager
// set up earlier in the same process (tests start several).
func Setup(ctx context.Context, informers cache.Informers, reg prometheus.Registerer) (*Gauges, error) {
	g := New()
	if err := g.Watch(ctx, informers); err != nil {
		return nil, err
	}
	reg.Unregister(g)
	if err := reg.Register(g); err != nil {
		return nil, fmt.Errorf("registering the resource gauges: %w", err)
	}
	return g, nil
}

// Watch adds the gauges' event handler to the informer of each of kinds. Call
// it before the gauges are collected.
func (g *Gauges) Watch(ctx context.Context, informers cache.Informers) error {
	for kind, obj := range kinds {
		inf, err := informers.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("getting the %s informer: %w", kind, err)
		}
		reg, err := inf.AddEventHandler(g.Handler())
		if err != nil {
			return fmt.Errorf("watching %s for the resource gauges: %w", kind, err)
		}
		g.synced[kind] = reg.HasSynced
	}
	return nil
}

// Handler applies an informer's events to the gauges.
func (g *Gauges) Handler() toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { g.replace(nil, obj) },
		UpdateFunc: g.replace,
		DeleteFunc: func(obj any) { g.replace(obj, nil) },
	}
}

// replace takes away what old contributed and adds what new does (either nil).
func (g *Gauges) replace(old, new any) {
	o, n := contributionOf(old), contributionOf(new)
	if o.resourceVersion != "" && o.resourceVersion == n.resourceVersion {
		return // a resync: nothing changed
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.apply(o, -1)
	g.apply(n, +1)
}

// contribution is what one version of an object adds to the gauges.
type contribution struct {
	kind, resourceVersion string
	conditions            []metav1.Condition
	message               *commercev1alpha1.ProductMessageStatus // ProductMessages only
}

func contributionOf(obj any) contribution {
	switch o := obj.(type) {
	case *commercev1alpha1.WhatsAppChannel:
		return contribution{"WhatsAppChannel", o.ResourceVersion, o.Status.Conditions, nil}
	case *commercev1alpha1.WhatsAppOrder:
		return contribution{"WhatsAppOrder", o.ResourceVersion, o.Status.Conditions, nil}
	case *commercev1alpha1.ProductInquiry:
		return contribution{"ProductInquiry", o.ResourceVersion, o.Status.Conditions, nil}
	case *commercev1alpha1.ProductMessage:
		return contribution{"ProductMessage", o.ResourceVersion, o.Status.Conditions, &o.Status}
	case toolscache.DeletedFinalStateUnknown:
		// A delete the informer learnt of by relisting: Obj is the last version
		// it delivered, which is what the gauges hold.
		return contributionOf(o.Obj)
	}
	return contribution{}
}

// apply adds c, sign times, to the gauges; g.mu is held.
func (g *Gauges) apply(c contribution, sign int) {
	for _, cond := range c.conditions {
		addCount(g.conditions, conditionKey{c.kind, cond.Type, string(cond.Status)}, sign)
	}
	s := c.message
	if s == nil {
		return
	}
	addCount(g.messages, messageKey{string(s.Phase), string(s.DeliveryStatus)}, sign)
	g.inquiries += int64(sign) * int64(s.Inquiries)
	g.orders += int64(sign) * int64(s.Orders)
	for _, r := range s.Revenue {
		// The totals are exact decimal strings the controller wrote; one that
		// does not parse is left out (both ways) rather than counted as 0.
		v, ok := new(big.Rat).SetString(r.Total)
		if !ok {
			continue
		}
		rev := g.revenue[r.Currency]
		if rev == nil {
			rev = &revenue{}
			g.revenue[r.Currency] = rev
		}
		rev.messages += sign
		if sign < 0 {
			v.Neg(v)
		}
		rev.sum.Add(&rev.sum, v)
		if rev.messages == 0 {
			delete(g.revenue, r.Currency)
		}
	}
}

// addCount adds sign to m[k], and forgets k at zero: series of what no live
// object has any more go away, as they did when every scrape counted afresh.
func addCount[K comparable](m map[K]int, k K, sign int) {
	if n := m[k] + sign; n != 0 {
		m[k] = n
	} else {
		delete(m, k)
	}
}

// Describe implements prometheus.Collector.
func (g *Gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{conditionsDesc, messagesDesc, inquiriesDesc, ordersDesc, revenueDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. It costs the number of series, not
// of objects; the samples are made under the lock and sent after it, so that a
// slow scrape never holds up the informers.
func (g *Gauges) Collect(ch chan<- prometheus.Metric) {
	for _, m := range g.samples() {
		ch <- m
	}
}

func (g *Gauges) samples() []prometheus.Metric {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []prometheus.Metric
	for key, n := range g.conditions {
		if g.hasSynced(key.kind) {
			out = append(out, prometheus.MustNewConstMetric(conditionsDesc, prometheus.GaugeValue, float64(n), key.kind, key.typ, key.status))
		}
	}
	for kind := range kinds {
		if !g.hasSynced(kind) {
			continue
		}
		for _, typ := range alwaysReported {
			if _, ok := g.conditions[conditionKey{kind, typ, string(metav1.ConditionTrue)}]; !ok {
				out = append(out, prometheus.MustNewConstMetric(conditionsDesc, prometheus.GaugeValue, 0, kind, typ, string(metav1.ConditionTrue)))
			}
		}
	}
	if !g.hasSynced("ProductMessage") {
		return out
	}
	for key, n := range g.messages {
		out = append(out, prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(n), key.phase, key.delivery))
	}
	out = append(out,
		prometheus.MustNewConstMetric(inquiriesDesc, prometheus.GaugeValue, float64(g.inquiries)),
		prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, float64(g.orders)))
	for currency, r := range g.revenue {
		v, _ := r.sum.Float64()
		out = append(out, prometheus.MustNewConstMetric(revenueDesc, prometheus.GaugeValue, v, currency))
	}
	return out
}

// hasSynced is true for a kind whose initial list the gauges hold. Gauges fed
// by Handler alone (not Watch) count every kind as synced.
func (g *Gauges) hasSynced(kind string) bool {
	synced, ok := g.synced[kind]
	return !ok || synced()
}
