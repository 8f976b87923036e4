package v1alpha1

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIGeneration is the WhatsApp Business API generation a channel speaks.
// +kubebuilder:validation:Enum=Cloud;OnPremises
type APIGeneration string

const (
	APICloud      APIGeneration = "Cloud"
	APIOnPremises APIGeneration = "OnPremises"
)

// Keys read from the Secret a channel references.
const (
	SecretKeyWebhookToken = "webhookToken"
	SecretKeyAppSecret    = "appSecret"
	SecretKeyVerifyToken  = "verifyToken"
	SecretKeyAccessToken  = "accessToken"
)

// WhatsAppChannelSpec connects one WhatsApp Business phone number to a namespace.
// +kubebuilder:validation:XValidation:rule="self.api != 'Cloud' || has(self.phoneNumberID)",message="phoneNumberID is required when api is Cloud"
// +kubebuilder:validation:XValidation:rule="self.api != 'OnPremises' || has(self.apiURL)",message="apiURL is required when api is OnPremises"
// +kubebuilder:validation:XValidation:rule="self.api != 'OnPremises' || !has(self.notifications) || !has(self.notifications.template) || has(self.notifications.template.namespace)",message="notifications.template.namespace is required when api is OnPremises: that generation refuses template messages without it"
type WhatsAppChannelSpec struct {
	// API is the WhatsApp Business API generation: Cloud (the default) or OnPremises.
	// +kubebuilder:default=Cloud
	// +optional
	API APIGeneration `json:"api,omitempty"`

	// PhoneNumberID is the Cloud API phone number id this channel serves and sends
	// from. Cloud webhook entries for other numbers are acknowledged but not stored.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]+$`
	// +kubebuilder:validation:MaxLength=32
	PhoneNumberID string `json:"phoneNumberID,omitempty"`

	// APIURL is the base URL messages are sent to. Cloud defaults to Meta's Graph
	// API; OnPremises requires the URL of the business's WhatsApp client.
	// +optional
	// +kubebuilder:validation:Pattern=`^https?://`
	// +kubebuilder:validation:MaxLength=2048
	APIURL string `json:"apiURL,omitempty"`

	// SecretRef names a Secret in the channel's namespace holding webhookToken
	// (required), appSecret (required for Cloud), verifyToken and accessToken.
	SecretRef SecretReference `json:"secretRef"`

	// Notifications configures what customers are told about their orders.
	// +optional
	Notifications NotificationSettings `json:"notifications,omitempty"`

	// Retention is how long finished orders (Rejected, Delivered, Cancelled),
	// inquiries (Answered, Expired, Failed) and product messages (Sent, Failed;
	// their funnel stops counting once they are gone) are kept before they are
	// deleted.
	// With an archive (the operator's --archive-database-url), a resource is
	// deleted only once the archive holds its final version, and unset means
	// 720h. Without one, unset means finished resources are kept until someone
	// deletes them: nothing leaves the cluster that exists nowhere else, unless
	// the channel asks for it here.
	// +optional
	Retention *metav1.Duration `json:"retention,omitempty"`

	// Payments are the channel's defaults for orders that ask the customer to
	// pay (WhatsApp's Payments API, Cloud only).
	// +optional
	Payments *ChannelPayments `json:"payments,omitempty"`
}

