package webhookreceiver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// customerOrder creates an order of ch's for customer; notifications, when
// given, are written to its status as the order controller would.
func customerOrder(t *testing.T, ch *commercev1alpha1.WhatsAppChannel, name string, customer commercev1alpha1.Customer, notifications ...commercev1alpha1.OrderNotification) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	o := &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ch.Namespace, Name: name},
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel: ch.Name, MessageID: "wamid.order-" + name, ReceivedAt: at(1700000000), Customer: customer, CatalogID: "1",
			Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "p", Quantity: 1, ItemPrice: "1", Currency: "USD"}},
		},
	}
	mustCreate(t, o)
	if len(notifications) > 0 {
		o.Status.Notifications = notifications
		if err := env.Client.Status().Update(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// intent is the record the order controller writes before sending about
// state: callback data, no message id yet.
func intent(o *commercev1alpha1.WhatsAppOrder, state commercev1alpha1.OrderState) commercev1alpha1.OrderNotification {
	cb := callbackdata.Ref{Kind: "WhatsAppOrder", Namespace: o.Namespace, Name: o.Name, About: string(state)}.String()
	return commercev1alpha1.OrderNotification{State: state, SentMessage: commercev1alpha1.SentMessage{CallbackData: cb, SentAt: &metav1.Time{Time: time.Now()}}}
}

func callbackOf(ns, name string, state commercev1alpha1.OrderState) string {
	return callbackdata.Ref{Kind: "WhatsAppOrder", Namespace: ns, Name: name, About: string(state)}.String()
}

func statusBody(statuses ...payload.Status) []byte {
	b := webhookbody.New(whatsapp.Cloud, cloudPhone)
	for _, s := range statuses {
		b.Status(s)
	}
	return b.Bytes()
}

// counts is the report of a stored body, all of its counters.
type counts struct {
	Created        int `json:"created"`
	Duplicates     int `json:"duplicates"`
	Updated        int `json:"updated"`
	Unchanged      int `json:"unchanged"`
	Ignored        int `json:"ignored"`
	OtherNumber    int `json:"otherNumber"`
	Unmatched      int `json:"unmatched"`
	NotYetRecorded int `json:"notYetRecorded"`
	Failed         int `json:"failed"`
}

func countsOf(t *testing.T, r response) counts {
	t.Helper()
	var c counts
	if err := json.Unmarshal([]byte(r.body), &c); err != nil {
		t.Fatalf("answer %d %q is not a report: %v", r.code, r.body, err)
	}
	return c
}

func getOrder(t *testing.T, o *commercev1alpha1.WhatsAppOrder) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	var got commercev1alpha1.WhatsAppOrder
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), &got); err != nil {
		t.Fatal(err)
	}
	return &got
}

// TestStatusResolvesAnIntentByItsCallbackData: the controller recorded an
// intent and sent; WhatsApp's statuses carry the callback data. The first
// records the message id, later ones move it on, a repeated one is counted
// unchanged, and the price is recorded.
func TestStatusResolvesAnIntentByItsCallbackData(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	o := customerOrder(t, ch, "o1", commercev1alpha1.Customer{UserID: "US.1"})
	o.Status.Notifications = []commercev1alpha1.OrderNotification{intent(o, commercev1alpha1.OrderAccepted)}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	cb := o.Status.Notifications[0].CallbackData
	now := time.Now()
	sent := payload.Status{MessageID: "wamid.accepted", Status: "sent", Timestamp: now, RecipientUserID: "US.1", CallbackData: cb, PricingCategory: "utility"}
	r := post(t, ch.Status.WebhookPath, statusBody(sent), appSecret)
	if c := countsOf(t, r); r.code != http.StatusOK || c != (counts{Updated: 1}) {
		t.Fatalf("sent answered %d %s, want 200 with 1 updated", r.code, r.body)
	}
	m := getOrder(t, o).Status.Notifications[0]
	if m.MessageID != "wamid.accepted" || m.DeliveryStatus != commercev1alpha1.DeliverySent || m.PricingCategory != "utility" || m.CallbackData != cb {
		t.Fatalf("record after sent: %+v, want the message id, sent, utility", m.SentMessage)
	}

	delivered := sent
	delivered.Status, delivered.Timestamp, delivered.PricingCategory = "delivered", now.Add(time.Second), ""
	for i, want := range []counts{{Updated: 1}, {Unchanged: 1}} {
		r := post(t, ch.Status.WebhookPath, statusBody(delivered), appSecret)
		if c := countsOf(t, r); r.code != http.StatusOK || c != want {
			t.Fatalf("delivered #%d answered %d %s, want 200 with %+v", i+1, r.code, r.body, want)
		}
	}
	if m := getOrder(t, o).Status.Notifications[0]; m.DeliveryStatus != commercev1alpha1.DeliveryDelivered || m.PricingCategory != "utility" {
		t.Fatalf("record after delivered: %+v", m.SentMessage)
	}
}

