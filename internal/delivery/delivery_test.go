package delivery

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func TestApplyNeverMovesBackwards(t *testing.T) {
	windowClosed := &commercev1alpha1.MessageError{Code: 131047, Title: "Re-engagement message"}
	cases := []struct {
		name     string
		sequence []commercev1alpha1.DeliveryStatus
		want     commercev1alpha1.DeliveryStatus
	}{
		{"in order", []commercev1alpha1.DeliveryStatus{"sent", "delivered", "read"}, "read"},
		{"delivered skipped", []commercev1alpha1.DeliveryStatus{"sent", "read"}, "read"},
		{"late delivered after read", []commercev1alpha1.DeliveryStatus{"read", "delivered", "sent"}, "read"},
		{"redelivered webhook", []commercev1alpha1.DeliveryStatus{"delivered", "delivered"}, "delivered"},
		{"failed is final", []commercev1alpha1.DeliveryStatus{"sent", "failed", "delivered", "read"}, "failed"},
		{"failed after read", []commercev1alpha1.DeliveryStatus{"read", "failed"}, "failed"},
		{"untracked statuses ignored", []commercev1alpha1.DeliveryStatus{"sent", "played", "deleted", "warning"}, "sent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m commercev1alpha1.SentMessage
			for i, s := range tc.sequence {
				u := Update{Status: s, At: metav1.NewTime(time.Unix(int64(1000+i), 0))}
				if s == commercev1alpha1.DeliveryFailed {
					u.Error = windowClosed
				}
				Apply(&m, u)
			}
			if m.DeliveryStatus != tc.want {
				t.Fatalf("after %v: %q, want %q", tc.sequence, m.DeliveryStatus, tc.want)
			}
			if (m.Error != nil) != (tc.want == commercev1alpha1.DeliveryFailed) {
				t.Fatalf("error %+v for final status %q", m.Error, m.DeliveryStatus)
			}
		})
	}
}

func TestApplyReportsChange(t *testing.T) {
	m := commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryDelivered}
	if Apply(&m, Update{Status: commercev1alpha1.DeliverySent}) {
		t.Error("a backwards status reported a change")
	}
	if !Apply(&m, Update{Status: commercev1alpha1.DeliveryRead, At: metav1.NewTime(time.Unix(5, 0))}) {
		t.Error("a forward status reported no change")
	}
	if m.UpdatedAt == nil || m.UpdatedAt.Unix() != 5 {
		t.Errorf("updatedAt = %v, want the status timestamp", m.UpdatedAt)
	}
}

func TestApplyRecordsPricingInAnyOrder(t *testing.T) {
	m := commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryRead}
	if !Apply(&m, Update{Status: commercev1alpha1.DeliverySent, PricingCategory: "utility"}) {
		t.Error("a late sent carrying the price reported no change")
	}
	if m.PricingCategory != "utility" || m.DeliveryStatus != commercev1alpha1.DeliveryRead {
		t.Errorf("after a late priced sent: %+v, want read and utility", m)
	}
	if Apply(&m, Update{Status: commercev1alpha1.DeliveryDelivered, PricingCategory: "utility"}) {
		t.Error("the same price again reported a change")
	}
	if Apply(&m, Update{Status: commercev1alpha1.DeliveryDelivered}) || m.PricingCategory != "utility" {
		t.Errorf("a status without pricing changed the record: %+v", m)
	}
}
