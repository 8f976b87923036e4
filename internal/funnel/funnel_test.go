package funnel

import (
	"reflect"
	"testing"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func order(state commercev1alpha1.OrderState, items ...commercev1alpha1.OrderItem) commercev1alpha1.WhatsAppOrder {
	return commercev1alpha1.WhatsAppOrder{Spec: commercev1alpha1.WhatsAppOrderSpec{State: state, Items: items}}
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
