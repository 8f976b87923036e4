package controllers_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// The same event has the same outcome on every kind that messages customers,
// and retention ends each of them, on the real API server.

// fiveSeconds is a channel retention short enough to wait out in a test.
func fiveSeconds(s *commercev1alpha1.WhatsAppChannelSpec) {
	s.Retention = &metav1.Duration{Duration: 5 * time.Second}
}

// deletedOnceRetentionEnds moves the clock past the retention of obj, which
// just finished, and waits for it to be deleted: without touching it, as
// nothing but the requeue of the pass that finished it will wake it.
func (w *world) deletedOnceRetentionEnds(obj, into client.Object) {
	w.t.Helper()
	w.clock.SetTime(w.clock.Now().Add(6 * time.Second))
	w.eventually("deleted after the retention period, with nothing waking it", func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), into))
	})
}

func TestRetentionDeletesWhatFinishedWithoutAWake(t *testing.T) {
	t.Run("order", func(t *testing.T) {
		w := newWorld(t, commercev1alpha1.APICloud, fiveSeconds)
		order := w.placeOrder("wamid.retained-order")
		for i, state := range []commercev1alpha1.OrderState{commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped, commercev1alpha1.OrderDelivered} {
			w.setState(order, state)
			w.waitNotifications(order, i+1)
		}
		w.waitOrder(order, "finished", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.FinishedAt != nil })
		w.deletedOnceRetentionEnds(order, &commercev1alpha1.WhatsAppOrder{})
	})
	t.Run("inquiry", func(t *testing.T) {
		w := newWorld(t, commercev1alpha1.APICloud, fiveSeconds)
		q := w.ask("wamid.retained-question")
		w.waitInquiry(q, commercev1alpha1.InquiryOpen)
		w.reply(q, "Yes, in stock!")
		w.waitInquiry(q, commercev1alpha1.InquiryAnswered)
		w.deletedOnceRetentionEnds(q, &commercev1alpha1.ProductInquiry{})
	})
	t.Run("product message", func(t *testing.T) {
		w := newWorld(t, commercev1alpha1.APICloud, fiveSeconds)
		pm := w.productMessage("retained-message", singleProduct)
		w.waitMessage(pm, "sent and finished", func(pm *commercev1alpha1.ProductMessage) bool { return pm.Status.FinishedAt != nil })
		w.deletedOnceRetentionEnds(pm, &commercev1alpha1.ProductMessage{})
	})
}

// An order whose cart is invalid, then rejected or cancelled, is over: it
// finishes and leaves with retention.
func TestInvalidOrderRejectedFinishes(t *testing.T) {
	for _, state := range []commercev1alpha1.OrderState{commercev1alpha1.OrderRejected, commercev1alpha1.OrderCancelled} {
		t.Run(string(state), func(t *testing.T) {
			w := newWorld(t, commercev1alpha1.APICloud, fiveSeconds)
			order := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "typed-in"}, Spec: commercev1alpha1.WhatsAppOrderSpec{
				Channel: "shop", MessageID: "m", ReceivedAt: metav1.NewTime(w.clock.Now()), Customer: commercev1alpha1.Customer{WaID: customer}, CatalogID: "c",
				Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "XYZ"}},
			}}
			w.create(order)
			w.waitOrder(order, "phase Invalid", func(o *commercev1alpha1.WhatsAppOrder) bool {
				return o.Status.Phase == commercev1alpha1.OrderPhaseInvalid
			})
			if order.Status.FinishedAt != nil {
				t.Fatal("an invalid order the business has not decided on is finished")
			}
			w.setState(order, state)
			w.waitOrder(order, "finished", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.FinishedAt != nil })
			if order.Status.Phase != commercev1alpha1.OrderPhaseInvalid {
				t.Errorf("phase %s, want Invalid still", order.Status.Phase)
			}
			w.deletedOnceRetentionEnds(order, &commercev1alpha1.WhatsAppOrder{})
			if n := len(w.fake.Sent()); n != 0 {
				t.Fatalf("%d messages sent about an invalid cart", n)
			}
		})
	}
}

