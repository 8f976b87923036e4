package webhookreceiver

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/payment"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// applyPayment records WhatsApp's news about a bill's payment on the order
// of the channel whose bill has that reference, by payment.Apply's rules.
// The order is looked up in the channel's namespace only, and must be of the
// channel: a reference no order of the channel has (another namespace's, an
// order since deleted, a guess) is acknowledged and counted, and changes
// nothing. The write goes through the receiver's status Batcher, like a
// delivery status.
func (r *Receiver) applyPayment(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, p *payload.Payment) (outcome string, err error) {
	defer func() {
		if err == nil {
			paymentStatuses.WithLabelValues(p.Status, outcome).Inc()
		}
	}()
	var orders commercev1alpha1.WhatsAppOrderList
	if err := r.opts.Client.List(ctx, &orders, client.InNamespace(ch.Namespace), client.MatchingFields{index.PaymentReference: p.ReferenceID}); err != nil {
		return "", fmt.Errorf("looking up the order of payment reference %s: %w", p.ReferenceID, err)
	}
	var target *commercev1alpha1.WhatsAppOrder
	for i := range orders.Items {
		if orders.Items[i].Spec.Channel == ch.Name {
			target = &orders.Items[i]
		}
	}
	if target == nil {
		r.log(ch).Info("payment status for a reference no order of the channel has; acknowledged", "referenceID", p.ReferenceID, "status", p.Status)
		return OutcomeUnmatchedStatus, nil
	}
	rep := reportOf(p)
	var changed bool
	err = r.statuses.Write(ctx, target, func(o client.Object) {
		changed = false
		order, ok := o.(*commercev1alpha1.WhatsAppOrder)
		if !ok || order.Status.Payment == nil || order.Status.Payment.ReferenceID != p.ReferenceID {
			return
		}
		changed = payment.Apply(order.Status.Payment, rep)
	})
	if err != nil {
		return "", fmt.Errorf("recording payment %s of reference %s: %w", p.Status, p.ReferenceID, err)
	}
	if !changed {
		return OutcomeUnchanged, nil
	}
	return OutcomeUpdated, nil
}

// reportOf turns a webhook's payment into the rules' terms, amounts as exact
// decimals; an amount whose offset no decimal can hold is left out.
func reportOf(p *payload.Payment) payment.Report {
	rep := payment.Report{Status: p.Status, At: p.Timestamp, TransactionID: p.TransactionID, Method: p.Method,
		Currency: p.Currency, ErrorCode: p.ErrorCode, ErrorReason: p.ErrorReason}
	if p.Currency != "" {
		rep.Amount = amount(p.Amount, p.Currency)
	}
	for _, rf := range p.Refunds {
		rep.Refunds = append(rep.Refunds, commercev1alpha1.PaymentRefund{ID: rf.ID, Amount: amount(rf.Amount, p.Currency), Status: rf.Status})
	}
	return rep
}

func amount(m *payload.Money, currency string) string {
	if m == nil {
		return ""
	}
	d, ok := bill.Decimal(bill.Money{Value: m.Value, Offset: m.Offset})
	if !ok || d.Sign() < 0 {
		return ""
	}
	return cart.Format(d, currency)
}
