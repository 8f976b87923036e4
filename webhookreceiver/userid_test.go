package webhookreceiver_test

import (
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// TestUserIDChangeRedirectsOpenOrdersAndInquiries posts Meta's
// user_changed_user_id system message: the customer's open orders and Open
// inquiries of the channel record the new id, so later messages go there;
// finished ones, other customers' and another channel's keep theirs. A
// second change follows the first.
func TestUserIDChangeRedirectsOpenOrdersAndInquiries(t *testing.T) {
	const (
		previous = "US.13491208655302741918"
		current  = "US.27382019466413852931"
	)
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	noa := commercev1alpha1.Customer{UserID: previous, Name: "Noa"}
	open := customerOrder(t, ch, "open", noa)
	finished := customerOrder(t, ch, "finished", noa)
	finished.Status.Phase, finished.Status.FinishedAt = commercev1alpha1.OrderPhase(commercev1alpha1.OrderDelivered), &metav1.Time{Time: time.Now()}
	if err := env.Client.Status().Update(ctx, finished); err != nil {
		t.Fatal(err)
	}
	someoneElse := customerOrder(t, ch, "someone-else", commercev1alpha1.Customer{UserID: "US.3"})
	question := customerInquiry(t, ch, "question", noa, "")
	answered := customerInquiry(t, ch, "answered", noa, commercev1alpha1.InquiryAnswered)
	elsewhere := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ch.Namespace, Name: "elsewhere"}, Spec: open.Spec}
	elsewhere.Spec.Channel, elsewhere.Spec.MessageID = "another-channel", "wamid.elsewhere"
	mustCreate(t, elsewhere)
	waitIndexed(t, ch.Namespace, previous, 3, 2)

	r := post(t, ch.Status.WebhookPath, sample(t, "cloud-system-user-changed-user-id.json"), appSecret)
	if c := countsOf(t, r); r.code != http.StatusOK || c != (counts{Updated: 1}) {
		t.Fatalf("answer %d %s, want 200 with 1 updated", r.code, r.body)
	}
	want := map[client.Object]string{open: current, question: current, finished: "", someoneElse: "", answered: "", elsewhere: ""}
	for obj, id := range want {
		if got := customerUserIDOf(t, obj); got != id {
			t.Errorf("%s: status.customerUserID %q, want %q", obj.GetName(), got, id)
		}
	}
	if r := post(t, ch.Status.WebhookPath, sample(t, "cloud-system-user-changed-user-id.json"), appSecret); countsOf(t, r) != (counts{Unchanged: 1}) {
		t.Fatalf("redelivery answered %d %s, want 1 unchanged", r.code, r.body)
	}

	waitIndexed(t, ch.Namespace, current, 1, 1)
	again := webhookbody.New(whatsapp.Cloud, cloudPhone).UserIDChange(payload.UserIDChange{
		MessageID: "wamid.second-change", Timestamp: time.Now(), Previous: current, Current: "US.4"}).Bytes()
	if r := post(t, ch.Status.WebhookPath, again, appSecret); r.code != http.StatusOK || countsOf(t, r) != (counts{Updated: 1}) {
		t.Fatalf("second change answered %d %s, want 200 with 1 updated", r.code, r.body)
	}
	if got := customerUserIDOf(t, open); got != "US.4" {
		t.Errorf("after the second change the order goes to %q, want US.4", got)
	}
}

func customerInquiry(t *testing.T, ch *commercev1alpha1.WhatsAppChannel, name string, customer commercev1alpha1.Customer, phase commercev1alpha1.InquiryPhase) *commercev1alpha1.ProductInquiry {
	t.Helper()
	q := &commercev1alpha1.ProductInquiry{
		ObjectMeta: metav1.ObjectMeta{Namespace: ch.Namespace, Name: name},
		Spec: commercev1alpha1.ProductInquirySpec{Channel: ch.Name, MessageID: "wamid.q-" + name, ReceivedAt: at(1700000000), Customer: customer,
			Product: commercev1alpha1.ProductReference{CatalogID: "c", ProductRetailerID: "p"}},
	}
	mustCreate(t, q)
	if phase != "" {
		q.Status.Phase = phase
		if phase != commercev1alpha1.InquiryOpen {
			q.Status.FinishedAt = &metav1.Time{Time: time.Now()}
		}
		if err := env.Client.Status().Update(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return q
}

// waitIndexed waits until the receiver's cache indexes orders and inquiries
// under the customer user id, with what the test wrote last.
func waitIndexed(t *testing.T, ns, userID string, orders, inquiries int) {
	t.Helper()
	eventually(t, "the customer's resources in the cache index", func() bool {
		var ol commercev1alpha1.WhatsAppOrderList
		var ql commercev1alpha1.ProductInquiryList
		match := []client.ListOption{client.InNamespace(ns), client.MatchingFields{index.CustomerUserID: userID}}
		if mgrCache.List(ctx, &ol, match...) != nil || mgrCache.List(ctx, &ql, match...) != nil {
			return false
		}
		finishedSeen := 0
		for _, o := range ol.Items {
			if o.Status.FinishedAt != nil {
				finishedSeen++
			}
		}
		answeredSeen := 0
		for _, q := range ql.Items {
			if q.Status.FinishedAt != nil {
				answeredSeen++
			}
		}
		// The finished order and the answered inquiry are only told apart once
		// their status writes are in the cache.
		return len(ol.Items) == orders && len(ql.Items) == inquiries &&
			(orders < 3 || finishedSeen == 1) && (inquiries < 2 || answeredSeen == 1)
	})
}

func customerUserIDOf(t *testing.T, obj client.Object) string {
	t.Helper()
	switch o := obj.(type) {
	case *commercev1alpha1.WhatsAppOrder:
		var got commercev1alpha1.WhatsAppOrder
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), &got); err != nil {
			t.Fatal(err)
		}
		return got.Status.CustomerUserID
	case *commercev1alpha1.ProductInquiry:
		var got commercev1alpha1.ProductInquiry
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), &got); err != nil {
			t.Fatal(err)
		}
		return got.Status.CustomerUserID
	}
	t.Fatalf("no customer user id on %T", obj)
	return ""
}
