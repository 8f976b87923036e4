// Command manager runs the whatsapp-commerce-operator: the webhook receiver on
// every replica, and the reconcilers on the elected leader.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/archive"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/memlimit"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

func main() {
	var (
		opts                                operator.Options
		namespaces, archiveURL, allowedURLs string
	)
	flag.StringVar(&opts.MetricsAddr, "metrics-bind-address", operator.DefaultMetricsAddr, "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.BoolVar(&opts.MetricsSecure, "metrics-secure", true, "Serve metrics over HTTPS, only to requests whose bearer token the API server authenticates and authorizes for GET /metrics; false serves plain HTTP to anyone who reaches the port.")
	flag.StringVar(&opts.MetricsCertDir, "metrics-cert-dir", "", "Directory with tls.crt and tls.key for the HTTPS metrics endpoint (reloaded on change); empty makes a self-signed certificate at start.")
	flag.StringVar(&opts.ProbeAddr, "health-probe-bind-address", operator.DefaultProbeAddr, "Address the /healthz and /readyz probes bind to.")
	flag.StringVar(&opts.WebhookAddr, "webhook-bind-address", operator.DefaultWebhookAddr, "Address the WhatsApp webhook receiver binds to (served on every replica).")
	flag.BoolVar(&opts.LeaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles; the receiver runs on all of them.")
	flag.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; the pod's own if empty (required out of a cluster).")
	flag.DurationVar(&opts.PaymentLookupAfter, "payment-lookup-after", operator.DefaultPaymentLookupAfter, "How long a bill waits for a final payment status on the webhook before WhatsApp's payment lookup is asked, and between lookups.")
	flag.DurationVar(&opts.IntentTimeout, "intent-timeout", operator.DefaultIntentTimeout, "How long a message whose send had an unknown outcome (a crash, a timeout, a 5xx) waits for WhatsApp's status before it is sent again; must be longer than "+operator.MinIntentTimeout.String()+" (the receiver's RecordWait plus the Retry-After it sheds a status with).")
	flag.DurationVar(&opts.SecretResyncPeriod, "secret-resync-period", operator.DefaultSecretResyncPeriod, "How often channel Secrets are re-read; a rotated Secret takes effect within this period.")
	flag.DurationVar(&opts.RecordDelay, "record-delay", 0, "How long the record of a message sent on a Cloud channel may wait for WhatsApp's first status about it, so both cost one write (0, the default, writes it at once; at most 30s).")
	flag.BoolVar(&opts.ArrivalOrder, "arrival-order", false, "Keep each controller's queue in the order events arrive; by default a resource just created goes ahead of queued work, up to 32 of a namespace at a time, so that under load new orders are validated while older sends wait.")
	flag.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", operator.DefaultMaxConcurrentReconciles, "How many orders, inquiries and channels each controller reconciles at once.")
	flag.StringVar(&namespaces, "namespaces", "", "Comma-separated namespaces to watch; empty watches all. Shard by running one deployment per set of namespaces.")
	// No default from the environment here: --help would print the password.
	flag.StringVar(&archiveURL, "archive-database-url", "", "PostgreSQL URL of the archive every order and inquiry is written to; retention then deletes only what it holds. Default: $ARCHIVE_DATABASE_URL.")
	flag.StringVar(&allowedURLs, "allowed-api-urls", strings.Join(whatsapp.DefaultAllowedURLs, ","), "Comma-separated URL prefixes (scheme, host and path) a channel's apiURL must be under to be sent to; channels elsewhere are not Ready and are sent nothing.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	opts.Namespaces = splitList(namespaces)
	// An empty list is kept empty (it allows nothing) rather than made the default.
	opts.AllowedAPIURLs = append([]string{}, splitList(allowedURLs)...)
	if archiveURL == "" {
		archiveURL = os.Getenv("ARCHIVE_DATABASE_URL")
	}
	if limit, err := memlimit.Set(); err != nil {
		ctrl.Log.Error(err, "the Go memory limit is not set from the container's")
	} else if limit > 0 {
		ctrl.Log.Info("Go memory limit set from the container's", "bytes", limit, "fraction", memlimit.Fraction)
	}

	if err := run(opts, archiveURL); err != nil {
		ctrl.Log.Error(err, "operator stopped")
		os.Exit(1)
	}
}

func run(opts operator.Options, archiveURL string) error {
	// controller-runtime leaves client-side rate limiting off and relies on the
	// API server's priority and fairness, which suits a receiver that creates a
	// resource per order.
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	if archiveURL != "" {
		a, err := archive.New(archiveURL, archive.Options{Scheme: operator.NewScheme(), Registerer: metrics.Registry, Log: ctrl.Log.WithName("archive")})
		if err != nil {
			return err
		}
		defer a.Close()
		ctrl.Log.Info("archiving to PostgreSQL", "database", a.URL())
		opts.Archive = a
	} else {
		ctrl.Log.Info("no archive: finished resources are deleted only where a channel sets spec.retention")
	}
	op, err := operator.New(cfg, opts)
	if err != nil {
		return err
	}
	ctrl.Log.Info("starting manager", "webhookAddress", opts.WebhookAddr, "leaderElection", opts.LeaderElection, "allowedAPIURLs", opts.AllowedAPIURLs)
	return op.Start(ctrl.SetupSignalHandler())
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
