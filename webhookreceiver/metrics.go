package webhookreceiver

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Element outcomes, the values of the "outcome" label.
const (
	OutcomeCreated         = "created"
	OutcomeDuplicate       = "duplicate"
	OutcomeUpdated         = "updated"
	OutcomeUnchanged       = "unchanged"
	OutcomeIgnored         = "ignored"
	OutcomeUnmatchedStatus = "unmatched_status"
	// OutcomeNotYetRecorded: a status about one of the operator's messages
	// whose record is not visible yet; the body is answered 503.
	OutcomeNotYetRecorded   = "not_yet_recorded"
	OutcomeWrongPhoneNumber = "wrong_phone_number"
	OutcomeInvalid          = "invalid"
	OutcomeFailed           = "failed"
	// OutcomePastDeadline: not tried, the body's time being up; the body is
	// answered 503.
	OutcomePastDeadline = "past_deadline"
)

// The request metrics are filled by promhttp, whose "method" label knows the
// standard methods and calls any other "unknown", and whose "code" label
// holds only the codes of the answers table: anyone on the internet can send
// a request, but not grow a label.
var (
	deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "whatsapp_receiver_deliveries_total",
		Help: "Webhook deliveries received, by HTTP response code.",
	}, []string{"code"})
	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "whatsapp_receiver_request_duration_seconds",
		Help:    "Time from a webhook request's arrival to its answer, by method and HTTP response code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "code"})
	requestsInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "whatsapp_receiver_requests_in_flight",
		Help: "Webhook requests being answered.",
	})
	elements = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "whatsapp_receiver_elements_total",
		Help: "Elements of webhook bodies (orders, inquiries, statuses, others), by kind and outcome.",
	}, []string{"kind", "outcome"})
	pricedMessages = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "whatsapp_sent_messages_priced_total",
		Help: "Messages the operator sent, counted once WhatsApp reports what they are billed as, by pricing category.",
	}, []string{"category"})
	paymentStatuses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "whatsapp_receiver_payment_statuses_total",
		Help: "Payment statuses WhatsApp reported for bills, by status (pending, captured, failed) and outcome (updated, unchanged, unmatched_status).",
	}, []string{"status", "outcome"})
	refusedKept = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "whatsapp_receiver_refused_elements_kept_total",
		Help: "Webhook elements that can never be stored, kept whole and verbatim in their body's ConfigMap for inspection (redeliveries not counted again).",
	})
	refusedNotKept = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "whatsapp_receiver_refused_elements_not_kept_total",
		Help: "Webhook elements that can never be stored and did not fit whole in their body's ConfigMap, by what it holds of them: cut (their first bytes), listed (path and reason only), no (counted here and listed in the answer only).",
	}, []string{"kept"})
	signatureFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "whatsapp_receiver_signature_failures_total",
		Help: "Webhook deliveries refused for their X-Hub-Signature-256, by reason.",
	}, []string{"reason"})
)

func init() {
	metrics.Registry.MustRegister(deliveries, requestDuration, requestsInFlight, elements, pricedMessages, paymentStatuses, refusedKept, refusedNotKept, signatureFailures)
}
