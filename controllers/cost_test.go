package controllers_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// An order that only needs validating costs its controller one status write
// and not one read from the API server (the cache has it), and its own write
// starts no second reconcile. Under load, every request saved here is API
// server CPU for the next order.
func TestValidatingAnOrderCostsOneWrite(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	watch := watchOrders(t, w)
	writesBefore, readsBefore, reconcilesBefore := orderWrites(t), orderReads(t), reconciles(t, "whatsapporder")
	w.create(&commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "order"}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: "shop", MessageID: "wamid.validate-only", ReceivedAt: metav1.NewTime(w.clock.Now()), State: commercev1alpha1.OrderPending,
		Customer: commercev1alpha1.Customer{WaID: customer}, CatalogID: "c",
		Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 2, ItemPrice: "7.99", Currency: "USD"}},
	}})
	watch.until("the order validated", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionValidated)
	})
	testenv.Consistently(t, 2*time.Second, "one reconcile, one status write and no read of the order", func() bool {
		return orderWrites(t)-writesBefore == 1 && orderReads(t)-readsBefore == 0 && reconciles(t, "whatsapporder")-reconcilesBefore == 1
	})
}

// Telling the customer about an accepted order on Cloud costs the two status
// writes exactly-once needs, the intent before the send and the record after
// it, and no read of the order: the intent's write on the cached version is
// what guards against a stale cache.
func TestNotifyingAnOrderCostsTwoWritesAndNoRead(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	watch := watchOrders(t, w)
	order := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "order"}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: "shop", MessageID: "wamid.notify-cost", ReceivedAt: metav1.NewTime(w.clock.Now()), State: commercev1alpha1.OrderPending,
		Customer: commercev1alpha1.Customer{WaID: customer}, CatalogID: "c",
		Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 2, ItemPrice: "7.99", Currency: "USD"}},
	}}
	w.create(order)
	watch.until("the order validated", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionValidated)
	})
	writesBefore, readsBefore := orderWrites(t), orderReads(t)
	w.setState(order, commercev1alpha1.OrderAccepted)
	watch.until("the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified)
	})
	testenv.Consistently(t, 2*time.Second, "two status writes and no read of the order", func() bool {
		return orderWrites(t)-writesBefore == 2 && orderReads(t)-readsBefore == 0
	})
	if sent := w.fake.Sent(); len(sent) != 1 {
		t.Errorf("WhatsApp got %d messages, want 1", len(sent))
	}
}

// WhatsApp reports a message sent about a second after it took it, each
// status in its own webhook. The record of the send waits for that first
// status and shares its write: an order accepted, notified and then sent,
// delivered and read costs the intent, one write for the record and sent,
// and one for each later status. The cluster sees one Event about it.
func TestTheRecordOfANotificationSharesTheWriteOfItsFirstStatus(t *testing.T) {
	// A record delay far longer than the status takes, so that a busy machine
	// cannot make the status miss it.
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{autoStatus: true, statusDelay: 700 * time.Millisecond, recordDelay: 20 * time.Second})
	watch := watchOrders(t, w)
	order := w.placeOrder("wamid.record-shares")
	watch.until("the order validated", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionValidated)
	})
	writesBefore := orderWrites(t)
	w.setState(order, commercev1alpha1.OrderAccepted)
	var writes []string
	watch.until("the notification read", func(o *commercev1alpha1.WhatsAppOrder) bool {
		n := o.Status.Notifications
		if len(n) == 1 {
			writes = append(writes, fmt.Sprintf("%s:%q/%s", o.Status.Phase, n[0].MessageID, n[0].DeliveryStatus))
		}
		return len(n) == 1 && n[0].DeliveryStatus == commercev1alpha1.DeliveryRead
	})
	testenv.Consistently(t, 2*time.Second, "four status writes: the intent, the record with sent, delivered, read", func() bool {
		return orderWrites(t)-writesBefore == 4
	})
	if got := orderWrites(t) - writesBefore; got != 4 {
		t.Errorf("%v status writes after the accept, want 4; the watch saw %v", got, writes)
	}
	var got commercev1alpha1.WhatsAppOrder
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(order), &got))
	if c := meta.FindStatusCondition(got.Status.Conditions, commercev1alpha1.ConditionCustomerNotified); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("CustomerNotified is %+v, want True", c)
	}
	if len(w.fake.Sent()) != 1 {
		t.Errorf("WhatsApp got %d messages, want 1", len(w.fake.Sent()))
	}
	// Events are sent in the background: wait for one, then make sure no other follows.
	w.eventually("an Event about the order", func() bool { return len(w.events(order)) > 0 })
	testenv.Consistently(t, time.Second, "a single Event about the order", func() bool { return len(w.events(order)) == 1 })
	if n := w.events(order); len(n) != 1 || n[0].Type != corev1.EventTypeNormal || n[0].Reason != commercev1alpha1.ConditionCustomerNotified {
		t.Errorf("Events about the order: %+v, want one Normal CustomerNotified", n)
	}
}

