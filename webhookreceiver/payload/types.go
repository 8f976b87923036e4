package payload

import (
	"time"
)

// Body is everything one webhook body holds, flattened.
type Body struct {
	// Elements are in body order: entries, their changes, and within a change
	// (or an On-Premises body) malformed contacts, then messages, statuses and
	// errors, each in array order.
	Elements []Element
}

// Kind says what an Element is and which of its fields are set.
type Kind string

const (
	// KindOrder is a customer's cart; Element.Order is set.
	KindOrder Kind = "Order"
	// KindInquiry is a question about a catalog product; Element.Inquiry is set.
	KindInquiry Kind = "Inquiry"
	// KindStatus is news about a message the business sent; Element.Status is set.
	KindStatus Kind = "Status"
	// KindPayment is news about the payment of a bill (order_details) the
	// business sent: a statuses[] element of type "payment"; Element.Payment
	// is set. It is never a delivery status.
	KindPayment Kind = "Payment"
	// KindUserIDChange is WhatsApp's system message that a customer's
	// business-scoped user id changed; Element.UserIDChange is set.
	KindUserIDChange Kind = "UserIDChange"
	// KindIgnored is a well-formed element the operator has no use for (another
	// webhook field, a plain text, an error report); Element.Reason says which.
	KindIgnored Kind = "Ignored"
	// KindInvalid is an element that can never be stored (no id, a bad cart, a
	// malformed field); Element.Reason says why.
	KindInvalid Kind = "Invalid"
)

// Element is one message, status, error or change of a body.
type Element struct {
	Kind Kind
	// Path locates the element in the body, e.g.
	// "entry[0].changes[1].value.messages[2]" or "statuses[0]", for logs.
	Path string
	// PhoneNumberID is the Cloud change's value.metadata.phone_number_id, which
	// routes the element to its channel; "" for On-Premises bodies and for a
	// Cloud change without metadata, which belongs to the channel of the path
	// it was posted to.
	PhoneNumberID string
	// MessageID is the message or status id, when the element has one.
	MessageID string
	Order     *Order
	Inquiry   *Inquiry
	Status    *Status
	Payment   *Payment
	// UserIDChange is set for KindUserIDChange.
	UserIDChange *UserIDChange
	// Reason says, for people, why the element is Ignored or Invalid.
	Reason string
}

// Customer is who sent a message. WhatsApp may withhold the phone number
// (WaID) and give only the business-scoped UserID. WaID is only ever digits:
// an id of any other form is a user id, never a phone number.
type Customer struct {
	WaID   string
	UserID string
	Name   string
}

// Order is a cart a customer sent, its numbers read exactly. Whether the cart
// is valid is not the parser's call: the receiver checks it with the cart
// package, whose reasons are the API's.
type Order struct {
	MessageID string
	Timestamp time.Time
	Customer  Customer
	CatalogID string
	// Text is the customer's note; often empty.
	Text string
	// ReplyToMessageID is the product message the order came from (context.id).
	ReplyToMessageID string
	Items            []Item
}

// Item is one line of an order's cart as the customer sent it.
type Item struct {
	ProductRetailerID string
	Quantity          int64
	// ItemPrice is the unit price as an exact decimal string ("7.99", "30").
	ItemPrice string
	// Currency is the code WhatsApp sent ("USD").
	Currency string
}

// Inquiry is a customer's question about a catalog product.
type Inquiry struct {
	MessageID         string
	Timestamp         time.Time
	Customer          Customer
	CatalogID         string
	ProductRetailerID string
	// Question is the text the customer wrote (text.body).
	Question string
	// ReplyToMessageID is the product message the customer asked from (context.id).
	ReplyToMessageID string
}

// Status is WhatsApp's news about a message the business sent.
type Status struct {
	// MessageID is the id the send call returned.
	MessageID string
	// RecipientID is the recipient's phone-based wa_id (digits only), and
	// RecipientUserID their business-scoped user id; either may be empty.
	RecipientID     string
	RecipientUserID string
	// CallbackData is the biz_opaque_callback_data the message was sent with,
	// echoed by the Cloud API.
	CallbackData string
	// PricingCategory is pricing.category (marketing, utility, service, ...),
	// what WhatsApp bills the message as.
	PricingCategory string
	// Status is the value as sent, lower case: sent, delivered, read, failed,
	// played, deleted or warning.
	Status    string
	Timestamp time.Time
	// Errors say why a failed status failed.
	Errors []StatusError
}

// StatusError is one error WhatsApp attached to a status.
type StatusError struct {
	Code  int64
	Title string
	// Message is the Cloud API's message; the On-Premises API has none.
	Message string
	// Details is Cloud's error_data.details or On-Premises' details.
	Details string
}

// UserIDChange says that a customer's business-scoped user id changed
// (system message user_changed_user_id, or user_changed_number when it
// carries user ids): later messages to that customer go to Current.
type UserIDChange struct {
	MessageID string
	Timestamp time.Time
	// Previous is system.previous_user_id, the id WhatsApp knew the customer by.
	Previous string
	// Current is system.user_id (or the message's from_user_id).
	Current string
}
