package webhookreceiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// messageSender is a resource that sends messages to customers and keeps a
// record of each (orders, inquiries, product messages).
type messageSender interface {
	client.Object
	// SentMessage is the record of the message with that id, or nil.
	SentMessage(messageID string) *commercev1alpha1.SentMessage
	// SentMessages are all the records, intents among them.
	SentMessages() []*commercev1alpha1.SentMessage
	ChannelName() string
}

// senderKinds are the kinds a message's callback data may name (its Ref.Kind),
// each with a constructor of an empty object to read it into.
var senderKinds = map[string]func() messageSender{
	"WhatsAppOrder":  func() messageSender { return &commercev1alpha1.WhatsAppOrder{} },
	"ProductInquiry": func() messageSender { return &commercev1alpha1.ProductInquiry{} },
	"ProductMessage": func() messageSender { return &commercev1alpha1.ProductMessage{} },
}

// RecordWait bounds how long a status about one of the operator's own
// messages is refused with 503 while its record is not there: the operator
// records a message (or its intent) before WhatsApp can report on it, so a
// record still missing this long after the status was issued will never
// come (the resource was recreated, or the send was resent under another
// record), and the status is acknowledged as unmatched.
const RecordWait = 10 * time.Minute

// errNotYetRecorded: the status is about a message of ours whose record is
// not visible yet; WhatsApp is asked to send it again.
var errNotYetRecorded = errors.New("the record of the message is not visible yet")

// applyStatus moves the delivery status of the message a status webhook is
// about. It is found by the status's callback data first (the resource it
// names, read from the cache and, when the record is not there yet, once from
// the API server), by the message id index of the cache second; a status
// without callback data about an unknown message waits (503) while the cache
// shows an intent without callback data open for its recipient on the
// channel (On-Premises: its record will name the message). The write goes
// through statuswrite.Write, the reconcilers' helper, so a conflict with a
// reconciler's write is resolved the same way on both sides.
func (r *Receiver) applyStatus(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, st *payload.Status) (string, error) {
	if !commercev1alpha1.DeliveryStatus(st.Status).Tracked() {
		return OutcomeIgnored, nil
	}
	target, fresh, err := r.recordOf(ctx, ch, st)
	switch {
	case errors.Is(err, errNotYetRecorded) && time.Since(st.Timestamp) < RecordWait:
		return OutcomeNotYetRecorded, nil
	case errors.Is(err, errNotYetRecorded):
		r.log(ch).Info("status about a message of the operator's whose record never appeared; acknowledged",
			"messageID", st.MessageID, "callbackData", st.CallbackData, "issued", st.Timestamp)
		return OutcomeUnmatchedStatus, nil
	case err != nil:
		return "", err
	case target == nil:
		return OutcomeUnmatchedStatus, nil
	}
	update := updateOf(st)
	// The change may run more than once (a conflict re-applies it to a fresh
	// copy): what it reports is from its last run.
	var (
		changed bool
		priced  string
	)
	change := func(o client.Object) {
		changed, priced = false, ""
		s, ok := o.(messageSender)
		if !ok {
			return
		}
		m := recordFor(s, st)
		if m == nil {
			return
		}
		if m.MessageID == "" {
			// An intent: WhatsApp's status is the first news that it accepted the message.
			m.MessageID = st.MessageID
			changed = true
		}
		if m.PricingCategory == "" && st.PricingCategory != "" {
			priced = st.PricingCategory
		}
		changed = m.Apply(update) || changed
	}
	if fresh {
		// Read from the API server because the cache has not caught up: the
		// Batcher, which starts from the cache's copy, would not find the record.
		_, err = statuswrite.Write(ctx, r.opts.Client, r.opts.APIReader, target, func(o messageSender) { change(o) })
	} else {
		// The message's other statuses often arrive within milliseconds, in this
		// body or the next: the Batcher writes them together, from the cached copy.
		err = r.statuses.Write(ctx, target, change)
	}
	if err != nil {
		return "", fmt.Errorf("updating the delivery status of message %s: %w", st.MessageID, err)
	}
	if !changed {
		return OutcomeUnchanged, nil
	}
	if priced != "" {
		pricedMessages.WithLabelValues(pricingLabel(priced)).Inc()
	}
	return OutcomeUpdated, nil
}

func updateOf(st *payload.Status) commercev1alpha1.DeliveryUpdate {
	u := commercev1alpha1.DeliveryUpdate{Status: commercev1alpha1.DeliveryStatus(st.Status), At: metav1.NewTime(st.Timestamp), PricingCategory: st.PricingCategory}
	if len(st.Errors) > 0 {
		e := st.Errors[0]
		msg := e.Message
		if e.Details != "" {
			msg = e.Details
		}
		u.Error = &commercev1alpha1.MessageError{Code: e.Code, Title: e.Title, Message: msg}
	}
	return u
}