func orderWrites(t *testing.T) float64 { return env.Requests(t, "whatsapporders", "status", "PUT") }
func orderReads(t *testing.T) float64  { return env.Requests(t, "whatsapporders", "", "GET") }

// orderWatch follows the orders of a world through a watch of the test's
// own, so that every GET the API server counts is the operator's.
type orderWatch struct {
	t      *testing.T
	events <-chan watch.Event
}

func watchOrders(t *testing.T, w *world) *orderWatch {
	t.Helper()
	watcher, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	must(t, err)
	wi, err := watcher.Watch(ctx, &commercev1alpha1.WhatsAppOrderList{}, client.InNamespace(w.ns))
	must(t, err)
	t.Cleanup(wi.Stop)
	return &orderWatch{t: t, events: wi.ResultChan()}
}

// until waits for an order the watch shows to meet cond.
func (ow *orderWatch) until(what string, cond func(*commercev1alpha1.WhatsAppOrder) bool) {
	ow.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-ow.events:
			if o, ok := ev.Object.(*commercev1alpha1.WhatsAppOrder); ok && cond(o) {
				return
			}
		case <-deadline:
			ow.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A notification costs no Secret read: the messenger keeps the channel's
// access token. When WhatsApp refuses the kept token, the send reads the
// Secret once: a rotated token there goes out at once, so no send fails for
// the rotation; the same token is a refusal, recorded once.
func TestNotificationsReuseTheAccessTokenUntilWhatsAppRefusesIt(t *testing.T) {
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{secretResync: time.Hour})
	secretReads := func() float64 { return env.Requests(t, "secrets", "", "GET") }
	notify := func(messageID string) *commercev1alpha1.WhatsAppOrder {
		t.Helper()
		order := w.placeOrder(messageID)
		w.waitOrder(order, "Pending", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.Phase == "Pending" })
		w.setState(order, commercev1alpha1.OrderAccepted)
		w.waitOrder(order, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified)
		})
		return order
	}
	notify("wamid.token-1") // reads the Secret, once, for the messenger's cache
	before := secretReads()
	notify("wamid.token-2")
	notify("wamid.token-3")
	if got := secretReads() - before; got != 0 {
		t.Errorf("two notifications read the channel's Secret %v times, want 0", got)
	}

	// WhatsApp revokes the token before the business updates the Secret: the
	// refused send reads the Secret once, finds the same token, and is
	// recorded as refused, not retried in a loop.
	w.fake.SetAccessToken("the-rotated-access-token")
	before = secretReads()
	refused := w.placeOrder("wamid.token-refused")
	w.waitOrder(refused, "Pending", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.Phase == "Pending" })
	w.setState(refused, commercev1alpha1.OrderAccepted)
	w.waitOrder(refused, "the send refused", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return notifiedReason(o) == commercev1alpha1.ReasonSendFailed
	})
	testenv.Consistently(t, time.Second, "one Secret read for the refused send", func() bool { return secretReads()-before == 1 })

	var secret corev1.Secret
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: "wa"}, &secret))
	secret.Data[commercev1alpha1.SecretKeyAccessToken] = []byte("the-rotated-access-token")
	must(t, env.Client.Update(ctx, &secret))
	before = secretReads()
	order := notify("wamid.token-4")
	if c := meta.FindStatusCondition(order.Status.Conditions, commercev1alpha1.ConditionCustomerNotified); c.Reason != commercev1alpha1.ReasonSent {
		t.Errorf("after the rotation CustomerNotified is %s/%s: %s", c.Status, c.Reason, c.Message)
	}
	if got := secretReads() - before; got != 1 {
		t.Errorf("the notification after a rotation read the Secret %v times, want 1 (after WhatsApp refused the old token)", got)
	}
	if sent := w.fake.Sent(); len(sent) != 4 {
		t.Errorf("WhatsApp accepted %d messages for 4 accepted orders: %+v", len(sent), sent)
	}
}

