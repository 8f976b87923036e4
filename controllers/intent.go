package controllers

import (
	"maps"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
// come within the operator's intent timeout (see intentClock).
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
// table-tested in intent_test.go, and seenIntents, the memory of when this
// process first saw each pending intent that they are given.

// callbackData is what a message about ref carries on ch: the encoded
// reference for Cloud, nothing for On-Premises (which cannot echo it).
func callbackData(ch *commercev1alpha1.WhatsAppChannel, ref callbackdata.Ref) string {
	if ch == nil || ch.API() != commercev1alpha1.APICloud || ref.Validate() != nil {
		return ""
	}
	return ref.String()
}

// intentClock says how long pending intents still wait for their status:
// timeout after the later of the intent's sentAt, stamped by the clock of
// the leader that wrote it, and the moment this process first saw it, by its
// own clock. A leader whose clock runs ahead of the one that wrote an intent
// still waits the whole timeout, where sentAt alone would cut the wait short
// (or skip it) and send again a message whose status is still coming.
type intentClock struct {
	timeout time.Duration
	// seen is when this process first saw each pending intent, by callback
	// data (see seenIntents); an intent missing from it is seen now.
	seen map[string]seenIntent
}

// seenIntent is when this process first saw the intent written at sentAt.
type seenIntent struct{ sentAt, first time.Time }

// wait is how much longer the pending intent m waits at now; zero or less
// means it is sent again. An intent without callback data waits for nothing:
// no status can name it, and a pass that reads it knows the send that wrote
// it is over (one pass at a time runs per resource).
func (c intentClock) wait(m *commercev1alpha1.SentMessage, now time.Time) time.Duration {
	if m.CallbackData == "" {
		return 0
	}
	from := now
	if s, ok := c.seen[m.CallbackData]; ok && s.sentAt.Equal(sentAt(m)) {
		from = s.first
	}
	if at := sentAt(m); at.After(from) {
		from = at
	}
	return from.Add(c.timeout).Sub(now)
}

// claimable reports whether a send may claim the record rec (nil: none) by
// writing its intent: nothing is recorded, or a pending intent waited its
// timeout without a status and is sent again.
func (c intentClock) claimable(rec *commercev1alpha1.SentMessage, now time.Time) bool {
	return rec == nil || (rec.Pending() && c.wait(rec, now) <= 0)
}

// sentAt is m's sentAt as the API server keeps it (whole seconds), so that
// the intent a pass wrote is recognised when it is read back.
func sentAt(m *commercev1alpha1.SentMessage) time.Time {
	if m.SentAt == nil {
		return time.Time{}
	}
	return m.SentAt.Truncate(time.Second)
}

// seenIntents remembers, per resource, when this process first saw each of
// its pending intents, for intentClock. It holds only what a pass last found
// pending, of resources still there: each pass replaces its resource's
// entry, and a resource deleted or gone drops it, so it is bounded by the
// intents pending in the cluster. A new leader starts empty and sees every
// pending intent for the first time on its first pass.
type seenIntents struct {
	mu sync.Mutex
	of map[types.NamespacedName]resourceIntents
}

// resourceIntents are the pending intents of the resource with uid; a
// resource recreated under the same name starts afresh.
type resourceIntents struct {
	uid  types.UID
	seen map[string]seenIntent
}

func newSeenIntents() *seenIntents {
	return &seenIntents{of: map[types.NamespacedName]resourceIntents{}}
}

// observe records obj's pending intents as seen at now, unless seen before,
// forgets those no longer pending, and returns them. The map returned is
// never changed afterwards. A nil seenIntents remembers nothing.
func (s *seenIntents) observe(obj client.Object, now time.Time) map[string]seenIntent {
	if s == nil {
		return nil
	}
	key := client.ObjectKeyFromObject(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	var before map[string]seenIntent
	if r, ok := s.of[key]; ok && r.uid == obj.GetUID() {
		before = r.seen
	}
	seen := stillPending(before, sentMessages(obj), now)
	if len(seen) == 0 {
		delete(s.of, key)
		return nil
	}
	s.of[key] = resourceIntents{uid: obj.GetUID(), seen: seen}
	return seen
}

// stillPending is what seenIntents keeps of a resource whose records are
// recs: each pending intent, first seen when it was seen before (with the
// same sentAt), or now.
func stillPending(before map[string]seenIntent, recs []*commercev1alpha1.SentMessage, now time.Time) map[string]seenIntent {
	var seen map[string]seenIntent
	for _, m := range recs {
		if !m.Pending() || m.CallbackData == "" {
			continue
		}
		s, ok := before[m.CallbackData]
		if !ok || !s.sentAt.Equal(sentAt(m)) {
			s = seenIntent{sentAt: sentAt(m), first: now}
		}
		if seen == nil {
			seen = map[string]seenIntent{}
		}
		seen[m.CallbackData] = s
	}
	return seen
}

// wrote records the intent obj's pass just wrote, with callback data cb at
// now: its own wait is counted from its writing.
func (s *seenIntents) wrote(obj client.Object, cb string, now time.Time) {
	if s == nil {
		return
	}
	key := client.ObjectKeyFromObject(obj)
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]seenIntent{}
	if r, ok := s.of[key]; ok && r.uid == obj.GetUID() {
		maps.Copy(seen, r.seen)
	}
	at := now.Truncate(time.Second)
	seen[cb] = seenIntent{sentAt: at, first: now}
	s.of[key] = resourceIntents{uid: obj.GetUID(), seen: seen}
}

// forget drops what is remembered of the resource at key, deleted or gone.
func (s *seenIntents) forget(key types.NamespacedName) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.of, key)
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
