package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// tracker watches the orders of the sustained phase, with an informer of its
// own, as a user's `kubectl get -w` would, and notes when each order was first
// seen at all (which tells the API server's watch delay from the operator's),
// seen validated (phase Pending, Validated=True), and how far the delivery
// status of its Accepted notification has come.
type tracker struct {
	// index maps an order's name to its number in the phase; read-only.
	index map[string]int
	// seen and validated are Unix nanoseconds, 0 until seen.
	seen      []atomic.Int64
	validated []atomic.Int64
	// delivery is the rank of the notification's delivery status.
	delivery []atomic.Int32
	// lastChange is when an order of the phase last changed (Unix ns).
	lastChange atomic.Int64

	// onValidated is called once per order, from the informer's goroutine:
	// it must not block.
	onValidated func(i int)
}

func newTracker(names []string) *tracker {
	t := &tracker{
		index:     make(map[string]int, len(names)),
		seen:      make([]atomic.Int64, len(names)),
		validated: make([]atomic.Int64, len(names)),
		delivery:  make([]atomic.Int32, len(names)),
	}
	for i, n := range names {
		t.index[n] = i
	}
	return t
}

// start runs the informer on namespace until ctx ends; it returns once the
// informer has synced.
func (t *tracker) start(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, namespace string) error {
	c, err := cache.New(cfg, cache.Options{
		Scheme:            scheme,
		DefaultNamespaces: map[string]cache.Config{namespace: {}},
		DefaultTransform:  cache.TransformStripManagedFields(),
	})
	if err != nil {
		return fmt.Errorf("creating the tracker's cache: %w", err)
	}
	inf, err := c.GetInformer(ctx, &commercev1alpha1.WhatsAppOrder{})
	if err != nil {
		return fmt.Errorf("getting the order informer: %w", err)
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.observe(obj) },
		UpdateFunc: func(_, obj any) { t.observe(obj) },
	}); err != nil {
		return fmt.Errorf("watching orders: %w", err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("the tracker's cache did not sync")
	}
	return nil
}

func (t *tracker) observe(obj any) {
	o, ok := obj.(*commercev1alpha1.WhatsAppOrder)
	if !ok {
		return
	}
	i, ok := t.index[o.Name]
	if !ok {
		return
	}
	now := time.Now().UnixNano()
	t.lastChange.Store(now)
	t.seen[i].CompareAndSwap(0, now)
	if o.Status.Phase == commercev1alpha1.OrderPhase(commercev1alpha1.OrderPending) && meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionValidated) &&
		t.validated[i].CompareAndSwap(0, now) && t.onValidated != nil {
		t.onValidated(i)
	}
	for _, n := range o.Status.Notifications {
		if n.State != commercev1alpha1.OrderAccepted || n.MessageID == "" {
			continue
		}
		t.delivery[i].Store(int32(deliveryRank(n.DeliveryStatus)))
	}
}

// since is how long after from the event at unix nanoseconds seen happened,
// and whether it did.
func since(from time.Time, seen int64) (time.Duration, bool) {
	if seen == 0 {
		return 0, false
	}
	return time.Unix(0, seen).Sub(from), true
}

// deliveryStatuses are the statuses the bench posts about a notification, in
// the order WhatsApp reports them; -status-ratio takes the first few.
var deliveryStatuses = []commercev1alpha1.DeliveryStatus{
	commercev1alpha1.DeliverySent, commercev1alpha1.DeliveryDelivered, commercev1alpha1.DeliveryRead,
}

// deliveryRank is 1 + the position of s in deliveryStatuses, 0 for none.
func deliveryRank(s commercev1alpha1.DeliveryStatus) int {
	for i, d := range deliveryStatuses {
		if d == s {
			return i + 1
		}
	}
	return 0
}