// sendGate holds every send to WhatsApp until it is let through, one at a
// time, and counts the sends waiting at it.
type sendGate struct {
	next    http.RoundTripper
	tokens  chan struct{}
	waiting atomic.Int32
}

func (g *sendGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/messages") {
		g.waiting.Add(1)
		<-g.tokens
		g.waiting.Add(-1)
	}
	return g.next.RoundTrip(req)
}

// A controller busy sending still validates a new order before the sends
// queued before it: the business sees the order while older notifications
// wait their turn.
func TestANewOrderIsValidatedBeforeQueuedSends(t *testing.T) {
	gate := &sendGate{tokens: make(chan struct{}, 16)}
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{workers: 1, transport: func(next http.RoundTripper) http.RoundTripper {
		gate.next = next
		return gate
	}})
	// Registered after the world's, so it runs first: a failing test lets
	// every send through before the operator is stopped.
	t.Cleanup(func() { close(gate.tokens) })
	pending := func(name string) *commercev1alpha1.WhatsAppOrder {
		o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}, Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel: "shop", MessageID: "wamid." + name, ReceivedAt: metav1.NewTime(w.clock.Now()), State: commercev1alpha1.OrderPending,
			Customer: commercev1alpha1.Customer{WaID: customer}, CatalogID: "c",
			Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "7.99", Currency: "USD"}},
		}}
		w.create(o)
		return o
	}
	validated := func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionValidated)
	}
	older := []*commercev1alpha1.WhatsAppOrder{pending("older-1"), pending("older-2"), pending("older-3")}
	for _, o := range older {
		w.waitOrder(o, "an older order validated", validated)
	}
	// The only worker sends about the first order and waits at the gate; the
	// other two are accepted meanwhile, and their sends queue behind it.
	w.setState(older[0], commercev1alpha1.OrderAccepted)
	w.eventually("the first send waiting at the gate", func() bool { return gate.waiting.Load() == 1 })
	w.setState(older[1], commercev1alpha1.OrderAccepted)
	w.setState(older[2], commercev1alpha1.OrderAccepted)
	fresh := pending("fresh")

	gate.tokens <- struct{}{}
	w.waitOrder(fresh, "the new order validated", validated)
	// The worker took the new order first: no send of the orders accepted
	// before it has even reached the gate.
	if got := len(w.fake.Sent()); got != 1 {
		t.Errorf("%d messages sent before the new order was validated, want 1 (the one in flight)", got)
	}
	testenv.Consistently(t, 500*time.Millisecond, "no other send before the new order's validation", func() bool { return gate.waiting.Load() <= 1 })
	for range 2 {
		gate.tokens <- struct{}{}
	}
	for _, o := range older[1:] {
		w.waitOrder(o, "the older order's customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified)
		})
	}
}
