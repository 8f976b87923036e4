package controllers_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
)

// TestOnPremisesFailureBeforeTheRecord: an On-Premises send carries no
// callback data, and WhatsApp reports the text failed (470: the window had
// closed) before it answers the send, so before the operator can record the
// message id. The receiver refuses that status while the send's intent is
// open for the customer, and applies it once the record names the message:
// the channel's template goes out, once; it fails the same way, and the
// order ends CustomerNotified False, with a Warning. The records are written
// at once, not held for WhatsApp's first status as Cloud's may be (the
// longest RecordDelay here would outlast the wait): no status can name an
// On-Premises message before its record does.
func TestOnPremisesFailureBeforeTheRecord(t *testing.T) {
	w := newWorldWith(t, commercev1alpha1.APIOnPremises, worldOptions{earlyStatuses: true, recordDelay: operator.MaxRecordDelay}, func(s *commercev1alpha1.WhatsAppChannelSpec) {
		s.Notifications.Template = &commercev1alpha1.MessageTemplate{Name: "order_update", Language: "en", Namespace: "b1c2d3e4_f5a6_7890"}
	})
	must(t, w.fake.FailDeliveryNext(131047, 2))
	order := w.placeOrder("ABGGFlCGg0cvAgo6cHbBhfK5760W")
	w.setState(order, commercev1alpha1.OrderAccepted)
	w.waitOrder(order, "the text and the template both failed", func(o *commercev1alpha1.WhatsAppOrder) bool {
		n := o.Status.Notifications
		return len(n) == 2 && n[1].DeliveryStatus == commercev1alpha1.DeliveryFailed && notifiedReason(o) == commercev1alpha1.ReasonDeliveryFailed
	})
	sent := w.fake.Sent()
	if len(sent) != 2 || sent[0].Type != "text" || sent[1].TemplateName != "order_update" {
		t.Fatalf("want the text, then the template, got %+v", sent)
	}
	for i, n := range order.Status.Notifications {
		if n.MessageID != sent[i].MessageID || n.DeliveryStatus != commercev1alpha1.DeliveryFailed || n.Error == nil || n.Error.Code != 470 {
			t.Errorf("notification %d: %+v, want message %s failed with 470", i, n.SentMessage, sent[i].MessageID)
		}
	}
	if c := meta.FindStatusCondition(order.Status.Conditions, commercev1alpha1.ConditionCustomerNotified); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("CustomerNotified %+v, want False", c)
	}
	w.eventually("a Warning event", func() bool { return w.hasEvent(order, corev1.EventTypeWarning, "CustomerNotifiedDeliveryFailed") })
	// Each failure was posted before its send was answered: refused first,
	// taken once recorded.
	for _, m := range sent {
		w.eventually("the early status of "+m.MessageID+" taken", func() bool {
			posts := earlyPosts(w.fake, m.MessageID)
			return len(posts) > 0 && posts[len(posts)-1].Accepted
		})
		if first := earlyPosts(w.fake, m.MessageID)[0]; first.Accepted || first.Status != "failed" || !strings.Contains(first.Answer, "503") {
			t.Errorf("first post about %s: %+v, want the failure refused with 503", m.MessageID, first)
		}
	}
	if sent := w.fake.Sent(); len(sent) != 2 {
		t.Fatalf("%d messages, want the text and one template", len(sent))
	}
}

// TestOnPremisesIntentLeftByACrashIsSentAtOnce: an operator stopped after
// writing an On-Premises intent, before recording the send. No status can
// ever resolve that intent (it has no callback data), so the next operator
// does not wait the intent timeout for one (the clock does not move here): it
// sends at once, and the record replaces the intent.
func TestOnPremisesIntentLeftByACrashIsSentAtOnce(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APIOnPremises)
	order := w.placeOrder("ABGGFlCGg0cvAgo6cHbBhfK5760X")
	w.waitOrder(order, "Pending", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.Phase == "Pending" })
	w.stop()
	w.setState(order, commercev1alpha1.OrderAccepted)
	order.Status.Notifications = []commercev1alpha1.OrderNotification{{State: commercev1alpha1.OrderAccepted,
		SentMessage: commercev1alpha1.SentMessage{SentAt: &metav1.Time{Time: w.clock.Now()}}}}
	must(t, env.Client.Status().Update(ctx, order))
	w.start()
	w.waitOrder(order, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return notifiedReason(o) == commercev1alpha1.ReasonSent
	})
	sent := w.fake.Sent()
	if n := order.Status.Notifications; len(sent) != 1 || len(n) != 1 || n[0].MessageID != sent[0].MessageID {
		t.Fatalf("sent %d, notifications %+v: want the one message recorded in place of the intent", len(sent), n)
	}
}

// earlyPosts are the fake's posts of statuses about messageID made before
// its send was answered.
func earlyPosts(fake *fakewhatsapp.Server, messageID string) []fakewhatsapp.EarlyStatus {
	var posts []fakewhatsapp.EarlyStatus
	for _, e := range fake.EarlyStatuses() {
		if e.MessageID == messageID {
			posts = append(posts, e)
		}
	}
	return posts
}
