package webhookreceiver_test

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// startEarlyFake is the fake WhatsApp API posting each send's "sent" status
// to ch's webhook before it answers the send, retrying refused ones quickly.
func startEarlyFake(t *testing.T, ch *commercev1alpha1.WhatsAppChannel) (*fakewhatsapp.Server, *whatsapp.Client) {
	t.Helper()
	s := fakewhatsapp.New(fakewhatsapp.Options{WebhookURL: server.URL + ch.Status.WebhookPath, AppSecret: []byte(appSecret),
		SentBeforeAnswer: true, RedeliveryDelay: 50 * time.Millisecond})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	c, err := whatsapp.New(whatsapp.Config{BaseURL: s.URL(), PhoneNumberID: cloudPhone, AccessToken: "token"})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

// TestSentBeforeTheSendIsAnswered: the operator recorded its intent, then
// sent; WhatsApp reports "sent" before the send call returns. By the time the
// sender has the message id, the receiver has already recorded it on the
// intent, from the status's callback data.
func TestSentBeforeTheSendIsAnswered(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	fake, c := startEarlyFake(t, ch)
	o := customerOrder(t, ch, "o1", commercev1alpha1.Customer{UserID: "US.13491208655302741918"})
	o.Status.Notifications = []commercev1alpha1.OrderNotification{intent(o, commercev1alpha1.OrderAccepted)}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	id, err := c.SendText(ctx, whatsapp.Send{To: whatsapp.Recipient{UserID: o.Spec.Customer.UserID}, CallbackData: o.Status.Notifications[0].CallbackData}, "Accepted")
	if err != nil {
		t.Fatal(err)
	}
	if early := fake.EarlyStatuses(); len(early) != 1 || !early[0].Accepted || early[0].MessageID != id {
		t.Fatalf("early statuses %+v, want the one about %s taken at once", early, id)
	}
	m := getOrder(t, o).Status.Notifications[0]
	if m.MessageID != id || m.DeliveryStatus != commercev1alpha1.DeliverySent || m.PricingCategory != "service" {
		t.Fatalf("record when the send returned: %+v, want %s sent and priced", m.SentMessage, id)
	}
}

// TestEarlyStatusWithoutARecordIsRedelivered: a send without an intent (the
// record is written only once the send returns). The early status is
// refused, WhatsApp posts it again, and once the sender recorded the id the
// status is stored: nothing is lost.
func TestEarlyStatusWithoutARecordIsRedelivered(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	fake, c := startEarlyFake(t, ch)
	o := customerOrder(t, ch, "o1", commercev1alpha1.Customer{WaID: "16505551234"})
	cb := callbackOf(ch.Namespace, o.Name, commercev1alpha1.OrderAccepted)
	id, err := c.SendText(ctx, whatsapp.Send{To: whatsapp.Recipient{WaID: "16505551234"}, CallbackData: cb}, "Accepted")
	if err != nil {
		t.Fatal(err)
	}
	early := fake.EarlyStatuses()
	if len(early) == 0 || early[0].Accepted || !strings.Contains(early[0].Answer, "503") {
		t.Fatalf("early statuses %+v, want the first refused with 503", early)
	}
	o = getOrder(t, o)
	o.Status.Notifications = []commercev1alpha1.OrderNotification{{State: commercev1alpha1.OrderAccepted,
		SentMessage: commercev1alpha1.SentMessage{MessageID: id, CallbackData: cb}}}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the redelivered status to be stored", func() bool {
		var got commercev1alpha1.WhatsAppOrder
		return env.Client.Get(ctx, client.ObjectKeyFromObject(o), &got) == nil &&
			got.Status.Notifications[0].DeliveryStatus == commercev1alpha1.DeliverySent
	})
	// The fake notes an answer once it has read it, after the write it answered.
	eventually(t, "the fake to note the redelivery taken", func() bool {
		last := fake.EarlyStatuses()
		return last[len(last)-1].Accepted
	})
}
