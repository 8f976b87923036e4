package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
)

// inrCart is 2 x 499.50 INR + 1 x 150 INR: 1149 INR.
var inrCart = []commercev1alpha1.OrderItem{
	{ProductRetailerID: "kurta-blue", Quantity: 2, ItemPrice: "499.50", Currency: "INR"},
	{ProductRetailerID: "dupatta", Quantity: 1, ItemPrice: "150", Currency: "INR"},
}

// withGateway gives the channel a payment configuration.
func withGateway(spec *commercev1alpha1.WhatsAppChannelSpec) {
	spec.Payments = &commercev1alpha1.ChannelPayments{ConfigurationName: "razorpay-test"}
}

// billedOrder creates an order of items from the customer that asks for payment p.
func (w *world) billedOrder(name string, items []commercev1alpha1.OrderItem, p *commercev1alpha1.OrderPayment) *commercev1alpha1.WhatsAppOrder {
	w.t.Helper()
	return w.billedOrderAt(name, w.clock.Now(), items, p)
}

// billedOrderAt is billedOrder for a cart received at.
func (w *world) billedOrderAt(name string, at time.Time, items []commercev1alpha1.OrderItem, p *commercev1alpha1.OrderPayment) *commercev1alpha1.WhatsAppOrder {
	w.t.Helper()
	o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: "shop", MessageID: "wamid." + name, ReceivedAt: metav1.NewTime(at), CatalogID: "194836987003835",
		Customer: commercev1alpha1.Customer{WaID: customer, Name: "Priya"}, Items: items, Payment: p,
	}}
	w.create(o)
	return o
}

func paid(o *commercev1alpha1.WhatsAppOrder) *metav1.Condition {
	return meta.FindStatusCondition(o.Status.Conditions, commercev1alpha1.ConditionPaid)
}

func paidReason(o *commercev1alpha1.WhatsAppOrder) string {
	if c := paid(o); c != nil {
		return c.Reason
	}
	return ""
}

// sentOfType are the fake's accepted sends of type typ (text, template,
// order_details, order_status).
func (w *world) sentOfType(typ string) []fakewhatsapp.SentMessage {
	var out []fakewhatsapp.SentMessage
	for _, m := range w.fake.Sent() {
		if m.Type == typ || (m.Interactive != nil && m.Interactive.Type == typ) {
			out = append(out, m)
		}
	}
	return out
}

// The whole loop: the bill is sent once with exact amounts, the customer
// pays, and every later state updates the order card instead of a text.
func TestPaymentLoop(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud, withGateway)
	order := w.billedOrder("paid-order", inrCart, &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}, Tax: "57.45", Shipping: "40", Discount: "0.45"})
	w.waitOrder(order, "the bill recorded", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return o.Status.Payment != nil && o.Status.Payment.MessageID != "" && paidReason(o) == commercev1alpha1.ReasonPaymentRequested
	})
	bills := w.sentOfType("order_details")
	if len(bills) != 1 {
		t.Fatalf("the fake got %d order_details messages, want exactly 1: %+v", len(bills), w.fake.Sent())
	}
	ref := bill.Reference(w.ns, order.Name, string(order.UID))
	b := bills[0].Interactive
	// 999 + 150 + 57.45 + 40 - 0.45 = 1246 INR.
	if b.ReferenceID != ref || b.Currency != "INR" || b.Total == nil || *b.Total != (bill.Money{Value: 124600, Offset: 100}) {
		t.Fatalf("bill %+v (total %+v), want reference %s, 124600/100 INR", b, b.Total, ref)
	}
	st := order.Status.Payment
	if st.ReferenceID != ref || st.Status != commercev1alpha1.PaymentRequested || st.CallbackData != "wco1|WhatsAppOrder|"+w.ns+"|paid-order|Payment" || st.MessageID != bills[0].MessageID {
		t.Fatalf("status.payment %+v", st)
	}
	w.eventually("a PaymentRequested event", func() bool { return w.hasEvent(order, corev1.EventTypeNormal, commercev1alpha1.ReasonPaymentRequested) })

	must(t, w.fake.Pay(ctx, w.webhookURL(), []byte(appSecret), ref, fakewhatsapp.Pays))
	w.waitOrder(order, "Paid", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionPaid)
	})
	if st := order.Status.Payment; st.Status != commercev1alpha1.PaymentCaptured || st.Amount != "1246" || st.Currency != "INR" {
		t.Fatalf("status.payment %+v, want Captured 1246 INR", st)
	}
	w.eventually("a PaymentCaptured event", func() bool { return w.hasEvent(order, corev1.EventTypeNormal, commercev1alpha1.ReasonPaymentCaptured) })

	for i, step := range []struct {
		state commercev1alpha1.OrderState
		card  string
	}{{commercev1alpha1.OrderAccepted, "processing"}, {commercev1alpha1.OrderShipped, "shipped"}, {commercev1alpha1.OrderDelivered, "completed"}} {
		w.setState(order, step.state)
		w.waitNotifications(order, i+1)
		cards := w.sentOfType("order_status")
		if len(cards) != i+1 {
			t.Fatalf("after %s the fake got %d order cards, want %d: %+v", step.state, len(cards), i+1, w.fake.Sent())
		}
		if c := cards[i].Interactive; c.ReferenceID != ref || c.OrderStatus != step.card {
			t.Fatalf("the card for %s says %q about %s, want %q about %s", step.state, c.OrderStatus, c.ReferenceID, step.card, ref)
		}
	}
	if texts := w.sentOfType("text"); len(texts) != 0 {
		t.Fatalf("an order with a bill was told in text: %+v", texts)
	}
	if n := len(w.fake.Sent()); n != 4 {
		t.Fatalf("the fake got %d messages, want the bill and 3 cards: %+v", n, w.fake.Sent())
	}
	w.waitOrder(order, "every card recorded as sent", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return notifiedReason(o) == commercev1alpha1.ReasonSent
	})
}