// recordOf finds the resource of the channel that holds the record of the
// message st is about: nil when it is not one of the operator's messages (or
// its resource is gone), errNotYetRecorded when it is, or may be (an intent
// without callback data is open for its recipient), but its record cannot be
// seen yet.
func (r *Receiver) recordOf(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, st *payload.Status) (target messageSender, fresh bool, err error) {
	ref, ours := callbackdata.Parse(st.CallbackData)
	newObject, known := senderKinds[ref.Kind]
	if !ours || !known || ref.Namespace != ch.Namespace {
		// Not sent by the operator with callback data, or not for this
		// channel's namespace, which a path must never write outside.
		target, err := r.sentBy(ctx, ch, st.MessageID)
		if target != nil || err != nil {
			return target, false, err
		}
		// Sent without callback data (On-Premises) by a send whose record
		// is not written yet? Its intent, open for the recipient, says so;
		// the status is never attached to it (two messages to one customer
		// may be on their way), only asked for again until the record
		// names its message id.
		switch open, err := r.intentOpenFor(ctx, ch, st); {
		case err != nil:
			return nil, false, err
		case open:
			return nil, false, errNotYetRecorded
		}
		return nil, false, nil
	}
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	obj := newObject()
	// The cache first; the API server when the cache has not caught up with
	// the record yet (WhatsApp may report "sent" before the send's answer,
	// let alone its status write, reached the cache).
	exists := false
	for i, reader := range []client.Reader{r.opts.Client, r.opts.APIReader} {
		err := reader.Get(ctx, key, obj)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("reading %s %s named by a status's callback data: %w", ref.Kind, key, err)
		}
		exists = true
		if obj.ChannelName() != ch.Name {
			return nil, false, nil
		}
		if recordFor(obj, st) != nil {
			return obj, i == 1, nil
		}
	}
	if bySentID, err := r.sentBy(ctx, ch, st.MessageID); err != nil || bySentID != nil {
		return bySentID, false, err
	}
	if !exists {
		// A resource exists before anything is sent about it (the receiver
		// creates orders and inquiries, people product messages): one the API
		// server does not have is gone.
		return nil, false, nil
	}
	return nil, false, errNotYetRecorded
}

// recordFor is o's record of the message st is about: the one with its
// message id, or else the intent (no message id yet) with its callback data.
func recordFor(o messageSender, st *payload.Status) *commercev1alpha1.SentMessage {
	if m := o.SentMessage(st.MessageID); m != nil {
		return m
	}
	if st.CallbackData == "" {
		return nil
	}
	for _, m := range o.SentMessages() {
		if m.MessageID == "" && m.CallbackData == st.CallbackData {
			return m
		}
	}
	return nil
}

// sentBy finds the order, inquiry or product message of the channel that
// recorded sending messageID, through the cache's index.
func (r *Receiver) sentBy(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, messageID string) (messageSender, error) {
	match := []client.ListOption{client.InNamespace(ch.Namespace), client.MatchingFields{index.SentMessage: messageID}}
	var orders commercev1alpha1.WhatsAppOrderList
	if err := r.opts.Client.List(ctx, &orders, match...); err != nil {
		return nil, fmt.Errorf("looking up the order that sent %s: %w", messageID, err)
	}
	for i := range orders.Items {
		if orders.Items[i].Spec.Channel == ch.Name {
			return &orders.Items[i], nil
		}
	}
	var inquiries commercev1alpha1.ProductInquiryList
	if err := r.opts.Client.List(ctx, &inquiries, match...); err != nil {
		return nil, fmt.Errorf("looking up the inquiry that sent %s: %w", messageID, err)
	}
	for i := range inquiries.Items {
		if inquiries.Items[i].Spec.Channel == ch.Name {
			return &inquiries.Items[i], nil
		}
	}
	var messages commercev1alpha1.ProductMessageList
	if err := r.opts.Client.List(ctx, &messages, match...); err != nil {
		return nil, fmt.Errorf("looking up the product message that sent %s: %w", messageID, err)
	}
	for i := range messages.Items {
		if messages.Items[i].Spec.Channel == ch.Name {
			return &messages.Items[i], nil
		}
	}
	return nil, nil
}

// intentOpenFor reports whether an order, inquiry or product message of ch
// has an intent without callback data open for the recipient st names,
// through the cache's index.
func (r *Receiver) intentOpenFor(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, st *payload.Status) (bool, error) {
	for _, id := range []string{st.RecipientID, st.RecipientUserID} {
		if id == "" {
			continue
		}
		match := []client.ListOption{client.InNamespace(ch.Namespace), client.MatchingFields{index.OpenIntent: index.RecipientKey(ch.Name, id)}}
		for _, list := range []client.ObjectList{&commercev1alpha1.WhatsAppOrderList{}, &commercev1alpha1.ProductInquiryList{}, &commercev1alpha1.ProductMessageList{}} {
			if err := r.opts.Client.List(ctx, list, match...); err != nil {
				return false, fmt.Errorf("looking up open intents for the recipient of %s: %w", st.MessageID, err)
			}
			if meta.LenList(list) > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// pricingLabel bounds the metric's label to the categories WhatsApp
// documents; anything else is "other".
func pricingLabel(category string) string {
	switch category {
	case "authentication", "authentication_international", "marketing", "marketing_lite", "utility", "service", "referral_conversion":
		return category
	}
	return "other"
}
