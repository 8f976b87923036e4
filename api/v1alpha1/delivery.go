package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The delivery-status rules of a SentMessage. WhatsApp's status webhooks
// arrive out of order and `delivered` may be skipped, so a status only ever
// moves a message forward: sent < delivered < read, and failed is final.

// DeliveryUpdate is one status webhook for a message.
// +kubebuilder:object:generate=false
type DeliveryUpdate struct {
	Status DeliveryStatus
	At     metav1.Time
	// Error is WhatsApp's reason, for failed.
	Error *MessageError
	// PricingCategory is what WhatsApp bills the message as; empty when the
	// status does not say.
	PricingCategory string
}

// Tracked reports whether the status is one the operator records. Others
// (played, deleted, warning) say nothing about a text reaching the customer.
func (s DeliveryStatus) Tracked() bool {
	switch s {
	case DeliverySent, DeliveryDelivered, DeliveryRead, DeliveryFailed:
		return true
	}
	return false
}

// rank orders the statuses that can be overtaken; failed has none, since it
// overtakes every one and is never overtaken.
func (s DeliveryStatus) rank() int {
	switch s {
	case DeliverySent:
		return 1
	case DeliveryDelivered:
		return 2
	case DeliveryRead:
		return 3
	}
	return 0
}

// Apply moves m forward by u, records the pricing category u reports, and
// reports whether m changed. A status that is not further than the current
// one (a late delivered after read, anything after failed, a redelivered
// webhook) leaves m as it is.
func (m *SentMessage) Apply(u DeliveryUpdate) bool {
	// The price is news whatever the order of arrival: a late "sent" may be
	// the only status that carries it.
	priced := u.PricingCategory != "" && u.PricingCategory != m.PricingCategory
	if priced {
		m.PricingCategory = u.PricingCategory
	}
	return m.advance(u) || priced
}

// advance moves m's delivery status forward by u and reports whether it moved.
func (m *SentMessage) advance(u DeliveryUpdate) bool {
	if m.DeliveryStatus == DeliveryFailed || !u.Status.Tracked() {
		return false
	}
	if u.Status != DeliveryFailed && u.Status.rank() <= m.DeliveryStatus.rank() {
		return false
	}
	m.DeliveryStatus = u.Status
	m.Error = u.Error
	at := u.At
	m.UpdatedAt = &at
	return true
}
