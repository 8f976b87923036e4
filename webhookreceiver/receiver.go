// Package webhookreceiver turns WhatsApp webhook deliveries into resources: it
// verifies each request against its channel's secrets, parses the body (Cloud or
// On-Premises), creates a WhatsAppOrder or ProductInquiry per customer message,
// exactly once, and moves the delivery status of the messages the operator sent.
//
// WhatsApp resends any delivery not answered 200 for up to a week, so the receiver
// answers 200 only once every element is stored (or was already), 503 while the
// cluster cannot store it, and 4xx for what can never be stored.
package webhookreceiver

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/httpserver"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
)

// MaxBodyBytes bounds a webhook body. Meta documents bodies up to 3 MB.
const MaxBodyBytes = 4 << 20

// DefaultStatusWindow is how long a delivery status waits for others about
// the same resource. The sent, delivered and read of one message often come
// milliseconds apart in separate webhooks; written together they cost the
// API server one write instead of three, for at most this much more time
// before their answers (measured with hack/bench: at 30 orders/s with three
// statuses each, 10 ms wrote two status updates per order, 25 ms one).
const DefaultStatusWindow = 25 * time.Millisecond

// Options configure a Receiver.
type Options struct {
	// Addr is the address to listen on, such as ":8082".
	Addr string
	// Client reads channels and sent messages from the informer cache and writes
	// resources to the API server.
	Client client.Client
	// APIReader reads Secrets (by name, never listed or watched) and fresh copies
	// of resources when an update conflicts.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Log       logr.Logger
	// Workers bounds how many elements of one body are stored at once.
	Workers int
	// SecretResyncPeriod is how long a channel's secrets are used before they
	// are read again; zero reads them on every request.
	SecretResyncPeriod time.Duration
	// Secrets caches the channels' secrets; one of the Receiver's own, reading
	// through APIReader, if nil.
	Secrets *channelsecret.Cache
	// BodyBudget bounds the bytes of request bodies held at once; beyond it
	// requests are answered 503. DefaultBodyBudget if zero.
	BodyBudget int64
	// StatusWindow is how long a delivery status waits for others about the
	// same resource, to be written with them; DefaultStatusWindow if zero.
	StatusWindow time.Duration
	// MaxStores bounds the bodies stored at once, and AdmissionWait how long a
	// body waits for its turn before it is answered 503.
	MaxStores     int
	AdmissionWait time.Duration
	// BodyReadTimeout bounds how long a body may take to arrive
	// (DefaultBodyReadTimeout when zero).
	BodyReadTimeout time.Duration
	// Archiving says the operator archives finished resources, so a channel
	// without a retention deletes them after the default one; refused
	// elements are kept as long.
	Archiving bool
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders;productinquiries,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders/status;productinquiries/status,verbs=update

// Receiver is the webhook HTTP server. It runs on every replica, leader or not.
type Receiver struct {
	opts      Options
	secrets   *channelsecret.Cache
	budget    *bodyBudget
	statuses  *statuswrite.Batcher
	admission *admission

	mu      sync.Mutex
	serving chan struct{} // closed when Start returns; nil before Start
}

// New returns a Receiver; start it with Start or mount Handler.
func New(opts Options) *Receiver {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.BodyBudget <= 0 {
		opts.BodyBudget = DefaultBodyBudget
	}
	if opts.StatusWindow <= 0 {
		opts.StatusWindow = DefaultStatusWindow
	}
	if opts.MaxStores <= 0 {
		opts.MaxStores = DefaultMaxStores
	}
	if opts.AdmissionWait <= 0 {
		opts.AdmissionWait = DefaultAdmissionWait
	}
	if opts.BodyReadTimeout <= 0 {
		opts.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if opts.Secrets == nil {
		opts.Secrets = channelsecret.NewCache(opts.APIReader)
	}
	return &Receiver{
		opts:      opts,
		secrets:   opts.Secrets,
		budget:    newBodyBudget(opts.BodyBudget),
		statuses:  &statuswrite.Batcher{Client: opts.Client, Reader: opts.APIReader, Window: opts.StatusWindow, Timeout: storeBudget},
		admission: newAdmission(opts.MaxStores, opts.AdmissionWait),
	}
}

// Statuses is the Batcher the receiver writes delivery statuses through. The
// reconcilers of the same process defer the records of their sends to it, so
// that a record and WhatsApp's first status about the message share a write;
// the manager runs it, to write what is deferred at shutdown.
func (r *Receiver) Statuses() *statuswrite.Batcher { return r.statuses }

// NeedLeaderElection is false: every replica receives webhooks.
func (r *Receiver) NeedLeaderElection() bool { return false }

// Start serves on Addr until ctx is done, then lets the requests in flight
// finish, so a shutdown does not turn a stored delivery into a 503.
func (r *Receiver) Start(ctx context.Context) error {
	done := make(chan struct{})
	defer close(done)
	r.mu.Lock()
	r.serving = done
	r.mu.Unlock()
	ln, err := net.Listen("tcp", r.opts.Addr)
	if err != nil {
		return fmt.Errorf("webhook receiver: %w", err)
	}
	r.opts.Log.Info("webhook receiver listening", "address", ln.Addr().String())
	if err := httpserver.Serve(ctx, httpserver.New(r.Handler()), ln); err != nil {
		return fmt.Errorf("webhook receiver: %w", err)
	}
	return nil
}

// Wait returns once Start has returned, that is once every request in flight
// has been answered; at once if Start was never called. The manager does not
// wait for it when the leader lease is lost, so the process must, before it exits.
func (r *Receiver) Wait() {
	r.mu.Lock()
	done := r.serving
	r.mu.Unlock()
	if done != nil {
		<-done
	}
}
