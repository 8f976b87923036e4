// Package funnel adds up how customers responded to a product message: the
// inquiries and orders that reply to it, and the revenue of those orders.
package funnel

import (
	"strings"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
)

// Tally is what the responses to one product message add up to, as its
// status shows them.
type Tally struct {
	Inquiries int32
	Orders    int32
	// Revenue is the exact sum per currency, currencies in alphabetical order.
	Revenue []commercev1alpha1.Revenue
	// Summary is Revenue in one line, "12.50 EUR, 85 USD", for kubectl.
	Summary string
	// PaidRevenue is the exact sum per currency of the payments captured for
	// those orders and not refunded in full, currencies in alphabetical order.
	PaidRevenue []commercev1alpha1.Revenue
}

// Count tallies the orders and the number of inquiries replying to one
// message. Every order counts in Orders; only those that will be paid count
// in Revenue: not Rejected or Cancelled by the business, and not Invalid (a
// cart that fails validation, judged from the spec exactly as the order
// controller judges it, so the revenue does not wait for that controller).
// PaidRevenue counts the payments captured for any of the orders.
func Count(orders []commercev1alpha1.WhatsAppOrder, inquiries int) Tally {
	var ledger, paid cart.Ledger
	for i := range orders {
		o := &orders[i]
		if p := o.Status.Payment; p != nil && p.Status == commercev1alpha1.PaymentCaptured && !p.RefundedInFull {
			// What WhatsApp reported, whatever the business decided since; an
			// amount the receiver could not read is not guessed.
			_ = paid.AddAmount(p.Currency, p.Amount)
		}
		if o.Spec.State == commercev1alpha1.OrderRejected || o.Spec.State == commercev1alpha1.OrderCancelled {
			continue
		}
		// An invalid cart is not added: that is the exclusion of Invalid orders.
		_ = ledger.Add(cart.OrderItems(o.Spec.Items))
	}
	t := Tally{Inquiries: int32(inquiries), Orders: int32(len(orders))}
	var summary []string
	for _, a := range ledger.Totals() {
		t.Revenue = append(t.Revenue, commercev1alpha1.Revenue{Currency: a.Currency, Total: a.Total})
		summary = append(summary, a.Total+" "+a.Currency)
	}
	t.Summary = strings.Join(summary, ", ")
	for _, a := range paid.Totals() {
		t.PaidRevenue = append(t.PaidRevenue, commercev1alpha1.Revenue{Currency: a.Currency, Total: a.Total})
	}
	return t
}
