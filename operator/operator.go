// Package operator is the composition root: it builds the controller-runtime
// manager and adds every part of the operator to it, the same way for main.go,
// the integration tests and the benchmark.
//
// Every replica runs the informer caches (with the receiver's field indexes)
// and the webhook receiver, which reads channels and sent messages from those
// caches. Only the elected leader runs the reconcilers: the channel controller,
// which checks each channel's Secret and publishes its webhook path, and the
// order and inquiry reconcilers, which message customers, and the archive, if
// any, which their retention waits for.
package operator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/controllers"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/resourcemetrics"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// Defaults of the settings main.go offers as flags.
const (
	DefaultMetricsAddr = ":8443"
	DefaultProbeAddr   = ":8081"
	DefaultWebhookAddr = ":8082"
	// DefaultSecretResyncPeriod: a rotated Secret takes effect within this.
	DefaultSecretResyncPeriod = 30 * time.Second
	// DefaultMaxConcurrentReconciles: a reconcile mostly waits, on the API
	// server and on WhatsApp's send call, so one worker would leave orders
	// queued behind each other's round trips while the cpus idle.
	DefaultMaxConcurrentReconciles = 8
	// MaxRecordDelay bounds RecordDelay: a record is in memory only while it
	// waits, and the resource's next pass waits for it.
	MaxRecordDelay = 30 * time.Second
)

// RefusedSweepPeriod is how often expired refused webhook elements are
// deleted; they are kept for the channel's retention, which is days.
const RefusedSweepPeriod = time.Hour

// LeaderElectionID names the Lease the replicas compete for.
const LeaderElectionID = "whatsapp-commerce-operator.commerce.wa.dev"

// Options configure the operator. The zero value runs every part for all
// namespaces, listens nowhere (tests serve Receiver.Handler themselves) and
// elects no leader.
type Options struct {
	// WebhookBodyReadTimeout bounds how long a webhook body may take to
	// arrive (the receiver's default when zero).
	WebhookBodyReadTimeout time.Duration
	// Namespaces restricts the caches, and so everything the operator sees and
	// serves, to these namespaces; empty means all.
	Namespaces []string
	// MetricsAddr serves Prometheus metrics, ProbeAddr /healthz and /readyz,
	// WebhookAddr the webhook receiver; empty serves none.
	MetricsAddr, ProbeAddr, WebhookAddr string
	// MetricsSecure serves metrics over HTTPS, to requests whose bearer token
	// the API server authenticates (TokenReview) and authorizes for GET
	// /metrics (SubjectAccessReview); otherwise over plain HTTP to anyone.
	MetricsSecure bool
	// MetricsCertDir holds tls.crt and tls.key for the HTTPS metrics endpoint,
	// reloaded when they change; empty makes a self-signed certificate at start.
	MetricsCertDir string
	// LeaderElection makes the reconcilers run only on the holder of the Lease
	// LeaderElectionID; the receiver runs on every replica regardless.
	LeaderElection bool
	// LeaderElectionNamespace is where the Lease is; in a pod, its own namespace
	// if empty. Out of a cluster it must be set.
	LeaderElectionNamespace string
	// SecretResyncPeriod is how often channel Secrets are read again, by the
	// channel controller, the receiver and the messenger (which also reads
	// again at once when WhatsApp refuses a token); DefaultSecretResyncPeriod
	// if zero.
	SecretResyncPeriod time.Duration
	// PaymentLookupAfter is how long a bill waits for a final payment status
	// before WhatsApp's payment lookup is asked, and between lookups;
	// DefaultPaymentLookupAfter if zero.
	PaymentLookupAfter time.Duration
	// IntentTimeout is how long a send whose outcome is unknown waits for
	// WhatsApp's status before it is sent again; DefaultIntentTimeout if zero.
	// New refuses one not longer than MinIntentTimeout.
	IntentTimeout time.Duration
	// MaxConcurrentReconciles is how many objects each controller reconciles
	// at once; DefaultMaxConcurrentReconciles if zero.
	MaxConcurrentReconciles int
	// RecordDelay is how long the record of a message sent on a Cloud channel
	// (under its written intent) may wait for WhatsApp's first status about
	// it, to share its write (WhatsApp reports "sent" about a second after it
	// took the message); zero writes it at once, and at most MaxRecordDelay.
	// Off by default: measured (docs/benchmarks.md), the write saved costs
	// kube-apiserver little, and near saturation the reconciler, no longer
	// waiting for it, took capacity from the receiver, which then shed
	// webhooks.
	RecordDelay time.Duration
	// ArrivalOrder keeps each controller's queue in the order events arrive;
	// by default a resource just created goes ahead of queued work, up to 32
	// of a namespace at a time, so that under load new orders are validated
	// while older sends wait.
	ArrivalOrder bool
	// WithoutCustomerReconcilers leaves out the order, inquiry and product
	// message reconcilers, for the receiver's own tests and benchmark: nothing
	// then changes what the receiver stored, or messages anyone.
	WithoutCustomerReconcilers bool
	// Clock drives the 24-hour window and retention; the real clock if nil.
	Clock clock.PassiveClock
	// HTTPClient sends to the WhatsApp API; one with a 15 s timeout if nil.
	HTTPClient *http.Client
	// AllowedAPIURLs are the URL prefixes a channel's apiURL must be under
	// for the operator to send to it; whatsapp.DefaultAllowedURLs (Meta's
	// Graph API only) if nil. Tests and `make run` add their fake WhatsApp.
	AllowedAPIURLs []string
	// Archive, when set, receives every order and inquiry on the leader, and
	// retention deletes nothing it does not hold.
	Archive *archive.Archive
	// ArchiveRecheck is how often retention asks the archive again about a
	// resource it waits for; 30s if zero.
	ArchiveRecheck time.Duration
	// Log is the receiver's logger; controller-runtime's (ctrl.Log) if unset.
	Log logr.Logger
}

