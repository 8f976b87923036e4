package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// InquiryPhase is where a product inquiry stands.
// +kubebuilder:validation:Enum=Open;Answered;Expired;Failed
type InquiryPhase string

const (
	InquiryOpen     InquiryPhase = "Open"
	InquiryAnswered InquiryPhase = "Answered"
	// InquiryExpired: the 24-hour customer service window closed before a reply went out.
	InquiryExpired InquiryPhase = "Expired"
	InquiryFailed  InquiryPhase = "Failed"
)

// ProductInquirySpec is a customer's question about a catalog product, written by
// the webhook receiver. Everything but reply is immutable, and reply.text is set once.
// +kubebuilder:validation:XValidation:rule="self.channel == oldSelf.channel",message="channel is immutable"
// +kubebuilder:validation:XValidation:rule="self.messageID == oldSelf.messageID",message="messageID is immutable"
// +kubebuilder:validation:XValidation:rule="self.receivedAt == oldSelf.receivedAt",message="receivedAt is immutable"
// +kubebuilder:validation:XValidation:rule="self.customer == oldSelf.customer",message="customer is immutable"
// +kubebuilder:validation:XValidation:rule="self.product == oldSelf.product",message="product is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.question) == has(oldSelf.question) && (!has(self.question) || self.question == oldSelf.question)",message="question is immutable"
// +kubebuilder:validation:XValidation:rule="has(self.replyToMessageID) == has(oldSelf.replyToMessageID) && (!has(self.replyToMessageID) || self.replyToMessageID == oldSelf.replyToMessageID)",message="replyToMessageID is immutable"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.reply) || (has(self.reply) && self.reply == oldSelf.reply)",message="reply.text cannot change once set"
type ProductInquirySpec struct {
	// Channel is the name of the WhatsAppChannel the inquiry arrived on.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Channel string `json:"channel"`
	// MessageID is the WhatsApp id of the customer's message.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	MessageID string `json:"messageID"`
	// ReceivedAt is the message's timestamp; the 24-hour reply window starts here.
	ReceivedAt metav1.Time `json:"receivedAt"`
	// Customer is who asked.
	Customer Customer `json:"customer"`
	// Product is the catalog product the customer asked about.
	Product ProductReference `json:"product"`
	// Question is the customer's text.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	Question string `json:"question,omitempty"`
	// ReplyToMessageID is the product message the customer tapped "Message business" on.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ReplyToMessageID string `json:"replyToMessageID,omitempty"`

	// Reply is the business's answer, set by a person or another controller.
	// Once set it cannot change.
	// +optional
	Reply *InquiryReply `json:"reply,omitempty"`
}

// ProductReference names a product in a catalog.
type ProductReference struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	CatalogID string `json:"catalogID"`
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ProductRetailerID string `json:"productRetailerID"`
}

// InquiryReply is the business's answer to an inquiry.
type InquiryReply struct {
	// Text is sent to the customer as a reply in their thread.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Text string `json:"text"`
}

// ProductInquiryStatus is what the controller made of the inquiry.
type ProductInquiryStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Phase is Open, Answered, Expired (the 24-hour window closed unanswered) or Failed.
	// +optional
	Phase InquiryPhase `json:"phase,omitempty"`
	// WindowExpiresAt is when the customer service window closes: 24 hours after the question.
	// +optional
	WindowExpiresAt *metav1.Time `json:"windowExpiresAt,omitempty"`
	// FinishedAt is when the phase became final; the resource is deleted once
	// the channel's retention period has passed since.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// CustomerUserID is the customer's current business-scoped user id, when
	// WhatsApp reported that it changed since the inquiry arrived. A reply to a
	// customer without a waID goes to this id when it is set.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	CustomerUserID string `json:"customerUserID,omitempty"`
	// Reply is the reply message sent and its delivery status.
	// +optional
	Reply *SentMessage `json:"reply,omitempty"`
	// Conditions: Answered, Ready; Reconciling and Stalled while true.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ProductInquiry is a customer's question about a catalog product, and the reply to it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pinq,categories=whatsapp,path=productinquiries
// +kubebuilder:printcolumn:name="Customer",type=string,JSONPath=`.spec.customer.waID`
// +kubebuilder:printcolumn:name="Customer Name",type=string,JSONPath=`.spec.customer.name`,priority=1
// +kubebuilder:printcolumn:name="Product",type=string,JSONPath=`.spec.product.productRetailerID`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Channel",type=string,JSONPath=`.spec.channel`,priority=1
// +kubebuilder:printcolumn:name="Window Expires",type=date,JSONPath=`.status.windowExpiresAt`,priority=1
// +kubebuilder:printcolumn:name="Delivery",type=string,JSONPath=`.status.reply.deliveryStatus`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ProductInquiry struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ProductInquirySpec   `json:"spec"`
	Status ProductInquiryStatus `json:"status,omitempty"`
}

// ProductInquiryList is a list of ProductInquiries.
// +kubebuilder:object:root=true
type ProductInquiryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ProductInquiry `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ProductInquiry{}, &ProductInquiryList{})
}
