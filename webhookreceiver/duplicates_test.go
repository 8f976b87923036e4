package webhookreceiver_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

func TestConcurrentRedeliveriesStoreEachMessageOnce(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	body := sample(t, "cloud-batch-inquiry-order-status.json")
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = post(t, ch.Status.WebhookPath, body, appSecret).code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("delivery %d answered %d, want 200", i, c)
		}
	}
	if o, q := len(orders(t, ch.Namespace)), len(inquiries(t, ch.Namespace)); o != 1 || q != 1 {
		t.Fatalf("got %d orders and %d inquiries, want 1 and 1", o, q)
	}
	// A redelivery days later is acknowledged and reported as a duplicate.
	r := post(t, ch.Status.WebhookPath, body, appSecret)
	if rep := reportOf(t, r); r.code != http.StatusOK || rep["duplicates"] != float64(2) || rep["created"] != float64(0) {
		t.Fatalf("redelivery answered %d %s, want 200 with 2 duplicates", r.code, r.body)
	}
}

// TestPartialFailureIsRetriedWithoutDuplicates makes the real API server refuse
// one order of a batch (a ValidatingAdmissionPolicy), then lets it through.
func TestPartialFailureIsRetriedWithoutDuplicates(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	at := time.Unix(1750096325, 0)
	body := webhookbody.New(whatsapp.Cloud, cloudPhone).
		Order(payload.Order{MessageID: "wamid.first", Customer: customer, Timestamp: at, CatalogID: "c", Items: []payload.Item{item(1, "1", "USD")}}).
		Order(payload.Order{MessageID: "wamid.refused", Customer: customer, Timestamp: at, CatalogID: "c", Items: []payload.Item{item(2, "1", "USD")}}).
		Inquiry(payload.Inquiry{MessageID: "wamid.third", Customer: customer, Timestamp: at, Question: "?", ReplyToMessageID: "wamid.p", CatalogID: "c", ProductRetailerID: "a"}).
		Bytes()

	unblock := refuseOrder(t, ch.Namespace, "wamid.refused")
	r := post(t, ch.Status.WebhookPath, body, appSecret)
	if r.code != http.StatusServiceUnavailable || r.retryAfter == "" {
		t.Fatalf("answer %d (Retry-After %q) %s, want 503 with Retry-After", r.code, r.retryAfter, r.body)
	}
	if o, q := len(orders(t, ch.Namespace)), len(inquiries(t, ch.Namespace)); o != 1 || q != 1 {
		t.Fatalf("after the failure: %d orders and %d inquiries, want the 2 that could be stored", o, q)
	}

	unblock()
	r = post(t, ch.Status.WebhookPath, body, appSecret)
	if rep := reportOf(t, r); r.code != http.StatusOK || rep["created"] != float64(1) || rep["duplicates"] != float64(2) {
		t.Fatalf("retry answered %d %s, want 200 with 1 created and 2 duplicates", r.code, r.body)
	}
	if o, q := len(orders(t, ch.Namespace)), len(inquiries(t, ch.Namespace)); o != 2 || q != 1 {
		t.Fatalf("after the retry: %d orders and %d inquiries, want 2 and 1", o, q)
	}
}

// refuseOrder installs an admission policy refusing the order for messageID in
// ns, waits until the API server enforces it, and returns a function removing it.
func refuseOrder(t *testing.T, ns, messageID string) func() {
	t.Helper()
	return refuse(t, "refuse-"+ns, admissionregistrationv1.Create, "whatsapporders",
		fmt.Sprintf("object.metadata.namespace != %q || object.spec.messageID != %q", ns, messageID), func() error {
			o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "probe-"},
				Spec: commercev1alpha1.WhatsAppOrderSpec{Channel: "shop", MessageID: messageID, ReceivedAt: at(1), Customer: commercev1alpha1.Customer{WaID: "1"}, CatalogID: "c",
					Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "USD"}}}}
			return env.Client.Create(context.Background(), o, client.DryRunAll)
		})
}

// refuse installs an admission policy named name that refuses op on
// resource (of commerce.wa.dev) unless expression holds, waits until probe
// (a dry run of what it refuses) is refused, and returns a function lifting
// it and waiting until probe passes.
func refuse(t *testing.T, name string, op admissionregistrationv1.OperationType, resource, expression string, probe func() error) func() {
	t.Helper()
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{op},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{"commerce.wa.dev"}, APIVersions: []string{"*"}, Resources: []string{resource}},
				},
			}}},
			Validations: []admissionregistrationv1.Validation{{Expression: expression, Message: "refused by the test"}},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
		},
	}
	mustCreate(t, policy)
	mustCreate(t, binding)
	eventually(t, "the admission policy to be enforced", func() bool {
		err := probe()
		return err != nil && strings.Contains(err.Error(), "refused by the test")
	})
	return func() {
		_ = env.Client.Delete(ctx, binding)
		_ = env.Client.Delete(ctx, policy)
		eventually(t, "the admission policy to be lifted", func() bool { return probe() == nil })
	}
}
