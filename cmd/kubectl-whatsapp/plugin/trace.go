package plugin

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// traceEntry is one thing that happened to an order.
type traceEntry struct {
	Time time.Time `json:"time"`
	// Source is where it was read: order, product-message, notification,
	// payment or event.
	Source string `json:"source"`
	What   string `json:"what"`
}

func (r *root) traceCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "trace ORDER",
		Short: "Everything that happened to a WhatsAppOrder, in time order",
		Long: `trace puts together, in time order, the product message the order came from,
the order's arrival, the state changes, the messages sent to the customer with
their delivery statuses, and the order's Events (which the API server keeps
for an hour only).`,
		Example:           "  kubectl whatsapp trace shop-1d9e\n  kubectl whatsapp trace shop-1d9e -o json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeFirst(orderNames),
		RunE: r.verb(&out, func(cmd *cobra.Command, s *session, args []string) error {
			entries, err := s.trace(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return out.report(r.streams.Out, entries, func(w io.Writer) error { return printTrace(w, entries) })
		}),
	}
	out.addFlag(cmd)
	return cmd
}

func (s *session) trace(ctx context.Context, name string) ([]traceEntry, error) {
	var order commercev1alpha1.WhatsAppOrder
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, &order); err != nil {
		return nil, s.notFound("order", name, err)
	}
	var events corev1.EventList
	if err := s.client.List(ctx, &events, client.InNamespace(s.namespace),
		client.MatchingFields{"involvedObject.uid": string(order.UID)}); err != nil {
		return nil, fmt.Errorf("listing the events of order %s: %w", name, err)
	}
	pm, err := s.productMessageOf(ctx, &order)
	if err != nil {
		return nil, err
	}
	return orderTrace(&order, pm, events.Items), nil
}

// orderTrace puts what the order, its product message and its events tell
// into time order. Entries at the same instant keep the order of the story:
// what the customer did before what the operator did.
func orderTrace(order *commercev1alpha1.WhatsAppOrder, pm *productMessage, events []corev1.Event) []traceEntry {
	var entries []traceEntry
	add := func(t time.Time, source, format string, args ...any) {
		if !t.IsZero() {
			entries = append(entries, traceEntry{Time: t.UTC(), Source: source, What: fmt.Sprintf(format, args...)})
		}
	}
	switch {
	case pm != nil:
		add(pm.sentAt(), "product-message", "product message %s sent to %s (%s)", pm.name(), pm.recipient(), pm.describe())
	case order.Spec.ReplyToMessageID != "":
		add(order.Spec.ReceivedAt.Time, "order", "the order replies to message %s, which no ProductMessage here tracks", order.Spec.ReplyToMessageID)
	}
	add(order.Spec.ReceivedAt.Time, "order", "%s sent the order: %s", customerName(order.Spec.Customer), cartSummary(order))
	add(order.CreationTimestamp.Time, "order", "order %s created from message %s on channel %s", order.Name, order.Spec.MessageID, order.Spec.Channel)
	for _, n := range order.Status.Notifications {
		add(timeOf(n.SentAt), "notification", "told the customer the order is %s (message %s)", n.State, orEmpty(n.MessageID, "not sent"))
		if n.DeliveryStatus != "" && n.DeliveryStatus != commercev1alpha1.DeliverySent {
			add(timeOf(n.UpdatedAt), "notification", "the %s message was %s%s", n.State, n.DeliveryStatus, errorSuffix(n.Error))
		}
	}
	if p := order.Status.Payment; p != nil {
		paymentTrace(p, add)
	}
	for _, e := range events {
		what := fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Message)
		if n := eventCount(&e); n > 1 {
			what += fmt.Sprintf(" (%d times)", n)
		}
		add(eventTime(&e), "event", "%s", what)
	}
	if order.Status.FinishedAt != nil {
		add(order.Status.FinishedAt.Time, "order", "finished as %s; kept for the channel's retention, then deleted", order.Status.Phase)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Time.Before(entries[j].Time) })
	return entries
}

// paymentTrace tells the steps of the order's payment: the bill sent and
// its delivery, then the payment's latest state as WhatsApp reported it.
func paymentTrace(p *commercev1alpha1.OrderPaymentStatus, add func(time.Time, string, string, ...any)) {
	add(timeOf(p.SentAt), "payment", "sent the bill %s (message %s)", p.ReferenceID, orEmpty(p.MessageID, "not sent"))
	if p.DeliveryStatus != "" && p.DeliveryStatus != commercev1alpha1.DeliverySent {
		add(timeOf(p.UpdatedAt), "payment", "the bill was %s%s", p.DeliveryStatus, errorSuffix(p.Error))
	}
	if p.PaymentUpdatedAt == nil {
		return
	}
	what := fmt.Sprintf("the payment is %s", p.Status)
	if p.Amount != "" {
		what += fmt.Sprintf(": %s %s", p.Amount, p.Currency)
	}
	if p.TransactionID != "" {
		what += fmt.Sprintf(", transaction %s", p.TransactionID)
	}
	if p.Method != "" {
		what += " by " + p.Method
	}
	if e := p.TransactionError; e != nil {
		what += fmt.Sprintf(" (%s %s)", e.Code, e.Reason)
	}
	add(p.PaymentUpdatedAt.Time, "payment", "%s", what)
	for _, r := range p.Refunds {
		add(p.PaymentUpdatedAt.Time, "payment", "refund %s of %s %s: %s", r.ID, r.Amount, p.Currency, orEmpty(r.Status, "reported"))
	}
	if p.RefundedInFull {
		add(p.PaymentUpdatedAt.Time, "payment", "refunded in full: the order may be rejected or cancelled")
	}
}

func printTrace(out io.Writer, entries []traceEntry) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tSOURCE\tWHAT")
	for _, e := range entries {
		fmt.Fprintf(w, "%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Source, e.What)
	}
	return w.Flush()
}

func cartSummary(order *commercev1alpha1.WhatsAppOrder) string {
	items := make([]string, len(order.Spec.Items))
	for i, it := range order.Spec.Items {
		items[i] = fmt.Sprintf("%d x %s at %s %s", it.Quantity, it.ProductRetailerID, it.ItemPrice, it.Currency)
	}
	return strings.Join(items, ", ")
}

func errorSuffix(e *commercev1alpha1.MessageError) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf(": %d %s", e.Code, strings.TrimSpace(e.Title+" "+e.Message))
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	}
	return e.CreationTimestamp.Time
}

func eventCount(e *corev1.Event) int32 {
	if e.Series != nil {
		return e.Series.Count
	}
	return e.Count
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

func orEmpty(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}
