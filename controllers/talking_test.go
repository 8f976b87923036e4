package controllers_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The contract's "Talking to customers", on the real API server.

const (
	userID      = "US.13491208655302741918"
	newerUserID = "US.13491208655302741919"
)

// orderFrom creates the order the receiver would create for a cart from c.
func (w *world) orderFrom(name string, c commercev1alpha1.Customer) *commercev1alpha1.WhatsAppOrder {
	w.t.Helper()
	o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: "shop", MessageID: "wamid." + name, ReceivedAt: metav1.NewTime(w.clock.Now()), Customer: c, CatalogID: "194836987003835",
		Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"}},
	}}
	w.create(o)
	return o
}

// A customer WhatsApp knows only by a user id is told through recipient,
// never to; once WhatsApp reports the id changed (the receiver records it in
// status.customerUserID), later messages go to the new id.
func TestCustomerKnownOnlyByUserID(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	order := w.orderFrom("username-user", commercev1alpha1.Customer{UserID: userID, Name: "sheena.sells"})
	w.setState(order, commercev1alpha1.OrderAccepted)
	w.waitOrder(order, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool { return notifiedReason(o) == commercev1alpha1.ReasonSent })
	sent := w.fake.Sent()
	if len(sent) != 1 || sent[0].To != "" || sent[0].Recipient != userID {
		t.Fatalf("want one message to recipient %s and none in to, got %+v", userID, sent)
	}
	if want := "wco1|WhatsAppOrder|" + w.ns + "|username-user|Accepted"; sent[0].CallbackData != want {
		t.Errorf("callback data %q, want %q", sent[0].CallbackData, want)
	}

	order.Status.CustomerUserID = newerUserID
	must(t, env.Client.Status().Update(ctx, order))
	w.setState(order, commercev1alpha1.OrderShipped)
	w.waitNotifications(order, 2)
	if sent := w.fake.Sent(); len(sent) != 2 || sent[1].Recipient != newerUserID || sent[1].To != "" {
		t.Fatalf("after the user id changed, want the message to %s, got %+v", newerUserID, sent)
	}
}

// A user id that an older receiver stored as the WhatsApp id is still never
// sent as a phone number.
func TestUserIDInTheWhatsAppIDIsNotAPhoneNumber(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	order := w.orderFrom("misfiled-user-id", commercev1alpha1.Customer{WaID: userID})
	w.setState(order, commercev1alpha1.OrderAccepted)
	w.waitOrder(order, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool { return notifiedReason(o) == commercev1alpha1.ReasonSent })
	if sent := w.fake.Sent(); len(sent) != 1 || sent[0].To != "" || sent[0].Recipient != userID {
		t.Fatalf("want the user id in recipient, got %+v", sent)
	}
}

