package v1alpha1_test

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func gatewayPayment() *commercev1alpha1.OrderPayment {
	return &commercev1alpha1.OrderPayment{
		Gateway:  &commercev1alpha1.GatewayPayment{ConfigurationName: "razorpay-prod"},
		Tax:      "12.50",
		Shipping: "50",
		Discount: "0.5",
	}
}

func TestPaymentSpecIsValidated(t *testing.T) {
	ns := env.Namespace(t)
	pix := &commercev1alpha1.PixPayment{Code: "00020101021226700014br.gov.bcb.pix", MerchantName: "Loja", Key: "39580525000189", KeyType: "CNPJ"}
	cases := []struct {
		name    string
		payment *commercev1alpha1.OrderPayment
		message string // "" when the order is accepted
	}{
		{"gateway", gatewayPayment(), ""},
		{"gateway naming no configuration (the channel's default)", &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}}, ""},
		{"pix", &commercev1alpha1.OrderPayment{Pix: pix, GoodsType: commercev1alpha1.GoodsDigital}, ""},
		{"link", &commercev1alpha1.OrderPayment{Link: &commercev1alpha1.LinkPayment{URI: "https://rzp.io/i/rNiAagU8y"}}, ""},
		{"no method", &commercev1alpha1.OrderPayment{Tax: "1"}, "payment needs exactly one method: gateway, pix or link"},
		{"two methods", &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}, Pix: pix}, "payment needs exactly one method: gateway, pix or link"},
		{"tax with a comma", func() *commercev1alpha1.OrderPayment { p := gatewayPayment(); p.Tax = "1,50"; return p }(), `spec.payment.tax: Invalid value: "1,50"`},
		{"negative shipping", func() *commercev1alpha1.OrderPayment { p := gatewayPayment(); p.Shipping = "-5"; return p }(), `spec.payment.shipping: Invalid value: "-5"`},
		{"discount in exponent form", func() *commercev1alpha1.OrderPayment { p := gatewayPayment(); p.Discount = "1e2"; return p }(), `spec.payment.discount: Invalid value: "1e2"`},
		{"link over http", &commercev1alpha1.OrderPayment{Link: &commercev1alpha1.LinkPayment{URI: "http://pay.example/x"}}, "spec.payment.link.uri"},
		{"unknown goods type", func() *commercev1alpha1.OrderPayment { p := gatewayPayment(); p.GoodsType = "services"; return p }(), `spec.payment.goodsType: Unsupported value: "services"`},
		{"unknown pix key type", &commercev1alpha1.OrderPayment{Pix: &commercev1alpha1.PixPayment{Code: "x", MerchantName: "y", Key: "z", KeyType: "IBAN"}}, `spec.payment.pix.keyType: Unsupported value: "IBAN"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrder(ns)
			o.Spec.Payment = tc.payment
			err := env.Client.Create(ctx, o)
			if tc.message == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			expectInvalid(t, err, tc.message)
		})
	}
}

func TestPaymentIsSetOnceWhileTheOrderIsNotFinal(t *testing.T) {
	ns := env.Namespace(t)

	t.Run("added to a Pending order, then immutable", func(t *testing.T) {
		o := newOrder(ns)
		mustCreate(t, o)
		o.Spec.Payment = gatewayPayment()
		if err := env.Client.Update(ctx, o); err != nil {
			t.Fatalf("adding a payment: %v", err)
		}
		changed := o.DeepCopy()
		changed.Spec.Payment.Tax = "13"
		expectInvalid(t, env.Client.Update(ctx, changed), "payment is immutable once set")
		removed := o.DeepCopy()
		removed.Spec.Payment = nil
		expectInvalid(t, env.Client.Update(ctx, removed), "payment is immutable once set")
		// The state still moves with the payment set.
		o.Spec.State = commercev1alpha1.OrderAccepted
		if err := env.Client.Update(ctx, o); err != nil {
			t.Fatalf("accepting an order with a payment: %v", err)
		}
	})
	t.Run("added to an Accepted order", func(t *testing.T) {
		o := newOrder(ns)
		mustCreate(t, o)
		o.Spec.State = commercev1alpha1.OrderAccepted
		if err := env.Client.Update(ctx, o); err != nil {
			t.Fatal(err)
		}
		o.Spec.Payment = gatewayPayment()
		if err := env.Client.Update(ctx, o); err != nil {
			t.Fatalf("adding a payment to an Accepted order: %v", err)
		}
	})
	for _, final := range []commercev1alpha1.OrderState{commercev1alpha1.OrderCancelled, commercev1alpha1.OrderRejected} {
		t.Run("refused on a "+string(final)+" order", func(t *testing.T) {
			o := newOrder(ns)
			mustCreate(t, o)
			o.Spec.State = final
			if err := env.Client.Update(ctx, o); err != nil {
				t.Fatal(err)
			}
			o.Spec.Payment = gatewayPayment()
			expectInvalid(t, env.Client.Update(ctx, o), "payment cannot be requested for an order in a final state")
		})
	}
	t.Run("refused together with the move to a final state", func(t *testing.T) {
		o := newOrder(ns)
		mustCreate(t, o)
		o.Spec.State = commercev1alpha1.OrderCancelled
		o.Spec.Payment = gatewayPayment()
		expectInvalid(t, env.Client.Update(ctx, o), "payment cannot be requested for an order in a final state")
	})
}

// paidOrder creates an order asking for payment and records, as the
// receiver does through the status subresource, a payment in that state.
func paidOrder(t *testing.T, ns string, state commercev1alpha1.PaymentState, refundedInFull bool) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	o := newOrder(ns)
	o.Spec.Payment = gatewayPayment()
	mustCreate(t, o)
	o.Status.Payment = &commercev1alpha1.OrderPaymentStatus{
		ReferenceID:    "wao-3f2a9c1b7d4e5f60718293a4b5c6d7e",
		SentMessage:    commercev1alpha1.SentMessage{MessageID: "wamid.bill", DeliveryStatus: commercev1alpha1.DeliveryRead},
		Status:         state,
		Amount:         "40.98",
		Currency:       "INR",
		RefundedInFull: refundedInFull,
	}
	if refundedInFull {
		o.Status.Payment.Refunds = []commercev1alpha1.PaymentRefund{{ID: "rfnd_1", Amount: "40.98", Status: "completed"}}
	}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatalf("recording the payment in status: %v", err)
	}
	return o
}

func TestCancellingAPaidOrderNeedsARefund(t *testing.T) {
	ns := env.Namespace(t)
	cases := []struct {
		payment        commercev1alpha1.PaymentState
		refundedInFull bool
		refused        bool
	}{
		{commercev1alpha1.PaymentCaptured, false, true},
		{commercev1alpha1.PaymentPending, false, true},
		{commercev1alpha1.PaymentCaptured, true, false},
		{commercev1alpha1.PaymentRequested, false, false},
		{commercev1alpha1.PaymentFailed, false, false},
	}
	for _, tc := range cases {
		for _, to := range []commercev1alpha1.OrderState{commercev1alpha1.OrderCancelled, commercev1alpha1.OrderRejected} {
			name := string(tc.payment) + " to " + string(to)
			if tc.refundedInFull {
				name += " refunded in full"
			}
			t.Run(name, func(t *testing.T) {
				o := paidOrder(t, ns, tc.payment, tc.refundedInFull)
				o.Spec.State = to
				err := env.Client.Update(ctx, o)
				if !tc.refused {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				expectInvalid(t, err, "state cannot move to "+string(to)+": the payment wao-3f2a9c1b7d4e5f60718293a4b5c6d7e is "+string(tc.payment)+
					" and WhatsApp refuses to cancel it; refund it in full first (status.payment.refundedInFull)")
			})
		}
	}

	t.Run("a paid order still moves forward", func(t *testing.T) {
		o := paidOrder(t, ns, commercev1alpha1.PaymentCaptured, false)
		for _, s := range []commercev1alpha1.OrderState{commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped, commercev1alpha1.OrderDelivered} {
			o.Spec.State = s
			if err := env.Client.Update(ctx, o); err != nil {
				t.Fatalf("moving to %s: %v", s, err)
			}
		}
	})
	t.Run("status writes are never refused by the rule", func(t *testing.T) {
		// A payment captured after the order was cancelled (the customer paid
		// a bill they still had) must still be recorded, so it can be refunded.
		o := paidOrder(t, ns, commercev1alpha1.PaymentRequested, false)
		o.Spec.State = commercev1alpha1.OrderCancelled
		if err := env.Client.Update(ctx, o); err != nil {
			t.Fatal(err)
		}
		o.Status.Payment.Status = commercev1alpha1.PaymentCaptured
		if err := env.Client.Status().Update(ctx, o); err != nil {
			t.Fatalf("recording a capture on a Cancelled order: %v", err)
		}
		var got commercev1alpha1.WhatsAppOrder
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), &got); err != nil {
			t.Fatal(err)
		}
		if got.Status.Payment.Status != commercev1alpha1.PaymentCaptured {
			t.Errorf("payment status %q, want Captured", got.Status.Payment.Status)
		}
		// Metadata-only updates of such an order are still accepted.
		got.Labels = map[string]string{"reviewed": "yes"}
		if err := env.Client.Update(ctx, &got); err != nil {
			t.Fatalf("labelling: %v", err)
		}
	})
}

func TestChannelPaymentDefaults(t *testing.T) {
	ns := env.Namespace(t)
	ch := newChannel(ns)
	ch.Spec.Payments = &commercev1alpha1.ChannelPayments{
		ConfigurationName:   "razorpay-prod",
		OrderStatusTemplate: &commercev1alpha1.PaymentTemplate{Name: "order_status_update"},
	}
	mustCreate(t, ch)
	if ch.Spec.Payments.OrderStatusTemplate.Language != "en_US" {
		t.Errorf("orderStatusTemplate.language defaulted to %q, want en_US", ch.Spec.Payments.OrderStatusTemplate.Language)
	}
	bad := newChannel(ns)
	bad.Spec.Payments = &commercev1alpha1.ChannelPayments{GoodsType: "services"}
	expectInvalid(t, env.Client.Create(ctx, bad), `spec.payments.goodsType: Unsupported value: "services"`)
}