// What can never be paid is refused before anything is sent, with a reason
// a person understands.
func TestPaymentRefused(t *testing.T) {
	gateway := &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}}
	for _, tc := range []struct {
		name    string
		api     commercev1alpha1.APIGeneration
		channel func(*commercev1alpha1.WhatsAppChannelSpec)
		items   []commercev1alpha1.OrderItem
		payment *commercev1alpha1.OrderPayment
		says    string
	}{
		{"currency", commercev1alpha1.APICloud, withGateway, []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "10", Currency: "USD"}}, gateway, "takes only INR"},
		{"pix in INR", commercev1alpha1.APICloud, withGateway, inrCart, &commercev1alpha1.OrderPayment{Pix: &commercev1alpha1.PixPayment{Code: "000201", MerchantName: "Loja", Key: "a@b.c", KeyType: "EMAIL"}}, "takes only BRL"},
		{"fraction of a cent", commercev1alpha1.APICloud, withGateway, []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 3, ItemPrice: "0.333", Currency: "INR"}}, gateway, "0.333"},
		{"invalid cart", commercev1alpha1.APICloud, withGateway, []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "INR"}, {ProductRetailerID: "b", Quantity: 1, ItemPrice: "1", Currency: "USD"}}, gateway, "cart is invalid"},
		{"no configuration", commercev1alpha1.APICloud, func(*commercev1alpha1.WhatsAppChannelSpec) {}, inrCart, gateway, "names no configuration"},
		{"On-Premises", commercev1alpha1.APIOnPremises, withGateway, inrCart, gateway, "Cloud API only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.api, tc.channel)
			order := w.billedOrder("refused", tc.items, tc.payment)
			w.waitOrder(order, "Paid False PaymentNotPossible", func(o *commercev1alpha1.WhatsAppOrder) bool {
				return paidReason(o) == commercev1alpha1.ReasonPaymentNotPossible
			})
			if c := paid(order); c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, tc.says) {
				t.Fatalf("Paid %s %q, want False saying %q", c.Status, c.Message, tc.says)
			}
			if order.Status.Payment != nil || len(w.fake.Sent()) != 0 {
				t.Fatalf("a refused payment sent something: status %+v, sent %+v", order.Status.Payment, w.fake.Sent())
			}
			w.eventually("a PaymentNotPossible Warning", func() bool {
				return w.hasEvent(order, corev1.EventTypeWarning, commercev1alpha1.ReasonPaymentNotPossible)
			})
		})
	}
}

// Outside the 24-hour window the bill is the channel's order-details
// template, and without one nothing is sent and Paid says why.
func TestPaymentWindowClosed(t *testing.T) {
	t.Run("no template", func(t *testing.T) {
		w := newWorld(t, commercev1alpha1.APICloud, withGateway)
		order := w.billedOrderAt("late", w.clock.Now().Add(-25*time.Hour), inrCart, &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}})
		w.waitOrder(order, "Paid False WindowClosed", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return paidReason(o) == commercev1alpha1.ReasonWindowClosed
		})
		if len(w.fake.Sent()) != 0 || order.Status.Payment != nil {
			t.Fatalf("sent %+v, status.payment %+v, want nothing", w.fake.Sent(), order.Status.Payment)
		}
	})
	t.Run("template", func(t *testing.T) {
		w := newWorld(t, commercev1alpha1.APICloud, func(s *commercev1alpha1.WhatsAppChannelSpec) {
			withGateway(s)
			s.Payments.OrderDetailsTemplate = &commercev1alpha1.PaymentTemplate{Name: "order_bill", Language: "en"}
		})
		order := w.billedOrderAt("late-template", w.clock.Now().Add(-25*time.Hour), inrCart, &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}})
		w.waitOrder(order, "the bill sent", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return o.Status.Payment != nil && o.Status.Payment.MessageID != ""
		})
		sent := w.fake.Sent()
		if len(sent) != 1 || sent[0].Type != "template" || sent[0].TemplateName != "order_bill" {
			t.Fatalf("want the order_bill template once, got %+v", sent)
		}
	})
}

