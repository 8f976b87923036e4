package controllers

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
)

// Exactly once across a crash, for Cloud channels. Every message to a
// customer is recorded as an intent (a SentMessage with callbackData and no
// messageID) in a status write before it is sent, and its outcome in the next
// write. A crash between the two leaves the intent, and so does a send whose
// outcome is unknown (no answer, or a 5xx); the receiver resolves it
// when a status webhook carrying its callback data arrives (WhatsApp posts
// "sent" within seconds), and the message is sent again only when none has
// come IntentTimeout after the intent was recorded.
//
// On-Premises cannot echo callback data, so no status can resolve its intent
// (a SentMessage with sentAt only): only the send that wrote it does, and a
// crash in between sends the message again. The intent is written all the
// same, for the receiver: while it is open, a status about an unknown message
// to the same recipient is refused with 503 rather than dropped, and applies
// by its message id once the send's record names it (internal/index.OpenIntent).
//
// These are the decisions about one SentMessage, shared by every kind that
// sends (notifications, replies, product messages): pure functions,
// table-tested in intent_test.go.

// callbackData is what a message about ref carries on ch: the encoded
// reference for Cloud, nothing for On-Premises (which cannot echo it).
func callbackData(ch *commercev1alpha1.WhatsAppChannel, ref callbackdata.Ref) string {
	if ch == nil || ch.API() != commercev1alpha1.APICloud || ref.Validate() != nil {
		return ""
	}
	return ref.String()
}

// intentWait is how much longer a pending intent recorded at sentAt waits for
// a status webhook at now; zero or less means it is sent again. An intent
// without callback data waits for nothing: no status can name it, and a pass
// that reads it knows the send that wrote it is over (one pass at a time
// runs per resource).
func intentWait(m *commercev1alpha1.SentMessage, now time.Time) time.Duration {
	if m.SentAt == nil || m.CallbackData == "" {
		return 0
	}
	return m.SentAt.Add(commercev1alpha1.IntentTimeout).Sub(now)
}

// claimable reports whether a send may claim the record rec (nil: none) by
// writing its intent: nothing is recorded, or a pending intent waited
// IntentTimeout without a status and is sent again.
func claimable(rec *commercev1alpha1.SentMessage, now time.Time) bool {
	return rec == nil || (rec.Pending() && intentWait(rec, now) <= 0)
}

// intent is the record written before sending a message with callback data cb.
func intent(cb string, now time.Time) commercev1alpha1.SentMessage {
	return commercev1alpha1.SentMessage{CallbackData: cb, SentAt: &metav1.Time{Time: now}}
}

// sendRecord is what a send's outcome leaves on record: the message WhatsApp
// accepted, or the record of a final refusal; nil for a send to be retried.
// keepIntent says the intent stays pending: the send got no answer at all or
// a 5xx, so WhatsApp may have accepted it, and a status naming it may still come.
func sendRecord(res sendResult, cb string, now time.Time) (rec *commercev1alpha1.SentMessage, keepIntent bool) {
	at := &metav1.Time{Time: now}
	switch {
	case res.Reason == commercev1alpha1.ReasonSent:
		return &commercev1alpha1.SentMessage{MessageID: res.MessageID, CallbackData: cb, SentAt: at}, false
	case res.final():
		return &commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: orMessageError(res.Error, res.Message), CallbackData: cb, SentAt: at}, false
	}
	return nil, cb != "" && res.Unanswered
}

// settle merges a send's record into what the status holds now (nil: no
// record), which the receiver may have changed meanwhile, and says whether
// the record goes (a retried send's intent). A pending intent becomes the
// record; one the receiver resolved first keeps what the receiver wrote and
// gains the message id if it lacks it; a record that is not an intent is
// never replaced.
func settle(current, rec *commercev1alpha1.SentMessage, keepIntent bool) (merged *commercev1alpha1.SentMessage, remove bool) {
	switch {
	case current == nil:
		return rec, false
	case current.Pending() && rec != nil:
		return rec, false
	case current.Pending():
		return current, !keepIntent
	case current.MessageID == "" && rec != nil && rec.MessageID != "":
		m := current.DeepCopy()
		m.MessageID = rec.MessageID
		return m, false
	}
	return current, false
}

// windowCode reports whether a WhatsApp error code says the customer's
// 24-hour window was closed.
func windowCode(e *commercev1alpha1.MessageError) bool {
	return e != nil && (e.Code == 131047 || e.Code == 470)
}

// failedLater reports whether WhatsApp accepted m and then reported it failed.
func failedLater(m *commercev1alpha1.SentMessage) bool {
	return m.MessageID != "" && m.DeliveryStatus == commercev1alpha1.DeliveryFailed
}
