package resourcemetrics_test

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/resourcemetrics"
)

func cond(typ string, status metav1.ConditionStatus) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: "Test"}
}

func order(name, rv string, conds ...metav1.Condition) *commercev1alpha1.WhatsAppOrder {
	o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, ResourceVersion: rv}}
	o.Status.Conditions = conds
	return o
}

func productMessage(name, rv string, phase commercev1alpha1.ProductMessagePhase, delivery commercev1alpha1.DeliveryStatus, inquiries, orders int32, revenue ...commercev1alpha1.Revenue) *commercev1alpha1.ProductMessage {
	m := &commercev1alpha1.ProductMessage{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, ResourceVersion: rv}}
	m.Status.Phase, m.Status.DeliveryStatus = phase, delivery
	m.Status.Inquiries, m.Status.Orders, m.Status.Revenue = inquiries, orders, revenue
	return m
}

func usd(total string) commercev1alpha1.Revenue {
	return commercev1alpha1.Revenue{Currency: "USD", Total: total}
}

// TestEventsKeepTheSums feeds the handler the events an informer delivers, a
// relist's included, and reads the gauges as a scrape would.
func TestEventsKeepTheSums(t *testing.T) {
	g := resourcemetrics.New()
	h := g.Handler()
	a := order("a", "1", cond("Ready", "False"), cond("Stalled", "True"))
	b := order("b", "2", cond("Ready", "True"))
	h.OnAdd(a, true)
	h.OnAdd(b, true)
	h.OnAdd(order("c", "3"), true) // not reconciled yet
	want := empty()
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="False",type="Ready"}`] = 1
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Ready"}`] = 1
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Stalled"}`] = 1
	gather(t, g).expect(t, "after adds", want)

	// A resync delivers every object again as an update to itself.
	h.OnUpdate(a, a)
	h.OnUpdate(b, b)
	gather(t, g).expect(t, "after a resync", want)

	// a is no longer Stalled and becomes Ready.
	a2 := order("a", "4", cond("Ready", "True"))
	h.OnUpdate(a, a2)
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Ready"}`] = 2
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Stalled"}`] = 0
	delete(want, `whatsapp_resource_conditions{kind="WhatsAppOrder",status="False",type="Ready"}`)
	gather(t, g).expect(t, "after a status change", want)

	// b was deleted while the informer's watch was down: the relist tells it
	// with the last version the handler saw.
	h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "shop/b", Obj: b})
	h.OnDelete(a2)
	want[`whatsapp_resource_conditions{kind="WhatsAppOrder",status="True",type="Ready"}`] = 0
	gather(t, g).expect(t, "after deletes", want)
}

// TestRevenueIsExactAfterChanges: decimals added and taken away leave no
// floating-point residue, and a currency no live message has goes away.
func TestRevenueIsExactAfterChanges(t *testing.T) {
	g := resourcemetrics.New()
	h := g.Handler()
	m1 := productMessage("m1", "1", commercev1alpha1.ProductMessageSent, commercev1alpha1.DeliveryRead, 2, 3, usd("0.1"), commercev1alpha1.Revenue{Currency: "EUR", Total: "12.5"})
	m2 := productMessage("m2", "2", commercev1alpha1.ProductMessageSent, commercev1alpha1.DeliveryRead, 0, 1, usd("0.2"))
	m3 := productMessage("m3", "3", commercev1alpha1.ProductMessageFailed, commercev1alpha1.DeliveryFailed, 1, 0, usd("not a number"))
	for _, m := range []*commercev1alpha1.ProductMessage{m1, m2, m3} {
		h.OnAdd(m, false)
	}
	want := empty()
	want[`whatsapp_product_messages{delivery="read",phase="Sent"}`] = 2
	want[`whatsapp_product_messages{delivery="failed",phase="Failed"}`] = 1
	want[`whatsapp_product_message_inquiries`] = 3
	want[`whatsapp_product_message_orders`] = 4
	// 0.3, not the 0.30000000000000004 that float64 sums make.
	want[`whatsapp_product_message_revenue{currency="USD"}`] = 0.3
	want[`whatsapp_product_message_revenue{currency="EUR"}`] = 12.5
	gather(t, g).expect(t, "after adds", want)

	m2b := productMessage("m2", "4", commercev1alpha1.ProductMessageSent, commercev1alpha1.DeliveryRead, 0, 2, usd("0.3"))
	h.OnUpdate(m2, m2b)
	h.OnDelete(m1)
	want[`whatsapp_product_messages{delivery="read",phase="Sent"}`] = 1
	want[`whatsapp_product_message_inquiries`] = 1
	want[`whatsapp_product_message_orders`] = 2
	delete(want, `whatsapp_product_message_revenue{currency="EUR"}`)
	gather(t, g).expect(t, "after an update and a delete", want)
	h.OnDelete(m2b)
	delete(want, `whatsapp_product_message_revenue{currency="USD"}`)
	delete(want, `whatsapp_product_messages{delivery="read",phase="Sent"}`)
	want[`whatsapp_product_message_orders`] = 0
	gather(t, g).expect(t, "after the last USD message is deleted", want)
}

