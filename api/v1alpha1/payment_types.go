package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// GoodsType is what an order_details bill sells, as WhatsApp names it.
// +kubebuilder:validation:Enum=physical-goods;digital-goods
type GoodsType string

const (
	GoodsPhysical GoodsType = "physical-goods"
	GoodsDigital  GoodsType = "digital-goods"
)

// ChannelPayments are a channel's defaults for asking customers to pay.
type ChannelPayments struct {
	// ConfigurationName is the payment configuration of the WhatsApp Business
	// Account (WhatsApp Manager > Payment configurations) a gateway payment uses
	// when the order's gateway names none.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ConfigurationName string `json:"configurationName,omitempty"`
	// GoodsType is the bill's goods type when the order sets none;
	// physical-goods when unset here too.
	// +optional
	GoodsType GoodsType `json:"goodsType,omitempty"`
	// OrderDetailsTemplate is an approved utility template with an
	// ORDER_DETAILS button, sent instead of the order_details message outside
	// the customer's 24-hour window; without one the bill is not sent there.
	// +optional
	OrderDetailsTemplate *PaymentTemplate `json:"orderDetailsTemplate,omitempty"`
	// OrderStatusTemplate is an approved ORDER_STATUS utility template, sent
	// instead of the order_status message outside the customer's 24-hour window.
	// +optional
	OrderStatusTemplate *PaymentTemplate `json:"orderStatusTemplate,omitempty"`
}

// PaymentTemplate names an approved Cloud API template.
type PaymentTemplate struct {
	// Name is the template's name as approved in WhatsApp Manager.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Name string `json:"name"`
	// Language is the template's language code.
	// +kubebuilder:default=en_US
	// +optional
	// +kubebuilder:validation:MaxLength=16
	Language string `json:"language,omitempty"`
}

// OrderPayment asks the customer to pay for the order inside WhatsApp: the
// operator sends one order_details message ("Review and pay") built from the
// cart and these fields.
// +kubebuilder:validation:XValidation:rule="[has(self.gateway), has(self.pix), has(self.link)].filter(m, m).size() == 1",message="payment needs exactly one method: gateway, pix or link"
type OrderPayment struct {
	// Gateway is a payment configuration of the WhatsApp Business Account
	// (India: payment gateways and UPI). Currency INR.
	// +optional
	Gateway *GatewayPayment `json:"gateway,omitempty"`
	// Pix is a Brazilian dynamic Pix code. Currency BRL.
	// +optional
	Pix *PixPayment `json:"pix,omitempty"`
	// Link is a payment link of the business's payment provider.
	// Currency INR, BRL or SGD.
	// +optional
	Link *LinkPayment `json:"link,omitempty"`
	// Tax is added to the items' subtotal; a decimal as itemPrice.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]{1,15}(\.[0-9]{1,6})?$`
	Tax string `json:"tax,omitempty"`
	// Shipping is added to the items' subtotal; a decimal as itemPrice.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]{1,15}(\.[0-9]{1,6})?$`
	Shipping string `json:"shipping,omitempty"`
	// Discount is taken off the items' subtotal; a decimal as itemPrice.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9]{1,15}(\.[0-9]{1,6})?$`
	Discount string `json:"discount,omitempty"`
	// GoodsType overrides the channel's spec.payments.goodsType.
	// +optional
	GoodsType GoodsType `json:"goodsType,omitempty"`
}

// GatewayPayment is paid through a payment configuration of the account.
type GatewayPayment struct {
	// ConfigurationName is the payment configuration's name; the channel's
	// spec.payments.configurationName when unset.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	ConfigurationName string `json:"configurationName,omitempty"`
	// Provider is the payment gateway behind the configuration, sent as
	// payment_gateway.type where Meta's pages ask for it.
	// +optional
	// +kubebuilder:validation:Enum=razorpay;payu;billdesk;zaakpay
	Provider string `json:"provider,omitempty"`
}