// NotificationSettings configures the messages sent to customers.
type NotificationSettings struct {
	// OrderMessages overrides the text sent when an order enters a state, keyed by
	// the state (Accepted, Rejected, Shipped, Delivered, Cancelled). Each is a
	// template of at most 4096 characters, rendering to at most 4096 (WhatsApp's
	// limit on a text), in a subset of Go's text/template: {{.Order}} (the
	// order's name), {{.State}}, {{.CustomerName}}, {{.Items}} (e.g.
	// "2 x di9ozbzfi4, 1 x nqryix03ez"), {{.ItemCount}}, {{.Total}} and
	// {{.Currency}}, {{if .Field}}...{{else}}...{{end}}, and
	// {{with .Field}}...{{.}}...{{end}}; functions, pipelines, variables and
	// range are refused (the channel is then not Ready, reason
	// InvalidNotifications). States without an entry get a default message
	// naming the items and total.
	// +optional
	// +kubebuilder:validation:MaxProperties=5
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['Accepted', 'Rejected', 'Shipped', 'Delivered', 'Cancelled'])",message="orderMessages keys must be Accepted, Rejected, Shipped, Delivered or Cancelled"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(self[k]) <= 4096)",message="each orderMessages text must be at most 4096 characters (WhatsApp's limit on a text message)"
	OrderMessages map[string]string `json:"orderMessages,omitempty"`

	// Template is an approved message template used when the customer's 24-hour
	// service window has closed, where free-form text is refused. Without one, a
	// notification outside the window is not sent (CustomerNotified=False,
	// reason WindowClosed).
	// +optional
	Template *MessageTemplate `json:"template,omitempty"`
}

// MessageTemplate names an approved WhatsApp message template.
type MessageTemplate struct {
	// Name is the template's name as approved in WhatsApp Manager.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Name string `json:"name"`
	// Language is the template's language code.
	// +kubebuilder:default=en_US
	// +optional
	Language string `json:"language,omitempty"`
	// Namespace is the On-Premises template namespace (a UUID-like string
	// from WhatsApp Manager), which that generation requires on every
	// template message. Cloud ignores it.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Namespace string `json:"namespace,omitempty"`
	// Parameters fill the template body's {{1}}, {{2}}, ... in order; each is a
	// template in the same language as orderMessages, of at most 1024
	// characters, rendering to at most 1024.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=1024
	Parameters []string `json:"parameters,omitempty"`
}

// SecretReference names a Secret in the same namespace.
type SecretReference struct {
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// WhatsAppChannelStatus is what the controller observed of the channel.
type WhatsAppChannelStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// WebhookPath is the path to register with Meta as the webhook callback,
	// derived from the Secret's webhookToken so it cannot be guessed.
	// +optional
	WebhookPath string `json:"webhookPath,omitempty"`
	// Conditions: Ready; Reconciling and Stalled while true.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// WhatsAppChannel is one WhatsApp Business phone number connected to a namespace:
// its webhooks become WhatsAppOrders and ProductInquiries there.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wach,categories=whatsapp
// +kubebuilder:printcolumn:name="API",type=string,JSONPath=`.spec.api`
// +kubebuilder:printcolumn:name="Phone Number ID",type=string,JSONPath=`.spec.phoneNumberID`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Webhook Path",type=string,JSONPath=`.status.webhookPath`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// The name labels every resource of the channel (commerce.wa.dev/channel), so it
// must be a valid label value.
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63",message="a channel's name is at most 63 characters: it labels every order and inquiry of the channel (commerce.wa.dev/channel)"
type WhatsAppChannel struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WhatsAppChannelSpec   `json:"spec"`
	Status WhatsAppChannelStatus `json:"status,omitempty"`
}

// WhatsAppChannelList is a list of WhatsAppChannels.
// +kubebuilder:object:root=true
type WhatsAppChannelList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WhatsAppChannel `json:"items"`
}

// DefaultRetention applies when a channel sets none and an archive keeps
// what is deleted.
const DefaultRetention = 30 * 24 * time.Hour

// RetentionPeriod is how long finished resources of the channel (nil when it
// is gone) are kept, and false when they are kept for good: without an
// archive, only a retention set on the channel deletes anything.
func (c *WhatsAppChannel) RetentionPeriod(archiving bool) (time.Duration, bool) {
	if c != nil && c.Spec.Retention != nil && c.Spec.Retention.Duration > 0 {
		return c.Spec.Retention.Duration, true
	}
	if archiving {
		return DefaultRetention, true
	}
	return 0, false
}

// API is the channel's API generation, Cloud when unset.
func (c *WhatsAppChannel) API() APIGeneration {
	if c.Spec.API == "" {
		return APICloud
	}
	return c.Spec.API
}

func init() {
	SchemeBuilder.Register(&WhatsAppChannel{}, &WhatsAppChannelList{})
}
