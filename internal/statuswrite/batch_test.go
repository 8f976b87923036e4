package statuswrite_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// countingClient is the real client with its status writes counted; before,
// when set, runs ahead of each write.
type countingClient struct {
	client.WithWatch
	writes atomic.Int32
}

func newCountingClient(t *testing.T, before func(n int32, obj client.Object)) *countingClient {
	t.Helper()
	raw, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	c := &countingClient{}
	c.WithWatch = interceptor.NewClient(raw, interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, cl client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			n := c.writes.Add(1)
			if before != nil {
				before(n, obj)
			}
			return cl.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	return c
}

// sentOrder creates an order whose status records three sent notifications.
func sentOrder(t *testing.T) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	ctx := context.Background()
	o := &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: env.Namespace(t), Name: "order"},
		Spec: commercev1alpha1.WhatsAppOrderSpec{Channel: "shop", MessageID: "wamid.in", ReceivedAt: metav1.Now(), State: commercev1alpha1.OrderAccepted,
			Customer: commercev1alpha1.Customer{WaID: "16505551234"}, CatalogID: "c",
			Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "p", Quantity: 1, ItemPrice: "1", Currency: "USD"}}},
	}
	if err := env.Client.Create(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m1", "m2", "m3"} {
		o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{
			State: commercev1alpha1.OrderAccepted, SentMessage: commercev1alpha1.SentMessage{MessageID: id}})
	}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	return o
}

// deliver is a change recording status for message id.
func deliver(id string, status commercev1alpha1.DeliveryStatus) func(client.Object) {
	return func(obj client.Object) {
		if m := obj.(*commercev1alpha1.WhatsAppOrder).SentMessage(id); m != nil {
			m.Apply(commercev1alpha1.DeliveryUpdate{Status: status, At: metav1.Now()})
		}
	}
}

func deliveryOf(t *testing.T, o *commercev1alpha1.WhatsAppOrder) map[string]commercev1alpha1.DeliveryStatus {
	t.Helper()
	var got commercev1alpha1.WhatsAppOrder
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(o), &got); err != nil {
		t.Fatal(err)
	}
	out := map[string]commercev1alpha1.DeliveryStatus{}
	for _, n := range got.Status.Notifications {
		out[n.MessageID] = n.DeliveryStatus
	}
	return out
}

