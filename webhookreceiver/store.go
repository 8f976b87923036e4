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
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// report is what the receiver did with a body; it is also the response body.
// Every element is counted in exactly one of the fields.
type report struct {
	Created    int `json:"created"`
	Duplicates int `json:"duplicates"`
	// Updated statuses and user id changes wrote something; Unchanged ones
	// (a redelivery, a status behind the recorded one) had nothing to write.
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Ignored   int `json:"ignored"`
	// OtherNumber are Cloud elements for another phone number than the channel's.
	OtherNumber int `json:"otherNumber"`
	// Unmatched are statuses about messages the operator did not send.
	Unmatched int `json:"unmatched"`
	// NotYetRecorded are statuses about the operator's messages whose record
	// is not visible yet: the body is answered 503 to have them sent again.
	NotYetRecorded int `json:"notYetRecorded"`
	Failed         int `json:"failed"`
	// PastDeadline are the elements not even tried: the body's time was up.
	// The body is answered 503, for WhatsApp to send it again.
	PastDeadline int `json:"pastDeadline"`
	// Refused are the elements that can never be stored, kept in one
	// ConfigMap for the body.
	Refused []refusal `json:"refused,omitempty"`
}

// refusal is an element the receiver can never store, and where it is kept.
type refusal struct {
	Path      string `json:"path"`
	MessageID string `json:"messageID,omitempty"`
	Reason    string `json:"reason"`
	// ConfigMap holds what the body refused: the elements as they were sent,
	// their paths and reasons.
	ConfigMap string `json:"configMap"`
	// Kept is how much of the element the ConfigMap holds: whole, cut (its
	// first bytes), listed (path and reason only) or no (only this answer and
	// the metrics tell of it).
	Kept string `json:"kept"`
}

// result is what became of one element.
type result struct {
	outcome string
	// configMap names the ConfigMap an element that can never be stored is
	// kept in, and kept how much of it.
	configMap, kept string
}

// store stores every element of a body, several at a time, and reports what
// happened to each. One element's failure never stops the others. Past the
// deadline of ctx no element is started: those left are reported
// PastDeadline, and the body answered 503.
func (r *Receiver) store(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, body []byte, elems []payload.Element) *report {
	results := make([]result, len(elems))
	pastDeadline := func(from int) {
		for i := from; i < len(elems); i++ {
			results[i] = result{outcome: OutcomePastDeadline}
		}
	}
	switch {
	case ctx.Err() != nil:
		pastDeadline(0)
	case len(elems) == 1:
		// Most bodies hold one message: store it on the request's goroutine,
		// whose stack is already grown, instead of a fresh one.
		results[0] = r.storeElement(ctx, ch, &elems[0])
	default:
		sem := make(chan struct{}, r.opts.Workers)
		var wg sync.WaitGroup
		for i := range elems {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				pastDeadline(i)
				break
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				results[i] = r.storeElement(ctx, ch, &elems[i])
			}()
		}
		wg.Wait()
	}
	r.keepInvalid(ctx, ch, body, elems, results)

	rep := &report{}
	for i, res := range results {
		el := &elems[i]
		elements.WithLabelValues(string(el.Kind), res.outcome).Inc()
		switch res.outcome {
		case OutcomeCreated:
			rep.Created++
		case OutcomeDuplicate:
			rep.Duplicates++
		case OutcomeUpdated:
			rep.Updated++
		case OutcomeUnchanged:
			rep.Unchanged++
		case OutcomeWrongPhoneNumber:
			rep.OtherNumber++
		case OutcomeUnmatchedStatus:
			rep.Unmatched++
		case OutcomeNotYetRecorded:
			rep.NotYetRecorded++
		case OutcomeFailed:
			rep.Failed++
		case OutcomePastDeadline:
			rep.PastDeadline++
		case OutcomeInvalid:
			rep.Refused = append(rep.Refused, refusal{Path: el.Path, MessageID: el.MessageID, Reason: el.Reason, ConfigMap: res.configMap, Kept: res.kept})
		default:
			rep.Ignored++
		}
	}
	if len(rep.Refused) > 0 {
		first := rep.Refused[0]
		r.opts.Recorder.Eventf(ch, nil, corev1.EventTypeWarning, commercev1alpha1.ReasonInvalidWebhookElement, "Receive",
			"%d element(s) of a webhook can never be stored and are kept in ConfigMap %s (labelled %s=true), first %s: %s",
			len(rep.Refused), first.ConfigMap, LabelRefused, first.Path, first.Reason)
	}
	return rep
}

