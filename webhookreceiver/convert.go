package webhookreceiver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// formatOf is the webhook format of the channel's API generation; the zero
// Format, which payload.Parse refuses, for a generation it does not know.
func formatOf(ch *commercev1alpha1.WhatsAppChannel) payload.Format {
	switch ch.API() {
	case commercev1alpha1.APICloud:
		return payload.Cloud
	case commercev1alpha1.APIOnPremises:
		return payload.OnPremises
	}
	return 0
}

// orderFor is the WhatsAppOrder for o, or the *cart.Error of a cart that can
// never be stored (see cart.Validate, which mirrors the CRD's schema).
func orderFor(ch *commercev1alpha1.WhatsAppChannel, o *payload.Order) (*commercev1alpha1.WhatsAppOrder, error) {
	customer := customerOf(o.Customer)
	items := make([]commercev1alpha1.OrderItem, len(o.Items))
	for i, it := range o.Items {
		items[i] = commercev1alpha1.OrderItem{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, ItemPrice: it.ItemPrice, Currency: it.Currency}
	}
	if err := cart.Validate(cart.OrderItems(items)); err != nil {
		return nil, err
	}
	return &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: objectMeta(ch, o.MessageID, customer),
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel:          ch.Name,
			MessageID:        o.MessageID,
			ReceivedAt:       metav1.NewTime(o.Timestamp),
			Customer:         customer,
			CatalogID:        o.CatalogID,
			Items:            items,
			Text:             o.Text,
			ReplyToMessageID: o.ReplyToMessageID,
			State:            commercev1alpha1.OrderPending,
		},
	}, nil
}

func inquiryFor(ch *commercev1alpha1.WhatsAppChannel, q *payload.Inquiry) *commercev1alpha1.ProductInquiry {
	customer := customerOf(q.Customer)
	return &commercev1alpha1.ProductInquiry{
		ObjectMeta: objectMeta(ch, q.MessageID, customer),
		Spec: commercev1alpha1.ProductInquirySpec{
			Channel:          ch.Name,
			MessageID:        q.MessageID,
			ReceivedAt:       metav1.NewTime(q.Timestamp),
			Customer:         customer,
			Product:          commercev1alpha1.ProductReference{CatalogID: q.CatalogID, ProductRetailerID: q.ProductRetailerID},
			Question:         q.Question,
			ReplyToMessageID: q.ReplyToMessageID,
		},
	}
}

func objectMeta(ch *commercev1alpha1.WhatsAppChannel, messageID string, customer commercev1alpha1.Customer) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace: ch.Namespace,
		Name:      commercev1alpha1.ResourceName(ch.Name, messageID),
		Labels:    labels(ch.Name, customer),
	}
}

func customerOf(c payload.Customer) commercev1alpha1.Customer {
	return commercev1alpha1.Customer{WaID: c.WaID, UserID: c.UserID, Name: c.Name}
}