// waiting is the gauge of changes not yet written, as Prometheus scrapes it.
func waiting() float64 {
	families, _ := metrics.Registry.Gather()
	for _, f := range families {
		if f.GetName() == "whatsapp_status_changes_waiting" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// Changes that come while a write of the same object is in flight wait for it
// and then go out together: three changes, two writes, none lost.
func TestBatcherWritesChangesThatArriveTogetherOnce(t *testing.T) {
	o := sentOrder(t)
	entered, release := make(chan struct{}), make(chan struct{})
	c := newCountingClient(t, func(n int32, _ client.Object) {
		if n == 1 {
			close(entered)
			<-release
		}
	})
	b := &statuswrite.Batcher{Client: c, Reader: c, Window: time.Millisecond}
	errs := make(chan error, 3)
	go func() { errs <- b.Write(context.Background(), o, deliver("m1", commercev1alpha1.DeliverySent)) }()
	<-entered
	var wg sync.WaitGroup
	for _, ch := range []func(client.Object){deliver("m1", commercev1alpha1.DeliveryRead), deliver("m2", commercev1alpha1.DeliveryDelivered)} {
		wg.Go(func() { errs <- b.Write(context.Background(), o, ch) })
	}
	testenv.Eventually(t, time.Minute, "both later changes waiting behind the first write", func() bool { return waiting() == 3 })
	close(release)
	wg.Wait()
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := c.writes.Load(); n != 2 {
		t.Errorf("%d status writes, want 2: the first, and one for both changes that waited for it", n)
	}
	got := deliveryOf(t, o)
	if got["m1"] != commercev1alpha1.DeliveryRead || got["m2"] != commercev1alpha1.DeliveryDelivered || got["m3"] != "" {
		t.Errorf("delivery statuses %v, want m1 read, m2 delivered, m3 untouched", got)
	}
	if v := waiting(); v != 0 {
		t.Errorf("%v changes still counted as waiting", v)
	}
}

// Changes within one window go out in one write.
func TestBatcherWritesOneWindowOnce(t *testing.T) {
	o := sentOrder(t)
	c := newCountingClient(t, nil)
	// A window long enough that the three writers surely join it.
	b := &statuswrite.Batcher{Client: c, Reader: c, Window: time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, ch := range []func(client.Object){
		deliver("m1", commercev1alpha1.DeliverySent), deliver("m1", commercev1alpha1.DeliveryDelivered), deliver("m1", commercev1alpha1.DeliveryRead),
	} {
		wg.Go(func() { errs <- b.Write(context.Background(), o, ch) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := c.writes.Load(); n != 1 {
		t.Errorf("%d status writes for three statuses of one message, want 1", n)
	}
	if got := deliveryOf(t, o)["m1"]; got != commercev1alpha1.DeliveryRead {
		t.Errorf("m1 is %q, want read", got)
	}
}

// The write starts from a copy that another writer has since changed: the
// API server refuses it, and the batch is applied again to a fresh read,
// keeping both writers' changes.
func TestBatcherRetriesAConflictFromAFreshRead(t *testing.T) {
	o := sentOrder(t)
	ctx := context.Background()
	c := newCountingClient(t, func(n int32, obj client.Object) {
		if n != 1 {
			return
		}
		// The controller writes between the Batcher's read and its write.
		other := obj.DeepCopyObject().(*commercev1alpha1.WhatsAppOrder)
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(other), other); err != nil {
			t.Error(err)
			return
		}
		other.Status.Notifications[2].DeliveryStatus = commercev1alpha1.DeliveryFailed
		if err := env.Client.Status().Update(ctx, other); err != nil {
			t.Error(err)
		}
	})
	b := &statuswrite.Batcher{Client: c, Reader: c, Window: time.Millisecond}
	if err := b.Write(ctx, o, deliver("m1", commercev1alpha1.DeliveryDelivered)); err != nil {
		t.Fatal(err)
	}
	if n := c.writes.Load(); n != 2 {
		t.Errorf("%d write attempts, want 2: the conflicting one and its retry", n)
	}
	got := deliveryOf(t, o)
	if got["m1"] != commercev1alpha1.DeliveryDelivered || got["m3"] != commercev1alpha1.DeliveryFailed {
		t.Errorf("delivery statuses %v: want m1 delivered (ours) and m3 failed (the other writer's)", got)
	}
}

// Under load the cache shows the Batcher's own write only after the next
// status of the same object has arrived: the next write starts from what the
// Batcher wrote, so it is not refused as a conflict and costs no read.
func TestBatcherStartsFromItsOwnWriteWhileTheCacheLags(t *testing.T) {
	o := sentOrder(t)
	c := newCountingClient(t, nil)
	// The cache as it lags: it keeps showing the order as it was at the start.
	lagging := o.DeepCopy()
	cache := interceptor.NewClient(c, interceptor.Funcs{
		Get: func(_ context.Context, _ client.WithWatch, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
			lagging.DeepCopyInto(obj.(*commercev1alpha1.WhatsAppOrder))
			return nil
		},
	})
	var reads atomic.Int32
	reader := interceptor.NewClient(c, interceptor.Funcs{
		Get: func(ctx context.Context, cl client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			reads.Add(1)
			return cl.Get(ctx, key, obj, opts...)
		},
	})
	b := &statuswrite.Batcher{Client: cache, Reader: reader, Window: time.Millisecond}
	ctx := context.Background()
	for _, change := range []func(client.Object){deliver("m1", commercev1alpha1.DeliverySent), deliver("m2", commercev1alpha1.DeliveryDelivered)} {
		if err := b.Write(ctx, o, change); err != nil {
			t.Fatal(err)
		}
	}
	if n, r := c.writes.Load(), reads.Load(); n != 2 || r != 0 {
		t.Errorf("%d write attempts and %d reads for two statuses written one after the other, want 2 and 0", n, r)
	}
	if got := deliveryOf(t, o); got["m1"] != commercev1alpha1.DeliverySent || got["m2"] != commercev1alpha1.DeliveryDelivered {
		t.Errorf("delivery statuses %v, want m1 sent and m2 delivered", got)
	}

	// Once another writer has changed the order, the lagging cache shows an
	// older version than the one the Batcher replaced: that write conflicts,
	// is retried from a fresh read, and keeps both writers' changes.
	other := o.DeepCopy()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(other), other); err != nil {
		t.Fatal(err)
	}
	other.Status.Notifications[2].DeliveryStatus = commercev1alpha1.DeliveryFailed
	if err := env.Client.Status().Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, o, deliver("m1", commercev1alpha1.DeliveryRead)); err != nil {
		t.Fatal(err)
	}
	if got := deliveryOf(t, o); got["m1"] != commercev1alpha1.DeliveryRead || got["m2"] != commercev1alpha1.DeliveryDelivered || got["m3"] != commercev1alpha1.DeliveryFailed {
		t.Errorf("delivery statuses %v, want m1 read, m2 delivered and m3 failed (the other writer's)", got)
	}
}

// A deferred change waits for the next change of the same object and shares
// its write: the record of a send and WhatsApp's first status about it cost
// one write, and the status's writer waits only its own window.
func TestBatcherDeferredChangeSharesTheNextWrite(t *testing.T) {
	o, c, b := deferring(t)
	written := make(chan error, 1)
	b.Defer(o, deliver("m2", commercev1alpha1.DeliveryRead), time.Hour, func(err error) { written <- err })
	if b.Deferred(o) < 59*time.Minute {
		t.Errorf("Deferred says %s, want the hour the change may wait", b.Deferred(o))
	}
	testenv.Consistently(t, 300*time.Millisecond, "nothing written while the deferred change waits", func() bool { return c.writes.Load() == 0 })
	if err := b.Write(context.Background(), o, deliver("m1", commercev1alpha1.DeliverySent)); err != nil {
		t.Fatal(err)
	}
	waitWritten(t, written)
	if n := c.writes.Load(); n != 1 {
		t.Errorf("%d status writes, want 1 for the deferred change and the status that joined it", n)
	}
	if got := deliveryOf(t, o); got["m1"] != commercev1alpha1.DeliverySent || got["m2"] != commercev1alpha1.DeliveryRead {
		t.Errorf("delivery statuses %v, want m1 sent and m2 read", got)
	}
	if d := b.Deferred(o); d != 0 {
		t.Errorf("Deferred says %s once written, want 0", d)
	}
}

// Nothing joins: the deferred change is written alone once its bound passes.
func TestBatcherWritesADeferredChangeWithinItsBound(t *testing.T) {
	o, c, b := deferring(t)
	written := make(chan error, 1)
	b.Defer(o, deliver("m3", commercev1alpha1.DeliveryDelivered), 200*time.Millisecond, func(err error) { written <- err })
	waitWritten(t, written)
	if got := deliveryOf(t, o)["m3"]; got != commercev1alpha1.DeliveryDelivered || c.writes.Load() != 1 {
		t.Errorf("m3 is %q after %d writes, want delivered after 1", got, c.writes.Load())
	}
}

// A shutdown writes what was deferred at once instead of losing it or
// waiting out its bound.
func TestBatcherWritesDeferredChangesOnShutdown(t *testing.T) {
	o, _, b := deferring(t)
	b.Defer(o, deliver("m1", commercev1alpha1.DeliveryDelivered), time.Hour, nil)
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- b.Start(ctx) }()
	stop()
	select {
	case <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("Start did not return after its context ended")
	}
	if got := deliveryOf(t, o)["m1"]; got != commercev1alpha1.DeliveryDelivered {
		t.Errorf("m1 is %q once Start returned, want the deferred delivered written", got)
	}
}

// waitWritten waits for a deferred change's outcome.
func waitWritten(t *testing.T, written <-chan error) {
	t.Helper()
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the deferred change was never written")
	}
}

// deferring is an order, a client counting its writes, and a Batcher on it
// with a short window, for the tests of deferred changes.
func deferring(t *testing.T) (*commercev1alpha1.WhatsAppOrder, *countingClient, *statuswrite.Batcher) {
	t.Helper()
	o := sentOrder(t)
	c := newCountingClient(t, nil)
	return o, c, &statuswrite.Batcher{Client: c, Reader: c, Window: 10 * time.Millisecond}
}
