package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	// Conditions: Ready.
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
