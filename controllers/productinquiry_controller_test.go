package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// ask posts a customer's question about a product, stamped with the fake clock.
func (w *world) ask(messageID string) *commercev1alpha1.ProductInquiry {
	w.t.Helper()
	w.postMessage(w.webhook().Inquiry(payload.Inquiry{
		MessageID: messageID, Customer: payload.Customer{WaID: customer, Name: "Sheena Nelson"}, Timestamp: w.clock.Now(),
		Question: "Is this still available?", ReplyToMessageID: "wamid.product-message", CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4",
	}))
	q := &commercev1alpha1.ProductInquiry{}
	must(w.t, env.Client.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: commercev1alpha1.ResourceName("shop", messageID)}, q))
	return q
}

func (w *world) reply(q *commercev1alpha1.ProductInquiry, text string) {
	w.t.Helper()
	must(w.t, env.Client.Patch(ctx, q, client.RawPatch("application/merge-patch+json", []byte(fmt.Sprintf(`{"spec":{"reply":{"text":%q}}}`, text)))))
}

func (w *world) waitInquiry(q *commercev1alpha1.ProductInquiry, phase commercev1alpha1.InquiryPhase) {
	w.t.Helper()
	w.eventually("phase "+string(phase), func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(q), q)
		return q.Status.Phase == phase
	})
}

func TestInquiryReplyInsideTheWindow(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	q := w.ask("wamid.question")
	w.waitInquiry(q, commercev1alpha1.InquiryOpen)
	if want := q.Spec.ReceivedAt.Add(24 * time.Hour); !q.Status.WindowExpiresAt.Time.Equal(want) {
		t.Fatalf("windowExpiresAt %v, want %v", q.Status.WindowExpiresAt, want)
	}
	w.clock.SetTime(w.clock.Now().Add(23 * time.Hour))
	w.reply(q, "Yes, in stock!")
	w.waitInquiry(q, commercev1alpha1.InquiryAnswered)
	sent := w.fake.Sent()
	if len(sent) != 1 || sent[0].Text != "Yes, in stock!" || sent[0].ContextMessageID != "wamid.question" || sent[0].To != customer {
		t.Fatalf("want one reply in the customer's thread, got %+v", sent)
	}
	if q.Status.Reply == nil || q.Status.Reply.MessageID != sent[0].MessageID || !meta.IsStatusConditionTrue(q.Status.Conditions, commercev1alpha1.ConditionAnswered) {
		t.Fatalf("status %+v does not record the reply", q.Status)
	}
	must(t, w.fake.PostStatuses(ctx, w.webhookURL(), []byte(appSecret), "Cloud", sent[0].MessageID, customer, []string{"read", "delivered"}, false))
	w.eventually("the reply read", func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(q), q)
		return q.Status.Reply.DeliveryStatus == commercev1alpha1.DeliveryRead
	})
}

func TestInquiryReplyAfterExpiry(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APIOnPremises)
	q := w.ask("ABGGFlA5FpafAgo6tHcNmNjXmuSf")
	w.waitInquiry(q, commercev1alpha1.InquiryOpen)
	w.clock.SetTime(w.clock.Now().Add(25 * time.Hour))
	w.reply(q, "Sorry for the wait")
	w.waitInquiry(q, commercev1alpha1.InquiryExpired)
	if n := len(w.fake.Sent()); n != 0 {
		t.Fatalf("%d messages sent after the window closed", n)
	}
	if c := meta.FindStatusCondition(q.Status.Conditions, commercev1alpha1.ConditionAnswered); c == nil || c.Reason != "WindowClosed" {
		t.Fatalf("Answered = %+v, want reason WindowClosed", c)
	}
}

func TestInquiryExpiresUnanswered(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	q := w.ask("wamid.unanswered")
	w.waitInquiry(q, commercev1alpha1.InquiryOpen)
	w.clock.SetTime(w.clock.Now().Add(24*time.Hour + time.Second))
	w.touch(q) // what the RequeueAfter for the expiry does in real time
	w.waitInquiry(q, commercev1alpha1.InquiryExpired)
	if !w.hasEvent(q, corev1.EventTypeWarning, "Expired") {
		w.eventually("an Expired event", func() bool { return w.hasEvent(q, corev1.EventTypeWarning, "Expired") })
	}
}

func TestInquiryReplyRefused(t *testing.T) {
	for _, tc := range []struct {
		mode  fakewhatsapp.FailureMode
		phase commercev1alpha1.InquiryPhase
	}{{fakewhatsapp.FailWindowClosed, commercev1alpha1.InquiryExpired}, {fakewhatsapp.FailPermanent, commercev1alpha1.InquiryFailed}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			w := newWorld(t, commercev1alpha1.APICloud)
			q := w.ask("wamid.refused")
			w.waitInquiry(q, commercev1alpha1.InquiryOpen)
			must(t, w.fake.FailNext(tc.mode, 1))
			w.reply(q, "Yes")
			w.waitInquiry(q, tc.phase)
			c := meta.FindStatusCondition(q.Status.Conditions, commercev1alpha1.ConditionAnswered)
			if c == nil || c.Status != "False" || c.Message == "" {
				t.Fatalf("Answered = %+v, want False with WhatsApp's error", c)
			}
			if tc.phase == commercev1alpha1.InquiryFailed && !strings.Contains(c.Message, "code 100") {
				t.Fatalf("Answered message %q does not carry WhatsApp's error", c.Message)
			}
		})
	}
}
