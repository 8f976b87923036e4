// Package index is the one registry of the informer cache's field indexes:
// one index per question the controllers and the webhook receiver ask of the
// cache, registered once, by the composition root, on every replica (the
// receiver serves on all of them, the controllers on the leader). It imports
// only the API package, so both sides can use it.
package index

import (
	"context"
	"fmt"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The indexes, by the question each answers.
const (
	// Channel: which orders, inquiries and product messages are on a channel
	// (spec.channel), so a channel turning Ready wakes them.
	Channel = "spec.channel"
	// WebhookPath: which channel a webhook request is for.
	WebhookPath = "status.webhookPath"
	// SentMessage: which resource a WhatsApp message id is about: an order's
	// notifications, an inquiry's reply, a product message (sent, or tracked
	// through spec.messageID before the controller copied it into status).
	SentMessage = "status.sentMessageIDs"
	// ReplyTo: which orders and inquiries reply to a message
	// (spec.replyToMessageID): a product message's funnel.
	ReplyTo = "spec.replyToMessageID"
	// Inquiry: which product messages answer an inquiry (spec.inquiry).
	Inquiry = "spec.inquiry"
	// CustomerUserID: whose orders and inquiries a business-scoped user id is:
	// status.customerUserID once WhatsApp reported a change, else
	// spec.customer.userID.
	CustomerUserID = "status.customerUserID"
	// PaymentReference: which order a bill's reference_id is
	// (status.payment.referenceID): a payment status webhook's order.
	PaymentReference = "status.payment.referenceID"
	// OpenIntent: which orders, inquiries and product messages of a channel
	// are sending a message without callback data (On-Premises) to a
	// recipient: an open intent, keyed by RecipientKey. The receiver asks it
	// of a status about a message id it does not know: while one is open,
	// the status may be about that message, whose record will name it.
	OpenIntent = "status.openIntentRecipients"
)

// entry is one index of one kind.
type entry struct {
	obj   client.Object
	field string
	value client.IndexerFunc
}

var (
	order   = &commercev1alpha1.WhatsAppOrder{}
	inquiry = &commercev1alpha1.ProductInquiry{}
	pmsg    = &commercev1alpha1.ProductMessage{}
)

var registry = []entry{
	{order, Channel, ChannelOf},
	{inquiry, Channel, ChannelOf},
	{pmsg, Channel, ChannelOf},
	{&commercev1alpha1.WhatsAppChannel{}, WebhookPath, WebhookPathOf},
	{order, SentMessage, SentMessageIDs},
	{inquiry, SentMessage, SentMessageIDs},
	{pmsg, SentMessage, SentMessageIDs},
	{order, ReplyTo, ReplyToOf},
	{inquiry, ReplyTo, ReplyToOf},
	{pmsg, Inquiry, InquiryOf},
	{order, CustomerUserID, CustomerUserIDOf},
	{inquiry, CustomerUserID, CustomerUserIDOf},
	{order, PaymentReference, PaymentReferenceOf},
	{order, OpenIntent, OpenIntentRecipients},
	{inquiry, OpenIntent, OpenIntentRecipients},
	{pmsg, OpenIntent, OpenIntentRecipients},
}

// PaymentReferenceOf is the reference_id of an order's bill, once recorded.
func PaymentReferenceOf(o client.Object) []string {
	if order, ok := o.(*commercev1alpha1.WhatsAppOrder); ok && order.Status.Payment != nil {
		return nonEmpty(order.Status.Payment.ReferenceID)
	}
	return nil
}

// Register registers every index with the cache. Call it once per manager,
// before the manager starts.
func Register(ctx context.Context, indexer client.FieldIndexer) error {
	for _, e := range registry {
		if err := indexer.IndexField(ctx, e.obj, e.field, e.value); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", e.obj, e.field, err)
		}
	}
	return nil
}

// ChannelOf is the channel an order, inquiry or product message is on.
func ChannelOf(o client.Object) []string {
	if x, ok := o.(interface{ ChannelName() string }); ok {
		return nonEmpty(x.ChannelName())
	}
	return nil
}

// WebhookPathOf is the path a channel receives its webhooks at, once published.
func WebhookPathOf(o client.Object) []string {
	if ch, ok := o.(*commercev1alpha1.WhatsAppChannel); ok {
		return nonEmpty(ch.Status.WebhookPath)
	}
	return nil
}

// SentMessageIDs are the ids of the messages a resource recorded (an intent,
// which has none yet, is found by its callback data instead), and the one a
// product message tracks.
func SentMessageIDs(o client.Object) []string {
	var ids []string
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if x, ok := o.(interface {
		SentMessages() []*commercev1alpha1.SentMessage
	}); ok {
		for _, m := range x.SentMessages() {
			add(m.MessageID)
		}
	}
	if pm, ok := o.(*commercev1alpha1.ProductMessage); ok {
		add(pm.Spec.MessageID)
	}
	return ids
}

// OpenIntentRecipients are the RecipientKeys of a resource with an open
// intent without callback data: one per id its recipient may be reported by
// (phone number, user ids), since a status names the recipient by one of them.
func OpenIntentRecipients(o client.Object) []string {
	x, ok := o.(interface {
		SentMessages() []*commercev1alpha1.SentMessage
		ChannelName() string
	})
	if !ok || !slices.ContainsFunc(x.SentMessages(), func(m *commercev1alpha1.SentMessage) bool {
		return m.Pending() && m.CallbackData == ""
	}) {
		return nil
	}
	var ids []string
	switch r := o.(type) {
	case *commercev1alpha1.WhatsAppOrder:
		ids = []string{r.Spec.Customer.WaID, r.Spec.Customer.UserID, r.Status.CustomerUserID}
	case *commercev1alpha1.ProductInquiry:
		ids = []string{r.Spec.Customer.WaID, r.Spec.Customer.UserID, r.Status.CustomerUserID}
	case *commercev1alpha1.ProductMessage:
		ids = []string{r.Spec.To.WaID, r.Spec.To.UserID}
	}
	var keys []string
	for _, id := range ids {
		if k := RecipientKey(x.ChannelName(), id); id != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// RecipientKey is the OpenIntent value of recipient id on channel.
func RecipientKey(channel, id string) string {
	return channel + "/" + id
}

// ReplyToOf is the message an order or inquiry replies to.
func ReplyToOf(o client.Object) []string {
	switch x := o.(type) {
	case *commercev1alpha1.WhatsAppOrder:
		return nonEmpty(x.Spec.ReplyToMessageID)
	case *commercev1alpha1.ProductInquiry:
		return nonEmpty(x.Spec.ReplyToMessageID)
	}
	return nil
}

// InquiryOf is the inquiry a product message answers.
func InquiryOf(o client.Object) []string {
	if pm, ok := o.(*commercev1alpha1.ProductMessage); ok {
		return nonEmpty(pm.Spec.Inquiry)
	}
	return nil
}

// CustomerUserIDOf is the current business-scoped user id of an order's or
// inquiry's customer.
func CustomerUserIDOf(o client.Object) []string {
	switch x := o.(type) {
	case *commercev1alpha1.WhatsAppOrder:
		return currentUserID(x.Spec.Customer, x.Status.CustomerUserID)
	case *commercev1alpha1.ProductInquiry:
		return currentUserID(x.Spec.Customer, x.Status.CustomerUserID)
	}
	return nil
}

func currentUserID(c commercev1alpha1.Customer, reported string) []string {
	if reported != "" {
		return []string{reported}
	}
	return nonEmpty(c.UserID)
}

func nonEmpty(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}
