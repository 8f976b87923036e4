package plugin

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// funnel is how customers responded to a product message.
type funnel struct {
	ProductMessage string `json:"productMessage"`
	Shows          string `json:"shows"`
	To             string `json:"to"`
	Phase          string `json:"phase"`
	MessageID      string `json:"messageID,omitempty"`
	Delivery       string `json:"delivery,omitempty"`
	// Inquiries and Orders are the operator's counts (status); the ...ByPhase
	// breakdowns come from the labelled resources still in the cluster.
	Inquiries        int64            `json:"inquiries"`
	InquiriesByPhase map[string]int64 `json:"inquiriesByPhase,omitempty"`
	Orders           int64            `json:"orders"`
	OrdersByPhase    map[string]int64 `json:"ordersByPhase,omitempty"`
	Revenue          []revenue        `json:"revenue"`
}

func (r *root) funnelCommand() *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:               "funnel PRODUCTMESSAGE",
		Short:             "How customers responded to a product message: delivery, inquiries, orders, revenue",
		Example:           "  kubectl whatsapp funnel spring-sale\n  kubectl whatsapp funnel spring-sale -o json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: r.completeFirst(productMessageNames),
		RunE: r.verb(&out, func(cmd *cobra.Command, s *session, args []string) error {
			f, err := s.funnel(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return out.report(r.streams.Out, f, f.print)
		}),
	}
	out.addFlag(cmd)
	return cmd
}

func (s *session) funnel(ctx context.Context, name string) (*funnel, error) {
	pm, err := s.getProductMessage(ctx, name)
	if err != nil {
		return nil, err
	}
	f := &funnel{
		ProductMessage: name, Shows: pm.describe(), To: pm.recipient(), Phase: pm.phase(),
		MessageID: pm.messageID(), Delivery: pm.deliveryStatus(),
		Inquiries: pm.count("status", "inquiries"), Orders: pm.count("status", "orders"), Revenue: pm.revenue(),
	}
	replies := client.MatchingLabels{commercev1alpha1.LabelProductMessage: name}
	var orders commercev1alpha1.WhatsAppOrderList
	if err := s.client.List(ctx, &orders, client.InNamespace(s.namespace), replies); err != nil {
		return nil, fmt.Errorf("listing the orders of product message %s: %w", name, err)
	}
	var inquiries commercev1alpha1.ProductInquiryList
	if err := s.client.List(ctx, &inquiries, client.InNamespace(s.namespace), replies); err != nil {
		return nil, fmt.Errorf("listing the inquiries of product message %s: %w", name, err)
	}
	for _, o := range orders.Items {
		f.OrdersByPhase = increment(f.OrdersByPhase, string(o.Status.Phase))
	}
	for _, q := range inquiries.Items {
		f.InquiriesByPhase = increment(f.InquiriesByPhase, string(q.Status.Phase))
	}
	return f, nil
}

func increment(m map[string]int64, key string) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[orEmpty(key, "New")]++
	return m
}

func (f *funnel) print(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Product message:\t%s (%s) to %s\n", f.ProductMessage, f.Shows, f.To)
	sent := f.Phase
	if f.MessageID != "" {
		sent += ", message " + f.MessageID
	}
	fmt.Fprintf(w, "Phase:\t%s\n", orEmpty(sent, "not picked up by the operator yet"))
	fmt.Fprintf(w, "Delivery:\t%s\n", orEmpty(f.Delivery, "no status from WhatsApp yet"))
	fmt.Fprintf(w, "Inquiries:\t%d%s\n", f.Inquiries, byPhase(f.InquiriesByPhase))
	fmt.Fprintf(w, "Orders:\t%d%s\n", f.Orders, byPhase(f.OrdersByPhase))
	totals := make([]string, len(f.Revenue))
	for i, r := range f.Revenue {
		totals[i] = r.Total + " " + r.Currency
	}
	fmt.Fprintf(w, "Revenue:\t%s\n", orEmpty(strings.Join(totals, ", "), "none"))
	return w.Flush()
}

// byPhase reads " (Accepted 1, Delivered 2)", phases in alphabetical order.
func byPhase(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m))
	for _, phase := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", phase, m[phase]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
