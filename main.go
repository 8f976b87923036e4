// Command manager runs the whatsapp-commerce-operator: the webhook receiver on
// every replica, and the reconcilers on the elected leader.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/controllers"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

var scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(commercev1alpha1.AddToScheme(scheme))
}

type options struct {
	metricsAddr, probeAddr, webhookAddr string
	leaderElect                         bool
	secretResync                        time.Duration
	namespaces                          string
}

func main() {
	var opts options
	flag.StringVar(&opts.metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&opts.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.StringVar(&opts.webhookAddr, "webhook-bind-address", ":8082", "Address the WhatsApp webhook receiver binds to (served on every replica).")
	flag.BoolVar(&opts.leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles; the receiver runs on all of them.")
	flag.DurationVar(&opts.secretResync, "secret-resync-period", 30*time.Second, "How often channel Secrets are re-read; a rotated Secret takes effect within this period.")
	flag.StringVar(&opts.namespaces, "namespaces", "", "Comma-separated namespaces to watch; empty watches all. Shard by running one deployment per set of namespaces.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(opts); err != nil {
		ctrl.Log.Error(err, "operator stopped")
		os.Exit(1)
	}
}

func run(opts options) error {
	// controller-runtime leaves client-side rate limiting off and relies on the
	// API server's priority and fairness, which suits a receiver that creates a
	// resource per order.
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: opts.metricsAddr},
		HealthProbeBindAddress: opts.probeAddr,
		Cache:                  cacheOptions(opts.namespaces),
		LeaderElection:         opts.leaderElect,
		LeaderElectionID:       "whatsapp-commerce-operator.commerce.wa.dev",
		// Reconcilers stop at once when leadership is lost, so a new leader can start
		// without waiting for the lease to expire.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	if err := webhookreceiver.SetupIndexes(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	if err := (&controllers.WhatsAppChannelReconciler{
		Client:       mgr.GetClient(),
		SecretReader: mgr.GetAPIReader(),
		Recorder:     mgr.GetEventRecorder("whatsappchannel-controller"),
		ResyncPeriod: opts.secretResync,
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the channel controller: %w", err)
	}
	messenger := &controllers.Messenger{SecretReader: mgr.GetAPIReader(), HTTPClient: &http.Client{Timeout: 15 * time.Second}}
	if err := (&controllers.WhatsAppOrderReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Messenger: messenger, Clock: clock.RealClock{},
		Recorder: mgr.GetEventRecorder("whatsapporder-controller"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the order controller: %w", err)
	}
	if err := (&controllers.ProductInquiryReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Messenger: messenger, Clock: clock.RealClock{},
		Recorder: mgr.GetEventRecorder("productinquiry-controller"),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the inquiry controller: %w", err)
	}
	receiver := webhookreceiver.New(webhookreceiver.Options{
		Addr:      opts.webhookAddr,
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder("whatsapp-webhook-receiver"),
		Log:       ctrl.Log.WithName("webhookreceiver"),
		SecretTTL: opts.secretResync,
	})
	if err := mgr.Add(receiver); err != nil {
		return fmt.Errorf("adding the webhook receiver: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	ctrl.Log.Info("starting manager", "webhookAddress", opts.webhookAddr, "leaderElection", opts.leaderElect)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// cacheOptions restricts the informers, and so everything the operator sees and
// serves, to the given namespaces.
func cacheOptions(namespaces string) cache.Options {
	var opts cache.Options
	for _, ns := range strings.Split(namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			if opts.DefaultNamespaces == nil {
				opts.DefaultNamespaces = map[string]cache.Config{}
			}
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}
