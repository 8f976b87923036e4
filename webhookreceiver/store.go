package webhookreceiver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/delivery"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// report is what the receiver did with a body; it is also the response body.
type report struct {
	Created    int            `json:"created"`
	Duplicates int            `json:"duplicates"`
	Updated    int            `json:"updated"`
	Ignored    int            `json:"ignored"`
	Unmatched  int            `json:"unmatched"`
	Failed     int            `json:"failed"`
	Invalid    []elementError `json:"invalid,omitempty"`
}

type elementError struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// store stores every element of a body, several at a time, and reports what
// happened to each. One element's failure never stops the others.
func (r *Receiver) store(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, elems []payload.Element) *report {
	outcomes := make([]string, len(elems))
	if len(elems) == 1 {
		// Most bodies hold one message: store it on the request's goroutine,
		// whose stack is already grown, instead of a fresh one.
		outcomes[0] = r.storeElement(ctx, ch, &elems[0])
	} else {
		sem := make(chan struct{}, r.opts.Workers)
		var wg sync.WaitGroup
		for i := range elems {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				outcomes[i] = r.storeElement(ctx, ch, &elems[i])
			}()
		}
		wg.Wait()
	}

	rep := &report{}
	for i, outcome := range outcomes {
		el := &elems[i]
		elements.WithLabelValues(string(el.Kind), outcome).Inc()
		switch outcome {
		case OutcomeCreated:
			rep.Created++
		case OutcomeDuplicate:
			rep.Duplicates++
		case OutcomeUpdated, OutcomeUnchanged:
			rep.Updated++
		case OutcomeUnmatchedStatus:
			rep.Unmatched++
		case OutcomeFailed:
			rep.Failed++
		case OutcomeInvalid:
			rep.Invalid = append(rep.Invalid, elementError{Path: el.Path, Reason: el.Reason})
		default:
			rep.Ignored++
		}
	}
	if len(rep.Invalid) > 0 {
		r.opts.Recorder.Eventf(ch, nil, corev1.EventTypeWarning, commercev1alpha1.ReasonInvalidWebhookElement, "Receive",
			"%d element(s) of a webhook can never be stored, first %s: %s", len(rep.Invalid), rep.Invalid[0].Path, rep.Invalid[0].Reason)
	}
	return rep
}

func (r *Receiver) storeElement(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, el *payload.Element) string {
	// Built only when something is logged; the common path logs nothing.
	log := func() logr.Logger {
		return r.log(ch).WithValues("element", el.Path, "messageID", el.MessageID)
	}
	switch el.Kind {
	case payload.KindIgnored:
		log().V(1).Info("ignoring webhook element", "reason", el.Reason)
		return OutcomeIgnored
	case payload.KindInvalid:
		log().Info("webhook element can never be stored", "reason", el.Reason)
		return OutcomeInvalid
	}
	if ch.API() == commercev1alpha1.APICloud && el.PhoneNumberID != ch.Spec.PhoneNumberID {
		log().Info("webhook element for another phone number", "phoneNumberID", el.PhoneNumberID)
		r.opts.Recorder.Eventf(ch, nil, corev1.EventTypeWarning, commercev1alpha1.ReasonUnexpectedPhoneNumber, "Receive",
			"webhook element for phone number id %s, not this channel's %s; acknowledged, not stored", el.PhoneNumberID, ch.Spec.PhoneNumberID)
		return OutcomeWrongPhoneNumber
	}
	var (
		outcome string
		err     error
	)
	switch el.Kind {
	case payload.KindOrder:
		outcome, err = r.createOnce(ctx, orderFor(ch, el.Order), &commercev1alpha1.WhatsAppOrder{})
	case payload.KindInquiry:
		outcome, err = r.createOnce(ctx, inquiryFor(ch, el.Inquiry), &commercev1alpha1.ProductInquiry{})
	case payload.KindStatus:
		outcome, err = r.applyStatus(ctx, ch, el.Status)
	default:
		return OutcomeIgnored
	}
	var refused *refusedError
	if errors.As(err, &refused) {
		log().Info("the API server refuses the webhook element", "reason", refused.Error())
		el.Reason = refused.Error()
		return OutcomeInvalid
	}
	if err != nil {
		log().Error(err, "storing webhook element")
		return OutcomeFailed
	}
	return outcome
}

// refusedError is a create the API server refuses because the object breaks the
// CRD's schema (a name longer than WhatsApp should ever send, say): retrying the
// delivery can never store it.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return e.err.Error() }

// breaksSchema tells schema violations, which name the offending field, from
// other 422s such as an admission policy's denial, which a cluster admin may lift
// while WhatsApp is still retrying.
func breaksSchema(err error) bool {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, cause := range status.Status().Details.Causes {
		if strings.HasPrefix(cause.Field, "spec.") || strings.HasPrefix(cause.Field, "metadata.") {
			return true
		}
	}
	return false
}

// originOf is the channel and message a receiver-created resource stands for.
func originOf(o client.Object) (channel, messageID string) {
	switch o := o.(type) {
	case *commercev1alpha1.WhatsAppOrder:
		return o.Spec.Channel, o.Spec.MessageID
	case *commercev1alpha1.ProductInquiry:
		return o.Spec.Channel, o.Spec.MessageID
	}
	return "", ""
}

