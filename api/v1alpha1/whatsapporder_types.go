package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// OrderState is the business's decision about an order.
// +kubebuilder:validation:Enum=Pending;Accepted;Rejected;Shipped;Delivered;Cancelled
type OrderState string

const (
	OrderPending   OrderState = "Pending"
	OrderAccepted  OrderState = "Accepted"
	OrderRejected  OrderState = "Rejected"
	OrderShipped   OrderState = "Shipped"
	OrderDelivered OrderState = "Delivered"
	OrderCancelled OrderState = "Cancelled"
)

// OrderPhase is the state the controller last acted on, or Invalid.
// +kubebuilder:validation:Enum=Invalid;Pending;Accepted;Rejected;Shipped;Delivered;Cancelled
type OrderPhase string

// OrderPhaseInvalid marks an order whose cart failed validation.
const OrderPhaseInvalid OrderPhase = "Invalid"

// WhatsAppOrderSpec is the cart a customer sent, written by the webhook receiver.
// Everything but state is immutable: it is what the customer sent.
// +kubebuilder:validation:XValidation:rule="self.channel == oldSelf.channel",message="channel is immutable"
// +kubebuilder:validation:XValidation:rule="self.messageID == oldSelf.messageID",message="messageID is immutable"
// +kubebuilder:validation:XValidation:rule="self.receivedAt == oldSelf.receivedAt",message="receivedAt is immutable"
// +kubebuilder:validation:XValidation:rule="self.customer == oldSelf.customer",message="customer is immutable"
// +kubebuilder:validation:XValidation:rule="self.catalogID == oldSelf.catalogID",message="catalogID is immutable"
// +kubebuilder:validation:XValidation:rule="self.items == oldSelf.items",message="items are immutable"
// +kubebuilder:validation:XValidation:rule="has(self.text) == has(oldSelf.text) && (!has(self.text) || self.text == oldSelf.text)",message="text is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.replyToMessageID) == has(oldSelf.replyToMessageID) && (!has(self.replyToMessageID) || self.replyToMessageID == oldSelf.replyToMessageID)",message="replyToMessageID is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.payment) || (has(self.payment) && self.payment == oldSelf.payment)",message="payment is immutable once set"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.recordedPayment) || (has(self.recordedPayment) && self.recordedPayment == oldSelf.recordedPayment)",message="recordedPayment is immutable once set"
// +kubebuilder:validation:XValidation:rule="!has(self.recordedPayment) || (has(self.payment) && (has(self.payment.pix) || has(self.payment.link)))",message="recordedPayment records a pix or link payment, which WhatsApp does not report; a gateway payment is reported by WhatsApp"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.payment) || !has(self.payment) || !(oldSelf.state in ['Rejected', 'Delivered', 'Cancelled'] || self.state in ['Rejected', 'Delivered', 'Cancelled'])",message="payment cannot be requested for an order in a final state"
type WhatsAppOrderSpec struct {
	// Channel is the name of the WhatsAppChannel the order arrived on.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Channel string `json:"channel"`
	// MessageID is the WhatsApp id of the order message.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	MessageID string `json:"messageID"`
	// ReceivedAt is the message's timestamp.
	ReceivedAt metav1.Time `json:"receivedAt"`
	// Customer is who sent the order.
	Customer Customer `json:"customer"`
	// CatalogID is the catalog the products belong to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	CatalogID string `json:"catalogID"`
	// Items is the cart.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	// +listType=atomic
	Items []OrderItem `json:"items"`
	// Text is the customer's note.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Text string `json:"text,omitempty"`
	// ReplyToMessageID is the product message the order came from, when WhatsApp gave it.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ReplyToMessageID string `json:"replyToMessageID,omitempty"`

	// State is the business's decision, set by people or other controllers.
	// Allowed moves: Pending -> Accepted | Rejected | Cancelled; Accepted -> Shipped |
	// Cancelled; Shipped -> Delivered. Rejected, Delivered and Cancelled are final.
	// +kubebuilder:default=Pending
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf || (oldSelf == 'Pending' && self in ['Accepted', 'Rejected', 'Cancelled']) || (oldSelf == 'Accepted' && self in ['Shipped', 'Cancelled']) || (oldSelf == 'Shipped' && self == 'Delivered')",messageExpression="'state cannot move from ' + oldSelf + ' to ' + self + ': ' + (oldSelf in ['Rejected', 'Delivered', 'Cancelled'] ? oldSelf + ' is final' : 'from ' + oldSelf + ' it can move to ' + {'Pending': 'Accepted, Rejected or Cancelled', 'Accepted': 'Shipped or Cancelled', 'Shipped': 'Delivered'}[oldSelf])"
	State OrderState `json:"state,omitempty"`

	// Payment asks the customer to pay inside WhatsApp. It is set once, by
	// people or another controller, while the order is not final, and never
	// changes after.
	// +optional
	Payment *OrderPayment `json:"payment,omitempty"`

	// RecordedPayment is the payment of a pix or link bill, which WhatsApp
	// does not report: the business (or its payment provider's controller)
	// records it once, and the operator treats the bill as captured. It never
	// changes after.
	// +optional
	RecordedPayment *RecordedPayment `json:"recordedPayment,omitempty"`
}

