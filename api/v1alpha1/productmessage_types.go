package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ProductMessagePhase is where a product message stands.
// +kubebuilder:validation:Enum=Pending;Sent;Failed
type ProductMessagePhase string

const (
	// ProductMessagePending: not sent yet (waiting for its channel, or a send being retried).
	ProductMessagePending ProductMessagePhase = "Pending"
	// ProductMessageSent: WhatsApp accepted the message (or, with spec.messageID, another system sent it).
	ProductMessageSent ProductMessagePhase = "Sent"
	// ProductMessageFailed: WhatsApp refused the message for good; status.error says why.
	ProductMessageFailed ProductMessagePhase = "Failed"
)

// ProductMessageForm is how a product message went out: as the interactive
// message the spec describes, or as the spec's template because the 24-hour
// window was closed.
// +kubebuilder:validation:Enum=Interactive;Template
type ProductMessageForm string

const (
	FormInteractive ProductMessageForm = "Interactive"
	FormTemplate    ProductMessageForm = "Template"
)

// ConditionSent tells whether WhatsApp accepted the product message.
const ConditionSent = "Sent"

// LabelProductMessage is put on the orders and inquiries that reply to a
// ProductMessage, naming it, so `kubectl get wao -l` finds a message's funnel.
const LabelProductMessage = "commerce.wa.dev/product-message"

// Interactive message types WhatsApp knows the three kinds of product message by.
const (
	InteractiveProduct        = "product"
	InteractiveProductList    = "product_list"
	InteractiveCatalogMessage = "catalog_message"
)

// ProductMessageSpec is a single-product, multi-product or catalog message the
// business sends one customer. It is immutable once created: a message cannot
// be unsent, so a different message is a new resource.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec is immutable once created; create a new ProductMessage instead"
// +kubebuilder:validation:XValidation:rule="[has(self.product), has(self.sections), has(self.catalog)].filter(k, k).size() == 1",message="exactly one of product, sections or catalog is required"
// +kubebuilder:validation:XValidation:rule="!has(self.sections) || has(self.header)",message="header is required with sections: WhatsApp refuses a product_list without one"
// +kubebuilder:validation:XValidation:rule="!has(self.header) || has(self.sections)",message="header is only allowed with sections: product and catalog messages have no header"
// +kubebuilder:validation:XValidation:rule="has(self.product) || has(self.body)",message="body is required with sections and catalog"
// +kubebuilder:validation:XValidation:rule="!has(self.inquiry) || !has(self.replyToMessageID)",message="inquiry and replyToMessageID are exclusive: an inquiry's answer replies to the inquiry's message"
type ProductMessageSpec struct {
	// Channel is the name of the WhatsAppChannel the message is sent from.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Channel string `json:"channel"`
	// To is the customer; the message goes to waID when there is one, else to userID.
	To Recipient `json:"to"`
	// CatalogID is the catalog the products belong to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	CatalogID string `json:"catalogID"`

	// Product makes a single-product message (WhatsApp interactive type product).
	// +optional
	Product *SingleProduct `json:"product,omitempty"`
	// Sections make a multi-product message (WhatsApp interactive type
	// product_list): 1 to 10 sections, at most 30 products in all.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	// +kubebuilder:validation:XValidation:rule="self.size() <= 1 || self.all(s, has(s.title))",message="every section needs a title when there is more than one"
	// +kubebuilder:validation:XValidation:rule="self.map(s, s.productRetailerIDs.size()).sum() <= 30",message="sections hold at most 30 products in all"
	Sections []ProductSection `json:"sections,omitempty"`
	// Catalog makes a catalog message (WhatsApp interactive type catalog_message)
	// that opens the whole catalog.
	// +optional
	Catalog *CatalogShowcase `json:"catalog,omitempty"`

	// Header is the text header of a multi-product message (required there, not
	// allowed for the other kinds).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=60
	Header string `json:"header,omitempty"`
	// Body is the message text; required with sections and catalog.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Body string `json:"body,omitempty"`
	// Footer is the small text under the body.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=60
	Footer string `json:"footer,omitempty"`

	// ReplyToMessageID threads the message under one of the customer's messages.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	ReplyToMessageID string `json:"replyToMessageID,omitempty"`
	// Inquiry is the name of a ProductInquiry of the same channel this message
	// answers: it is sent in reply to the inquiry's message, and the inquiry
	// becomes Answered once it is sent.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Inquiry string `json:"inquiry,omitempty"`

	// Template is the approved template sent instead, once, when WhatsApp
	// answers that the customer's 24-hour window is closed: a catalog template
	// for product and catalog (its button shows the product, or the catalog's
	// thumbnail), a multi-product (MPM) template for sections (its button lists
	// the sections). Without one, a closed window makes the message Failed,
	// reason WindowClosed.
	// +optional
	Template *ProductTemplate `json:"template,omitempty"`

	// MessageID tracks a product message another system sent: nothing is sent,
	// and its statuses, inquiries and orders are tracked as for one the operator sent.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	MessageID string `json:"messageID,omitempty"`
}

// Recipient is the customer a message goes to. WhatsApp may withhold the phone
// number (waID) and give only the business-scoped userID.
// +kubebuilder:validation:XValidation:rule="has(self.waID) || has(self.userID)",message="to needs a waID or a userID"
type Recipient struct {
	// WaID is the customer's WhatsApp id (their phone number in international form).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	WaID string `json:"waID,omitempty"`
	// UserID is the business-scoped user id (for example US.13491208655302741918).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	UserID string `json:"userID,omitempty"`
}

