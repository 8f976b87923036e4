package controllers_test

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// An order and an inquiry on a channel that does not exist yet wait for it,
// saying so in Ready and Reconciling, and go out as soon as the channel turns
// Ready: its watch wakes them, well before any poll would.
func TestResourcesWaitForTheirChannelAndWakeWhenItIsReady(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	received := metav1.NewTime(w.clock.Now())
	order := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "early-order"}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: "later", MessageID: "wamid.early-order", ReceivedAt: received, Customer: commercev1alpha1.Customer{WaID: customer}, CatalogID: "c",
		Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "USD"}},
	}}
	w.create(order)
	inquiry := &commercev1alpha1.ProductInquiry{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "early-inquiry"}, Spec: commercev1alpha1.ProductInquirySpec{
		Channel: "later", MessageID: "wamid.early-inquiry", ReceivedAt: received, Customer: commercev1alpha1.Customer{WaID: customer},
		Product: commercev1alpha1.ProductReference{CatalogID: "c", ProductRetailerID: "a"}, Reply: &commercev1alpha1.InquiryReply{Text: "Yes, in stock"},
	}}
	w.create(inquiry)
	w.setState(order, commercev1alpha1.OrderAccepted)

	waiting := func(conds []metav1.Condition, readyPrefix string) bool {
		ready := meta.FindStatusCondition(conds, commercev1alpha1.ConditionReady)
		rec := meta.FindStatusCondition(conds, commercev1alpha1.ConditionReconciling)
		return ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == commercev1alpha1.ReasonChannelNotReady &&
			strings.HasPrefix(ready.Message, readyPrefix) && rec != nil && rec.Reason == commercev1alpha1.ReasonChannelNotReady
	}
	w.waitOrder(order, "the order waiting for its channel", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return notifiedReason(o) == commercev1alpha1.ReasonChannelNotReady && waiting(o.Status.Conditions, "notifying the customer: ")
	})
	w.eventually("the inquiry waiting for its channel, saying it is replying", func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(inquiry), inquiry)
		return inquiry.Status.Phase == commercev1alpha1.InquiryOpen && waiting(inquiry.Status.Conditions, "replying: ")
	})

	start := time.Now()
	w.create(&commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "later"}, Spec: commercev1alpha1.WhatsAppChannelSpec{
		APIURL: w.fake.URL(), PhoneNumberID: w.channel.Spec.PhoneNumberID, SecretRef: commercev1alpha1.SecretReference{Name: "wa"},
	}})
	w.waitOrder(order, "the order notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return notifiedReason(o) == commercev1alpha1.ReasonSent
	})
	w.waitInquiry(inquiry, commercev1alpha1.InquiryAnswered)
	t.Logf("both sent %s after the channel was created", time.Since(start).Round(time.Millisecond))
	for _, conds := range [][]metav1.Condition{order.Status.Conditions, inquiry.Status.Conditions} {
		if c := meta.FindStatusCondition(conds, commercev1alpha1.ConditionReconciling); c != nil {
			t.Errorf("Reconciling %+v stayed once the work was done", c)
		}
		if !meta.IsStatusConditionTrue(conds, commercev1alpha1.ConditionReady) {
			t.Errorf("not Ready once sent: %+v", conds)
		}
	}
	if n := len(w.fake.Sent()); n != 2 {
		t.Fatalf("the fake API got %d messages, want the notification and the reply", n)
	}
}

// reconciles is how many reconciles the controller named has finished, in
// every manager this test process ran.
func reconciles(t *testing.T, controller string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	must(t, err)
	var n float64
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" && l.GetValue() == controller {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

// The receiver's delivery-status writes change nothing the order controller
// acts on, so they start no reconcile.
func TestDeliveryStatusesStartNoReconcile(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	order := w.placeOrder("wamid.quiet")
	w.setState(order, commercev1alpha1.OrderAccepted)
	w.waitOrder(order, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool { return notifiedReason(o) == commercev1alpha1.ReasonSent })
	settled := reconciles(t, "whatsapporder")
	testenv.Consistently(t, 300*time.Millisecond, "the order settled", func() bool { return reconciles(t, "whatsapporder") == settled })

	must(t, w.fake.PostStatuses(ctx, w.webhookURL(), []byte(appSecret), whatsapp.Cloud, order.Status.Notifications[0].MessageID, customer,
		[]string{"sent", "delivered", "read"}, false))
	w.waitOrder(order, "delivery status read", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return o.Status.Notifications[0].DeliveryStatus == commercev1alpha1.DeliveryRead
	})
	testenv.Consistently(t, 500*time.Millisecond, "no reconcile after three delivery statuses", func() bool {
		return reconciles(t, "whatsapporder") == settled
	})
}
