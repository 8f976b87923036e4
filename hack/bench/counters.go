package main

import (
	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// counters are the operator's own Prometheus counters that say where a
// sustained phase's work went: reconciles and queue waits per controller, and
// API requests by method (this process's clients: the operator's and the
// bench's, which only patches to accept orders and lists at the end).
type counters map[string]float64

// Keys of counters.
const (
	keyReconciles = "reconciles "
	keyWorkSum    = "reconcile seconds "
	keyWorkCount  = "timed reconciles "
	keyQueueSum   = "queue seconds "
	keyQueueCount = "queued "
	keyRequests   = "requests "
	keyConflicts  = "conflicts "
)

// gatherCounters reads the counters from the registry the manager serves.
func gatherCounters() counters {
	c := counters{}
	families, err := metrics.Registry.Gather()
	if err != nil {
		return c
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case "controller_runtime_reconcile_total":
				c[keyReconciles+label(m, "controller")] += m.GetCounter().GetValue()
			case "controller_runtime_reconcile_time_seconds":
				c[keyWorkSum+label(m, "controller")] += m.GetHistogram().GetSampleSum()
				c[keyWorkCount+label(m, "controller")] += float64(m.GetHistogram().GetSampleCount())
			case "workqueue_queue_duration_seconds":
				c[keyQueueSum+label(m, "name")] += m.GetHistogram().GetSampleSum()
				c[keyQueueCount+label(m, "name")] += float64(m.GetHistogram().GetSampleCount())
			case "rest_client_requests_total":
				c[keyRequests+label(m, "method")] += m.GetCounter().GetValue()
				if label(m, "code") == "409" {
					c[keyConflicts+label(m, "method")] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return c
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// since is what the counters counted between earlier and c.
func (c counters) since(earlier counters) counters {
	d := counters{}
	for k, v := range c {
		if v -= earlier[k]; v != 0 {
			d[k] = v
		}
	}
	return d
}
