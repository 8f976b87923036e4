// Package operator wires the operator's parts into a controller-runtime
// manager, the same way for main.go, the benchmark and the integration tests.
package operator

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/controllers"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/conditionmetrics"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// Options configure the operator's parts.
type Options struct {
	// WebhookAddr is where the receiver listens; empty adds no listener (tests
	// serve Receiver.Handler themselves).
	WebhookAddr string
	// SecretResync is how often channel Secrets are re-read.
	SecretResync time.Duration
	// Clock drives the 24-hour window and retention; the real clock by default.
	Clock clock.PassiveClock
	// HTTPClient sends to the WhatsApp API.
	HTTPClient *http.Client
	Log        logr.Logger
}

func (o *Options) defaults() {
	if o.SecretResync <= 0 {
		o.SecretResync = 30 * time.Second
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
}

// SetupReceiver adds what receiving webhooks needs, on every replica: the
// cache indexes, the channel controller that publishes webhook paths, and the
// receiver itself.
func SetupReceiver(mgr ctrl.Manager, opts Options) (*webhookreceiver.Receiver, error) {
	opts.defaults()
	if err := webhookreceiver.SetupIndexes(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	if err := (&controllers.WhatsAppChannelReconciler{
		Client:       mgr.GetClient(),
		SecretReader: mgr.GetAPIReader(),
		Recorder:     mgr.GetEventRecorder("whatsappchannel-controller"),
		ResyncPeriod: opts.SecretResync,
	}).SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the channel controller: %w", err)
	}
	// Every replica has the cache, so every replica can say how many resources
	// are Stalled; the alerts take the max over replicas.
	if err := conditionmetrics.Register(metrics.Registry, conditionmetrics.New(mgr.GetCache())); err != nil {
		return nil, err
	}
	receiver := webhookreceiver.New(webhookreceiver.Options{
		Addr:      opts.WebhookAddr,
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("whatsapp-webhook-receiver"),
		Log:       opts.Log.WithName("webhookreceiver"),
		SecretTTL: opts.SecretResync,
	})
	if opts.WebhookAddr != "" {
		if err := mgr.Add(receiver); err != nil {
			return nil, fmt.Errorf("adding the webhook receiver: %w", err)
		}
	}
	return receiver, nil
}

// SetupReconcilers adds the order and inquiry controllers, which talk back to
// customers.
func SetupReconcilers(mgr ctrl.Manager, opts Options) error {
	opts.defaults()
	messenger := &controllers.Messenger{SecretReader: mgr.GetAPIReader(), HTTPClient: opts.HTTPClient}
	if err := (&controllers.WhatsAppOrderReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Messenger: messenger, Clock: opts.Clock,
		Recorder: mgr.GetEventRecorder("whatsapporder-controller"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the order controller: %w", err)
	}
	if err := (&controllers.ProductInquiryReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Messenger: messenger, Clock: opts.Clock,
		Recorder: mgr.GetEventRecorder("productinquiry-controller"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the inquiry controller: %w", err)
	}
	return nil
}

// CacheOptions restricts the informers, and so everything the operator sees
// and serves, to namespaces (all when empty).
func CacheOptions(namespaces []string) cache.Options {
	// managedFields are never read here; dropping them shrinks every cached
	// order, and what the receiver looks at per request.
	opts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	for _, ns := range namespaces {
		if opts.DefaultNamespaces == nil {
			opts.DefaultNamespaces = map[string]cache.Config{}
		}
		opts.DefaultNamespaces[ns] = cache.Config{}
	}
	return opts
}
