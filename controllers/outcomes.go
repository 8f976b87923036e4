package controllers

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The outcome table: what became of a message to a customer (or of the wish
// to send one), and what every kind says about it. One row per outcome, the
// same on every kind: the outcome condition's status and reason, where the
// resource stands (kstatus), and the Event announcing it. A kind that sends
// adds the rows of the outcomes only it can reach.

// sendOutcome names an outcome: the reason of its condition, but where one
// reason covers two outcomes that stand differently.
type sendOutcome string

// outcomeExpiredUnanswered: an inquiry's window closed with no reply set.
// Nothing was asked of WhatsApp, so nothing stalls, unlike a reply set too
// late (WindowClosed).
const outcomeExpiredUnanswered sendOutcome = "ExpiredUnanswered"

// progress is where an outcome leaves a resource, in kstatus's terms.
type progress int

const (
	// done: Ready, nothing more happens until the spec changes.
	done progress = iota
	// progressing: Ready False and Reconciling while the operator works on
	// it (a retry, a wait for the channel or a status).
	progressing
	// stalled: Ready (the operator did all it can) and Stalled: the message
	// will not go out, or did not arrive, without a person.
	stalled
)

// outcomeRow is what an outcome means on every kind.
type outcomeRow struct {
	reason   string
	status   metav1.ConditionStatus
	progress progress
	// event is the type of the Event announcing the outcome, "" for none.
	event string
}

var outcomeTable = map[sendOutcome]outcomeRow{
	commercev1alpha1.ReasonSent:                 {commercev1alpha1.ReasonSent, metav1.ConditionTrue, done, corev1.EventTypeNormal},
	commercev1alpha1.ReasonTracked:              {commercev1alpha1.ReasonTracked, metav1.ConditionTrue, done, corev1.EventTypeNormal},
	commercev1alpha1.ReasonAnsweredWithProducts: {commercev1alpha1.ReasonAnsweredWithProducts, metav1.ConditionTrue, done, corev1.EventTypeNormal},
	commercev1alpha1.ReasonAwaitingReply:        {commercev1alpha1.ReasonAwaitingReply, metav1.ConditionFalse, done, corev1.EventTypeNormal},
	commercev1alpha1.ReasonNothingToSend:        {commercev1alpha1.ReasonNothingToSend, metav1.ConditionFalse, done, ""},
	// An invalid cart is held back by Validated (pass.blocked), not by this.
	commercev1alpha1.ReasonInvalidCart: {commercev1alpha1.ReasonInvalidCart, metav1.ConditionFalse, done, ""},
	outcomeExpiredUnanswered:           {commercev1alpha1.ReasonWindowClosed, metav1.ConditionFalse, done, corev1.EventTypeWarning},

	commercev1alpha1.ReasonRetrying:        {commercev1alpha1.ReasonRetrying, metav1.ConditionFalse, progressing, corev1.EventTypeWarning},
	commercev1alpha1.ReasonChannelNotReady: {commercev1alpha1.ReasonChannelNotReady, metav1.ConditionFalse, progressing, corev1.EventTypeWarning},
	commercev1alpha1.ReasonAwaitingStatus:  {commercev1alpha1.ReasonAwaitingStatus, metav1.ConditionFalse, progressing, corev1.EventTypeWarning},
	commercev1alpha1.ReasonInquiryNotFound: {commercev1alpha1.ReasonInquiryNotFound, metav1.ConditionFalse, progressing, corev1.EventTypeWarning},

	commercev1alpha1.ReasonWindowClosed:          {commercev1alpha1.ReasonWindowClosed, metav1.ConditionFalse, stalled, corev1.EventTypeWarning},
	commercev1alpha1.ReasonSendFailed:            {commercev1alpha1.ReasonSendFailed, metav1.ConditionFalse, stalled, corev1.EventTypeWarning},
	commercev1alpha1.ReasonDeliveryFailed:        {commercev1alpha1.ReasonDeliveryFailed, metav1.ConditionFalse, stalled, corev1.EventTypeWarning},
	commercev1alpha1.ReasonNotSupportedByAPI:     {commercev1alpha1.ReasonNotSupportedByAPI, metav1.ConditionFalse, stalled, corev1.EventTypeWarning},
	commercev1alpha1.ReasonInquiryOnOtherChannel: {commercev1alpha1.ReasonInquiryOnOtherChannel, metav1.ConditionFalse, stalled, corev1.EventTypeWarning},
}

// outcome is an outcome and what the outcome condition says about it.
type outcome struct {
	of      sendOutcome
	message string
}

// outcomeFor is the outcome reason (a condition reason, or a send's) with message.
func outcomeFor(reason, message string) *outcome {
	return &outcome{of: sendOutcome(reason), message: message}
}

// row is o's row; an outcome the table does not know is a send still being
// worked on, never a success.
func (o *outcome) row() outcomeRow {
	if r, ok := outcomeTable[o.of]; ok {
		return r
	}
	return outcomeRow{reason: string(o.of), status: metav1.ConditionFalse, progress: progressing, event: corev1.EventTypeWarning}
}

// condition is o as a condition of type conditionType.
func (o *outcome) condition(conditionType string) metav1.Condition {
	r := o.row()
	return metav1.Condition{Type: conditionType, Status: r.status, Reason: r.reason, Message: o.message}
}

// readiness is Ready and the kstatus conditions of a messaging resource in
// phase, from its outcome (nil before any) and blocked, a condition that holds
// it back whatever the outcome (an invalid cart). doing prefixes Ready's
// message while the resource progresses. Absent kstatus conditions are
// removed when written (see setConditions).
func readiness(phase, doing string, o *outcome, blocked *metav1.Condition) []metav1.Condition {
	if blocked != nil {
		return []metav1.Condition{
			{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: blocked.Reason, Message: blocked.Message},
			kstatus(commercev1alpha1.ConditionStalled, blocked.Reason, blocked.Message),
		}
	}
	ready := metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonUpToDate, Message: "phase is " + phase}
	if o == nil {
		return []metav1.Condition{ready}
	}
	switch r := o.row(); r.progress {
	case progressing:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, r.reason, doing+": "+o.message
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionReconciling, r.reason, ready.Message)}
	case stalled:
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionStalled, r.reason, o.message)}
	}
	return []metav1.Condition{ready}
}