// SingleProduct is the one product of a single-product message.
type SingleProduct struct {
	// ProductRetailerID is the product's id (SKU) in the catalog.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ProductRetailerID string `json:"productRetailerID"`
}

// ProductSection is one titled group of products in a multi-product message.
type ProductSection struct {
	// Title is shown above the section's products; required when there is more
	// than one section.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=24
	Title string `json:"title,omitempty"`
	// ProductRetailerIDs are the products' ids (SKUs) in the catalog.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=30
	// +listType=atomic
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=128
	ProductRetailerIDs []string `json:"productRetailerIDs"`
}

// CatalogShowcase is a catalog message: a button that opens the catalog.
type CatalogShowcase struct {
	// ThumbnailProductRetailerID is the product whose image heads the message;
	// WhatsApp picks the catalog's first product without one.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ThumbnailProductRetailerID string `json:"thumbnailProductRetailerID,omitempty"`
}

// ProductTemplate names an approved catalog or multi-product template. Its
// texts are sent as approved: only its button is filled, from the spec.
type ProductTemplate struct {
	// Name is the template's name as approved in WhatsApp Manager.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Name string `json:"name"`
	// Language is the template's language code.
	// +kubebuilder:default=en_US
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Language string `json:"language,omitempty"`
	// Namespace is the On-Premises template namespace; it defaults to the
	// channel's spec.notifications.template.namespace. Cloud ignores it.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Namespace string `json:"namespace,omitempty"`
}

// Revenue is the sum of order totals in one currency.
type Revenue struct {
	// Currency is the ISO 4217 code.
	Currency string `json:"currency"`
	// Total is the exact decimal sum ("85", "15.98").
	Total string `json:"total"`
}

// ProductMessageStatus is what became of the product message, and of the
// customers' responses to it.
type ProductMessageStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase is Pending, Sent or Failed.
	// +optional
	Phase ProductMessagePhase `json:"phase,omitempty"`
	// Type is the WhatsApp interactive type of the message: product,
	// product_list or catalog_message.
	// +optional
	Type string `json:"type,omitempty"`
	// Form is Template when the window was closed and the spec's template went
	// out instead of the interactive message.
	// +optional
	Form ProductMessageForm `json:"form,omitempty"`

	// The message sent: its id, delivery status, error and time.
	SentMessage `json:",inline"`
	// FinishedAt is when the phase became Sent or Failed; the message is
	// deleted once the channel's retention period has passed since (and the
	// archive, if any, holds it). Responses that come later are not counted.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`

	// Inquiries is how many ProductInquiries of the channel reply to this message.
	// +optional
	Inquiries int32 `json:"inquiries"`
	// Orders is how many WhatsAppOrders of the channel reply to this message.
	// +optional
	Orders int32 `json:"orders"`
	// Revenue is the exact sum, per currency, of the totals of those orders that
	// are not Invalid, Rejected or Cancelled; currencies in alphabetical order.
	// +optional
	// +listType=map
	// +listMapKey=currency
	Revenue []Revenue `json:"revenue,omitempty"`
	// PaidRevenue is the exact sum, per currency, of the payments captured for
	// the orders replying to it (status.payment), but those refunded in full;
	// currencies in alphabetical order.
	// +optional
	// +listType=map
	// +listMapKey=currency
	PaidRevenue []Revenue `json:"paidRevenue,omitempty"`
	// RevenueSummary is revenue in one line ("85 EUR, 15.98 USD"), for kubectl.
	// +optional
	RevenueSummary string `json:"revenueSummary,omitempty"`

	// Conditions: Sent, Ready, Reconciling or Stalled while they are true, and
	// Archived while retention waits for the archive.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ProductMessage is a product message the business sends one customer, and how
// customers respond to it: its delivery, and the inquiries and orders that
// reply to it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pmsg,categories=whatsapp,path=productmessages
// +kubebuilder:printcolumn:name="To",type=string,JSONPath=`.spec.to.waID`
// +kubebuilder:printcolumn:name="To User",type=string,JSONPath=`.spec.to.userID`,priority=1
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Delivery",type=string,JSONPath=`.status.deliveryStatus`
// +kubebuilder:printcolumn:name="Inquiries",type=integer,JSONPath=`.status.inquiries`
// +kubebuilder:printcolumn:name="Orders",type=integer,JSONPath=`.status.orders`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.status.type`,priority=1
// +kubebuilder:printcolumn:name="Catalog",type=string,JSONPath=`.spec.catalogID`,priority=1
// +kubebuilder:printcolumn:name="Revenue",type=string,JSONPath=`.status.revenueSummary`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ProductMessage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ProductMessageSpec   `json:"spec"`
	Status ProductMessageStatus `json:"status,omitempty"`
}

// ProductMessageList is a list of ProductMessages.
// +kubebuilder:object:root=true
type ProductMessageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProductMessage `json:"items"`
}

// InteractiveType is the WhatsApp interactive type the spec describes.
func (s *ProductMessageSpec) InteractiveType() string {
	switch {
	case s.Product != nil:
		return InteractiveProduct
	case len(s.Sections) > 0:
		return InteractiveProductList
	default:
		return InteractiveCatalogMessage
	}
}

// SentMessage returns the record of the message with the given id, or nil:
// the message sent, or the one spec.messageID tracks.
func (p *ProductMessage) SentMessage(messageID string) *SentMessage {
	if messageID != "" && (p.Status.MessageID == messageID || p.Spec.MessageID == messageID) {
		return &p.Status.SentMessage
	}
	return nil
}

func init() {
	SchemeBuilder.Register(&ProductMessage{}, &ProductMessageList{})
}