// A reply or a product message that WhatsApp accepted and then reports
// failed turns its outcome condition False with a Warning event and stalls,
// as an order's notification does (TestFailureAfterAcceptance).
func TestFailureAfterAcceptanceOnEveryKind(t *testing.T) {
	// The statuses come once the send is recorded, or before: either way the
	// same outcome (an intent resolved by "failed" is a late failure too).
	laterStatuses := worldOptions{autoStatus: true, statusDelay: 300 * time.Millisecond}
	t.Run("reply", func(t *testing.T) {
		w := newWorldWith(t, commercev1alpha1.APICloud, laterStatuses)
		must(t, w.fake.FailDeliveryNext(131026, 1))
		q := w.ask("wamid.reply-undeliverable")
		w.waitInquiry(q, commercev1alpha1.InquiryOpen)
		w.reply(q, "Yes, in stock!")
		w.waitInquiry(q, commercev1alpha1.InquiryFailed)
		c := meta.FindStatusCondition(q.Status.Conditions, commercev1alpha1.ConditionAnswered)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != commercev1alpha1.ReasonDeliveryFailed || !strings.Contains(c.Message, "131026") {
			t.Errorf("Answered %+v, want False DeliveryFailed naming the code", c)
		}
		if !meta.IsStatusConditionTrue(q.Status.Conditions, commercev1alpha1.ConditionStalled) {
			t.Error("a reply that can never be delivered does not stall the inquiry")
		}
		w.eventually("a Warning event", func() bool { return w.hasEvent(q, corev1.EventTypeWarning, string(commercev1alpha1.InquiryFailed)) })
		if n := len(w.fake.Sent()); n != 1 {
			t.Fatalf("an undeliverable reply was followed by %d more", n-1)
		}
	})
	t.Run("product message", func(t *testing.T) {
		w := newWorldWith(t, commercev1alpha1.APICloud, laterStatuses)
		must(t, w.fake.FailDeliveryNext(131026, 1))
		pm := w.productMessage("undeliverable", singleProduct)
		w.waitMessage(pm, "Failed, DeliveryFailed", func(pm *commercev1alpha1.ProductMessage) bool {
			return pm.Status.Phase == commercev1alpha1.ProductMessageFailed && sentReason(pm) == commercev1alpha1.ReasonDeliveryFailed
		})
		c := meta.FindStatusCondition(pm.Status.Conditions, commercev1alpha1.ConditionSent)
		if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "131026") {
			t.Errorf("Sent %+v, want False naming the code", c)
		}
		if !meta.IsStatusConditionTrue(pm.Status.Conditions, commercev1alpha1.ConditionStalled) {
			t.Error("a product message that can never be delivered does not stall")
		}
		w.eventually("a Warning event", func() bool { return w.hasEvent(pm, corev1.EventTypeWarning, commercev1alpha1.ReasonDeliveryFailed) })
		if n := len(w.fake.Sent()); n != 1 {
			t.Fatalf("an undeliverable product message was followed by %d more", n-1)
		}
	})
}

// A reply set on an inquiry a ProductMessage answered is not sent, and an
// Event says so.
func TestDroppedReplyIsSaid(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	q := w.ask("wamid.answered-with-products")
	w.waitInquiry(q, commercev1alpha1.InquiryOpen)
	pm := w.productMessage("answer", func(s *commercev1alpha1.ProductMessageSpec) { s.Inquiry = q.Name })
	w.waitMessage(pm, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	w.waitInquiry(q, commercev1alpha1.InquiryAnswered)
	w.reply(q, "Yes, in stock!")
	w.eventually("a Warning event", func() bool { return w.hasEvent(q, corev1.EventTypeWarning, commercev1alpha1.ReasonReplyNotSent) })
	testenv.Consistently(t, 300*time.Millisecond, "no reply sent", func() bool { return len(w.fake.Sent()) == 1 })
}