// Operator is the manager with every part added. Start runs it.
type Operator struct {
	ctrl.Manager
	// Receiver is served on Options.WebhookAddr; tests mount its Handler.
	Receiver *webhookreceiver.Receiver
}

// Start runs the operator until ctx ends or it fails, and returns once the
// receiver has answered every request in flight. When the leader lease is lost,
// controller-runtime stops the manager without its graceful shutdown (so that a
// former leader cannot reconcile next to the new one); the receiver, which
// reconciles nothing, is still drained before Start returns and the process exits.
func (o *Operator) Start(ctx context.Context) error {
	err := o.Manager.Start(ctx)
	o.Receiver.Wait()
	return err
}

// NewScheme knows the Kubernetes built-in kinds and the operator's.
func NewScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(commercev1alpha1.AddToScheme(scheme))
	return scheme
}

// New builds the manager for cfg and adds every part to it.
func New(cfg *rest.Config, opts Options) (*Operator, error) {
	if opts.SecretResyncPeriod <= 0 {
		opts.SecretResyncPeriod = DefaultSecretResyncPeriod
	}
	if opts.PaymentLookupAfter <= 0 {
		opts.PaymentLookupAfter = DefaultPaymentLookupAfter
	}
	if opts.MaxConcurrentReconciles <= 0 {
		opts.MaxConcurrentReconciles = DefaultMaxConcurrentReconciles
	}
	if opts.IntentTimeout == 0 {
		opts.IntentTimeout = DefaultIntentTimeout
	}
	if opts.IntentTimeout <= MinIntentTimeout {
		return nil, fmt.Errorf("the intent timeout %s must be longer than %s: the receiver asks WhatsApp to resend a status for up to %s while the record of its message is not visible (RecordWait), and a status it sheds comes back %s later at the earliest, so a shorter wait sends again messages whose status may still come",
			opts.IntentTimeout, MinIntentTimeout, webhookreceiver.RecordWait, webhookreceiver.RetryBusy)
	}
	if opts.RecordDelay < 0 || opts.RecordDelay > MaxRecordDelay {
		return nil, fmt.Errorf("the record delay %s is not between 0 and the most a record may wait in memory, %s", opts.RecordDelay, MaxRecordDelay)
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: SendTimeout}
	}
	if opts.Log.GetSink() == nil {
		opts.Log = ctrl.Log
	}
	if opts.AllowedAPIURLs == nil {
		opts.AllowedAPIURLs = whatsapp.DefaultAllowedURLs
	}
	allowed, err := whatsapp.ParseAllowedURLs(opts.AllowedAPIURLs)
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, managerOptions(opts))
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	// One cache of the channels' secrets for the receiver and the messenger,
	// which drops a channel's values once it is deleted.
	secrets := channelsecret.NewCache(mgr.GetAPIReader())
	if err := secrets.ForgetDeleted(context.Background(), mgr.GetCache()); err != nil {
		return nil, err
	}
	receiver, err := addEveryReplica(mgr, opts, secrets)
	if err != nil {
		return nil, err
	}
	// The receiver's status writes and the records the reconcilers defer to
	// them: run, so that a shutdown writes what waits.
	if err := mgr.Add(receiver.Statuses()); err != nil {
		return nil, fmt.Errorf("adding the status writer: %w", err)
	}
	if err := addLeaderOnly(mgr, opts, secrets, allowed, receiver.Statuses()); err != nil {
		return nil, err
	}
	return &Operator{Manager: mgr, Receiver: receiver}, nil
}