// keepInvalid keeps the elements of a body that can never be stored, all in
// one ConfigMap, located in the body in one pass. When that cannot be
// written they are failed instead, for WhatsApp to send the body again.
func (r *Receiver) keepInvalid(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, body []byte, elems []payload.Element, results []result) {
	var (
		at    []int
		els   []*payload.Element
		paths []string
	)
	for i := range results {
		if results[i].outcome == OutcomeInvalid {
			at = append(at, i)
			els = append(els, &elems[i])
			paths = append(paths, elems[i].Path)
		}
	}
	if len(at) == 0 {
		return
	}
	name, kept, err := r.keepRefused(ctx, ch, body, els, payload.Locate(body, paths))
	for k, i := range at {
		if err != nil {
			results[i] = result{outcome: OutcomeFailed}
			continue
		}
		results[i].configMap, results[i].kept = name, kept[k]
	}
}

// storeElement stores one element. One that can never be stored is only
// reported OutcomeInvalid: store keeps them all together.
func (r *Receiver) storeElement(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, el *payload.Element) result {
	// Built only when something is logged; the common path logs nothing.
	log := func() logr.Logger {
		return r.log(ch).WithValues("element", el.Path, "messageID", el.MessageID)
	}
	if el.Kind == payload.KindIgnored {
		log().V(1).Info("ignoring webhook element", "reason", el.Reason)
		return result{outcome: OutcomeIgnored}
	}
	// An element without a phone number id (On-Premises, or a Cloud change
	// without metadata) belongs to the channel of the path.
	if ch.API() == commercev1alpha1.APICloud && el.PhoneNumberID != "" && el.PhoneNumberID != ch.Spec.PhoneNumberID {
		log().Info("webhook element for another phone number", "phoneNumberID", el.PhoneNumberID)
		r.opts.Recorder.Eventf(ch, nil, corev1.EventTypeWarning, commercev1alpha1.ReasonUnexpectedPhoneNumber, "Receive",
			"webhook element for phone number id %s, not this channel's %s; acknowledged, not stored", el.PhoneNumberID, ch.Spec.PhoneNumberID)
		return result{outcome: OutcomeWrongPhoneNumber}
	}
	if el.Kind == payload.KindInvalid {
		return result{outcome: OutcomeInvalid}
	}
	var (
		outcome string
		err     error
	)
	switch el.Kind {
	case payload.KindOrder:
		order, invalid := orderFor(ch, el.Order)
		if invalid != nil {
			// Never storable as sent: refused like an element the parser
			// refuses, in the cart's words.
			el.Kind, el.Order, el.Reason = payload.KindInvalid, nil, invalid.Error()
			return result{outcome: OutcomeInvalid}
		}
		outcome, err = r.createOnce(ctx, order, &commercev1alpha1.WhatsAppOrder{})
	case payload.KindInquiry:
		outcome, err = r.createOnce(ctx, inquiryFor(ch, el.Inquiry), &commercev1alpha1.ProductInquiry{})
	case payload.KindStatus:
		outcome, err = r.applyStatus(ctx, ch, el.Status)
	case payload.KindPayment:
		outcome, err = r.applyPayment(ctx, ch, el.Payment)
	case payload.KindUserIDChange:
		outcome, err = r.applyUserIDChange(ctx, ch, el.UserIDChange)
	default:
		return result{outcome: OutcomeIgnored}
	}
	var refused *refusedError
	if errors.As(err, &refused) {
		el.Reason = "the API server refuses it: " + refused.Error()
		return result{outcome: OutcomeInvalid}
	}
	if err != nil {
		log().Error(err, "storing webhook element")
		return result{outcome: OutcomeFailed}
	}
	return result{outcome: outcome}
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