// A notification WhatsApp accepted and then reported failed turns
// CustomerNotified False with a Warning event; when the window had closed,
// the channel's template goes out instead, once.
func TestFailureAfterAcceptance(t *testing.T) {
	template := func(s *commercev1alpha1.WhatsAppChannelSpec) {
		s.Notifications.Template = &commercev1alpha1.MessageTemplate{Name: "order_update", Language: "en_US", Parameters: []string{"{{.Order}}", "{{.State}}"}}
	}
	// The statuses come once the send is recorded: how a status that comes
	// earlier finds its message is the receiver's business, tested there.
	laterStatuses := worldOptions{autoStatus: true, statusDelay: 300 * time.Millisecond}
	// accept announces Accepted to a customer whose next n deliveries fail with code.
	accept := func(t *testing.T, code int64, n int, messageID string) (*world, *commercev1alpha1.WhatsAppOrder) {
		w := newWorldWith(t, commercev1alpha1.APICloud, laterStatuses, template)
		must(t, w.fake.FailDeliveryNext(code, n))
		order := w.placeOrder(messageID)
		w.setState(order, commercev1alpha1.OrderAccepted)
		return w, order
	}
	t.Run("undeliverable", func(t *testing.T) {
		w, order := accept(t, 131026, 1, "wamid.undeliverable")
		w.waitOrder(order, "CustomerNotified False, DeliveryFailed", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return notifiedReason(o) == commercev1alpha1.ReasonDeliveryFailed
		})
		c := meta.FindStatusCondition(order.Status.Conditions, commercev1alpha1.ConditionCustomerNotified)
		if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "131026") {
			t.Errorf("CustomerNotified %+v, want False naming the code", c)
		}
		if !meta.IsStatusConditionTrue(order.Status.Conditions, commercev1alpha1.ConditionStalled) {
			t.Error("a message that can never be delivered does not stall the order")
		}
		w.eventually("a Warning event", func() bool { return w.hasEvent(order, corev1.EventTypeWarning, "CustomerNotifiedDeliveryFailed") })
		if sent := w.fake.Sent(); len(sent) != 1 {
			t.Fatalf("an undeliverable message was followed by %d more", len(sent)-1)
		}
	})
	t.Run("window closed: the template, once", func(t *testing.T) {
		w, order := accept(t, 131047, 2, "wamid.closed-later")
		w.waitOrder(order, "the template recorded and failed too", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return len(o.Status.Notifications) == 2 && o.Status.Notifications[1].DeliveryStatus == commercev1alpha1.DeliveryFailed
		})
		sent := w.fake.Sent()
		if len(sent) != 2 || sent[0].Type != "text" || sent[1].TemplateName != "order_update" {
			t.Fatalf("want the text, then the template, got %+v", sent)
		}
		if n := order.Status.Notifications; n[0].Template != "" || n[1].Template != "order_update" || n[1].State != commercev1alpha1.OrderAccepted {
			t.Errorf("notifications %+v, want the text and the template announcing Accepted", n)
		}
		w.eventually("a Warning event for the text", func() bool { return w.hasEvent(order, corev1.EventTypeWarning, "CustomerNotifiedDeliveryFailed") })
		// The template failing as well is final: no third message.
		w.waitOrder(order, "DeliveryFailed", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return notifiedReason(o) == commercev1alpha1.ReasonDeliveryFailed
		})
		if sent := w.fake.Sent(); len(sent) != 2 {
			t.Fatalf("%d messages, want the text and one template", len(sent))
		}
	})
	t.Run("window closed, template delivered", func(t *testing.T) {
		w, order := accept(t, 131047, 1, "wamid.closed-then-template")
		w.waitOrder(order, "told with the template", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return len(o.Status.Notifications) == 2 && o.Status.Notifications[1].DeliveryStatus == commercev1alpha1.DeliveryRead
		})
		if !meta.IsStatusConditionTrue(order.Status.Conditions, commercev1alpha1.ConditionCustomerNotified) {
			t.Errorf("CustomerNotified %+v, want True after the template", meta.FindStatusCondition(order.Status.Conditions, commercev1alpha1.ConditionCustomerNotified))
		}
	})
}

// On-Premises template messages carry the channel's template namespace, and
// a channel without one is refused by the API server.
func TestOnPremisesTemplateNamespace(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APIOnPremises, func(s *commercev1alpha1.WhatsAppChannelSpec) {
		s.Notifications.Template = &commercev1alpha1.MessageTemplate{Name: "order_update", Language: "en", Namespace: "b1c2d3e4_f5a6_7890"}
	})
	order := w.placeOrder("ABGGFlCGg0cvAgo6cHbBhfK5760W")
	w.clock.SetTime(w.clock.Now().Add(25 * time.Hour))
	w.setState(order, commercev1alpha1.OrderAccepted)
	w.waitOrder(order, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool { return notifiedReason(o) == commercev1alpha1.ReasonSent })
	if sent := w.fake.Sent(); len(sent) != 1 || sent[0].TemplateNamespace != "b1c2d3e4_f5a6_7890" || sent[0].CallbackData != "" {
		t.Fatalf("want one template in namespace b1c2d3e4_f5a6_7890 without callback data, got %+v", sent)
	}

	bad := w.channel.DeepCopy()
	bad.ObjectMeta = metav1.ObjectMeta{Namespace: w.ns, Name: "no-namespace"}
	bad.Spec.Notifications.Template.Namespace = ""
	bad.Status = commercev1alpha1.WhatsAppChannelStatus{}
	err := env.Client.Create(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "notifications.template.namespace is required") {
		t.Fatalf("creating an On-Premises channel with a template but no namespace: %v", err)
	}
}
