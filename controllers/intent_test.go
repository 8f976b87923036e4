package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

func TestSendRecord(t *testing.T) {
	now := received.Add(time.Hour)
	at := &metav1.Time{Time: now}
	for _, tc := range []struct {
		name     string
		res      sendResult
		cb       string
		want     *commercev1alpha1.SentMessage
		wantKeep bool
	}{
		{"accepted", sendResult{Reason: commercev1alpha1.ReasonSent, MessageID: "wamid.1"}, "cb",
			&commercev1alpha1.SentMessage{MessageID: "wamid.1", CallbackData: "cb", SentAt: at}, false},
		{"refused for good", sendResult{Reason: commercev1alpha1.ReasonSendFailed, Message: "bad", Error: &commercev1alpha1.MessageError{Code: 100}}, "cb",
			&commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Code: 100}, CallbackData: "cb", SentAt: at}, false},
		{"window closed, no WhatsApp error", sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: "no template"}, "",
			&commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, Error: &commercev1alpha1.MessageError{Message: "no template"}, SentAt: at}, false},
		{"rate limited: retried, the intent goes", sendResult{Reason: commercev1alpha1.ReasonRetrying}, "cb", nil, false},
		{"no answer: WhatsApp may have it, the intent stays", sendResult{Reason: commercev1alpha1.ReasonRetrying, Unanswered: true}, "cb", nil, true},
		{"no answer on On-Premises: nothing to wait for", sendResult{Reason: commercev1alpha1.ReasonRetrying, Unanswered: true}, "", nil, false},
	} {
		rec, keep := sendRecord(tc.res, tc.cb, now)
		if !equality.Semantic.DeepEqual(rec, tc.want) || keep != tc.wantKeep {
			t.Errorf("%s: got %+v keep %v, want %+v keep %v", tc.name, rec, keep, tc.want, tc.wantKeep)
		}
	}
}

// testIntentTimeout is the intent timeout of the decision tests: the default's.
const testIntentTimeout = 12 * time.Minute

// seenWhenWritten is the intent clock of a process that saw each pending
// intent among recs as it was written: its own, or read at once.
func seenWhenWritten(recs ...*commercev1alpha1.SentMessage) intentClock {
	seen := map[string]seenIntent{}
	for _, m := range recs {
		if m.Pending() {
			seen[m.CallbackData] = seenIntent{sentAt: sentAt(m), first: sentAt(m)}
		}
	}
	return intentClock{timeout: testIntentTimeout, seen: seen}
}

// An intent waits the timeout from the later of its sentAt and when this
// process first saw it: a leader whose clock runs ahead of the one that
// wrote the intent still waits the whole timeout.
func TestIntentWait(t *testing.T) {
	now := received.Add(time.Hour)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(d)} }
	seen := func(sentAt *metav1.Time, first time.Time) map[string]seenIntent {
		s := seenIntent{first: first}
		if sentAt != nil {
			s.sentAt = sentAt.Time
		}
		return map[string]seenIntent{"cb": s}
	}
	for _, tc := range []struct {
		name   string
		sentAt *metav1.Time
		seen   map[string]seenIntent
		want   time.Duration
	}{
		{"written now, by this process", at(0), seen(at(0), now), testIntentTimeout},
		{"written 30s before the timeout, seen then", at(-testIntentTimeout + 30*time.Second), seen(at(-testIntentTimeout+30*time.Second), now.Add(-testIntentTimeout+30*time.Second)), 30 * time.Second},
		{"timed out, seen when written", at(-testIntentTimeout), seen(at(-testIntentTimeout), now.Add(-testIntentTimeout)), 0},
		{"stamped by a leader 13 minutes behind, first seen now: the whole timeout", at(-13 * time.Minute), nil, testIntentTimeout},
		{"stamped 13 minutes back, first seen a minute ago", at(-13 * time.Minute), seen(at(-13*time.Minute), now.Add(-time.Minute)), testIntentTimeout - time.Minute},
		{"stamped by a leader ahead: sentAt counts", at(5 * time.Minute), seen(at(5*time.Minute), now), testIntentTimeout + 5*time.Minute},
		{"a new intent under the same callback data is seen afresh", at(-20 * time.Minute), seen(at(-40*time.Minute), now.Add(-30*time.Minute)), testIntentTimeout},
		{"no sentAt, never seen: seen now", nil, nil, testIntentTimeout},
		{"no sentAt, seen when the timeout began", nil, seen(nil, now.Add(-testIntentTimeout)), 0},
	} {
		c := intentClock{timeout: testIntentTimeout, seen: tc.seen}
		if got := c.wait(&commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: tc.sentAt}, now); got != tc.want {
			t.Errorf("%s: wait %v, want %v", tc.name, got, tc.want)
		}
	}
	// On-Premises: no status can name the intent, so it waits for nothing.
	c := intentClock{timeout: testIntentTimeout}
	if got := c.wait(&commercev1alpha1.SentMessage{SentAt: at(0)}, now); got != 0 {
		t.Errorf("an intent without callback data: wait %v, want none", got)
	}
}