// PixPayment is a Brazilian dynamic Pix code the business's payment provider issued.
type PixPayment struct {
	// Code is the Pix "copia e cola" code.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Code string `json:"code"`
	// MerchantName is the account holder's name shown to the customer.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	MerchantName string `json:"merchantName"`
	// Key is the Pix key.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=77
	Key string `json:"key"`
	// KeyType is the kind of Pix key.
	// +kubebuilder:validation:Enum=CPF;CNPJ;EMAIL;PHONE;EVP
	KeyType string `json:"keyType"`
}

// LinkPayment is a payment link of the business's payment provider.
type LinkPayment struct {
	// URI is the https link the customer pays at.
	// +kubebuilder:validation:Pattern=`^https://[^\s]+$`
	// +kubebuilder:validation:MaxLength=2048
	URI string `json:"uri"`
}

// PaymentState is where the customer's payment stands.
// +kubebuilder:validation:Enum=Requested;Pending;Captured;Failed
type PaymentState string

const (
	// PaymentRequested: the bill is sent (or being sent); WhatsApp has not
	// reported a payment yet.
	PaymentRequested PaymentState = "Requested"
	// PaymentPending: the customer started paying; the outcome is not known.
	PaymentPending PaymentState = "Pending"
	// PaymentCaptured: the money is the business's. Final.
	PaymentCaptured PaymentState = "Captured"
	// PaymentFailed: the last attempt failed; the customer may try again.
	PaymentFailed PaymentState = "Failed"
)

// OrderPaymentStatus is the bill sent for an order and what WhatsApp reported
// about its payment. The embedded SentMessage is the order_details message:
// its delivery statuses are tracked as for every message the operator sends,
// and never mixed with the payment's status.
type OrderPaymentStatus struct {
	// ReferenceID is the bill's reference_id, unique per order; WhatsApp's
	// payment statuses and the order_status messages name it.
	// +kubebuilder:validation:MaxLength=35
	ReferenceID string `json:"referenceID"`
	SentMessage `json:",inline"`
	// Status is the payment's state: Requested until WhatsApp reports one.
	// +optional
	Status PaymentState `json:"status,omitempty"`
	// PaymentUpdatedAt is the timestamp of the payment status applied last.
	// +optional
	PaymentUpdatedAt *metav1.Time `json:"paymentUpdatedAt,omitempty"`
	// TransactionID is the payment provider's transaction id.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	TransactionID string `json:"transactionID,omitempty"`
	// Method is how the customer paid (upi, card, wallet, netbanking, ...), when reported.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Method string `json:"method,omitempty"`
	// Amount is the amount paid, an exact decimal ("1149.00" is reported as "1149").
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Amount string `json:"amount,omitempty"`
	// Currency is the ISO 4217 code of Amount.
	// +optional
	// +kubebuilder:validation:MaxLength=3
	Currency string `json:"currency,omitempty"`
	// Refunds are the refunds WhatsApp reported, by id.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	Refunds []PaymentRefund `json:"refunds,omitempty"`
	// RefundedInFull is true once completed refunds add up to Amount: such an
	// order may be Rejected or Cancelled.
	// +optional
	RefundedInFull bool `json:"refundedInFull,omitempty"`
	// TransactionError is the provider's reason for a failed payment.
	// +optional
	TransactionError *PaymentError `json:"transactionError,omitempty"`
}

// PaymentRefund is one refund of a captured payment.
type PaymentRefund struct {
	// +kubebuilder:validation:MaxLength=256
	ID string `json:"id"`
	// Amount is the exact decimal refunded.
	// +kubebuilder:validation:MaxLength=64
	Amount string `json:"amount"`
	// Status is the provider's refund status (pending, completed, failed).
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Status string `json:"status,omitempty"`
}

// PaymentError is a payment provider's error, as WhatsApp relays it.
type PaymentError struct {
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Code string `json:"code,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Reason string `json:"reason,omitempty"`
}
