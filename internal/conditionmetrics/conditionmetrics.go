// Package conditionmetrics exports how many of the operator's resources carry
// each condition, so that alerts can fire on resources stuck Reconciling or
// Stalled without anyone watching kubectl.
package conditionmetrics

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Name is the gauge's name: resources by kind, condition type and status.
const Name = "whatsapp_resource_conditions"

var desc = prometheus.NewDesc(Name,
	"Resources of the operator's kinds that carry a condition, by kind, condition type and status, as the informer cache holds them.",
	[]string{"kind", "type", "status"}, nil)

// listTimeout bounds a scrape: a cache that cannot answer yields no sample
// rather than a scrape that hangs.
const listTimeout = 5 * time.Second

// alwaysReported are reported for status True even when no resource has them,
// so that an alert on them has a series to resolve on.
var alwaysReported = []string{commercev1alpha1.ConditionReady, commercev1alpha1.ConditionReconciling, commercev1alpha1.ConditionStalled}

// Collector counts conditions at scrape time from the cache: there is no
// counter to keep in step with creations, deletions and restarts.
type Collector struct {
	Reader client.Reader
	// Kinds maps each kind's name to a new empty list of it.
	Kinds map[string]func() client.ObjectList
}

// New counts the operator's kinds, read through reader (the manager's cache).
func New(reader client.Reader) *Collector {
	return &Collector{Reader: reader, Kinds: map[string]func() client.ObjectList{
		"WhatsAppChannel": func() client.ObjectList { return &commercev1alpha1.WhatsAppChannelList{} },
		"WhatsAppOrder":   func() client.ObjectList { return &commercev1alpha1.WhatsAppOrderList{} },
		"ProductInquiry":  func() client.ObjectList { return &commercev1alpha1.ProductInquiryList{} },
		"ProductMessage":  func() client.ObjectList { return &commercev1alpha1.ProductMessageList{} },
	}}
}

// Register registers c with reg, in place of the collector of a manager
// started earlier in the same process (tests start several).
func Register(reg prometheus.Registerer, c *Collector) error {
	reg.Unregister(c)
	if err := reg.Register(c); err != nil {
		return fmt.Errorf("registering the %s collector: %w", Name, err)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- desc }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	for kind, newList := range c.Kinds {
		counts, err := c.count(ctx, newList())
		if err != nil {
			// An invalid metric would fail the whole scrape (controller-runtime
			// answers 500); a kind the cache cannot list has no samples instead,
			// and alerts on it stay as they were.
			continue
		}
		for key, n := range counts {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), kind, key.typ, key.status)
		}
	}
}

type conditionKey struct{ typ, status string }

func (c *Collector) count(ctx context.Context, list client.ObjectList) (map[conditionKey]int, error) {
	if err := c.Reader.List(ctx, list); err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	counts := map[conditionKey]int{}
	for _, t := range alwaysReported {
		counts[conditionKey{t, "True"}] = 0
	}
	for _, item := range items {
		for _, cond := range conditionsOf(item) {
			counts[cond]++
		}
	}
	return counts, nil
}

// conditionsOf reads status.conditions of any kind that follows the API's
// status conventions.
func conditionsOf(obj runtime.Object) []conditionKey {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil
	}
	list, _, _ := unstructured.NestedSlice(u, "status", "conditions")
	keys := make([]conditionKey, 0, len(list))
	for _, c := range list {
		m, _ := c.(map[string]any)
		typ, _ := m["type"].(string)
		status, _ := m["status"].(string)
		if typ != "" {
			keys = append(keys, conditionKey{typ, status})
		}
	}
	return keys
}