// createOnce creates obj unless the resource for its message exists already. The
// name is derived from channel and message id, so the API server's AlreadyExists
// is the deduplication, across redeliveries and replicas. An existing resource
// for another message under the same name is an error, never a silent success.
func (r *Receiver) createOnce(ctx context.Context, obj, existing client.Object) (string, error) {
	err := r.opts.Client.Create(ctx, obj)
	if err == nil {
		return OutcomeCreated, nil
	}
	if breaksSchema(err) {
		return "", &refusedError{err: err}
	}
	if !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("creating %s: %w", obj.GetName(), err)
	}
	if err := r.opts.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), existing); err != nil {
		return "", fmt.Errorf("reading existing %s: %w", obj.GetName(), err)
	}
	wantCh, wantID := originOf(obj)
	gotCh, gotID := originOf(existing)
	if gotCh != wantCh || gotID != wantID {
		return "", fmt.Errorf("%s already exists for message %q of channel %q, not %q of %q", obj.GetName(), gotID, gotCh, wantID, wantCh)
	}
	return OutcomeDuplicate, nil
}

// applyStatus moves the delivery status of the message a status webhook is about.
// The message is found through the sent-message index of the cache; the write
// goes through the batch form of statuswrite.Write, the reconcilers' helper, so
// a conflict with a reconciler's write is resolved the same way on both sides.
func (r *Receiver) applyStatus(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, st *payload.Status) (string, error) {
	if !delivery.Tracked(st.Status) {
		return OutcomeIgnored, nil
	}
	update := delivery.Update{Status: commercev1alpha1.DeliveryStatus(st.Status), At: metav1.NewTime(st.Timestamp)}
	if len(st.Errors) > 0 {
		e := st.Errors[0]
		msg := e.Message
		if e.Details != "" {
			msg = e.Details
		}
		update.Error = &commercev1alpha1.MessageError{Code: e.Code, Title: e.Title, Message: msg}
	}
	target, err := r.sentBy(ctx, ch, st.MessageID)
	if err != nil {
		return "", err
	}
	if target == nil {
		return r.resolveIntent(ctx, ch, st, update)
	}
	// The message's other statuses often arrive within milliseconds, in this
	// body or the next: the Batcher writes them together, from the cached copy.
	changed := false
	err = r.statuses.Write(ctx, target, func(o client.Object) {
		m := sentMessage(o, st.MessageID)
		changed = m != nil && delivery.Apply(m, update)
	})
	if err != nil {
		return "", fmt.Errorf("updating the delivery status of message %s: %w", st.MessageID, err)
	}
	if !changed {
		return OutcomeUnchanged, nil
	}
	return OutcomeUpdated, nil
}

// resolveIntent applies a status that no recorded message id matches to the
// intent its callback data names: the record a reconciler wrote before
// sending, whose message id a crash kept it from recording. The intent is read
// from the API server, since the cache may not show it yet.
func (r *Receiver) resolveIntent(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, st *payload.Status, update delivery.Update) (string, error) {
	ref, ok := callbackdata.Parse(st.CallbackData)
	if !ok || ref.Namespace != ch.Namespace {
		return OutcomeUnmatchedStatus, nil
	}
	var target client.Object
	switch ref.Kind {
	case "WhatsAppOrder":
		target = &commercev1alpha1.WhatsAppOrder{}
	case "ProductInquiry":
		target = &commercev1alpha1.ProductInquiry{}
	case "ProductMessage":
		target = &commercev1alpha1.ProductMessage{}
	default:
		return OutcomeUnmatchedStatus, nil
	}
	if err := r.opts.APIReader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, target); err != nil {
		if apierrors.IsNotFound(err) {
			return OutcomeUnmatchedStatus, nil
		}
		return "", fmt.Errorf("reading %s %s named by a status's callback data: %w", ref.Kind, ref.Name, err)
	}
	changed := false
	_, err := statuswrite.Write(ctx, r.opts.Client, r.opts.APIReader, target, func(o client.Object) {
		m := intentRecord(o, st.CallbackData)
		changed = m != nil
		if changed {
			m.MessageID = st.MessageID
			delivery.Apply(m, update)
		}
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("resolving the intent of message %s: %w", st.MessageID, err)
	case !changed:
		return OutcomeUnmatchedStatus, nil
	}
	return OutcomeUpdated, nil
}

// intentRecord is o's record with callback data cb and no message id yet.
func intentRecord(o client.Object, cb string) *commercev1alpha1.SentMessage {
	var msgs []*commercev1alpha1.SentMessage
	switch o := o.(type) {
	case *commercev1alpha1.WhatsAppOrder:
		for i := range o.Status.Notifications {
			msgs = append(msgs, &o.Status.Notifications[i].SentMessage)
		}
	case *commercev1alpha1.ProductInquiry:
		msgs = append(msgs, o.Status.Reply)
	case *commercev1alpha1.ProductMessage:
		msgs = append(msgs, &o.Status.SentMessage)
	}
	for _, m := range msgs {
		if m != nil && m.CallbackData == cb && m.MessageID == "" {
			return m
		}
	}
	return nil
}

// sentBy finds the order, inquiry or product message of the channel that
// recorded sending messageID.
func (r *Receiver) sentBy(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, messageID string) (client.Object, error) {
	match := []client.ListOption{client.InNamespace(ch.Namespace), client.MatchingFields{IndexSentMessage: messageID}}
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

func sentMessage(o client.Object, messageID string) *commercev1alpha1.SentMessage {
	switch o := o.(type) {
	case *commercev1alpha1.WhatsAppOrder:
		return o.SentMessage(messageID)
	case *commercev1alpha1.ProductInquiry:
		return o.SentMessage(messageID)
	case *commercev1alpha1.ProductMessage:
		return o.SentMessage(messageID)
	}
	return nil
}
