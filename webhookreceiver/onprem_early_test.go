package webhookreceiver_test

import (
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// onPremStatus is an On-Premises body with st.
func onPremStatus(st payload.Status) []byte {
	return webhookbody.New(whatsapp.OnPremises, "").Status(st).Bytes()
}

// onPremIntent is the record the order controller writes before an
// On-Premises send about state: no callback data, no message id yet.
func onPremIntent(state commercev1alpha1.OrderState) commercev1alpha1.OrderNotification {
	return commercev1alpha1.OrderNotification{State: state, SentMessage: commercev1alpha1.SentMessage{SentAt: &metav1.Time{Time: time.Now()}}}
}

// waitCached waits until the receiver's cache shows o with n notifications.
func waitCached(t *testing.T, o *commercev1alpha1.WhatsAppOrder, what string, cond func(*commercev1alpha1.WhatsAppOrder) bool) {
	t.Helper()
	eventually(t, what, func() bool {
		var cached commercev1alpha1.WhatsAppOrder
		return mgrCache.Get(ctx, client.ObjectKeyFromObject(o), &cached) == nil && cond(&cached)
	})
}

// windowClosed is an On-Premises "failed" status: the window had closed.
func windowClosed(messageID, recipient string, at time.Time) payload.Status {
	return payload.Status{MessageID: messageID, Status: "failed", Timestamp: at, RecipientID: recipient,
		Errors: []payload.StatusError{{Code: 470, Title: "Failed to send message because you are outside the support window for freeform messages to this user."}}}
}

// TestOnPremisesStatusBeforeItsRecordIsRetried: an On-Premises send has no
// callback data, so a status WhatsApp posts before the send's record names
// its message id is known only by its recipient, to whom an intent is open.
// It is refused with 503 (never attached to the intent: another message to
// the customer may be on its way), and applied by its message id once the
// record is written.
func TestOnPremisesStatusBeforeItsRecordIsRetried(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APIOnPremises})
	o := customerOrder(t, ch, "o1", commercev1alpha1.Customer{WaID: "12064001000"}, onPremIntent(commercev1alpha1.OrderAccepted))
	waitCached(t, o, "the intent in the receiver's cache", func(c *commercev1alpha1.WhatsAppOrder) bool { return len(c.Status.Notifications) == 1 })

	body := onPremStatus(windowClosed("gBGGEgZHMlEfAgkM1RBkhDRr7t8", "12064001000", time.Now()))
	for i := range 2 {
		r := post(t, ch.Status.WebhookPath, body, appSecret)
		if c := countsOf(t, r); r.code != http.StatusServiceUnavailable || r.retryAfter == "" || c != (counts{NotYetRecorded: 1}) {
			t.Fatalf("post #%d before the record answered %d (Retry-After %q) %s, want 503 with Retry-After and 1 notYetRecorded", i+1, r.code, r.retryAfter, r.body)
		}
	}
	if m := getOrder(t, o).Status.Notifications[0]; m.MessageID != "" || m.DeliveryStatus != "" {
		t.Fatalf("the intent was written by a status matched on its recipient alone: %+v", m.SentMessage)
	}

	o = getOrder(t, o)
	o.Status.Notifications[0].MessageID = "gBGGEgZHMlEfAgkM1RBkhDRr7t8"
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	// As WhatsApp does, posting again until it is taken.
	var r response
	eventually(t, "the redelivery taken", func() bool {
		r = post(t, ch.Status.WebhookPath, body, appSecret)
		return r.code == http.StatusOK
	})
	if c := countsOf(t, r); c != (counts{Updated: 1}) {
		t.Fatalf("the redelivery once recorded answered %s, want 1 updated", r.body)
	}
	m := getOrder(t, o).Status.Notifications[0]
	if m.DeliveryStatus != commercev1alpha1.DeliveryFailed || m.Error == nil || m.Error.Code != 470 {
		t.Fatalf("record %+v, want failed with 470", m.SentMessage)
	}
}

// TestOnPremisesStatusWithoutAnOpenIntentIsAcknowledged: a status about an
// unknown message is refused only while an intent is open for its recipient
// on its channel, and for at most RecordWait: anything else is acknowledged
// as unmatched at once, and nothing is written.
func TestOnPremisesStatusWithoutAnOpenIntentIsAcknowledged(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APIOnPremises})
	other := newChannel(t, channelOpts{api: commercev1alpha1.APIOnPremises})
	sending := customerOrder(t, ch, "sending", commercev1alpha1.Customer{WaID: "12064001000"}, onPremIntent(commercev1alpha1.OrderAccepted))
	recorded := customerOrder(t, ch, "recorded", commercev1alpha1.Customer{WaID: "16505551234"}, commercev1alpha1.OrderNotification{
		State: commercev1alpha1.OrderAccepted, SentMessage: commercev1alpha1.SentMessage{MessageID: "gBGG-recorded", SentAt: &metav1.Time{Time: time.Now()}}})
	elsewhere := customerOrder(t, other, "elsewhere", commercev1alpha1.Customer{WaID: "16505550000"}, onPremIntent(commercev1alpha1.OrderAccepted))
	waitCached(t, sending, "the intent in the receiver's cache", func(c *commercev1alpha1.WhatsAppOrder) bool { return len(c.Status.Notifications) == 1 })
	waitCached(t, recorded, "the record in the receiver's cache", func(c *commercev1alpha1.WhatsAppOrder) bool { return len(c.Status.Notifications) == 1 })
	waitCached(t, elsewhere, "the other channel's intent in the receiver's cache", func(c *commercev1alpha1.WhatsAppOrder) bool { return len(c.Status.Notifications) == 1 })

	for _, tc := range []struct {
		name string
		st   payload.Status
	}{
		{"a recipient whose message is recorded", windowClosed("gBGG-not-ours-1", "16505551234", time.Now())},
		{"a recipient the operator never wrote to", windowClosed("gBGG-not-ours-2", "19995550000", time.Now())},
		{"a recipient with an intent open on another channel", windowClosed("gBGG-not-ours-3", "16505550000", time.Now())},
		{"an intent open, but the status older than RecordWait", windowClosed("gBGG-not-ours-4", "12064001000", time.Now().Add(-webhookreceiver.RecordWait-time.Minute))},
	} {
		r := post(t, ch.Status.WebhookPath, onPremStatus(tc.st), appSecret)
		if c := countsOf(t, r); r.code != http.StatusOK || c != (counts{Unmatched: 1}) {
			t.Errorf("%s: answered %d %s, want 200 with 1 unmatched", tc.name, r.code, r.body)
		}
	}
	for _, o := range []*commercev1alpha1.WhatsAppOrder{sending, recorded, elsewhere} {
		if m := getOrder(t, o).Status.Notifications[0]; m.DeliveryStatus != "" {
			t.Errorf("order %s was written: %+v", o.Name, m.SentMessage)
		}
	}
}
