package controllers

import (
	"fmt"
	"time"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The product message's decisions: pure functions of values, table-tested in
// productmessage_decisions_test.go.

// pmsgAction is what is due for a product message.
type pmsgAction int

const (
	// pmsgSettled: Sent or Failed; only the funnel still moves.
	pmsgSettled pmsgAction = iota
	// pmsgTrack: spec.messageID names a message another system sent.
	pmsgTrack
	// pmsgFail: the message fails: the channel's API generation can never
	// send it, or WhatsApp accepted it and then could not deliver it.
	pmsgFail
	// pmsgSend: the message is to be sent, in status.form.
	pmsgSend
)

// productMessageDue decides what is due for pm on a channel of generation
// api, and the Sent outcome of the actions that send nothing.
func productMessageDue(pm *commercev1alpha1.ProductMessage, api commercev1alpha1.APIGeneration) (pmsgAction, *outcome) {
	switch {
	case failedLater(&pm.Status.SentMessage):
		return pmsgFail, recordedOutcome(&pm.Status.SentMessage, "the message")
	case pm.Status.Phase == commercev1alpha1.ProductMessageSent || pm.Status.Phase == commercev1alpha1.ProductMessageFailed:
		return pmsgSettled, nil
	case pm.Spec.MessageID != "":
		return pmsgTrack, outcomeFor(commercev1alpha1.ReasonTracked, "tracking message "+pm.Spec.MessageID+", sent by another system; nothing is sent")
	case api != commercev1alpha1.APIOnPremises:
		return pmsgSend, nil
	case pm.Spec.Catalog != nil:
		return pmsgFail, outcomeFor(commercev1alpha1.ReasonNotSupportedByAPI,
			"the channel uses the On-Premises API, which has no catalog messages; send the products as product or sections instead")
	case pm.Spec.To.WaID == "":
		return pmsgFail, outcomeFor(commercev1alpha1.ReasonNotSupportedByAPI,
			"the channel uses the On-Premises API, which cannot send to a user id; to.waID is required")
	}
	return pmsgSend, nil
}

// productMessageRef is what the callback data of pm's send in form names.
func productMessageRef(pm *commercev1alpha1.ProductMessage, form commercev1alpha1.ProductMessageForm) callbackdata.Ref {
	about := "product"
	if form == commercev1alpha1.FormTemplate {
		about = "template"
	}
	return callbackdata.Ref{Kind: "ProductMessage", Namespace: pm.Namespace, Name: pm.Name, About: about}
}

// productMessageRequest is what the WhatsApp client sends for pm: to its
// recipient, in reply to replyTo (the inquiry's message, or
// spec.replyToMessageID), with callback data cb (see productMessageRef).
func productMessageRequest(pm *commercev1alpha1.ProductMessage, replyTo, cb string) (whatsapp.Send, whatsapp.Products) {
	s := pm.Spec
	send := whatsapp.Send{
		To:           whatsapp.Recipient{WaID: s.To.WaID, UserID: s.To.UserID},
		ReplyTo:      replyTo,
		CallbackData: cb,
	}
	p := whatsapp.Products{Kind: whatsapp.ProductKind(s.InteractiveType()), CatalogID: s.CatalogID, Header: s.Header, Body: s.Body, Footer: s.Footer}
	switch {
	case s.Product != nil:
		p.ProductRetailerID = s.Product.ProductRetailerID
	case s.Catalog != nil:
		p.ProductRetailerID = s.Catalog.ThumbnailProductRetailerID
	}
	for _, sec := range s.Sections {
		p.Sections = append(p.Sections, whatsapp.Section{Title: sec.Title, ProductRetailerIDs: sec.ProductRetailerIDs})
	}
	return send, p
}

// pmsgOutcome is what a send of a product message leads to.
type pmsgOutcome struct {
	phase commercev1alpha1.ProductMessagePhase
	// form is the form of the next send, Template once the window was found closed.
	form    commercev1alpha1.ProductMessageForm
	outcome *outcome
	// record is the message to record: the one WhatsApp accepted, or the
	// record of a final refusal. Nil while a send is retried; keepIntent says
	// its intent stays pending then (see sendRecord).
	record     *commercev1alpha1.SentMessage
	keepIntent bool
	// again: send once more, now, in form (the template after a closed window).
	again bool
}

// productMessageOutcome judges res, the answer to a send of pm in form with
// callback data cb. Outside the window the spec's template is tried once;
// On-Premises has MPM templates (for sections) only.
func productMessageOutcome(pm *commercev1alpha1.ProductMessage, form commercev1alpha1.ProductMessageForm, res sendResult, api commercev1alpha1.APIGeneration, cb string, now time.Time) pmsgOutcome {
	out := pmsgOutcome{phase: commercev1alpha1.ProductMessagePending, form: form, outcome: outcomeFor(res.Reason, res.Message)}
	out.record, out.keepIntent = sendRecord(res, cb, now)
	failed := func(reason, message string) pmsgOutcome {
		out.phase, out.outcome = commercev1alpha1.ProductMessageFailed, outcomeFor(reason, message)
		return out
	}
	switch res.Reason {
	case commercev1alpha1.ReasonSent:
		how := "sent as " + pm.Spec.InteractiveType()
		if form == commercev1alpha1.FormTemplate {
			how = "the window was closed: sent as template " + pm.Spec.Template.Name
		}
		out.phase = commercev1alpha1.ProductMessageSent
		out.outcome = outcomeFor(commercev1alpha1.ReasonSent, fmt.Sprintf("%s (message %s)", how, res.MessageID))
	case commercev1alpha1.ReasonWindowClosed:
		switch {
		case form == commercev1alpha1.FormTemplate || pm.Spec.Template == nil:
			return failed(commercev1alpha1.ReasonWindowClosed, "the customer's 24-hour window is closed and spec.template names no template to send instead: "+res.Message)
		case api == commercev1alpha1.APIOnPremises && pm.Spec.Sections == nil:
			return failed(commercev1alpha1.ReasonNotSupportedByAPI, "the customer's 24-hour window is closed and the On-Premises API has no catalog templates (only MPM templates, for sections): "+res.Message)
		}
		out.form, out.again, out.record = commercev1alpha1.FormTemplate, true, nil
	case commercev1alpha1.ReasonSendFailed:
		return failed(commercev1alpha1.ReasonSendFailed, res.Message)
	}
	return out
}

// productMessageRecorded judges the record the API server holds of a Pending
// pm's send before sending again: an intent still waiting for WhatsApp's
// status (Pending, and how long it still waits), an intent the receiver
// resolved (Sent, or Failed when the status said failed), or neither (nil),
// when the message is to be sent.
func productMessageRecorded(pm *commercev1alpha1.ProductMessage, now time.Time, intents intentClock) (*outcome, commercev1alpha1.ProductMessagePhase, time.Duration) {
	rec := &pm.Status.SentMessage
	switch wait := intents.wait(rec, now); {
	case rec.Pending() && wait > 0:
		return recordedOutcome(rec, "the message"), commercev1alpha1.ProductMessagePending, wait
	case failedLater(rec):
		return recordedOutcome(rec, "the message"), commercev1alpha1.ProductMessageFailed, 0
	case rec.CallbackData != "" && rec.MessageID != "":
		return outcomeFor(commercev1alpha1.ReasonSent, fmt.Sprintf("WhatsApp's status named the message sent before a restart (message %s)", rec.MessageID)),
			commercev1alpha1.ProductMessageSent, 0
	}
	return nil, commercev1alpha1.ProductMessagePending, 0
}

// inquiryForReply checks the inquiry pm answers and returns the message to
// reply to, or the Sent outcome that keeps pm waiting (the inquiry is not
// there yet) or fails it (the inquiry is on another channel).
func inquiryForReply(pm *commercev1alpha1.ProductMessage, inquiry *commercev1alpha1.ProductInquiry) (replyTo string, wait, fail *outcome) {
	switch {
	case pm.Spec.Inquiry == "":
		return pm.Spec.ReplyToMessageID, nil, nil
	case inquiry == nil:
		return "", outcomeFor(commercev1alpha1.ReasonInquiryNotFound, "waiting for ProductInquiry "+pm.Spec.Inquiry), nil
	case inquiry.Spec.Channel != pm.Spec.Channel:
		return "", nil, outcomeFor(commercev1alpha1.ReasonInquiryOnOtherChannel,
			fmt.Sprintf("ProductInquiry %s arrived on channel %s, not %s", inquiry.Name, inquiry.Spec.Channel, pm.Spec.Channel))
	}
	return inquiry.Spec.MessageID, nil, nil
}

// trackedID is the id of the message a ProductMessage is about: the one sent,
// or the one spec.messageID tracks. Empty before it is sent.
func trackedID(pm *commercev1alpha1.ProductMessage) string {
	if pm.Spec.MessageID != "" {
		return pm.Spec.MessageID
	}
	return pm.Status.MessageID
}

// templateNamespace is the On-Premises namespace of the product template t:
// its own, else the one of the channel's notification template, since an
// account's templates usually share one namespace.
func templateNamespace(t *commercev1alpha1.ProductTemplate, ch *commercev1alpha1.WhatsAppChannel) string {
	switch {
	case t.Namespace != "":
		return t.Namespace
	case ch != nil && ch.Spec.Notifications.Template != nil:
		return ch.Spec.Notifications.Template.Namespace
	}
	return ""
}
