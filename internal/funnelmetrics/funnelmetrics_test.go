package funnelmetrics

import (
	"reflect"
	"testing"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func pm(phase commercev1alpha1.ProductMessagePhase, delivery commercev1alpha1.DeliveryStatus, inquiries, orders int32, revenue ...commercev1alpha1.Revenue) commercev1alpha1.ProductMessage {
	var m commercev1alpha1.ProductMessage
	m.Status.Phase, m.Status.DeliveryStatus = phase, delivery
	m.Status.Inquiries, m.Status.Orders, m.Status.Revenue = inquiries, orders, revenue
	return m
}

func TestTallySumsTheFunnel(t *testing.T) {
	got := tally([]commercev1alpha1.ProductMessage{
		pm(commercev1alpha1.ProductMessageSent, commercev1alpha1.DeliveryRead, 2, 3, commercev1alpha1.Revenue{Currency: "USD", Total: "40.98"}, commercev1alpha1.Revenue{Currency: "EUR", Total: "12.5"}),
		pm(commercev1alpha1.ProductMessageSent, commercev1alpha1.DeliveryRead, 0, 1, commercev1alpha1.Revenue{Currency: "USD", Total: "9.02"}),
		pm(commercev1alpha1.ProductMessagePending, "", 0, 0),
		pm(commercev1alpha1.ProductMessageFailed, commercev1alpha1.DeliveryFailed, 1, 0, commercev1alpha1.Revenue{Currency: "USD", Total: "not a number"}),
	})
	want := funnel{
		messages:  map[[2]string]int{{"Sent", "read"}: 2, {"Pending", ""}: 1, {"Failed", "failed"}: 1},
		inquiries: 3, orders: 4,
		revenue: map[string]float64{"USD": 50, "EUR": 12.5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tally = %+v, want %+v", got, want)
	}
}
