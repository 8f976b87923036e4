// Package delivery applies WhatsApp status webhooks to the record of a message
// the operator sent. Statuses arrive out of order and `delivered` may be skipped,
// so a status only ever moves a message forward: sent < delivered < read, and
// failed is final.
package delivery

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Update is one status webhook for a message.
type Update struct {
	Status commercev1alpha1.DeliveryStatus
	At     metav1.Time
	// Error is WhatsApp's reason, for failed.
	Error *commercev1alpha1.MessageError
	// PricingCategory is what WhatsApp bills the message as; empty when the
	// status does not say.
	PricingCategory string
}

var rank = map[commercev1alpha1.DeliveryStatus]int{
	commercev1alpha1.DeliverySent:      1,
	commercev1alpha1.DeliveryDelivered: 2,
	commercev1alpha1.DeliveryRead:      3,
}

// Tracked reports whether a status value is one the operator records. Others
// (played, deleted, warning) say nothing about a text reaching the customer.
func Tracked(status string) bool {
	switch commercev1alpha1.DeliveryStatus(status) {
	case commercev1alpha1.DeliverySent, commercev1alpha1.DeliveryDelivered, commercev1alpha1.DeliveryRead, commercev1alpha1.DeliveryFailed:
		return true
	}
	return false
}

// Apply moves m forward by u, records the pricing category u reports, and
// reports whether m changed. A status that is not
// further than the current one (a late delivered after read, anything after
// failed, a redelivered webhook) leaves m as it is.
func Apply(m *commercev1alpha1.SentMessage, u Update) bool {
	// The price is news whatever the order of arrival: a late "sent" may be
	// the only status that carries it.
	priced := u.PricingCategory != "" && u.PricingCategory != m.PricingCategory
	if priced {
		m.PricingCategory = u.PricingCategory
	}
	return advance(m, u) || priced
}

// advance moves m's delivery status forward by u and reports whether it moved.
func advance(m *commercev1alpha1.SentMessage, u Update) bool {
	if m.DeliveryStatus == commercev1alpha1.DeliveryFailed || !Tracked(string(u.Status)) {
		return false
	}
	if u.Status != commercev1alpha1.DeliveryFailed && rank[u.Status] <= rank[m.DeliveryStatus] {
		return false
	}
	m.DeliveryStatus = u.Status
	m.Error = u.Error
	at := u.At
	m.UpdatedAt = &at
	return true
}
