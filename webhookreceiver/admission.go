package webhookreceiver

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Admission defaults. The API server takes creates fastest at a few dozen in
// flight; more only queue inside it, where a store waits without a chance of
// finishing before its answer is due. A body that cannot start within
// DefaultAdmissionWait is answered 503 at once: WhatsApp retries it later,
// while the stores already admitted finish in time.
const (
	DefaultMaxStores     = 64
	DefaultAdmissionWait = time.Second
	// RetryBusy is the Retry-After of a body shed for want of capacity: the
	// least a shed status is late by (operator.MinIntentTimeout counts it).
	RetryBusy = 5 * time.Second
)

var shed = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "whatsapp_receiver_shed_total",
	Help: "Webhook bodies answered 503 without being stored because the receiver had as many stores in flight as it admits.",
})

func init() { metrics.Registry.MustRegister(shed) }

// admission bounds the bodies being stored at once, in all and per
// namespace (tenantShares), so that one tenant's bodies, however many, leave
// the others' stores room to start.
type admission struct {
	all     *semaphore.Weighted
	tenants *shares
	wait    time.Duration
}

func newAdmission(maxStores int, wait time.Duration) *admission {
	return &admission{
		all:     semaphore.NewWeighted(int64(maxStores)),
		tenants: newShares(int64(max(maxStores/tenantShares, 1))),
		wait:    wait,
	}
}

// enter takes a slot for a body sent to a channel of namespace, waiting at
// most a.wait (or until ctx ends) for one to be free, and returns how to give
// it back; ok is false when there was none.
func (a *admission) enter(ctx context.Context, namespace string) (leave func(), ok bool) {
	// Most bodies find room at once: no timer for them.
	if leave, ok := a.take(namespace, (*semaphore.Weighted).TryAcquire); ok {
		return leave, true
	}
	ctx, cancel := context.WithTimeout(ctx, a.wait)
	defer cancel()
	if leave, ok := a.take(namespace, func(sem *semaphore.Weighted, n int64) bool { return sem.Acquire(ctx, n) == nil }); ok {
		return leave, true
	}
	shed.Inc()
	return nil, false
}

// take takes one of namespace's slots, then one of all, with acquire.
func (a *admission) take(namespace string, acquire func(*semaphore.Weighted, int64) bool) (leave func(), ok bool) {
	leaveTenant, ok := a.tenants.take(namespace, 1, acquire)
	if !ok {
		return nil, false
	}
	if !acquire(a.all, 1) {
		leaveTenant()
		return nil, false
	}
	return func() { a.all.Release(1); leaveTenant() }, true
}