// RecordedPayment is a payment the business's provider confirmed outside WhatsApp.
type RecordedPayment struct {
	// TransactionID is the provider's id of the payment.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	TransactionID string `json:"transactionID"`
	// PaidAt is when the customer paid.
	PaidAt metav1.Time `json:"paidAt"`
}

// OrderItem is one line of the cart.
type OrderItem struct {
	// ProductRetailerID is the product's id in the catalog.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ProductRetailerID string `json:"productRetailerID"`
	// Quantity is how many the customer wants.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000000
	Quantity int64 `json:"quantity"`
	// ItemPrice is the unit price, a non-negative decimal exactly as WhatsApp sent it ("7.99", "30").
	// +kubebuilder:validation:Pattern=`^[0-9]{1,15}(\.[0-9]{1,6})?$`
	ItemPrice string `json:"itemPrice"`
	// Currency is the ISO 4217 code of the price.
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency"`
}

// OrderNotification is a message sent to the customer about a state of the order.
type OrderNotification struct {
	// State is the order state the message announced.
	State OrderState `json:"state"`
	// Template is the name of the channel's template when the message was that
	// template, sent outside the customer's 24-hour window or after WhatsApp
	// reported the window closed for the text; empty for free-form text.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Template    string `json:"template,omitempty"`
	SentMessage `json:",inline"`
}

// WhatsAppOrderStatus is what the controller made of the order.
type WhatsAppOrderStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase is Invalid when the cart fails validation, otherwise the last state the controller acted on.
	// +optional
	Phase OrderPhase `json:"phase,omitempty"`
	// ItemCount is the sum of the quantities.
	// +optional
	ItemCount int64 `json:"itemCount,omitempty"`
	// Total is the exact order total in the currency's minor units ("85", "15.98").
	// +optional
	Total string `json:"total,omitempty"`
	// Currency is the order's ISO 4217 currency.
	// +optional
	Currency string `json:"currency,omitempty"`
	// FinishedAt is when the phase became final; the resource is deleted once
	// the channel's retention period has passed since.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// CustomerUserID is the customer's current business-scoped user id, when
	// WhatsApp reported that it changed since the order arrived (spec.customer
	// is what the customer sent and never changes). Messages to a customer
	// without a waID go to this id when it is set.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	CustomerUserID string `json:"customerUserID,omitempty"`
	// Notifications are the messages sent to the customer about this order, oldest first.
	// +optional
	// +listType=atomic
	Notifications []OrderNotification `json:"notifications,omitempty"`
	// Payment is the bill sent for spec.payment and its payment's progress.
	// +optional
	Payment *OrderPaymentStatus `json:"payment,omitempty"`
	// Conditions: Validated, CustomerNotified, Paid (with a payment), Ready; Reconciling and Stalled while true.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WhatsAppOrder is a cart a customer sent through WhatsApp, and the business's
// decision about it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName={waorder,wao},categories=whatsapp
// +kubebuilder:printcolumn:name="Customer",type=string,JSONPath=`.spec.customer.waID`
// +kubebuilder:printcolumn:name="Customer Name",type=string,JSONPath=`.spec.customer.name`,priority=1
// +kubebuilder:printcolumn:name="Items",type=integer,JSONPath=`.status.itemCount`
// +kubebuilder:printcolumn:name="Total",type=string,JSONPath=`.status.total`
// +kubebuilder:printcolumn:name="Currency",type=string,JSONPath=`.status.currency`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=`.spec.state`,priority=1
// +kubebuilder:printcolumn:name="Channel",type=string,JSONPath=`.spec.channel`,priority=1
// +kubebuilder:printcolumn:name="Notified",type=string,JSONPath=`.status.conditions[?(@.type=="CustomerNotified")].reason`,priority=1
// +kubebuilder:printcolumn:name="Delivery",type=string,JSONPath=`.status.notifications[-1:].deliveryStatus`,priority=1
// +kubebuilder:printcolumn:name="Payment",type=string,JSONPath=`.status.payment.status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// WhatsApp refuses to cancel the order card of a payment that is captured or
// pending, so the API server refuses the move that would need it. The rule is
// on the object, not spec.state, because only there can it read the status.
// +kubebuilder:validation:XValidation:rule="oldSelf.spec.state == self.spec.state || !(self.spec.state in ['Rejected', 'Cancelled']) || !has(self.status) || !has(self.status.payment) || !has(self.status.payment.status) || !(self.status.payment.status in ['Captured', 'Pending']) || (has(self.status.payment.refundedInFull) && self.status.payment.refundedInFull)",messageExpression="'state cannot move to ' + self.spec.state + ': the payment ' + self.status.payment.referenceID + ' is ' + self.status.payment.status + ' and WhatsApp refuses to cancel it; refund it in full first (status.payment.refundedInFull)'",reason=FieldValueForbidden
type WhatsAppOrder struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WhatsAppOrderSpec   `json:"spec"`
	Status WhatsAppOrderStatus `json:"status,omitempty"`
}

// WhatsAppOrderList is a list of WhatsAppOrders.
// +kubebuilder:object:root=true
type WhatsAppOrderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WhatsAppOrder `json:"items"`
}

func init() {
	SchemeBuilder.Register(&WhatsAppOrder{}, &WhatsAppOrderList{})
}
