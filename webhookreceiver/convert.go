package webhookreceiver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

func orderFor(ch *v1.WhatsAppChannel, o *payload.Order) *v1.WhatsAppOrder {
	customer := customerOf(o.Customer)
	items := make([]v1.OrderItem, len(o.Items))
	for i, it := range o.Items {
		items[i] = v1.OrderItem{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, ItemPrice: it.ItemPrice, Currency: it.Currency}
	}
	return &v1.WhatsAppOrder{
		ObjectMeta: objectMeta(ch, o.MessageID, customer),
		Spec: v1.WhatsAppOrderSpec{
			Channel:          ch.Name,
			MessageID:        o.MessageID,
			ReceivedAt:       metav1.NewTime(o.Timestamp),
			Customer:         customer,
			CatalogID:        o.CatalogID,
			Items:            items,
			Text:             o.Text,
			ReplyToMessageID: o.ReplyToMessageID,
			State:            v1.OrderPending,
		},
	}
}

func inquiryFor(ch *v1.WhatsAppChannel, q *payload.Inquiry) *v1.ProductInquiry {
	customer := customerOf(q.Customer)
	return &v1.ProductInquiry{
		ObjectMeta: objectMeta(ch, q.MessageID, customer),
		Spec: v1.ProductInquirySpec{
			Channel:          ch.Name,
			MessageID:        q.MessageID,
			ReceivedAt:       metav1.NewTime(q.Timestamp),
			Customer:         customer,
			Product:          v1.ProductReference{CatalogID: q.CatalogID, ProductRetailerID: q.ProductRetailerID},
			Question:         q.Question,
			ReplyToMessageID: q.ReplyToMessageID,
		},
	}
}

func objectMeta(ch *v1.WhatsAppChannel, messageID string, customer v1.Customer) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace: ch.Namespace,
		Name:      ResourceName(ch.Name, messageID),
		Labels:    labels(ch.Name, customer),
	}
}

func customerOf(c payload.Customer) v1.Customer {
	return v1.Customer{WaID: c.WaID, UserID: c.UserID, Name: c.Name}
}
