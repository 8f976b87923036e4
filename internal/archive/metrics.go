package archive

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	backlog  prometheus.Gauge
	written  prometheus.Counter
	failures prometheus.Counter
	// unseenDeletions counts rows the sweep marked deleted.
	unseenDeletions prometheus.Counter
}

// newMetrics makes one archive's metrics, registered with reg when it is not
// nil: the operator passes controller-runtime's registry, tests their own.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "whatsapp_archive_backlog",
			Help: "Resources whose latest version is not yet written to the archive.",
		}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "whatsapp_archive_written_total",
			Help: "Resource versions written to the archive (a version older than the stored one counts, and changes nothing).",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "whatsapp_archive_failures_total",
			Help: "Failed attempts to migrate or write to the archive; each is retried.",
		}),
		unseenDeletions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "whatsapp_archive_unseen_deletions_total",
			Help: "Archived resources found deleted at a leader's start, deleted while no leader watched.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.backlog, m.written, m.failures, m.unseenDeletions)
	}
	return m
}