// recordedOutcome is the outcome the record m of a message (what names it:
// "the reply") says while nothing is being sent: an intent waiting for
// WhatsApp's status, a message WhatsApp accepted and then failed to deliver
// (reported late, or resolving an intent: the same outcome), or a refusal.
// Nil for a message WhatsApp took, which each kind words itself.
func recordedOutcome(m *commercev1alpha1.SentMessage, what string) *outcome {
	switch {
	case m.Pending():
		return outcomeFor(commercev1alpha1.ReasonAwaitingStatus, fmt.Sprintf("%s may have reached WhatsApp (a restart, a timeout or a 5xx came before its answer): waiting for WhatsApp's status, up to the operator's intent timeout, before sending it again", what))
	case failedLater(m):
		return outcomeFor(commercev1alpha1.ReasonDeliveryFailed, fmt.Sprintf("WhatsApp accepted %s (message %s), then could not deliver it: %s", what, m.MessageID, describeError(m.Error)))
	case m.DeliveryStatus == commercev1alpha1.DeliveryFailed && windowCode(m.Error):
		return outcomeFor(commercev1alpha1.ReasonWindowClosed, "WhatsApp refused "+what+": "+describeError(m.Error))
	case m.DeliveryStatus == commercev1alpha1.DeliveryFailed:
		return outcomeFor(commercev1alpha1.ReasonSendFailed, "WhatsApp refused "+what+": "+describeError(m.Error))
	}
	return nil
}
