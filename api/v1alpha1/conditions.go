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

// ConditionPaid (WhatsAppOrder with spec.payment) is True once the payment is
// captured; False with the reasons below before.
const ConditionPaid = "Paid"

// Reasons of Paid, and of the Events of a payment.
const (
	// ReasonPaymentRequested: the bill is sent; no payment reported yet.
	ReasonPaymentRequested = "PaymentRequested"
	// ReasonPaymentPending: the customer started paying.
	ReasonPaymentPending = "PaymentPending"
	// ReasonPaymentCaptured (Paid=True): the payment is captured.
	ReasonPaymentCaptured = "PaymentCaptured"
	// ReasonPaymentFailed: the last attempt failed (a Warning event); the
	// customer may try again.
	ReasonPaymentFailed = "PaymentFailed"
	// ReasonPaymentRefunded: a refund was reported (an Event; Paid stays True).
	ReasonPaymentRefunded = "PaymentRefunded"
	// ReasonPaymentNotPossible: the order can never be paid as asked (a
	// currency the method does not take, a fraction of a cent, a negative
	// total, an Invalid or final order, an On-Premises channel, no payment
	// configuration); nothing is sent and the message says why.
	ReasonPaymentNotPossible = "PaymentNotPossible"
)

// ConditionAnswered (ProductInquiry) tells whether the reply reached WhatsApp.
const ConditionAnswered = "Answered"

// ConditionArchived (WhatsAppOrder, ProductInquiry) is present, False, only
// while a finished resource whose retention is over waits to be deleted until
// the archive holds its final version.
const ConditionArchived = "Archived"

// Reasons of Archived=False.
const (
	// ReasonArchivePending: the archive has not written the final version yet.
	ReasonArchivePending = "ArchivePending"
	// ReasonArchiveUnavailable: PostgreSQL cannot be reached or refuses the
	// operator (a wrong password, say); the message says why.
	ReasonArchiveUnavailable = "ArchiveUnavailable"
)

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
	// ReasonDeliveryFailed: WhatsApp accepted the message, then reported in a
	// failed status that it could not deliver it.
	ReasonDeliveryFailed = "DeliveryFailed"
	// ReasonAwaitingStatus: the outcome of a send is unknown (the operator
	// restarted between sending a message and recording it, or the send got
	// no answer or a 5xx), and the operator waits (at most its intent timeout) for
	// the status webhook that says whether WhatsApp accepted it, before
	// sending again.
	ReasonAwaitingStatus = "AwaitingStatus"
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

// ReasonAnsweredWithProducts (ProductInquiry, Answered=True): a ProductMessage
// naming the inquiry in spec.inquiry was sent.
const ReasonAnsweredWithProducts = "AnsweredWithProducts"

// Reasons of a ProductMessage's conditions (besides the send outcomes above).
const (
	// ReasonTracked (Sent=True): spec.messageID names a message another system
	// sent; the operator sends nothing and tracks it.
	ReasonTracked = "Tracked"
	// ReasonNotSupportedByAPI: the channel's API generation cannot send this
	// kind of message (On-Premises has no catalog messages or templates, and
	// cannot address a user id).
	ReasonNotSupportedByAPI = "NotSupportedByAPI"
	// ReasonInquiryNotFound: spec.inquiry names no ProductInquiry of the
	// namespace (yet); the message waits for it.
	ReasonInquiryNotFound = "InquiryNotFound"
	// ReasonInquiryOnOtherChannel: spec.inquiry names an inquiry that arrived
	// on another channel, whose message cannot be replied to from this one.
	ReasonInquiryOnOtherChannel = "InquiryOnOtherChannel"
)

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
	// ReasonAPIURLNotAllowed: the channel's apiURL (for Cloud, Meta's default
	// when unset) is not under any of the operator's --allowed-api-urls;
	// nothing is sent to it.
	ReasonAPIURLNotAllowed = "APIURLNotAllowed"
)

// ConditionSigned (WhatsAppChannel) tells whether the receiver requires a
// valid X-Hub-Signature-256 on the channel's webhook requests. It is set once
// the Secret has been read: True for every Cloud channel, False for an
// On-Premises channel whose Secret has no appSecret, whose webhook path is
// then the only credential of a request.
const ConditionSigned = "Signed"

// Reasons of Signed, also the reasons of the events of its changes.
const (
	// ReasonSigned: the Secret has an appSecret; unsigned requests are refused.
	ReasonSigned = "Signed"
	// ReasonUnsigned: On-Premises without appSecret; a Warning event says so
	// when the channel is first seen unsigned, and when appSecret is removed.
	ReasonUnsigned = "Unsigned"
)

// Reasons of Events that are not condition reasons.
const (
	// ReasonPhaseChanged: an order's phase moved.
	ReasonPhaseChanged = "PhaseChanged"
	// ReasonRetentionExpired: a finished resource was deleted.
	ReasonRetentionExpired = "RetentionExpired"
	// ReasonReplyNotSent: an inquiry's spec.reply.text was not sent, since a
	// ProductMessage answered the inquiry.
	ReasonReplyNotSent = "ReplyNotSent"
	// ReasonInvalidWebhookElement: part of a webhook body can never be stored.
	ReasonInvalidWebhookElement = "InvalidWebhookElement"
	// ReasonWebhookBodyOverLimit: a webhook body was refused whole for holding
	// more elements than the receiver takes in one body.
	ReasonWebhookBodyOverLimit = "WebhookBodyOverLimit"
	// ReasonUnexpectedPhoneNumber: a Cloud webhook entry for another number.
	ReasonUnexpectedPhoneNumber = "UnexpectedPhoneNumber"
)
