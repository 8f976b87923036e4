package webhookreceiver_test

import (
	"net/http"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// billedOrder creates an order of ch's and records its bill as the order
// controller does once WhatsApp accepted it, then waits until the
// receiver's cache sees it.
func billedOrder(t *testing.T, ch *commercev1alpha1.WhatsAppChannel, name string) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	o := customerOrder(t, ch, name, commercev1alpha1.Customer{WaID: "919999999999"})
	o.Status.Payment = &commercev1alpha1.OrderPaymentStatus{
		ReferenceID: bill.Reference(o.Namespace, o.Name, string(o.UID)),
		SentMessage: commercev1alpha1.SentMessage{MessageID: "wamid.bill-" + name, DeliveryStatus: commercev1alpha1.DeliverySent,
			CallbackData: callbackdata.Ref{Kind: "WhatsAppOrder", Namespace: o.Namespace, Name: o.Name, About: "Payment"}.String()},
		Status: commercev1alpha1.PaymentRequested,
	}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cache sees the bill", func() bool {
		var cached commercev1alpha1.WhatsAppOrder
		return mgrCache.Get(ctx, client.ObjectKeyFromObject(o), &cached) == nil && cached.Status.Payment != nil
	})
	return o
}

func paymentOf(o *commercev1alpha1.WhatsAppOrder, status string, at time.Time) payload.Payment {
	p := payload.Payment{MessageID: o.Status.Payment.MessageID, RecipientID: "919999999999", Status: status, Timestamp: at,
		ReferenceID: o.Status.Payment.ReferenceID, Amount: &payload.Money{Value: 114900, Offset: 100}, Currency: "INR",
		TransactionID: "pay_" + status, TransactionType: "razorpay", TransactionStatus: map[string]string{"captured": "success"}[status], Method: "upi"}
	if status == "failed" {
		p.TransactionStatus, p.ErrorCode, p.ErrorReason = "failed", "BAD_REQUEST_ERROR", "payment declined by the bank"
	}
	return p
}

func postPayments(t *testing.T, ch *commercev1alpha1.WhatsAppChannel, ps ...payload.Payment) counts {
	t.Helper()
	b := webhookbody.New(whatsapp.Cloud, cloudPhone)
	for _, p := range ps {
		b.Payment(p)
	}
	r := post(t, ch.Status.WebhookPath, b.Bytes(), appSecret)
	if r.code != http.StatusOK {
		t.Fatalf("payment statuses answered %d %s, want 200", r.code, r.body)
	}
	return countsOf(t, r)
}

func TestPaymentStatusesFollowTheirOwnOrder(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	now := time.Now().Truncate(time.Second)

	t.Run("captured, then a late pending and a redelivery change nothing", func(t *testing.T) {
		o := billedOrder(t, ch, "paid")
		assertEqual(t, "captured", postPayments(t, ch, paymentOf(o, "captured", now)), counts{Updated: 1})
		p := getOrder(t, o).Status.Payment
		if p.Status != commercev1alpha1.PaymentCaptured || p.TransactionID != "pay_captured" || p.Amount != "1149" || p.Currency != "INR" || p.Method != "upi" {
			t.Fatalf("after captured: %+v", p)
		}
		// A payment status is not a delivery status: the bill's stays sent.
		if p.DeliveryStatus != commercev1alpha1.DeliverySent || p.MessageID != o.Status.Payment.MessageID {
			t.Errorf("the bill's delivery record moved: %+v", p.SentMessage)
		}
		assertEqual(t, "pending after captured", postPayments(t, ch, paymentOf(o, "pending", now.Add(time.Minute))), counts{Unchanged: 1})
		assertEqual(t, "captured again", postPayments(t, ch, paymentOf(o, "captured", now)), counts{Unchanged: 1})
		if got := getOrder(t, o).Status.Payment; got.Status != commercev1alpha1.PaymentCaptured || got.TransactionID != "pay_captured" {
			t.Errorf("after the late pending and the redelivery: %+v", got)
		}
	})

	t.Run("failed, then captured when the customer tries again", func(t *testing.T) {
		o := billedOrder(t, ch, "retried")
		assertEqual(t, "failed", postPayments(t, ch, paymentOf(o, "failed", now)), counts{Updated: 1})
		p := getOrder(t, o).Status.Payment
		if p.Status != commercev1alpha1.PaymentFailed || p.TransactionError == nil || p.TransactionError.Reason != "payment declined by the bank" {
			t.Fatalf("after failed: %+v", p)
		}
		// The old bug: failed applied as a delivery failure of the bill.
		if p.DeliveryStatus != commercev1alpha1.DeliverySent || p.Error != nil {
			t.Errorf("a failed payment marked the bill's delivery: %+v", p.SentMessage)
		}
		assertEqual(t, "captured", postPayments(t, ch, paymentOf(o, "captured", now.Add(time.Minute))), counts{Updated: 1})
		if p := getOrder(t, o).Status.Payment; p.Status != commercev1alpha1.PaymentCaptured || p.TransactionError != nil {
			t.Errorf("after failed then captured: %+v", p)
		}
	})

	t.Run("out of order in one body: captured before an older failure", func(t *testing.T) {
		o := billedOrder(t, ch, "shuffled")
		c := postPayments(t, ch, paymentOf(o, "captured", now.Add(time.Minute)), paymentOf(o, "failed", now), paymentOf(o, "pending", now.Add(-time.Minute)))
		if c.Updated+c.Unchanged != 3 {
			t.Errorf("counts %+v, want all three applied or unchanged", c)
		}
		if p := getOrder(t, o).Status.Payment; p.Status != commercev1alpha1.PaymentCaptured {
			t.Errorf("ended %s, want Captured", p.Status)
		}
	})

	t.Run("the bill's delivery statuses are tracked as for any message", func(t *testing.T) {
		o := billedOrder(t, ch, "delivered")
		read := payload.Status{MessageID: o.Status.Payment.MessageID, Status: "read", Timestamp: now, RecipientID: "919999999999", CallbackData: o.Status.Payment.CallbackData}
		r := post(t, ch.Status.WebhookPath, statusBody(read), appSecret)
		assertEqual(t, "read", countsOf(t, r), counts{Updated: 1})
		p := getOrder(t, o).Status.Payment
		if p.DeliveryStatus != commercev1alpha1.DeliveryRead || p.Status != commercev1alpha1.PaymentRequested {
			t.Errorf("after read: delivery %s payment %s, want read and Requested", p.DeliveryStatus, p.Status)
		}
	})
}

// A payment status for a reference no order of the channel has is
// acknowledged and counted, creates nothing, and never reaches an order of
// another namespace, even one whose bill has that very reference.
func TestForeignAndUnknownPaymentStatuses(t *testing.T) {
	victim := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	o := billedOrder(t, victim, "theirs")
	attacker := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	now := time.Now()

	assertEqual(t, "another namespace's reference", postPayments(t, attacker, paymentOf(o, "captured", now)), counts{Unmatched: 1})
	if p := getOrder(t, o).Status.Payment; p.Status != commercev1alpha1.PaymentRequested {
		t.Errorf("another channel's payment status reached the order: %+v", p)
	}
	unknown := paymentOf(o, "captured", now)
	unknown.ReferenceID = "wao-nobody"
	assertEqual(t, "unknown reference", postPayments(t, victim, unknown), counts{Unmatched: 1})
	if n := len(orders(t, attacker.Namespace)); n != 0 {
		t.Errorf("%d orders created in the other namespace", n)
	}
	if n := len(orders(t, victim.Namespace)); n != 1 {
		t.Errorf("%d orders in the channel's namespace, want the one", n)
	}
}
