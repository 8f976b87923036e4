package controllers

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func TestNextBill(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	items := []commercev1alpha1.OrderItem{{ProductRetailerID: "kurta", Quantity: 2, ItemPrice: "499.50", Currency: "INR"}}
	gateway := &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}}
	cloud := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Name: "shop"}, Spec: commercev1alpha1.WhatsAppChannelSpec{
		API: commercev1alpha1.APICloud, Payments: &commercev1alpha1.ChannelPayments{ConfigurationName: "rzp"}}}
	sent := func(status commercev1alpha1.PaymentState, ago time.Duration) *commercev1alpha1.OrderPaymentStatus {
		return &commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1", Status: status,
			SentMessage: commercev1alpha1.SentMessage{MessageID: "wamid.bill", CallbackData: "cb", SentAt: &metav1.Time{Time: now.Add(-ago)}}}
	}
	for _, tc := range []struct {
		name     string
		state    commercev1alpha1.OrderState
		phase    commercev1alpha1.OrderPhase
		payment  *commercev1alpha1.OrderPayment
		status   *commercev1alpha1.OrderPaymentStatus
		received time.Duration
		want     stepKind
		refusal  string
		template bool
		lookupIn *time.Duration
	}{
		{name: "no payment asked", want: stepNone},
		{name: "send", payment: gateway, want: stepSend},
		{name: "window closed: the template", payment: gateway, received: 25 * time.Hour, want: stepSend, template: true},
		{name: "final order", state: commercev1alpha1.OrderCancelled, phase: "Cancelled", payment: gateway, want: stepNone, refusal: "a final order"},
		{name: "invalid cart", phase: commercev1alpha1.OrderPhaseInvalid, payment: gateway, want: stepNone, refusal: "cart is invalid"},
		{name: "a fresh intent waits", payment: gateway, status: &commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1",
			SentMessage: commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: &metav1.Time{Time: now.Add(-time.Minute)}}}, want: stepAwait},
		{name: "a timed-out intent is sent again", payment: gateway, status: &commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1",
			SentMessage: commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: &metav1.Time{Time: now.Add(-time.Hour)}}}, want: stepSend},
		{name: "a final order's sent bill is still looked up", state: commercev1alpha1.OrderDelivered, payment: gateway, status: sent(commercev1alpha1.PaymentRequested, time.Hour), want: stepNone, lookupIn: new(-45 * time.Minute)},
		{name: "lookup not yet due", payment: gateway, status: sent(commercev1alpha1.PaymentPending, 5*time.Minute), want: stepNone, lookupIn: new(10 * time.Minute)},
		{name: "captured: no lookup", payment: gateway, status: sent(commercev1alpha1.PaymentCaptured, time.Hour), want: stepNone},
		{name: "pix: no lookup", payment: &commercev1alpha1.OrderPayment{Link: &commercev1alpha1.LinkPayment{URI: "https://pay.example/x"}}, status: sent(commercev1alpha1.PaymentRequested, time.Hour), want: stepNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "o", UID: "u"}, Spec: commercev1alpha1.WhatsAppOrderSpec{
				Channel: "shop", State: tc.state, Items: items, Payment: tc.payment, ReceivedAt: metav1.NewTime(now.Add(-tc.received))},
				Status: commercev1alpha1.WhatsAppOrderStatus{Payment: tc.status}}
			phase := tc.phase
			if phase == "" {
				phase = commercev1alpha1.OrderPhase(commercev1alpha1.OrderPending)
			}
			got := nextBill(o, cloud, phase, now, seenWhenWritten(sentMessages(o)...), 15*time.Minute)
			if got.kind != tc.want || got.template != tc.template || (tc.refusal == "") != (got.refusal == "") || !strings.Contains(got.refusal, tc.refusal) {
				t.Fatalf("nextBill = kind %d template %v refusal %q, want kind %d template %v refusal %q", got.kind, got.template, got.refusal, tc.want, tc.template, tc.refusal)
			}
			if (tc.lookupIn == nil) != (got.lookupIn == nil) || (tc.lookupIn != nil && *tc.lookupIn != *got.lookupIn) {
				t.Fatalf("lookupIn = %v, want %v", got.lookupIn, tc.lookupIn)
			}
			if got.kind == stepSend && (got.details.Bill.Total.Value != 99900 || got.details.Settings.Gateway.ConfigurationName != "rzp" || got.details.GoodsType != "physical-goods") {
				t.Fatalf("bill %+v", got.details)
			}
		})
	}
}

func TestPaymentEvents(t *testing.T) {
	c := func(reason, msg string) *metav1.Condition { return &metav1.Condition{Reason: reason, Message: msg} }
	for _, tc := range []struct {
		name          string
		before, after *metav1.Condition
		eventType     string
		reason        string
	}{
		{"requested", nil, c(commercev1alpha1.ReasonPaymentRequested, "sent"), "Normal", commercev1alpha1.ReasonPaymentRequested},
		{"unchanged", c(commercev1alpha1.ReasonPaymentRequested, "sent"), c(commercev1alpha1.ReasonPaymentRequested, "sent"), "", ""},
		{"captured", c(commercev1alpha1.ReasonPaymentPending, "p"), c(commercev1alpha1.ReasonPaymentCaptured, "c"), "Normal", commercev1alpha1.ReasonPaymentCaptured},
		{"refunded", c(commercev1alpha1.ReasonPaymentCaptured, "c"), c(commercev1alpha1.ReasonPaymentCaptured, "c; 1 refunds reported"), "Normal", commercev1alpha1.ReasonPaymentRefunded},
		{"failed", c(commercev1alpha1.ReasonPaymentPending, "p"), c(commercev1alpha1.ReasonPaymentFailed, "f"), "Warning", commercev1alpha1.ReasonPaymentFailed},
		{"failed again, other words", c(commercev1alpha1.ReasonPaymentFailed, "f"), c(commercev1alpha1.ReasonPaymentFailed, "g"), "", ""},
		{"not possible", nil, c(commercev1alpha1.ReasonPaymentNotPossible, "INR only"), "Warning", commercev1alpha1.ReasonPaymentNotPossible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, reason, ok := paymentEvents(tc.before, tc.after)
			if ok != (tc.reason != "") || typ != tc.eventType || reason != tc.reason {
				t.Fatalf("paymentEvents = %q %q %v, want %q %q", typ, reason, ok, tc.eventType, tc.reason)
			}
		})
	}
}
