package index_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
)

func TestIndexFunctions(t *testing.T) {
	order := &commercev1alpha1.WhatsAppOrder{
		Spec: commercev1alpha1.WhatsAppOrderSpec{Channel: "shop", ReplyToMessageID: "wamid.pm", Customer: commercev1alpha1.Customer{UserID: "US.1"}},
		Status: commercev1alpha1.WhatsAppOrderStatus{Notifications: []commercev1alpha1.OrderNotification{
			{State: commercev1alpha1.OrderAccepted, SentMessage: commercev1alpha1.SentMessage{MessageID: "wamid.a"}},
			{State: commercev1alpha1.OrderShipped, SentMessage: commercev1alpha1.SentMessage{CallbackData: "cb"}}, // an intent: no id yet
		}},
	}
	moved := order.DeepCopy()
	moved.Status.CustomerUserID = "US.2"
	inquiry := &commercev1alpha1.ProductInquiry{
		Spec:   commercev1alpha1.ProductInquirySpec{Channel: "shop", Customer: commercev1alpha1.Customer{WaID: "16505551234"}},
		Status: commercev1alpha1.ProductInquiryStatus{Reply: &commercev1alpha1.SentMessage{MessageID: "wamid.r"}},
	}
	tracked := &commercev1alpha1.ProductMessage{Spec: commercev1alpha1.ProductMessageSpec{Channel: "shop", MessageID: "wamid.t", Inquiry: "q"}}
	copied := tracked.DeepCopy()
	copied.Status.MessageID = "wamid.t"
	sent := &commercev1alpha1.ProductMessage{Spec: commercev1alpha1.ProductMessageSpec{Channel: "shop"}, Status: commercev1alpha1.ProductMessageStatus{
		SentMessage: commercev1alpha1.SentMessage{MessageID: "wamid.s"}}}
	channel := &commercev1alpha1.WhatsAppChannel{Status: commercev1alpha1.WhatsAppChannelStatus{WebhookPath: "/webhooks/x"}}

	for _, tc := range []struct {
		name string
		fn   func(client.Object) []string
		obj  client.Object
		want []string
	}{
		{"order's channel", index.ChannelOf, order, []string{"shop"}},
		{"product message's channel", index.ChannelOf, sent, []string{"shop"}},
		{"a channel has none", index.ChannelOf, channel, nil},
		{"webhook path", index.WebhookPathOf, channel, []string{"/webhooks/x"}},
		{"no webhook path yet", index.WebhookPathOf, &commercev1alpha1.WhatsAppChannel{}, nil},
		{"order's sent messages, not its intents", index.SentMessageIDs, order, []string{"wamid.a"}},
		{"inquiry's reply", index.SentMessageIDs, inquiry, []string{"wamid.r"}},
		{"product message sent", index.SentMessageIDs, sent, []string{"wamid.s"}},
		{"tracked, before the controller copied it", index.SentMessageIDs, tracked, []string{"wamid.t"}},
		{"tracked and copied: once", index.SentMessageIDs, copied, []string{"wamid.t"}},
		{"order replying to a product message", index.ReplyToOf, order, []string{"wamid.pm"}},
		{"inquiry replying to nothing", index.ReplyToOf, inquiry, nil},
		{"product message answering an inquiry", index.InquiryOf, tracked, []string{"q"}},
		{"product message answering none", index.InquiryOf, sent, nil},
		{"customer's user id", index.CustomerUserIDOf, order, []string{"US.1"}},
		{"customer's user id after WhatsApp reported a change", index.CustomerUserIDOf, moved, []string{"US.2"}},
		{"customer without a user id", index.CustomerUserIDOf, inquiry, nil},
	} {
		if got := tc.fn(tc.obj); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A resource is indexed by its recipient's ids while it has an intent without
// callback data (On-Premises) open, and only then.
func TestOpenIntentRecipients(t *testing.T) {
	at := &metav1.Time{Time: time.Unix(1750096325, 0)}
	onPremIntent := commercev1alpha1.SentMessage{SentAt: at}
	order := func(m ...commercev1alpha1.SentMessage) *commercev1alpha1.WhatsAppOrder {
		o := &commercev1alpha1.WhatsAppOrder{Spec: commercev1alpha1.WhatsAppOrderSpec{Channel: "shop", Customer: commercev1alpha1.Customer{WaID: "16505551234", UserID: "US.1"}}}
		for _, s := range m {
			o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{State: commercev1alpha1.OrderAccepted, SentMessage: s})
		}
		return o
	}
	moved := order(onPremIntent)
	moved.Status.CustomerUserID = "US.2"
	sameID := order(onPremIntent)
	sameID.Spec.Customer = commercev1alpha1.Customer{WaID: "US.1", UserID: "US.1"}
	inquiry := &commercev1alpha1.ProductInquiry{Spec: commercev1alpha1.ProductInquirySpec{Channel: "shop", Customer: commercev1alpha1.Customer{UserID: "US.3"}},
		Status: commercev1alpha1.ProductInquiryStatus{Reply: &onPremIntent}}
	pm := &commercev1alpha1.ProductMessage{Spec: commercev1alpha1.ProductMessageSpec{Channel: "shop", To: commercev1alpha1.Recipient{WaID: "16505550000"}},
		Status: commercev1alpha1.ProductMessageStatus{SentMessage: onPremIntent}}
	for _, tc := range []struct {
		name string
		obj  client.Object
		want []string
	}{
		{"nothing sent", order(), nil},
		{"an On-Premises intent: every id of the customer", order(onPremIntent), []string{"shop/16505551234", "shop/US.1"}},
		{"the current user id too", moved, []string{"shop/16505551234", "shop/US.1", "shop/US.2"}},
		{"an id given twice, once", sameID, []string{"shop/US.1"}},
		{"beside a recorded message", order(commercev1alpha1.SentMessage{MessageID: "wamid.a", SentAt: at}, onPremIntent), []string{"shop/16505551234", "shop/US.1"}},
		{"recorded", order(commercev1alpha1.SentMessage{MessageID: "wamid.a", SentAt: at}), nil},
		{"refused", order(commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed, SentAt: at}), nil},
		// A Cloud intent is found by its callback data instead.
		{"a Cloud intent", order(commercev1alpha1.SentMessage{CallbackData: "cb", SentAt: at}), nil},
		{"inquiry's reply", inquiry, []string{"shop/US.3"}},
		{"product message", pm, []string{"shop/16505550000"}},
		{"a channel", &commercev1alpha1.WhatsAppChannel{}, nil},
	} {
		if got := index.OpenIntentRecipients(tc.obj); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// recorder is a FieldIndexer that records what is registered.
type recorder map[string]bool

func (r recorder) IndexField(_ context.Context, obj client.Object, field string, _ client.IndexerFunc) error {
	r[reflect.TypeOf(obj).Elem().Name()+" "+field] = true
	return nil
}

// One index per question, each registered once for the kinds that answer it.
func TestRegister(t *testing.T) {
	got := recorder{}
	if err := index.Register(context.Background(), got); err != nil {
		t.Fatal(err)
	}
	want := recorder{
		"WhatsAppOrder spec.channel": true, "ProductInquiry spec.channel": true, "ProductMessage spec.channel": true,
		"WhatsAppChannel status.webhookPath":  true,
		"WhatsAppOrder status.sentMessageIDs": true, "ProductInquiry status.sentMessageIDs": true, "ProductMessage status.sentMessageIDs": true,
		"WhatsAppOrder spec.replyToMessageID": true, "ProductInquiry spec.replyToMessageID": true,
		"ProductMessage spec.inquiry":         true,
		"WhatsAppOrder status.customerUserID": true, "ProductInquiry status.customerUserID": true,
		"WhatsAppOrder status.payment.referenceID":  true,
		"WhatsAppOrder status.openIntentRecipients": true, "ProductInquiry status.openIntentRecipients": true, "ProductMessage status.openIntentRecipients": true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("registered %v, want %v", got, want)
	}
}
