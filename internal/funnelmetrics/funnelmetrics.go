// Package funnelmetrics exports the product-message funnel (messages sent and
// delivered, the inquiries and orders that reply to them, their revenue) for
// dashboards, from the ProductMessages' status.
package funnelmetrics

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The gauges, summed over the ProductMessages the cache holds.
var (
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

// listTimeout bounds a scrape; a cache that cannot answer yields no samples,
// as an invalid metric would fail the whole scrape.
const listTimeout = 5 * time.Second

// Collector reads the ProductMessages at scrape time.
type Collector struct{ Reader client.Reader }

// Register registers a collector reading from reader in place of the one of a
// manager started earlier in the same process (tests start several).
func Register(reg prometheus.Registerer, reader client.Reader) error {
	c := &Collector{Reader: reader}
	reg.Unregister(c)
	if err := reg.Register(c); err != nil {
		return fmt.Errorf("registering the product-message funnel collector: %w", err)
	}
	return nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{messagesDesc, inquiriesDesc, ordersDesc, revenueDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	var list commercev1alpha1.ProductMessageList
	if err := c.Reader.List(ctx, &list); err != nil {
		return
	}
	f := tally(list.Items)
	for key, n := range f.messages {
		ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(n), key[0], key[1])
	}
	ch <- prometheus.MustNewConstMetric(inquiriesDesc, prometheus.GaugeValue, float64(f.inquiries))
	ch <- prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, float64(f.orders))
	for currency, total := range f.revenue {
		ch <- prometheus.MustNewConstMetric(revenueDesc, prometheus.GaugeValue, total, currency)
	}
}

type funnel struct {
	messages          map[[2]string]int
	inquiries, orders int64
	revenue           map[string]float64
}

func tally(items []commercev1alpha1.ProductMessage) funnel {
	f := funnel{messages: map[[2]string]int{}, revenue: map[string]float64{}}
	for _, pm := range items {
		f.messages[[2]string{string(pm.Status.Phase), string(pm.Status.DeliveryStatus)}]++
		f.inquiries += int64(pm.Status.Inquiries)
		f.orders += int64(pm.Status.Orders)
		for _, r := range pm.Status.Revenue {
			// The totals are exact decimal strings the controller wrote; one
			// that does not parse is left out rather than counted as 0.
			if v, err := strconv.ParseFloat(r.Total, 64); err == nil {
				f.revenue[r.Currency] += v
			}
		}
	}
	return f
}
