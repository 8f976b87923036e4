package webhookreceiver

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	// retryBusy is the Retry-After of a body shed for want of capacity.
	retryBusy = 5 * time.Second
)

var shed = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "whatsapp_receiver_shed_total",
	Help: "Webhook bodies answered 503 without being stored because the receiver had as many stores in flight as it admits.",
})

func init() { metrics.Registry.MustRegister(shed) }

// admission bounds the bodies being stored at once.
type admission struct {
	slots chan struct{}
	wait  time.Duration
}

func newAdmission(maxStores int, wait time.Duration) *admission {
	return &admission{slots: make(chan struct{}, maxStores), wait: wait}
}

// enter takes a slot, waiting at most a.wait (or until ctx ends) for one to
// be free, and reports whether it got one; a caller that did calls leave.
func (a *admission) enter(ctx context.Context) bool {
	select {
	case a.slots <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(a.wait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	shed.Inc()
	return false
}

func (a *admission) leave() { <-a.slots }