// empty is what gauges without objects report: zeros for the condition series
// alerts watch, and for the funnel's sums.
func empty() series {
	s := series{`whatsapp_product_message_inquiries`: 0, `whatsapp_product_message_orders`: 0}
	for _, kind := range []string{"WhatsAppChannel", "WhatsAppOrder", "ProductInquiry", "ProductMessage"} {
		for _, typ := range []string{"Ready", "Reconciling", "Stalled"} {
			s[`whatsapp_resource_conditions{kind="`+kind+`",status="True",type="`+typ+`"}`] = 0
		}
	}
	return s
}

// series are the samples of a scrape, by name and labels as Prometheus' text
// format writes them.
type series map[string]float64

func gather(t *testing.T, c prometheus.Collector) series {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := series{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := f.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			out[name] = m.GetGauge().GetValue()
		}
	}
	return out
}

// expect fails unless s holds exactly want.
func (s series) expect(t *testing.T, when string, want series) {
	t.Helper()
	if !maps.Equal(s, want) {
		t.Errorf("%s the gauges are\n%s\nwant\n%s", when, s, want)
	}
}

func (s series) String() string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		lines = append(lines, fmt.Sprintf("  %s %v", k, s[k]))
	}
	return strings.Join(lines, "\n")
}

// BenchmarkScrape scrapes the gauges over HTTP, as Prometheus does, with
// 1,000 and 30,000 live objects: the time and bytes per scrape must not grow
// with the count.
func BenchmarkScrape(b *testing.B) {
	for _, live := range []int{1_000, 30_000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			g := populated(live)
			reg := prometheus.NewRegistry()
			reg.MustRegister(g)
			handler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("scrape answered %d", w.Code)
				}
			}
		})
	}
}

// BenchmarkStatusChange is what an order's status write costs the gauges.
func BenchmarkStatusChange(b *testing.B) {
	g := populated(30_000)
	h := g.Handler()
	pending := order("x", "1", cond("Validated", "True"), cond("CustomerNotified", "Unknown"), cond("Ready", "False"), cond("Reconciling", "True"))
	notified := order("x", "2", cond("Validated", "True"), cond("CustomerNotified", "True"), cond("Ready", "True"))
	h.OnAdd(pending, false)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			h.OnUpdate(pending, notified)
		} else {
			h.OnUpdate(notified, pending)
		}
	}
}

// populated is gauges holding live objects of every kind, with the spread of
// conditions, phases and currencies a busy shop has.
func populated(live int) *resourcemetrics.Gauges {
	g := resourcemetrics.New()
	h := g.Handler()
	statuses := []metav1.ConditionStatus{"True", "False", "Unknown"}
	phases := []commercev1alpha1.ProductMessagePhase{commercev1alpha1.ProductMessagePending, commercev1alpha1.ProductMessageSent, commercev1alpha1.ProductMessageFailed}
	deliveries := []commercev1alpha1.DeliveryStatus{commercev1alpha1.DeliverySent, commercev1alpha1.DeliveryDelivered, commercev1alpha1.DeliveryRead, commercev1alpha1.DeliveryFailed}
	currencies := []string{"EUR", "USD", "INR", "BRL"}
	for i := range live {
		name, rv := fmt.Sprintf("o-%d", i), fmt.Sprint(i+1)
		s := statuses[i%3]
		conds := []metav1.Condition{cond("Validated", "True"), cond("CustomerNotified", s), cond("Ready", s)}
		if i%50 == 0 {
			conds = append(conds, cond("Stalled", "True"))
		}
		switch i % 10 {
		case 0:
			m := productMessage(name, rv, phases[i%3], deliveries[i%4], int32(i%3), int32(i%2),
				commercev1alpha1.Revenue{Currency: currencies[i%4], Total: fmt.Sprintf("%d.%02d", i%100, i%97)})
			m.Status.Conditions = conds
			h.OnAdd(m, true)
		case 1:
			inq := &commercev1alpha1.ProductInquiry{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}}
			inq.Status.Conditions = conds
			h.OnAdd(inq, true)
		default:
			h.OnAdd(order(name, rv, conds...), true)
		}
	}
	return g
}
