package webhookreceiver

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

func TestFormatOf(t *testing.T) {
	tests := []struct {
		api  commercev1alpha1.APIGeneration
		want payload.Format
	}{
		{"", payload.Cloud}, // the default generation
		{commercev1alpha1.APICloud, payload.Cloud},
		{commercev1alpha1.APIOnPremises, payload.OnPremises},
		{"Telegraph", 0},
	}
	for _, tt := range tests {
		ch := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{API: tt.api}}
		if got := formatOf(ch); got != tt.want {
			t.Errorf("formatOf(%q) = %v, want %v", tt.api, got, tt.want)
		}
	}
}

// TestOrderForRefusesCartsThatCanNeverBeStored: the parser reads any cart as
// sent; the receiver refuses one the cart package refuses, with the API's
// reason and the cart's words, before anything reaches the API server.
func TestOrderForRefusesCartsThatCanNeverBeStored(t *testing.T) {
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "shop"}}
	usd := func(id string, qty int64, price string) payload.Item {
		return payload.Item{ProductRetailerID: id, Quantity: qty, ItemPrice: price, Currency: "USD"}
	}
	tests := []struct {
		name   string
		items  []payload.Item
		reason string
		says   string
	}{
		{"no items", nil, commercev1alpha1.ReasonNoItems, "the cart has no items"},
		{"zero quantity", []payload.Item{usd("p1", 0, "1")}, commercev1alpha1.ReasonInvalidQuantity, `item 0 ("p1"): quantity 0 is not between 1 and 1000000`},
		{"negative quantity", []payload.Item{usd("p1", -1, "1")}, commercev1alpha1.ReasonInvalidQuantity, "quantity -1 is not between"},
		{"negative price", []payload.Item{usd("p1", 1, "-7.99")}, commercev1alpha1.ReasonInvalidPrice, `item 0 ("p1"): item price "-7.99" is not a non-negative decimal`},
		{"seven decimals", []payload.Item{usd("p1", 1, "0.1234567")}, commercev1alpha1.ReasonInvalidPrice, `item price "0.1234567"`},
		{"unknown currency", []payload.Item{{ProductRetailerID: "p1", Quantity: 1, ItemPrice: "1", Currency: "XYZ"}}, commercev1alpha1.ReasonUnknownCurrency, `currency "XYZ" is not a known ISO 4217 code`},
		{"mixed currencies", []payload.Item{usd("p1", 1, "1"), {ProductRetailerID: "p2", Quantity: 1, ItemPrice: "1", Currency: "EUR"}}, commercev1alpha1.ReasonMixedCurrencies, `currency "EUR" differs from "USD"`},
		{"no product id", []payload.Item{usd("", 1, "1")}, commercev1alpha1.ReasonInvalidProductRetailerID, "product_retailer_id is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order, err := orderFor(ch, &payload.Order{MessageID: "wamid.1", CatalogID: "c", Items: tt.items})
			var cartErr *cart.Error
			if order != nil || !errors.As(err, &cartErr) {
				t.Fatalf("orderFor = %v, %v; want a cart error", order, err)
			}
			if cartErr.Reason != tt.reason || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("%s: %q, want %s saying %q", tt.name, cartErr.Reason+": "+err.Error(), tt.reason, tt.says)
			}
		})
	}
	order, err := orderFor(ch, &payload.Order{MessageID: "wamid.1", CatalogID: "c", Items: []payload.Item{usd("p1", 2, "7.99")}})
	if err != nil || order.Name != commercev1alpha1.ResourceName("shop", "wamid.1") || order.Spec.Items[0].ItemPrice != "7.99" {
		t.Errorf("a valid cart: %+v, %v", order, err)
	}
}
