package controllers

import (
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
	// replyDue: a reply is set inside the window and has not been sent.
	replyDue
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

// replyOutcome is the phase and Answered condition a reply's send leads to,
// and the reply to record when WhatsApp accepted it. A send that will be
// retried keeps the inquiry Open.
func replyOutcome(res sendResult, now time.Time) (commercev1alpha1.InquiryPhase, *metav1.Condition, *commercev1alpha1.SentMessage) {
	switch res.Reason {
	case commercev1alpha1.ReasonSent:
		return commercev1alpha1.InquiryAnswered,
			condAnswered(metav1.ConditionTrue, commercev1alpha1.ReasonSent, "replied in the customer's thread (message "+res.MessageID+")"),
			&commercev1alpha1.SentMessage{MessageID: res.MessageID, SentAt: &metav1.Time{Time: now}}
	case commercev1alpha1.ReasonWindowClosed:
		return commercev1alpha1.InquiryExpired,
			condAnswered(metav1.ConditionFalse, commercev1alpha1.ReasonWindowClosed, "WhatsApp refused the reply, the window has closed: "+res.Message), nil
	case commercev1alpha1.ReasonSendFailed:
		return commercev1alpha1.InquiryFailed, condAnswered(metav1.ConditionFalse, commercev1alpha1.ReasonSendFailed, res.Message), nil
	}
	return commercev1alpha1.InquiryOpen, condAnswered(metav1.ConditionFalse, res.Reason, res.Message), nil
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
	case phase == commercev1alpha1.InquiryOpen && (answered.Reason == commercev1alpha1.ReasonRetrying || answered.Reason == commercev1alpha1.ReasonChannelNotReady):
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
