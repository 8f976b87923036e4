package v1alpha1

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSentMessageApplyNeverMovesBackwards(t *testing.T) {
	windowClosed := &MessageError{Code: 131047, Title: "Re-engagement message"}
	cases := []struct {
		name     string
		sequence []DeliveryStatus
		want     DeliveryStatus
	}{
		{"in order", []DeliveryStatus{"sent", "delivered", "read"}, "read"},
		{"delivered skipped", []DeliveryStatus{"sent", "read"}, "read"},
		{"late delivered after read", []DeliveryStatus{"read", "delivered", "sent"}, "read"},
		{"redelivered webhook", []DeliveryStatus{"delivered", "delivered"}, "delivered"},
		{"failed is final", []DeliveryStatus{"sent", "failed", "delivered", "read"}, "failed"},
		{"failed after read", []DeliveryStatus{"read", "failed"}, "failed"},
		{"untracked statuses ignored", []DeliveryStatus{"sent", "played", "deleted", "warning"}, "sent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m SentMessage
			for i, s := range tc.sequence {
				u := DeliveryUpdate{Status: s, At: metav1.NewTime(time.Unix(int64(1000+i), 0))}
				if s == DeliveryFailed {
					u.Error = windowClosed
				}
				m.Apply(u)
			}
			if m.DeliveryStatus != tc.want {
				t.Fatalf("after %v: %q, want %q", tc.sequence, m.DeliveryStatus, tc.want)
			}
			if (m.Error != nil) != (tc.want == DeliveryFailed) {
				t.Fatalf("error %+v for final status %q", m.Error, m.DeliveryStatus)
			}
		})
	}
}

func TestSentMessageApplyReportsChange(t *testing.T) {
	m := SentMessage{DeliveryStatus: DeliveryDelivered}
	if m.Apply(DeliveryUpdate{Status: DeliverySent}) {
		t.Error("a backwards status reported a change")
	}
	if !m.Apply(DeliveryUpdate{Status: DeliveryRead, At: metav1.NewTime(time.Unix(5, 0))}) {
		t.Error("a forward status reported no change")
	}
	if m.UpdatedAt == nil || m.UpdatedAt.Unix() != 5 {
		t.Errorf("updatedAt = %v, want the status timestamp", m.UpdatedAt)
	}
}

func TestSentMessageApplyRecordsPricingInAnyOrder(t *testing.T) {
	m := SentMessage{DeliveryStatus: DeliveryRead}
	if !m.Apply(DeliveryUpdate{Status: DeliverySent, PricingCategory: "utility"}) {
		t.Error("a late sent carrying the price reported no change")
	}
	if m.PricingCategory != "utility" || m.DeliveryStatus != DeliveryRead {
		t.Errorf("after a late priced sent: %+v, want read and utility", m)
	}
	if m.Apply(DeliveryUpdate{Status: DeliveryDelivered, PricingCategory: "utility"}) {
		t.Error("the same price again reported a change")
	}
	if m.Apply(DeliveryUpdate{Status: DeliveryDelivered}) || m.PricingCategory != "utility" {
		t.Errorf("a status without pricing changed the record: %+v", m)
	}
}

func TestDeliveryStatusTracked(t *testing.T) {
	for _, s := range []DeliveryStatus{DeliverySent, DeliveryDelivered, DeliveryRead, DeliveryFailed} {
		if !s.Tracked() {
			t.Errorf("%q is not tracked", s)
		}
	}
	for _, s := range []DeliveryStatus{"played", "deleted", "warning", "", "READ"} {
		if s.Tracked() {
			t.Errorf("%q is tracked", s)
		}
	}
}
