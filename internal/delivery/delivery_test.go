package delivery

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func TestApplyNeverMovesBackwards(t *testing.T) {
	windowClosed := &v1.MessageError{Code: 131047, Title: "Re-engagement message"}
	cases := []struct {
		name     string
		sequence []v1.DeliveryStatus
		want     v1.DeliveryStatus
	}{
		{"in order", []v1.DeliveryStatus{"sent", "delivered", "read"}, "read"},
		{"delivered skipped", []v1.DeliveryStatus{"sent", "read"}, "read"},
		{"late delivered after read", []v1.DeliveryStatus{"read", "delivered", "sent"}, "read"},
		{"redelivered webhook", []v1.DeliveryStatus{"delivered", "delivered"}, "delivered"},
		{"failed is final", []v1.DeliveryStatus{"sent", "failed", "delivered", "read"}, "failed"},
		{"failed after read", []v1.DeliveryStatus{"read", "failed"}, "failed"},
		{"untracked statuses ignored", []v1.DeliveryStatus{"sent", "played", "deleted", "warning"}, "sent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m v1.SentMessage
			for i, s := range tc.sequence {
				u := Update{Status: s, At: metav1.NewTime(time.Unix(int64(1000+i), 0))}
				if s == v1.DeliveryFailed {
					u.Error = windowClosed
				}
				Apply(&m, u)
			}
			if m.DeliveryStatus != tc.want {
				t.Fatalf("after %v: %q, want %q", tc.sequence, m.DeliveryStatus, tc.want)
			}
			if (m.Error != nil) != (tc.want == v1.DeliveryFailed) {
				t.Fatalf("error %+v for final status %q", m.Error, m.DeliveryStatus)
			}
		})
	}
}

func TestApplyReportsChange(t *testing.T) {
	m := v1.SentMessage{DeliveryStatus: v1.DeliveryDelivered}
	if Apply(&m, Update{Status: v1.DeliverySent}) {
		t.Error("a backwards status reported a change")
	}
	if !Apply(&m, Update{Status: v1.DeliveryRead, At: metav1.NewTime(time.Unix(5, 0))}) {
		t.Error("a forward status reported no change")
	}
	if m.UpdatedAt == nil || m.UpdatedAt.Unix() != 5 {
		t.Errorf("updatedAt = %v, want the status timestamp", m.UpdatedAt)
	}
}