// TestStatusBeforeItsRecordIsRetried: WhatsApp reports on a message of the
// operator's before its record exists. The status is not acknowledged (503,
// so WhatsApp sends it again) until the record is there; once it is, the
// same status is stored. A status whose record never came within
// RecordWait is acknowledged.
func TestStatusBeforeItsRecordIsRetried(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	o := customerOrder(t, ch, "o1", commercev1alpha1.Customer{WaID: "16505551234"})
	sent := payload.Status{MessageID: "wamid.early", Status: "sent", Timestamp: time.Now(), RecipientID: "16505551234",
		CallbackData: callbackOf(ch.Namespace, o.Name, commercev1alpha1.OrderAccepted)}
	body := statusBody(sent)
	r := post(t, ch.Status.WebhookPath, body, appSecret)
	if c := countsOf(t, r); r.code != http.StatusServiceUnavailable || r.retryAfter == "" || c != (counts{NotYetRecorded: 1}) {
		t.Fatalf("status before its record answered %d (Retry-After %q) %s, want 503 with Retry-After and 1 notYetRecorded", r.code, r.retryAfter, r.body)
	}

	o = getOrder(t, o)
	o.Status.Notifications = []commercev1alpha1.OrderNotification{intent(o, commercev1alpha1.OrderAccepted)}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	r = post(t, ch.Status.WebhookPath, body, appSecret)
	if c := countsOf(t, r); r.code != http.StatusOK || c != (counts{Updated: 1}) {
		t.Fatalf("the redelivery once recorded answered %d %s, want 200 with 1 updated", r.code, r.body)
	}
	if m := getOrder(t, o).Status.Notifications[0]; m.MessageID != "wamid.early" || m.DeliveryStatus != commercev1alpha1.DeliverySent {
		t.Fatalf("record %+v, want the early status applied", m.SentMessage)
	}

	stale := payload.Status{MessageID: "wamid.never", Status: "sent", Timestamp: time.Now().Add(-webhookreceiver.RecordWait - time.Minute),
		RecipientID: "16505551234", CallbackData: callbackOf(ch.Namespace, o.Name, commercev1alpha1.OrderShipped)}
	r = post(t, ch.Status.WebhookPath, statusBody(stale), appSecret)
	if c := countsOf(t, r); r.code != http.StatusOK || c != (counts{Unmatched: 1}) {
		t.Fatalf("a status whose record never came answered %d %s, want 200 with 1 unmatched", r.code, r.body)
	}
}