// A bill whose payment WhatsApp never reports is looked up once it waited
// the lookup time, and the lookup's answer is applied like a webhook's.
func TestPaymentLookup(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud, withGateway)
	order := w.billedOrder("silent", inrCart, &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}})
	w.waitOrder(order, "the bill recorded", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return o.Status.Payment != nil && o.Status.Payment.MessageID != ""
	})
	ref := order.Status.Payment.ReferenceID
	must(t, w.fake.PayUnreported(ref))
	w.touch(order)
	time.Sleep(time.Second)
	if w.fake.Lookups(ref) != 0 || w.get(order).(*commercev1alpha1.WhatsAppOrder).Status.Payment.Status != commercev1alpha1.PaymentRequested {
		t.Fatalf("looked up %d times before the lookup time", w.fake.Lookups(ref))
	}
	w.clock.SetTime(w.clock.Now().Add(16 * time.Minute))
	w.touch(order)
	w.waitOrder(order, "Paid from the lookup", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionPaid)
	})
	if st := order.Status.Payment; st.Status != commercev1alpha1.PaymentCaptured || st.Amount != "1149" || st.TransactionID != "pay_fake_lookup" || st.Method != "upi" {
		t.Fatalf("status.payment %+v, want captured 1149 by pay_fake_lookup", st)
	}
	w.eventually("a PaymentCaptured event", func() bool { return w.hasEvent(order, corev1.EventTypeNormal, commercev1alpha1.ReasonPaymentCaptured) })
	lookups := w.fake.Lookups(ref)
	w.clock.SetTime(w.clock.Now().Add(time.Hour))
	w.touch(order)
	time.Sleep(time.Second)
	if n := w.fake.Lookups(ref); n != lookups {
		t.Fatalf("a captured payment was looked up again (%d lookups, then %d)", lookups, n)
	}
}

// WhatsApp reports nothing about Pix or link payments: the business records
// the payment once (spec.recordedPayment), and the bill is captured.
func TestRecordedPayment(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	brl := []commercev1alpha1.OrderItem{{ProductRetailerID: "camiseta", Quantity: 2, ItemPrice: "49.95", Currency: "BRL"}}
	order := w.billedOrder("pix", brl, &commercev1alpha1.OrderPayment{Pix: &commercev1alpha1.PixPayment{
		Code: "00020101021226700014br.gov.bcb.pix", MerchantName: "Loja Exemplo", Key: "39580525000189", KeyType: "CNPJ"}})
	w.waitOrder(order, "the bill recorded", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return o.Status.Payment != nil && o.Status.Payment.MessageID != ""
	})
	paidAt := metav1.NewTime(w.clock.Now().Add(time.Minute))
	record := func(tx string) error {
		patch := fmt.Appendf(nil, `{"spec":{"recordedPayment":{"transactionID":%q,"paidAt":%q}}}`, tx, paidAt.UTC().Format(time.RFC3339))
		return env.Client.Patch(ctx, order, client.RawPatch("application/merge-patch+json", patch))
	}
	must(t, record("E18236120202612071500s0123456789"))
	w.waitOrder(order, "Paid", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionPaid)
	})
	if st := order.Status.Payment; st.Status != commercev1alpha1.PaymentCaptured || st.Amount != "99.90" || st.Currency != "BRL" || st.TransactionID != "E18236120202612071500s0123456789" {
		t.Fatalf("status.payment %+v, want captured 99.90 BRL", st)
	}
	w.eventually("a PaymentCaptured event", func() bool { return w.hasEvent(order, corev1.EventTypeNormal, commercev1alpha1.ReasonPaymentCaptured) })
	if err := record("another"); err == nil || !strings.Contains(err.Error(), "recordedPayment is immutable once set") {
		t.Fatalf("changing the recorded payment: %v, want refused as immutable", err)
	}

	gw := w.billedOrder("gateway", inrCart, &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{ConfigurationName: "razorpay-test"}})
	patch := fmt.Appendf(nil, `{"spec":{"recordedPayment":{"transactionID":"x","paidAt":%q}}}`, paidAt.UTC().Format(time.RFC3339))
	if err := env.Client.Patch(ctx, gw, client.RawPatch("application/merge-patch+json", patch)); err == nil || !strings.Contains(err.Error(), "a gateway payment is reported by WhatsApp") {
		t.Fatalf("recording a gateway payment: %v, want refused", err)
	}
}
