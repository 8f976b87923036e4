package payment

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

var t0 = time.Unix(1746500000, 0).UTC()

func at(s int) *metav1.Time { t := metav1.NewTime(t0.Add(time.Duration(s) * time.Second)); return &t }

func report(status string, s int) Report {
	r := Report{Status: status, At: t0.Add(time.Duration(s) * time.Second), TransactionID: "pay_" + status, Amount: "1149", Currency: "INR"}
	if status == "failed" {
		r.ErrorCode, r.ErrorReason = "4001", "insufficient funds"
	}
	return r
}

func requested() commercev1alpha1.OrderPaymentStatus {
	return commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1", Status: commercev1alpha1.PaymentRequested}
}

// after applies the reports in order to a fresh Requested status.
func after(rs ...Report) commercev1alpha1.OrderPaymentStatus {
	st := requested()
	for _, r := range rs {
		Apply(&st, r)
	}
	return st
}

func TestApply(t *testing.T) {
	captured := commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1", Status: commercev1alpha1.PaymentCaptured, PaymentUpdatedAt: at(5),
		TransactionID: "pay_captured", Amount: "1149", Currency: "INR"}
	cases := []struct {
		name    string
		start   commercev1alpha1.OrderPaymentStatus
		report  Report
		want    commercev1alpha1.OrderPaymentStatus
		changed bool
	}{
		{"captured", requested(), report("captured", 5), captured, true},
		{"pending after captured changes nothing", captured, report("pending", 9), captured, false},
		{"failed after captured changes nothing", captured, report("failed", 9), captured, false},
		{"captured redelivered changes nothing", captured, report("captured", 5), captured, false},
		{"failed then captured ends Captured", after(report("failed", 1)), report("captured", 5), captured, true},
		{"captured earlier than a failure still wins", after(report("failed", 9)), report("captured", 5), captured, true},
		{"failed", after(report("pending", 1)), report("failed", 2),
			commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1", Status: commercev1alpha1.PaymentFailed, PaymentUpdatedAt: at(2), TransactionID: "pay_failed", Amount: "1149", Currency: "INR",
				TransactionError: &commercev1alpha1.PaymentError{Code: "4001", Reason: "insufficient funds"}}, true},
		{"a retry after a failure is Pending again, without the old error", after(report("failed", 2)), report("pending", 3),
			commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1", Status: commercev1alpha1.PaymentPending, PaymentUpdatedAt: at(3), TransactionID: "pay_pending", Amount: "1149", Currency: "INR"}, true},
		{"a pending older than the failure changes nothing", after(report("failed", 2)), report("pending", 1), after(report("failed", 2)), false},
		{"failed and pending at the same second end Failed", after(report("pending", 2)), report("failed", 2), after(report("pending", 2), report("failed", 2)), true},
		{"pending and failed at the same second end Failed", after(report("failed", 2)), report("pending", 2), after(report("failed", 2)), false},
		{"an unknown status changes nothing", requested(), Report{Status: "authorized", At: t0}, requested(), false},
		{"a refund in part", captured, Report{Status: "captured", At: t0.Add(9 * time.Second), Refunds: []commercev1alpha1.PaymentRefund{{ID: "r1", Amount: "149", Status: "completed"}}},
			func() commercev1alpha1.OrderPaymentStatus {
				st := *captured.DeepCopy()
				st.Refunds = []commercev1alpha1.PaymentRefund{{ID: "r1", Amount: "149", Status: "completed"}}
				return st
			}(), true},
		{"a refund in full, in two, the second completing later", func() commercev1alpha1.OrderPaymentStatus {
			st := *captured.DeepCopy()
			st.Refunds = []commercev1alpha1.PaymentRefund{{ID: "r1", Amount: "149", Status: "completed"}, {ID: "r2", Amount: "1000", Status: "pending"}}
			return st
		}(), Report{Status: "captured", At: t0, Refunds: []commercev1alpha1.PaymentRefund{{ID: "r2", Amount: "1000", Status: "completed"}}},
			func() commercev1alpha1.OrderPaymentStatus {
				st := *captured.DeepCopy()
				st.Refunds = []commercev1alpha1.PaymentRefund{{ID: "r1", Amount: "149", Status: "completed"}, {ID: "r2", Amount: "1000", Status: "completed"}}
				st.RefundedInFull = true
				return st
			}(), true},
		{"a capture redelivered with what the first lacked", commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1", Status: commercev1alpha1.PaymentCaptured, PaymentUpdatedAt: at(5)},
			Report{Status: "captured", At: t0, TransactionID: "pay_1", Method: "upi", Amount: "1149", Currency: "INR"},
			commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-1", Status: commercev1alpha1.PaymentCaptured, PaymentUpdatedAt: at(5), TransactionID: "pay_1", Method: "upi", Amount: "1149", Currency: "INR"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := *tc.start.DeepCopy()
			if changed := Apply(&st, tc.report); changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			if !equality.Semantic.DeepEqual(st, tc.want) {
				t.Errorf("got  %+v\nwant %+v", st, tc.want)
			}
		})
	}
}

// Every order of the same reports ends in the same place.
func TestApplyOrderDoesNotMatter(t *testing.T) {
	rs := []Report{report("pending", 1), report("failed", 2), report("pending", 3), report("captured", 4)}
	want := after(rs...)
	perms := [][]int{{3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}, {0, 3, 3, 1, 2, 0}}
	for _, p := range perms {
		var got []Report
		for _, i := range p {
			got = append(got, rs[i])
		}
		if st := after(got...); st.Status != want.Status || st.TransactionID != want.TransactionID {
			t.Errorf("order %v ends %s %s, want %s %s", p, st.Status, st.TransactionID, want.Status, want.TransactionID)
		}
	}
}

func TestCondition(t *testing.T) {
	for _, tc := range []struct {
		st     commercev1alpha1.OrderPaymentStatus
		status metav1.ConditionStatus
		reason string
	}{
		{requested(), metav1.ConditionFalse, commercev1alpha1.ReasonPaymentRequested},
		{after(report("pending", 1)), metav1.ConditionFalse, commercev1alpha1.ReasonPaymentPending},
		{after(report("failed", 1)), metav1.ConditionFalse, commercev1alpha1.ReasonPaymentFailed},
		{after(report("captured", 1)), metav1.ConditionTrue, commercev1alpha1.ReasonPaymentCaptured},
	} {
		if s, r, msg := Condition(&tc.st); s != tc.status || r != tc.reason || msg == "" {
			t.Errorf("Condition(%s) = %s %s %q, want %s %s", tc.st.Status, s, r, msg, tc.status, tc.reason)
		}
	}
}