// TestCallbackDataNeverReachesOutsideTheChannel: callback data naming an
// order of another namespace, or one that is gone, is acknowledged as
// unmatched, and writes nothing there.
func TestCallbackDataNeverReachesOutsideTheChannel(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	other := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	theirs := customerOrder(t, other, "o1", commercev1alpha1.Customer{WaID: "1"})
	theirs.Status.Notifications = []commercev1alpha1.OrderNotification{intent(theirs, commercev1alpha1.OrderAccepted)}
	if err := env.Client.Status().Update(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	statuses := []payload.Status{
		{MessageID: "wamid.theirs", Status: "sent", Timestamp: time.Now(), RecipientID: "1", CallbackData: theirs.Status.Notifications[0].CallbackData},
		{MessageID: "wamid.gone", Status: "sent", Timestamp: time.Now(), RecipientID: "1", CallbackData: callbackOf(ch.Namespace, "deleted-order", commercev1alpha1.OrderAccepted)},
		{MessageID: "wamid.foreign", Status: "sent", Timestamp: time.Now(), RecipientID: "1", CallbackData: "another sender's data"},
	}
	r := post(t, ch.Status.WebhookPath, statusBody(statuses...), appSecret)
	if c := countsOf(t, r); r.code != http.StatusOK || c != (counts{Unmatched: 3}) {
		t.Fatalf("answer %d %s, want 200 with 3 unmatched", r.code, r.body)
	}
	if m := getOrder(t, theirs).Status.Notifications[0]; m.MessageID != "" || m.DeliveryStatus != "" {
		t.Fatalf("another namespace's record was written: %+v", m.SentMessage)
	}
}

// TestCountsAreExact posts one body with a status of every kind, twice.
func TestCountsAreExact(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	sender := orderThatSent(t, ch, "wamid.recorded")
	now := time.Now()
	ours := statusBody(
		payload.Status{MessageID: "wamid.recorded", Status: "read", Timestamp: now, RecipientID: "16505551234"},
		payload.Status{MessageID: "wamid.someone-elses", Status: "read", Timestamp: now, RecipientID: "16505551234"},
		payload.Status{MessageID: "wamid.recorded", Status: "played", Timestamp: now, RecipientID: "16505551234"},
	)
	forAnotherNumber := webhookbody.New(whatsapp.Cloud, "999").Status(payload.Status{MessageID: "wamid.x", Status: "sent", Timestamp: now, RecipientID: "1"}).Bytes()
	body := joinEntries(t, ours, forAnotherNumber)
	for i, want := range []counts{
		{Updated: 1, Unmatched: 1, Ignored: 1, OtherNumber: 1},
		{Unchanged: 1, Unmatched: 1, Ignored: 1, OtherNumber: 1},
	} {
		r := post(t, ch.Status.WebhookPath, body, appSecret)
		if c := countsOf(t, r); r.code != http.StatusOK || c != want {
			t.Fatalf("delivery #%d answered %d %s, want 200 with %+v", i+1, r.code, r.body, want)
		}
	}
	if m := getOrder(t, sender).Status.Notifications[0]; m.DeliveryStatus != commercev1alpha1.DeliveryRead {
		t.Fatalf("delivery status %q, want read", m.DeliveryStatus)
	}
}

// joinEntries makes one Cloud body of the entries of several.
func joinEntries(t *testing.T, bodies ...[]byte) []byte {
	t.Helper()
	var joined struct {
		Object string            `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	for _, b := range bodies {
		var one struct {
			Object string            `json:"object"`
			Entry  []json.RawMessage `json:"entry"`
		}
		if err := json.Unmarshal(b, &one); err != nil {
			t.Fatal(err)
		}
		joined.Object = one.Object
		joined.Entry = append(joined.Entry, one.Entry...)
	}
	out, err := json.Marshal(joined)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// laggingCache is the operator's cache client, but behind on one order: it
// has not seen that order yet, as right after the order's status write.
type laggingCache struct {
	client.Client
	hidden client.ObjectKey
}

func (c laggingCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if key == c.hidden {
		return apierrors.NewNotFound(schema.GroupResource{Group: commercev1alpha1.GroupVersion.Group, Resource: "whatsapporders"}, key.Name)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// TestStatusOfAnIntentTheCacheHasNotSeen: the cache has not caught up with
// the order yet; the receiver reads it from the API server and stores the
// status at once.
func TestStatusOfAnIntentTheCacheHasNotSeen(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	o := customerOrder(t, ch, "o1", commercev1alpha1.Customer{WaID: "16505551234"})
	o.Status.Notifications = []commercev1alpha1.OrderNotification{intent(o, commercev1alpha1.OrderAccepted)}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	rc := webhookreceiver.New(webhookreceiver.Options{
		Client: laggingCache{Client: mgrCache, hidden: client.ObjectKeyFromObject(o)}, APIReader: env.Client,
		Recorder: events.NewFakeRecorder(10), SecretResyncPeriod: time.Second,
	})
	lagging := httptest.NewServer(rc.Handler())
	defer lagging.Close()

	body := statusBody(payload.Status{MessageID: "wamid.lagging", Status: "sent", Timestamp: time.Now(), RecipientID: "16505551234",
		CallbackData: o.Status.Notifications[0].CallbackData})
	req, err := webhookbody.Sign(body, []byte(appSecret)).Request(ctx, lagging.URL+ch.Status.WebhookPath)
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, req)
	if c := countsOf(t, r); r.code != http.StatusOK || c != (counts{Updated: 1}) {
		t.Fatalf("answer %d %s, want 200 with 1 updated", r.code, r.body)
	}
	if m := getOrder(t, o).Status.Notifications[0]; m.MessageID != "wamid.lagging" || m.DeliveryStatus != commercev1alpha1.DeliverySent {
		t.Fatalf("record %+v, want the status applied", m.SentMessage)
	}
}
