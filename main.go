// Command manager runs the whatsapp-commerce-operator: the webhook receiver on
// every replica, and the reconcilers on the elected leader.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/operator"
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
	archiveURL                          string
}

func main() {
	var opts options
	flag.StringVar(&opts.metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&opts.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	flag.StringVar(&opts.webhookAddr, "webhook-bind-address", ":8082", "Address the WhatsApp webhook receiver binds to (served on every replica).")
	flag.BoolVar(&opts.leaderElect, "leader-elect", false, "Elect a leader so that only one replica reconciles; the receiver runs on all of them.")
	flag.DurationVar(&opts.secretResync, "secret-resync-period", 30*time.Second, "How often channel Secrets are re-read; a rotated Secret takes effect within this period.")
	flag.StringVar(&opts.namespaces, "namespaces", "", "Comma-separated namespaces to watch; empty watches all. Shard by running one deployment per set of namespaces.")
	// No default from the environment here: --help would print the password.
	flag.StringVar(&opts.archiveURL, "archive-database-url", "", "PostgreSQL URL of the archive that every order and inquiry is written to; retention then deletes only what it holds. Default: $ARCHIVE_DATABASE_URL.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	if opts.archiveURL == "" {
		opts.archiveURL = os.Getenv("ARCHIVE_DATABASE_URL")
	}
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
		Cache:                  operator.CacheOptions(splitList(opts.namespaces)),
		LeaderElection:         opts.leaderElect,
		LeaderElectionID:       "whatsapp-commerce-operator.commerce.wa.dev",
		// A replica that shuts down hands the lease over at once, so the next
		// leader does not wait for it to expire.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	parts := operator.Options{WebhookAddr: opts.webhookAddr, SecretResync: opts.secretResync, Log: ctrl.Log}
	if opts.archiveURL != "" {
		a, err := archive.New(opts.archiveURL, archive.Options{Scheme: scheme, Registerer: metrics.Registry, Log: ctrl.Log.WithName("archive")})
		if err != nil {
			return err
		}
		defer a.Close()
		ctrl.Log.Info("archiving to PostgreSQL", "database", a.URL())
		parts.Archive = a
	} else {
		ctrl.Log.Info("no archive: finished resources are deleted only where a channel sets spec.retention")
	}
	if _, err := operator.SetupReceiver(mgr, parts); err != nil {
		return err
	}
	if err := operator.SetupReconcilers(mgr, parts); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
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
		return fmt.Errorf("adding ready check: %w", err)
	}
	ctrl.Log.Info("starting manager", "webhookAddress", opts.webhookAddr, "leaderElection", opts.leaderElect)
	return mgr.Start(ctrl.SetupSignalHandler())
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
