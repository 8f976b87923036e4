package v1alpha1

// Condition types and reasons of every kind, in one place: they are what
// `kubectl wait`, alerts, kstatus and other controllers match on, so they are
// part of the API. Reasons are PascalCase.

// Condition types shared by every kind.
const (
	// ConditionReady tells whether the controller has caught up with the spec.
	ConditionReady = "Ready"
	// ConditionReconciling (kstatus) is present, True, only while work is in
	// progress: a send being retried, waiting for a channel, a Secret being re-read.
	ConditionReconciling = "Reconciling"
	// ConditionStalled (kstatus) is present, True, only while the resource will
	// not progress without a person: an invalid cart, a final send refusal, a
	// channel's missing Secret.
	ConditionStalled = "Stalled"
)

// Condition types of a WhatsAppOrder besides Ready, Reconciling and Stalled.
const (
	ConditionValidated        = "Validated"
	ConditionCustomerNotified = "CustomerNotified"
)

// ConditionAnswered (ProductInquiry) tells whether the reply reached WhatsApp.
const ConditionAnswered = "Answered"

// Reasons for the outcome of a message to a customer, shared by orders
// (CustomerNotified) and inquiries (Answered), and by Ready, Reconciling and
// Stalled when the outcome decides them.
const (
	ReasonSent = "Sent"
	// ReasonRetrying: WhatsApp rate-limited the send or failed transiently.
	ReasonRetrying = "Retrying"
	// ReasonWindowClosed: the customer's 24-hour service window has closed.
	ReasonWindowClosed = "WindowClosed"
	// ReasonSendFailed: WhatsApp refused the message for good.
	ReasonSendFailed = "SendFailed"
	// ReasonChannelNotReady: the channel is missing, not Ready, or its Secret
	// has no usable access token.
	ReasonChannelNotReady = "ChannelNotReady"
)

// Reasons of a WhatsAppOrder's conditions.
const (
	// ReasonCartValid (Validated=True).
	ReasonCartValid = "CartValid"
	// ReasonInvalidCart: Ready, CustomerNotified and Stalled of an invalid cart.
	ReasonInvalidCart = "InvalidCart"
	// ReasonNothingToSend: CustomerNotified=False of a Pending order.
	ReasonNothingToSend = "NothingToSend"
	// ReasonUpToDate: Ready=True, the status follows the spec.
	ReasonUpToDate = "UpToDate"
)

// Reasons of Validated=False: what is wrong with the cart.
const (
	ReasonNoItems                  = "NoItems"
	ReasonTooManyItems             = "TooManyItems"
	ReasonInvalidProductRetailerID = "InvalidProductRetailerID"
	ReasonInvalidQuantity          = "InvalidQuantity"
	ReasonInvalidPrice             = "InvalidPrice"
	ReasonUnknownCurrency          = "UnknownCurrency"
	ReasonMixedCurrencies          = "MixedCurrencies"
)

// ReasonAwaitingReply (ProductInquiry, Answered=False): open, no reply set yet.
const ReasonAwaitingReply = "AwaitingReply"

// Reasons of a WhatsAppChannel's Ready condition.
const (
	// ReasonChannelReady: the channel receives webhooks and can send.
	ReasonChannelReady = "ChannelReady"
	// ReasonInvalidNotifications: a configured message text or template
	// parameter does not parse.
	ReasonInvalidNotifications = "InvalidNotifications"
	ReasonSecretNotFound       = "SecretNotFound"
	// ReasonSecretUnreadable: the API server did not answer for the Secret.
	ReasonSecretUnreadable  = "SecretUnreadable"
	ReasonMissingSecretKey  = "MissingSecretKey"
	ReasonSecretKeyNotValid = "SecretKeyNotValid"
)

// Reasons of Events that are not condition reasons.
const (
	// ReasonPhaseChanged: an order's phase moved.
	ReasonPhaseChanged = "PhaseChanged"
	// ReasonRetentionExpired: a finished resource was deleted.
	ReasonRetentionExpired = "RetentionExpired"
	// ReasonInvalidWebhookElement: part of a webhook body can never be stored.
	ReasonInvalidWebhookElement = "InvalidWebhookElement"
	// ReasonUnexpectedPhoneNumber: a Cloud webhook entry for another number.
	ReasonUnexpectedPhoneNumber = "UnexpectedPhoneNumber"
)
