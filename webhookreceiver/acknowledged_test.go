package webhookreceiver_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// A status answered 200 is applied: the receiver answers a status body only
// once the batched write holding its change succeeded, and 503 when it did
// not, so WhatsApp sends it again. These tests post statuses while the write
// cannot succeed at all, while another writer keeps conflicting with it, and
// while the receiver shuts down, and check every status answered 200.

// ordersWithSent makes an order of ch that sent the messages ids (status
// "sent" each) and waits until the cache's index finds the last one.
func ordersWithSent(t *testing.T, ch *commercev1alpha1.WhatsAppChannel, ids []string) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	o := orderThatSent(t, ch, ids[0])
	for _, id := range ids[1:] {
		o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{State: commercev1alpha1.OrderShipped,
			SentMessage: commercev1alpha1.SentMessage{MessageID: id, DeliveryStatus: commercev1alpha1.DeliverySent}})
	}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every sent message in the cache index", func() bool {
		var list commercev1alpha1.WhatsAppOrderList
		_ = mgrCache.List(ctx, &list, client.MatchingFields{index.SentMessage: ids[len(ids)-1]}, client.InNamespace(ch.Namespace))
		return len(list.Items) == 1
	})
	return o
}

// messageIDs are n message ids wamid.<prefix>-<i>.
func messageIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("wamid.%s-%d", prefix, i)
	}
	return ids
}

// assertAcknowledgedApplied checks that every message of acked is read on o.
func assertAcknowledgedApplied(t *testing.T, o *commercev1alpha1.WhatsAppOrder, acked []string) {
	t.Helper()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
		t.Fatal(err)
	}
	for _, id := range acked {
		if got := o.SentMessage(id).DeliveryStatus; got != commercev1alpha1.DeliveryRead {
			t.Errorf("the status read of %s was answered 200, and the message is %q", id, got)
		}
	}
}

// refuseStatusWrites installs an admission policy refusing every status
// update of orders in o's namespace, waits until it is enforced, and returns
// a function lifting it.
func refuseStatusWrites(t *testing.T, o *commercev1alpha1.WhatsAppOrder) func() {
	t.Helper()
	return refuse(t, "refuse-status-"+o.Namespace, admissionregistrationv1.Update, "whatsapporders/status",
		fmt.Sprintf("object.metadata.namespace != %q", o.Namespace), func() error {
			probe := o.DeepCopy()
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), probe); err != nil {
				return err
			}
			probe.Status.Currency = "probe"
			return env.Client.Status().Update(ctx, probe, client.DryRunAll)
		})
}

// An API server that refuses the status write: the status is answered 503
// with Retry-After, never 200, and applied when WhatsApp sends it again.
func TestStatusWhoseWriteIsRefusedIsNotAcknowledged(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	o := ordersWithSent(t, ch, []string{"wamid.refused-write"})
	lift := refuseStatusWrites(t, o)
	body := cloudStatuses("wamid.refused-write", "read")
	r := post(t, ch.Status.WebhookPath, body, appSecret)
	if r.code != http.StatusServiceUnavailable || r.retryAfter == "" {
		t.Fatalf("answer %d (Retry-After %q) %s while status writes are refused, want 503 with Retry-After", r.code, r.retryAfter, r.body)
	}
	lift()
	if r := post(t, ch.Status.WebhookPath, body, appSecret); r.code != http.StatusOK {
		t.Fatalf("redelivery answered %d %s, want 200", r.code, r.body)
	}
	assertAcknowledgedApplied(t, o, []string{"wamid.refused-write"})
}

// A conflict storm: another writer updates the order's status without pause
// while thirty statuses about ten of its messages arrive at once. Every
// status answered 200 is applied; one answered 503 is sent again, as
// WhatsApp would, until it is answered 200.
func TestConflictStormLosesNoAcknowledgedStatus(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	ids := messageIDs("storm", 10)
	o := ordersWithSent(t, ch, ids)

	stop := make(chan struct{})
	var storm sync.WaitGroup
	var writes atomic.Int64
	storm.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var fresh commercev1alpha1.WhatsAppOrder
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), &fresh); err != nil {
				continue
			}
			meta.SetStatusCondition(&fresh.Status.Conditions, metav1.Condition{Type: "Storm", Status: metav1.ConditionTrue, Reason: "Storm", Message: fmt.Sprint(i)})
			if env.Client.Status().Update(ctx, &fresh) == nil {
				writes.Add(1)
			}
		}
	})

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for _, id := range ids {
		for _, s := range []string{"sent", "delivered", "read"} {
			wg.Go(func() {
				deadline := time.Now().Add(time.Minute)
				for time.Now().Before(deadline) {
					if postTo(t, server.URL, ch.Status.WebhookPath, cloudStatuses(id, s)).code == http.StatusOK {
						if s == "read" {
							mu.Lock()
							acked = append(acked, id)
							mu.Unlock()
						}
						return
					}
					time.Sleep(100 * time.Millisecond) // WhatsApp's retry, much shortened
				}
				t.Errorf("the status %s of %s was never answered 200", s, id)
			})
		}
	}
	wg.Wait()
	close(stop)
	storm.Wait()
	if writes.Load() == 0 {
		t.Fatal("the other writer never wrote: no storm")
	}
	if len(acked) != len(ids) {
		t.Fatalf("%d read statuses answered 200, want %d", len(acked), len(ids))
	}
	assertAcknowledgedApplied(t, o, acked)
}

// A receiver that shuts down while status changes wait in its batches
// answers each waiting request only once its batch is written (or 503), so
// whatever it answered 200 is applied.
func TestShutdownWhileStatusesWaitLosesNone(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	ids := messageIDs("shutdown", 10)
	o := ordersWithSent(t, ch, ids)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	// A long window: the statuses are still waiting in their batch when the
	// shutdown starts.
	rc := webhookreceiver.New(webhookreceiver.Options{Addr: addr, Client: mgrCache, APIReader: env.Client, Recorder: events.NewFakeRecorder(100),
		Log: logr.Discard(), SecretResyncPeriod: time.Second, StatusWindow: 2 * time.Second})
	rcCtx, shutdown := context.WithCancel(ctx)
	started := make(chan error, 1)
	go func() { started <- rc.Start(rcCtx) }()
	eventually(t, "the receiver listening", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if postTo(t, "http://"+addr, ch.Status.WebhookPath, cloudStatuses(id, "read")).code == http.StatusOK {
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	time.Sleep(500 * time.Millisecond) // the requests are in, their changes wait
	shutdown()
	wg.Wait()
	if err := <-started; err != nil {
		t.Fatalf("the receiver stopped with %v", err)
	}
	if len(acked) == 0 {
		t.Fatal("no status answered 200 during the shutdown: nothing to check")
	}
	assertAcknowledgedApplied(t, o, acked)
}