func managerOptions(opts Options) ctrl.Options {
	return ctrl.Options{
		Scheme:                  NewScheme(),
		Cache:                   cacheOptions(opts.Namespaces),
		Metrics:                 metricsOptions(opts),
		HealthProbeBindAddress:  opts.ProbeAddr,
		LeaderElection:          opts.LeaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: opts.LeaderElectionNamespace,
		GracefulShutdownTimeout: ptr.To(GracefulShutdownTimeout),
		// A replica that shuts down hands the lease over at once, so the next
		// leader does not wait for it to expire.
		LeaderElectionReleaseOnCancel: true,
		// The controller names are fixed here, so the check that they are
		// unique per process could only ever refuse a second New, which the
		// tests do to restart the operator as a rollout would.
		Controller: config.Controller{SkipNameValidation: ptr.To(true), MaxConcurrentReconciles: opts.MaxConcurrentReconciles},
	}
}

// metricsOptions serves metrics on opts.MetricsAddr; with opts.MetricsSecure,
// as current kubebuilder projects do: HTTPS, each request authenticated and
// authorized by the API server, so that reaching the port is not enough.
func metricsOptions(opts Options) metricsserver.Options {
	if opts.MetricsAddr == "" {
		return metricsserver.Options{BindAddress: "0"} // controller-runtime's "none"; empty would be :8080
	}
	if !opts.MetricsSecure {
		return metricsserver.Options{BindAddress: opts.MetricsAddr}
	}
	return metricsserver.Options{
		BindAddress:    opts.MetricsAddr,
		SecureServing:  true,
		FilterProvider: filters.WithAuthenticationAndAuthorization,
		CertDir:        opts.MetricsCertDir,
		// HTTP/1.1 only, as kubebuilder's scaffold defaults to: a scraper gains
		// nothing from HTTP/2, and its stream handling has been a source of
		// denial-of-service bugs (Rapid Reset, CVE-2023-44487).
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
}

// cacheOptions restricts the informers to namespaces (all when empty).
func cacheOptions(namespaces []string) cache.Options {
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

// addEveryReplica adds what runs on every replica, leader or not: the field
// indexes (the receiver's and the controllers', one registry), the receiver,
// and the probes.
func addEveryReplica(mgr ctrl.Manager, opts Options, secrets *channelsecret.Cache) (*webhookreceiver.Receiver, error) {
	if err := index.Register(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	// Every replica has the caches, so every replica can say how many resources
	// are Stalled or Reconciling; the alerts take the max over replicas.
	if _, err := resourcemetrics.Setup(context.Background(), mgr.GetCache(), metrics.Registry); err != nil {
		return nil, err
	}
	receiver := webhookreceiver.New(webhookreceiver.Options{
		Addr:               opts.WebhookAddr,
		Secrets:            secrets,
		Client:             mgr.GetClient(),
		APIReader:          mgr.GetAPIReader(),
		Recorder:           mgr.GetEventRecorder("whatsapp-webhook-receiver"),
		Log:                opts.Log.WithName("webhookreceiver"),
		SecretResyncPeriod: opts.SecretResyncPeriod,
		Archiving:          opts.Archive != nil,
		BodyReadTimeout:    opts.WebhookBodyReadTimeout,
	})
	if opts.WebhookAddr != "" {
		if err := mgr.Add(receiver); err != nil {
			return nil, fmt.Errorf("adding the webhook receiver: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding the health check: %w", err)
	}
	// Ready only once the informers have synced: before that the receiver does
	// not know the channels' paths and would answer 404.
	if err := mgr.AddReadyzCheck("caches", func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("informer caches have not synced")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("adding the ready check: %w", err)
	}
	return receiver, nil
}

// addLeaderOnly adds what runs on the leader only: the channel controller, the
// sweeper of expired refused webhook elements, and, unless opts leave them out,
// the order, inquiry and product message reconcilers, which message customers,
// with the archive their retention waits for when there is one.
func addLeaderOnly(mgr ctrl.Manager, opts Options, secrets *channelsecret.Cache, allowed whatsapp.AllowedURLs, statuses *statuswrite.Batcher) error {
	if err := (&controllers.WhatsAppChannelReconciler{
		Client:             mgr.GetClient(),
		APIReader:          mgr.GetAPIReader(),
		Recorder:           mgr.GetEventRecorder("whatsappchannel-controller"),
		SecretResyncPeriod: opts.SecretResyncPeriod,
		AllowedAPIURLs:     allowed,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the channel controller: %w", err)
	}
	if err := mgr.Add(&webhookreceiver.RefusedSweeper{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Namespaces: opts.Namespaces,
		Period: RefusedSweepPeriod, Log: opts.Log.WithName("refused-sweeper"),
	}); err != nil {
		return fmt.Errorf("adding the sweeper of refused webhook elements: %w", err)
	}
	if opts.WithoutCustomerReconcilers {
		return nil
	}
	messenger := &controllers.Messenger{Secrets: secrets, SecretMaxAge: opts.SecretResyncPeriod, HTTPClient: opts.HTTPClient,
		AllowedAPIURLs: allowed}
	retention := controllers.Retention{ArchiveRecheck: opts.ArchiveRecheck}
	if opts.Archive != nil {
		// Set only here: a nil *archive.Archive in the interface would not be nil.
		retention.Archive = opts.Archive
		if err := opts.Archive.AddToManager(mgr, opts.Namespaces, &commercev1alpha1.WhatsAppOrder{}, &commercev1alpha1.ProductInquiry{}, &commercev1alpha1.ProductMessage{}); err != nil {
			return err
		}
	}
	messaging := func(name string) controllers.Messaging {
		return controllers.Messaging{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder(name),
			Messenger: messenger, Clock: opts.Clock, Retention: retention, ReconcileTimeout: ReconcileTimeout,
			PaymentLookupAfter: opts.PaymentLookupAfter, Records: statuses, RecordDelay: opts.RecordDelay,
			IntentTimeout: opts.IntentTimeout, ArrivalOrder: opts.ArrivalOrder}
	}
	if err := (&controllers.WhatsAppOrderReconciler{Messaging: messaging("whatsapporder-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the order controller: %w", err)
	}
	if err := (&controllers.ProductInquiryReconciler{Messaging: messaging("productinquiry-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the inquiry controller: %w", err)
	}
	if err := (&controllers.ProductMessageReconciler{Messaging: messaging("productmessage-controller")}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the product message controller: %w", err)
	}
	return nil
}
