package funnel

import (
	"reflect"
	"testing"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func order(state commercev1alpha1.OrderState, items ...commercev1alpha1.OrderItem) commercev1alpha1.WhatsAppOrder {
	return commercev1alpha1.WhatsAppOrder{Spec: commercev1alpha1.WhatsAppOrderSpec{State: state, Items: items}}
}

func paidOrder(state commercev1alpha1.OrderState, paid commercev1alpha1.PaymentState, amount, cur string, refunded bool, items ...commercev1alpha1.OrderItem) commercev1alpha1.WhatsAppOrder {
	o := order(state, items...)
	o.Status.Payment = &commercev1alpha1.OrderPaymentStatus{ReferenceID: "r", Status: paid, Amount: amount, Currency: cur, RefundedInFull: refunded}
	return o
}

func item(qty int64, price, cur string) commercev1alpha1.OrderItem {
	return commercev1alpha1.OrderItem{ProductRetailerID: "p", Quantity: qty, ItemPrice: price, Currency: cur}
}

func TestCount(t *testing.T) {
	tests := []struct {
		name      string
		orders    []commercev1alpha1.WhatsAppOrder
		inquiries int
		want      Tally
	}{
		{"nothing yet", nil, 0, Tally{}},
		{"inquiries only", nil, 3, Tally{Inquiries: 3}},
		{"two currencies, every state", []commercev1alpha1.WhatsAppOrder{
			order(commercev1alpha1.OrderPending, item(2, "7.99", "USD"), item(1, "25", "USD")),
			order(commercev1alpha1.OrderAccepted, item(1, "10.5", "EUR")),
			order(commercev1alpha1.OrderShipped, item(3, "0.1", "USD")),
			order(commercev1alpha1.OrderDelivered, item(2, "1", "EUR")),
			order(commercev1alpha1.OrderRejected, item(1, "1000", "USD")),
			order(commercev1alpha1.OrderCancelled, item(1, "1000", "EUR")),
			order(commercev1alpha1.OrderPending, item(1, "5", "USD"), item(1, "5", "EUR")), // Invalid: mixed currencies
		}, 1, Tally{Inquiries: 1, Orders: 7,
			Revenue: []commercev1alpha1.Revenue{{Currency: "EUR", Total: "12.50"}, {Currency: "USD", Total: "41.28"}},
			Summary: "12.50 EUR, 41.28 USD"}},
		{"paid revenue: captured payments, not refunded in full, whatever the state", []commercev1alpha1.WhatsAppOrder{
			paidOrder(commercev1alpha1.OrderDelivered, commercev1alpha1.PaymentCaptured, "1149", "INR", false, item(1, "1149", "INR")),
			paidOrder(commercev1alpha1.OrderAccepted, commercev1alpha1.PaymentCaptured, "0.50", "INR", false, item(1, "0.50", "INR")),
			paidOrder(commercev1alpha1.OrderPending, commercev1alpha1.PaymentCaptured, "99.9", "BRL", false, item(1, "99.90", "BRL")),
			paidOrder(commercev1alpha1.OrderCancelled, commercev1alpha1.PaymentCaptured, "500", "INR", true, item(1, "500", "INR")),
			paidOrder(commercev1alpha1.OrderPending, commercev1alpha1.PaymentFailed, "70", "INR", false, item(1, "70", "INR")),
			paidOrder(commercev1alpha1.OrderPending, commercev1alpha1.PaymentPending, "70", "INR", false, item(1, "70", "INR")),
			paidOrder(commercev1alpha1.OrderAccepted, commercev1alpha1.PaymentCaptured, "", "INR", false, item(1, "70", "INR")),
		}, 0, Tally{Orders: 7,
			Revenue:     []commercev1alpha1.Revenue{{Currency: "BRL", Total: "99.90"}, {Currency: "INR", Total: "1359.50"}},
			Summary:     "99.90 BRL, 1359.50 INR",
			PaidRevenue: []commercev1alpha1.Revenue{{Currency: "BRL", Total: "99.90"}, {Currency: "INR", Total: "1149.50"}}}},
		{"only refused orders", []commercev1alpha1.WhatsAppOrder{
			order(commercev1alpha1.OrderRejected, item(1, "9", "USD")),
		}, 0, Tally{Orders: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Count(tt.orders, tt.inquiries); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Count = %+v, want %+v", got, tt.want)
			}
		})
	}
}