// The memory of seen intents keeps only what is pending, per resource: an
// intent resolved, a resource deleted or recreated drops what it had, and an
// intent seen again keeps the moment it was first seen.
func TestSeenIntents(t *testing.T) {
	t0 := received.Add(time.Hour)
	order := func(uid types.UID, recs ...commercev1alpha1.SentMessage) *commercev1alpha1.WhatsAppOrder {
		o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "o-1", UID: uid}}
		for _, m := range recs {
			o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{SentMessage: m})
		}
		return o
	}
	written := &metav1.Time{Time: t0.Add(-20 * time.Minute)}
	pendingA := commercev1alpha1.SentMessage{CallbackData: "a", SentAt: written}
	pendingB := commercev1alpha1.SentMessage{CallbackData: "b", SentAt: written}
	resolvedA := commercev1alpha1.SentMessage{CallbackData: "a", SentAt: written, MessageID: "wamid.a", DeliveryStatus: commercev1alpha1.DeliverySent}
	s := newSeenIntents()
	key := types.NamespacedName{Namespace: "shop", Name: "o-1"}

	first := s.observe(order("u1", pendingA, pendingB), t0)
	if first["a"].first != t0 || first["b"].first != t0 || len(first) != 2 {
		t.Fatalf("first look: %+v, want both seen at %s", first, t0)
	}
	if again := s.observe(order("u1", pendingA, pendingB), t0.Add(time.Minute)); again["a"].first != t0 {
		t.Errorf("seen again: %+v, want still first seen at %s", again, t0)
	}
	if after := s.observe(order("u1", resolvedA, pendingB), t0.Add(2*time.Minute)); len(after) != 1 || after["b"].first != t0 {
		t.Errorf("after a was resolved: %+v, want only b", after)
	}
	if len(first) != 2 {
		t.Errorf("a map handed out changed: %+v", first)
	}
	if recreated := s.observe(order("u2", pendingB), t0.Add(3*time.Minute)); recreated["b"].first != t0.Add(3*time.Minute) {
		t.Errorf("a recreated resource: %+v, want its intent seen afresh", recreated)
	}
	s.wrote(order("u2"), "c", t0.Add(4*time.Minute))
	if got := s.of[key].seen; len(got) != 2 || got["c"].first != t0.Add(4*time.Minute) || got["c"].sentAt != t0.Add(4*time.Minute).Truncate(time.Second) {
		t.Errorf("after writing c: %+v", got)
	}
	if none := s.observe(order("u2", resolvedA), t0.Add(5*time.Minute)); none != nil || len(s.of) != 0 {
		t.Errorf("nothing pending: %+v, %d resources remembered, want none", none, len(s.of))
	}
	s.observe(order("u2", pendingB), t0)
	s.forget(key)
	if len(s.of) != 0 {
		t.Errorf("a deleted resource is still remembered: %+v", s.of)
	}
	var unset *seenIntents
	if got := unset.observe(order("u1", pendingA), t0); got != nil {
		t.Errorf("no memory: %+v", got)
	}
}

func TestCallbackDataOnlyForCloud(t *testing.T) {
	ref := callbackdata.Ref{Kind: "WhatsAppOrder", Namespace: "shop", Name: "o-1", About: "Accepted"}
	cloud := &commercev1alpha1.WhatsAppChannel{}
	onPrem := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{API: commercev1alpha1.APIOnPremises}}
	if got := callbackData(cloud, ref); got != "wco1|WhatsAppOrder|shop|o-1|Accepted" {
		t.Errorf("Cloud: %q", got)
	}
	if got := callbackData(onPrem, ref); got != "" {
		t.Errorf("On-Premises: %q, want none", got)
	}
	if got := callbackData(nil, ref); got != "" {
		t.Errorf("no channel: %q, want none", got)
	}
}

