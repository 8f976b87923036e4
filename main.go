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

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/operator"
)

func main() {
	var (
		opts       operator.Options
		namespaces string
	)
	flag.StringVar(&opts.MetricsAddr, "metrics-bind-address", operator.DefaultMetricsAddr, "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&opts.ProbeAddr, "health-probe-bind-address", operator.DefaultProbeAddr, "Address the /healthz and /readyz probes bind to.")
	flag.StringVar(&opts.WebhookAddr, "webhook-bind-address", operator.DefaultWebhookAddr, "Address the WhatsApp webhook receiver binds to (served on every replica).")
	flag.BoolVar(&opts.LeaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles; the receiver runs on all of them.")
	flag.DurationVar(&opts.SecretResyncPeriod, "secret-resync-period", operator.DefaultSecretResyncPeriod, "How often channel Secrets are re-read; a rotated Secret takes effect within this period.")
	flag.StringVar(&namespaces, "namespaces", "", "Comma-separated namespaces to watch; empty watches all. Shard by running one deployment per set of namespaces.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	opts.Namespaces = splitList(namespaces)

	if err := run(opts); err != nil {
		ctrl.Log.Error(err, "operator stopped")
		os.Exit(1)
	}
}

func run(opts operator.Options) error {
	// controller-runtime leaves client-side rate limiting off and relies on the
	// API server's priority and fairness, which suits a receiver that creates a
	// resource per order.
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	op, err := operator.New(cfg, opts)
	if err != nil {
		return err
	}
	ctrl.Log.Info("starting manager", "webhookAddress", opts.WebhookAddr, "leaderElection", opts.LeaderElection)
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
