package controllers

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

func TestIntentWait(t *testing.T) {
	now := received.Add(time.Hour)
	for _, tc := range []struct {
		cb     string
		sentAt *metav1.Time
		want   time.Duration
	}{
		{"cb", &metav1.Time{Time: now}, commercev1alpha1.IntentTimeout},
		{"cb", &metav1.Time{Time: now.Add(-commercev1alpha1.IntentTimeout + 30*time.Second)}, 30 * time.Second},
		{"cb", &metav1.Time{Time: now.Add(-commercev1alpha1.IntentTimeout)}, 0},
		{"cb", nil, 0},
		// On-Premises: no status can name it, so it waits for nothing.
		{"", &metav1.Time{Time: now}, 0},
	} {
		if got := intentWait(&commercev1alpha1.SentMessage{CallbackData: tc.cb, SentAt: tc.sentAt}, now); got != tc.want {
			t.Errorf("callback data %q, sent at %v: wait %v, want %v", tc.cb, tc.sentAt, got, tc.want)
		}
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
		{"an intent past the bound", &commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: at(-commercev1alpha1.IntentTimeout)}, true},
		{"a resolved intent", &commercev1alpha1.SentMessage{CallbackData: "cb", MessageID: "wamid.1", SentAt: at(-time.Hour)}, false},
		{"a refusal", &commercev1alpha1.SentMessage{CallbackData: "cb", DeliveryStatus: commercev1alpha1.DeliveryFailed, SentAt: at(-time.Hour)}, false},
		{"an On-Premises record", &commercev1alpha1.SentMessage{MessageID: "op", SentAt: at(-time.Hour)}, false},
		{"an On-Premises refusal", &commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, SentAt: at(-time.Hour)}, false},
		// Left by a send that crashed or could not record its outcome: no
		// status can resolve it, so it is sent again at once.
		{"an On-Premises intent", &commercev1alpha1.SentMessage{SentAt: at(-time.Second)}, true},
	} {
		if got := claimable(tc.rec, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