// A user id never becomes a phone number, and a changed user id wins over
// the one the customer first wrote with.
func TestRecipient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		c       commercev1alpha1.Customer
		current string
		want    whatsapp.Recipient
	}{
		{"phone number", commercev1alpha1.Customer{WaID: "16505551234", UserID: "US.1"}, "", whatsapp.Recipient{WaID: "16505551234", UserID: "US.1"}},
		{"username user", commercev1alpha1.Customer{UserID: "US.1"}, "", whatsapp.Recipient{UserID: "US.1"}},
		{"username user whose id changed", commercev1alpha1.Customer{UserID: "US.1"}, "US.2", whatsapp.Recipient{UserID: "US.2"}},
		{"user id stored as the WhatsApp id", commercev1alpha1.Customer{WaID: "US.1"}, "", whatsapp.Recipient{UserID: "US.1"}},
		{"user id stored as the WhatsApp id, and a newer one", commercev1alpha1.Customer{WaID: "US.1"}, "US.2", whatsapp.Recipient{UserID: "US.2"}},
	} {
		if got := recipient(tc.c, tc.current); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// Status updates wake a reconciler only for news it acts on.
func TestDeliveryNewsPredicate(t *testing.T) {
	order := func(msgs ...commercev1alpha1.SentMessage) *commercev1alpha1.WhatsAppOrder {
		o := testOrder(commercev1alpha1.OrderAccepted)
		for _, m := range msgs {
			o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{State: commercev1alpha1.OrderAccepted, SentMessage: m})
		}
		return o
	}
	intentMsg := commercev1alpha1.SentMessage{CallbackData: "cb"}
	sent := commercev1alpha1.SentMessage{CallbackData: "cb", MessageID: "wamid.1", DeliveryStatus: commercev1alpha1.DeliverySent}
	read := sent
	read.DeliveryStatus = commercev1alpha1.DeliveryRead
	failed := sent
	failed.DeliveryStatus = commercev1alpha1.DeliveryFailed
	pmsg := func(m commercev1alpha1.SentMessage) *commercev1alpha1.ProductMessage {
		return testMessage(func(pm *commercev1alpha1.ProductMessage) { pm.Status.SentMessage = m })
	}
	for _, tc := range []struct {
		name     string
		old, new client.Object
		want     bool
	}{
		{"intent resolved by a status", order(intentMsg), order(sent), true},
		{"product message's intent resolved by a status", pmsg(intentMsg), pmsg(sent), true},
		{"product message's intent settled by the controller", pmsg(intentMsg), pmsg(commercev1alpha1.SentMessage{CallbackData: "cb", MessageID: "wamid.1"}), false},
		{"product message read", pmsg(sent), pmsg(read), false},
		{"product message's intent recorded", pmsg(commercev1alpha1.SentMessage{}), pmsg(intentMsg), false},
		{"intent settled by the controller", order(intentMsg), order(commercev1alpha1.SentMessage{CallbackData: "cb", MessageID: "wamid.1"}), false},
		{"On-Premises message failed later", order(commercev1alpha1.SentMessage{MessageID: "op"}),
			order(commercev1alpha1.SentMessage{MessageID: "op", DeliveryStatus: commercev1alpha1.DeliveryFailed}), true},
		{"refused at send, by the controller", order(intentMsg), order(commercev1alpha1.SentMessage{CallbackData: "cb", DeliveryStatus: commercev1alpha1.DeliveryFailed}), false},
		{"failed later", order(sent), order(failed), true},
		{"read", order(sent), order(read), false},
		{"intent recorded", order(), order(intentMsg), false},
	} {
		if got := specOrAnnotationsOrDeliveryNews.Update(updateEvent(tc.old, tc.new)); got != tc.want {
			t.Errorf("%s: passes %v, want %v", tc.name, got, tc.want)
		}
	}
}

func updateEvent(old, new client.Object) event.UpdateEvent {
	return event.UpdateEvent{ObjectOld: old, ObjectNew: new}
}

func TestClaimable(t *testing.T) {
	now := time.Unix(1750096325, 0)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: now.Add(d)} }
	for _, tc := range []struct {
		name string
		rec  *commercev1alpha1.SentMessage
		want bool
	}{
		{"nothing recorded", nil, true},
		{"an intent within the bound", &commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: at(-time.Minute)}, false},
		{"an intent past the bound", &commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: at(-testIntentTimeout)}, true},
		{"a resolved intent", &commercev1alpha1.SentMessage{CallbackData: "cb", MessageID: "wamid.1", SentAt: at(-time.Hour)}, false},
		{"a refusal", &commercev1alpha1.SentMessage{CallbackData: "cb", DeliveryStatus: commercev1alpha1.DeliveryFailed, SentAt: at(-time.Hour)}, false},
		{"an On-Premises record", &commercev1alpha1.SentMessage{MessageID: "op", SentAt: at(-time.Hour)}, false},
		{"an On-Premises refusal", &commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, SentAt: at(-time.Hour)}, false},
		// Left by a send that crashed or could not record its outcome: no
		// status can resolve it, so it is sent again at once.
		{"an On-Premises intent", &commercev1alpha1.SentMessage{SentAt: at(-time.Second)}, true},
	} {
		var recs []*commercev1alpha1.SentMessage
		if tc.rec != nil {
			recs = append(recs, tc.rec)
		}
		if got := seenWhenWritten(recs...).claimable(tc.rec, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
