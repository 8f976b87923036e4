// Package payment decides what WhatsApp's news about a bill's payment does
// to an order's status.payment. Payment statuses arrive out of order and
// more than once, so the rules are pure functions of the recorded status and
// the report, table-tested without a client:
//   - Captured is final: a pending or failed status arriving after it
//     changes nothing (refunds reported with a capture are still merged);
//   - a capture always wins, whatever came before: failed then captured (the
//     customer tried again) ends Captured;
//   - between pending and failed the later timestamp wins, failed on a tie;
//   - a redelivery changes nothing.
package payment

import (
	"time"

	"gopkg.in/inf.v0"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Report is one piece of news about a payment, from a webhook or the
// payment lookup. Amounts are exact decimal strings ("1149"), "" when not
// reported.
type Report struct {
	// Status is pending, captured or failed.
	Status                 string
	At                     time.Time
	TransactionID, Method  string
	Amount, Currency       string
	ErrorCode, ErrorReason string
	Refunds                []commercev1alpha1.PaymentRefund
}

// states maps WhatsApp's payment status values to the API's.
var states = map[string]commercev1alpha1.PaymentState{
	"pending":  commercev1alpha1.PaymentPending,
	"captured": commercev1alpha1.PaymentCaptured,
	"failed":   commercev1alpha1.PaymentFailed,
}

// MaxRefunds is how many refunds a status keeps (the CRD's bound).
const MaxRefunds = 50

// Apply changes st as the report r says, by the rules of the package doc,
// and tells whether anything changed.
func Apply(st *commercev1alpha1.OrderPaymentStatus, r Report) bool {
	next, known := states[r.Status]
	if !known {
		return false
	}
	before := st.DeepCopy()
	switch {
	case st.Status == commercev1alpha1.PaymentCaptured && next != commercev1alpha1.PaymentCaptured:
		// Final: a late pending or failed says nothing new.
	case st.Status == commercev1alpha1.PaymentCaptured:
		// A redelivered capture may carry what the first lacked, and refunds.
		fill(&st.TransactionID, r.TransactionID)
		fill(&st.Method, r.Method)
		if st.Amount == "" && r.Amount != "" {
			st.Amount, st.Currency = r.Amount, r.Currency
		}
	case next == commercev1alpha1.PaymentCaptured || newer(st, next, r.At):
		st.Status = next
		at := metav1.NewTime(r.At)
		st.PaymentUpdatedAt = &at
		st.TransactionID, st.Method = r.TransactionID, r.Method
		if r.Amount != "" {
			st.Amount, st.Currency = r.Amount, r.Currency
		}
		st.TransactionError = nil
		if next == commercev1alpha1.PaymentFailed && (r.ErrorCode != "" || r.ErrorReason != "") {
			st.TransactionError = &commercev1alpha1.PaymentError{Code: r.ErrorCode, Reason: r.ErrorReason}
		}
	}
	mergeRefunds(st, r.Refunds)
	st.RefundedInFull = RefundedInFull(st)
	return !equality.Semantic.DeepEqual(before, st)
}

// newer tells whether a pending or failed status at `at` comes after what st
// holds: a later timestamp, or the same one moving pending to failed.
func newer(st *commercev1alpha1.OrderPaymentStatus, next commercev1alpha1.PaymentState, at time.Time) bool {
	if st.PaymentUpdatedAt == nil {
		return true
	}
	last := st.PaymentUpdatedAt.Time
	switch {
	case at.After(last):
		return true
	case at.Equal(last):
		return next == commercev1alpha1.PaymentFailed && st.Status == commercev1alpha1.PaymentPending
	}
	return false
}

func fill(field *string, v string) {
	if *field == "" {
		*field = v
	}
}

// mergeRefunds adds refunds st does not hold yet and updates the status of
// those it does, by id; a refund's amount never changes once recorded.
func mergeRefunds(st *commercev1alpha1.OrderPaymentStatus, refunds []commercev1alpha1.PaymentRefund) {
	for _, in := range refunds {
		found := false
		for i := range st.Refunds {
			if st.Refunds[i].ID == in.ID {
				found = true
				if in.Status != "" {
					st.Refunds[i].Status = in.Status
				}
			}
		}
		if !found && in.ID != "" && len(st.Refunds) < MaxRefunds {
			st.Refunds = append(st.Refunds, in)
		}
	}
}

// completedRefund are the refund statuses that mean the money went back.
var completedRefund = map[string]bool{"completed": true, "success": true, "processed": true}

// RefundedInFull tells whether the completed refunds of a captured payment
// add up to at least its amount: only then may the order be Rejected or
// Cancelled.
func RefundedInFull(st *commercev1alpha1.OrderPaymentStatus) bool {
	if st.Status != commercev1alpha1.PaymentCaptured || st.Amount == "" {
		return false
	}
	paid, ok := new(inf.Dec).SetString(st.Amount)
	if !ok {
		return false
	}
	back := new(inf.Dec)
	for _, r := range st.Refunds {
		if !completedRefund[r.Status] {
			continue
		}
		if d, ok := new(inf.Dec).SetString(r.Amount); ok {
			back.Add(back, d)
		}
	}
	return back.Cmp(paid) >= 0
}

// Condition is the Paid condition an order's status.payment calls for:
// True once captured, False with the payment's state as reason before.
func Condition(st *commercev1alpha1.OrderPaymentStatus) (metav1.ConditionStatus, string, string) {
	switch st.Status {
	case commercev1alpha1.PaymentCaptured:
		msg := "the payment " + st.ReferenceID + " is captured"
		if st.RefundedInFull {
			msg += " and refunded in full"
		}
		return metav1.ConditionTrue, commercev1alpha1.ReasonPaymentCaptured, msg
	case commercev1alpha1.PaymentPending:
		return metav1.ConditionFalse, commercev1alpha1.ReasonPaymentPending, "the customer started paying " + st.ReferenceID
	case commercev1alpha1.PaymentFailed:
		msg := "the last attempt to pay " + st.ReferenceID + " failed"
		if e := st.TransactionError; e != nil && e.Reason != "" {
			msg += ": " + e.Reason
		}
		return metav1.ConditionFalse, commercev1alpha1.ReasonPaymentFailed, msg
	}
	return metav1.ConditionFalse, commercev1alpha1.ReasonPaymentRequested, "the bill " + st.ReferenceID + " is sent; no payment yet"
}
