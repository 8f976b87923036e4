package controllers

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The inquiry's decisions: pure functions of values, table-tested in
// productinquiry_decisions_test.go.

// inquiryAction is what is due for an inquiry at a given time.
type inquiryAction int

const (
	// settled: the inquiry is finished; its phase and Answered stay.
	settled inquiryAction = iota
	// awaitingReply: open, no reply set, the window still open.
	awaitingReply
	// windowExpired: the window closed before a reply went out.
	windowExpired
	// replyDue: a reply is set inside the window and has not been sent, or
	// its intent has waited IntentTimeout for a status in vain.
	replyDue
	// awaitingStatus: the reply's intent, left by a restart, waits for the
	// status webhook that says whether WhatsApp accepted it.
	awaitingStatus
	// answeredWithProducts: a ProductMessage answering the inquiry was sent.
	answeredWithProducts
)

// inquiryDue decides what is due for q at now, with the phase and Answered
// condition that follow (for replyDue, those the send decides). answeredBy
// names a Sent ProductMessage whose spec.inquiry is q, or is empty: WhatsApp
// accepted that answer, so the inquiry is Answered whatever the clock says.
func inquiryDue(q *commercev1alpha1.ProductInquiry, now time.Time, answeredBy string) (inquiryAction, commercev1alpha1.InquiryPhase, *metav1.Condition) {
	switch {
	case finalInquiryPhase(q.Status.Phase):
		return settled, q.Status.Phase, nil
	case answeredBy != "":
		return answeredWithProducts, commercev1alpha1.InquiryAnswered,
			condAnswered(metav1.ConditionTrue, commercev1alpha1.ReasonAnsweredWithProducts, "answered with ProductMessage "+answeredBy)
	}
	expiresAt := q.Spec.ReceivedAt.Add(window)
	if r := q.Status.Reply; r != nil {
		switch {
		case r.Pending() && intentWait(r, now) > 0:
			return awaitingStatus, commercev1alpha1.InquiryOpen, condAnswered(metav1.ConditionFalse, commercev1alpha1.ReasonAwaitingStatus,
				fmt.Sprintf("the reply may have been sent before a restart: waiting up to %s for WhatsApp's status before sending it again", commercev1alpha1.IntentTimeout))
		case r.Pending():
			return replyDue, commercev1alpha1.InquiryOpen, nil
		case r.DeliveryStatus == commercev1alpha1.DeliveryFailed:
			return settled, commercev1alpha1.InquiryFailed, condAnswered(metav1.ConditionFalse, commercev1alpha1.ReasonDeliveryFailed, "WhatsApp could not deliver the reply: "+describeError(r.Error))
		}
		// The receiver resolved the intent: WhatsApp accepted the reply.
		return settled, commercev1alpha1.InquiryAnswered, condAnswered(metav1.ConditionTrue, commercev1alpha1.ReasonSent, "replied in the customer's thread (message "+r.MessageID+")")
	}
	switch {
	case windowClosed(q.Spec.ReceivedAt, now):
		why := "the 24-hour window closed unanswered"
		if q.Spec.Reply != nil {
			why = "the reply was set after the 24-hour window closed; it was not sent"
		}
		return windowExpired, commercev1alpha1.InquiryExpired, condAnswered(metav1.ConditionFalse, commercev1alpha1.ReasonWindowClosed, why)
	case q.Spec.Reply == nil:
		return awaitingReply, commercev1alpha1.InquiryOpen, condAnswered(metav1.ConditionFalse, commercev1alpha1.ReasonAwaitingReply,
			"set spec.reply.text to answer before "+expiresAt.UTC().Format(time.RFC3339))
	}
	return replyDue, commercev1alpha1.InquiryOpen, nil
}

// replyOutcome is the phase and Answered condition a reply's send leads to.
// A send that will be retried keeps the inquiry Open.
func replyOutcome(res sendResult) (commercev1alpha1.InquiryPhase, *metav1.Condition) {
	switch res.Reason {
	case commercev1alpha1.ReasonSent:
		return commercev1alpha1.InquiryAnswered,
			condAnswered(metav1.ConditionTrue, commercev1alpha1.ReasonSent, "replied in the customer's thread (message "+res.MessageID+")")
	case commercev1alpha1.ReasonWindowClosed:
		return commercev1alpha1.InquiryExpired,
			condAnswered(metav1.ConditionFalse, commercev1alpha1.ReasonWindowClosed, "WhatsApp refused the reply, the window has closed: "+res.Message)
	case commercev1alpha1.ReasonSendFailed:
		return commercev1alpha1.InquiryFailed, condAnswered(metav1.ConditionFalse, commercev1alpha1.ReasonSendFailed, res.Message)
	}
	return commercev1alpha1.InquiryOpen, condAnswered(metav1.ConditionFalse, res.Reason, res.Message)
}

// inquiryConditions are Ready and the kstatus conditions of an inquiry, from
// its phase, whether a reply is set and Answered (nil before any). Ready is
// False, and Reconciling there, while the reply is retried or waits for its
// channel; Stalled is there once a reply that was set will never go out.
func inquiryConditions(phase commercev1alpha1.InquiryPhase, replySet bool, answered *metav1.Condition) []metav1.Condition {
	ready := metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonUpToDate, Message: "phase is " + string(phase)}
	if answered == nil {
		return []metav1.Condition{ready}
	}
	switch {
	case phase == commercev1alpha1.InquiryOpen && (answered.Reason == commercev1alpha1.ReasonRetrying || answered.Reason == commercev1alpha1.ReasonChannelNotReady || answered.Reason == commercev1alpha1.ReasonAwaitingStatus):
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, answered.Reason, "replying: "+answered.Message
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionReconciling, answered.Reason, ready.Message)}
	case replySet && (phase == commercev1alpha1.InquiryExpired || phase == commercev1alpha1.InquiryFailed):
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionStalled, answered.Reason, answered.Message)}
	}
	return []metav1.Condition{ready}
}

func condAnswered(status metav1.ConditionStatus, reason, message string) *metav1.Condition {
	return &metav1.Condition{Type: commercev1alpha1.ConditionAnswered, Status: status, Reason: reason, Message: message}
}

func finalInquiryPhase(p commercev1alpha1.InquiryPhase) bool {
	return p == commercev1alpha1.InquiryAnswered || p == commercev1alpha1.InquiryExpired || p == commercev1alpha1.InquiryFailed
}
