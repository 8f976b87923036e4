package controllers

import (
	"time"

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
	// its intent has waited its timeout for a status in vain.
	replyDue
	// awaitingStatus: the reply's intent, left by a restart, waits for the
	// status webhook that says whether WhatsApp accepted it.
	awaitingStatus
	// answeredWithProducts: a ProductMessage answering the inquiry was sent.
	answeredWithProducts
)

// inquiryDue decides what is due for q at now, with the phase and Answered
// outcome that follow (for replyDue, those the send decides). answeredBy
// names a Sent ProductMessage whose spec.inquiry is q, or is empty: WhatsApp
// accepted that answer, so the inquiry is Answered whatever the clock says.
// A reply WhatsApp accepted and then failed to deliver fails the inquiry,
// whenever that is reported.
func inquiryDue(q *commercev1alpha1.ProductInquiry, now time.Time, intents intentClock, answeredBy string) (inquiryAction, commercev1alpha1.InquiryPhase, *outcome) {
	r := q.Status.Reply
	switch {
	case r != nil && failedLater(r):
		return settled, commercev1alpha1.InquiryFailed, recordedOutcome(r, "the reply")
	case q.Status.Phase == commercev1alpha1.InquiryExpired && q.Spec.Reply == nil:
		return settled, q.Status.Phase, expiredUnanswered()
	case finalInquiryPhase(q.Status.Phase):
		return settled, q.Status.Phase, nil
	case answeredBy != "":
		return answeredWithProducts, commercev1alpha1.InquiryAnswered,
			outcomeFor(commercev1alpha1.ReasonAnsweredWithProducts, "answered with ProductMessage "+answeredBy)
	}
	expiresAt := q.Spec.ReceivedAt.Add(window)
	if r != nil {
		switch {
		case r.Pending() && intents.wait(r, now) > 0:
			return awaitingStatus, commercev1alpha1.InquiryOpen, recordedOutcome(r, "the reply")
		case r.Pending():
			return replyDue, commercev1alpha1.InquiryOpen, nil
		case r.DeliveryStatus == commercev1alpha1.DeliveryFailed:
			return settled, commercev1alpha1.InquiryFailed, recordedOutcome(r, "the reply")
		}
		// The receiver resolved the intent: WhatsApp accepted the reply.
		return settled, commercev1alpha1.InquiryAnswered, replied(r.MessageID)
	}
	switch {
	case windowClosed(q.Spec.ReceivedAt, now) && q.Spec.Reply == nil:
		return windowExpired, commercev1alpha1.InquiryExpired, expiredUnanswered()
	case windowClosed(q.Spec.ReceivedAt, now):
		return windowExpired, commercev1alpha1.InquiryExpired, outcomeFor(commercev1alpha1.ReasonWindowClosed, "the reply was set after the 24-hour window closed; it was not sent")
	case q.Spec.Reply == nil:
		return awaitingReply, commercev1alpha1.InquiryOpen, outcomeFor(commercev1alpha1.ReasonAwaitingReply,
			"set spec.reply.text to answer before "+expiresAt.UTC().Format(time.RFC3339))
	}
	return replyDue, commercev1alpha1.InquiryOpen, nil
}

func expiredUnanswered() *outcome {
	return &outcome{of: outcomeExpiredUnanswered, message: "the 24-hour window closed unanswered"}
}

func replied(messageID string) *outcome {
	return outcomeFor(commercev1alpha1.ReasonSent, "replied in the customer's thread (message "+messageID+")")
}

// replyOutcome is the phase and Answered outcome a reply's send leads to.
// A send that will be retried keeps the inquiry Open.
func replyOutcome(res sendResult) (commercev1alpha1.InquiryPhase, *outcome) {
	switch res.Reason {
	case commercev1alpha1.ReasonSent:
		return commercev1alpha1.InquiryAnswered, replied(res.MessageID)
	case commercev1alpha1.ReasonWindowClosed:
		return commercev1alpha1.InquiryExpired, outcomeFor(res.Reason, "WhatsApp refused the reply, the window has closed: "+res.Message)
	case commercev1alpha1.ReasonSendFailed:
		return commercev1alpha1.InquiryFailed, outcomeFor(res.Reason, res.Message)
	}
	return commercev1alpha1.InquiryOpen, outcomeFor(res.Reason, res.Message)
}

func finalInquiryPhase(p commercev1alpha1.InquiryPhase) bool {
	return p == commercev1alpha1.InquiryAnswered || p == commercev1alpha1.InquiryExpired || p == commercev1alpha1.InquiryFailed
}
