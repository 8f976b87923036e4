package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels put on every resource the receiver creates, so users and other
// controllers can select by channel or customer.
const (
	LabelChannel  = "commerce.wa.dev/channel"
	LabelCustomer = "commerce.wa.dev/customer"
)

// Customer identifies the WhatsApp user who sent a message. WhatsApp may withhold
// the phone number (waID) and give only the business-scoped userID.
// +kubebuilder:validation:XValidation:rule="has(self.waID) || has(self.userID)",message="customer needs a waID or a userID"
type Customer struct {
	// WaID is the customer's WhatsApp id (their phone number in international form).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	WaID string `json:"waID,omitempty"`
	// UserID is the business-scoped user id (for example US.13491208655302741918).
	// +optional
	// +kubebuilder:validation:MaxLength=128
	UserID string `json:"userID,omitempty"`
	// Name is the customer's WhatsApp profile name.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Name string `json:"name,omitempty"`
}

// DeliveryStatus is how far WhatsApp got delivering a message the operator sent.
// sent < delivered < read; failed is final.
// +kubebuilder:validation:Enum=sent;delivered;read;failed
type DeliveryStatus string

const (
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryRead      DeliveryStatus = "read"
	DeliveryFailed    DeliveryStatus = "failed"
)

// MessageError is the error WhatsApp reported for a message.
type MessageError struct {
	// Code is WhatsApp's error code (131047 or 470: the 24-hour window was closed).
	Code int64 `json:"code"`
	// Title is WhatsApp's short description.
	// +optional
	Title string `json:"title,omitempty"`
	// Message carries WhatsApp's details, when it gave any.
	// +optional
	Message string `json:"message,omitempty"`
}

// SentMessage is a message the operator sent to the customer and what WhatsApp
// has said about its delivery since.
type SentMessage struct {
	// MessageID is the id WhatsApp returned for the message; status webhooks refer
	// to it. Empty when WhatsApp refused the message or it was never sent.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	MessageID string `json:"messageID,omitempty"`
	// DeliveryStatus is the furthest delivery status reported; it never moves backwards.
	// +optional
	DeliveryStatus DeliveryStatus `json:"deliveryStatus,omitempty"`
	// Error is WhatsApp's reason for a failed delivery.
	// +optional
	Error *MessageError `json:"error,omitempty"`
	// SentAt is when the operator sent the message.
	// +optional
	SentAt *metav1.Time `json:"sentAt,omitempty"`
	// UpdatedAt is the timestamp of the delivery status, as WhatsApp reported it.
	// +optional
	UpdatedAt *metav1.Time `json:"updatedAt,omitempty"`
	// PricingCategory is what WhatsApp says the message is billed as
	// (marketing, utility, service, ...), from its status webhooks.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	PricingCategory string `json:"pricingCategory,omitempty"`
	// CallbackData is the biz_opaque_callback_data the message was sent with
	// (Cloud only), which WhatsApp echoes in every status about it. A record
	// with sentAt and neither messageID nor deliveryStatus is an intent: the
	// operator recorded it before sending, and a crash may have come between
	// WhatsApp accepting the message and its id being recorded. On Cloud the
	// receiver matches a status carrying this callback data to the intent and
	// records its message id; the operator sends again only when no status has
	// come within its intent timeout (--intent-timeout), counted from the later
	// of sentAt and when the current leader first saw the intent. An
	// On-Premises intent has no callbackData: while it is open, the receiver
	// asks for a status about an unknown message to the same recipient again
	// later (the send's record will name it), and a crash before the record
	// sends the message again.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	CallbackData string `json:"callbackData,omitempty"`
}

// Pending reports whether m is an intent whose outcome is not known yet: it was
// recorded before sending (with callback data on Cloud, without on
// On-Premises), and neither a message id nor a delivery status has been
// recorded since.
func (m *SentMessage) Pending() bool {
	return (m.CallbackData != "" || m.SentAt != nil) && m.MessageID == "" && m.DeliveryStatus == ""
}

// SentMessage returns the record of the message with the given id that the
// operator sent about this order (a notification or the bill), or nil.
func (o *WhatsAppOrder) SentMessage(messageID string) *SentMessage {
	for _, m := range o.SentMessages() {
		if m.MessageID == messageID {
			return m
		}
	}
	return nil
}

// SentMessage returns the record of the reply with the given id, or nil.
func (p *ProductInquiry) SentMessage(messageID string) *SentMessage {
	if p.Status.Reply != nil && p.Status.Reply.MessageID == messageID {
		return p.Status.Reply
	}
	return nil
}
