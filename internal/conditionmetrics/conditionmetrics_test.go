package conditionmetrics_test

import (
	"context"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/conditionmetrics"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

func TestCountsConditionsByKindTypeAndStatus(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	conditions := [][]metav1.Condition{
		{{Type: "Ready", Status: metav1.ConditionFalse}, {Type: "Stalled", Status: metav1.ConditionTrue}},
		{{Type: "Ready", Status: metav1.ConditionFalse}, {Type: "Stalled", Status: metav1.ConditionTrue}},
		{{Type: "Ready", Status: metav1.ConditionTrue}},
		nil, // not reconciled yet
	}
	for _, conds := range conditions {
		o := &commercev1alpha1.WhatsAppOrder{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "order-"},
			Spec: commercev1alpha1.WhatsAppOrderSpec{
				Channel: "shop", MessageID: "wamid.1", ReceivedAt: metav1.Now(), CatalogID: "1",
				Customer: commercev1alpha1.Customer{WaID: "1"},
				Items:    []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "EUR"}},
			},
		}
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		for _, c := range conds {
			c.Reason, c.Message = "Test", "test"
			meta.SetStatusCondition(&o.Status.Conditions, c)
		}
		if len(conds) > 0 {
			if err := env.Client.Status().Update(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}

	reg := prometheus.NewPedanticRegistry()
	if err := conditionmetrics.Register(reg, conditionmetrics.New(env.Client)); err != nil {
		t.Fatal(err)
	}
	// Registering a second collector replaces the first instead of failing.
	if err := conditionmetrics.Register(reg, conditionmetrics.New(env.Client)); err != nil {
		t.Fatalf("registering again: %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[[3]string]float64{}
	for _, f := range families {
		if f.GetName() != conditionmetrics.Name || f.GetType() != dto.MetricType_GAUGE {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			got[[3]string{l["kind"], l["type"], l["status"]}] = m.GetGauge().GetValue()
		}
	}
	want := map[[3]string]float64{
		{"WhatsAppOrder", "Ready", "False"}:      2,
		{"WhatsAppOrder", "Ready", "True"}:       1,
		{"WhatsAppOrder", "Stalled", "True"}:     2,
		{"WhatsAppOrder", "Reconciling", "True"}: 0,
		// Kinds without resources still report the conditions alerts watch.
		{"ProductInquiry", "Stalled", "True"}: 0,
		{"WhatsAppChannel", "Ready", "True"}:  0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s{kind=%s,type=%s,status=%s} = %v (present %v), want %v", conditionmetrics.Name, k[0], k[1], k[2], g, ok, v)
		}
	}
}
