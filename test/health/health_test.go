// Package health checks what GitOps tools make of the operator's resources: the
// operator (all its reconcilers) runs against a real API server, drives each kind
// into each state, and the objects read back are judged by kstatus (what Flux and
// kubectl-based tools use) and by the Argo CD health checks of config/argocd.
package health

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/test/internal/luahealth"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, &env, func(e *testenv.Env) (func(), error) {
		op, err := operator.New(e.Config, operator.Options{})
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- op.Start(ctx) }()
		return func() { cancel(); <-done }, nil
	}))
}

// judge reads obj back from the API server and gives the verdicts of kstatus
// and of the Argo CD health check on it.
// reconciled tells whether the controller has reconciled the object's generation.
func judge(t *testing.T, obj client.Object) (kstatus status.Status, argo string, message string, reconciled bool) {
	t.Helper()
	gvk, err := env.Client.GroupVersionKindFor(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), u); err != nil {
		t.Fatal(err)
	}
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	reconciled = observed == u.GetGeneration()
	res, err := status.Compute(u)
	if err != nil {
		t.Fatalf("kstatus: %v", err)
	}
	script, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "argocd", "commerce.wa.dev", gvk.Kind, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	argo, message, err = luahealth.Run(string(script), u.Object)
	if err != nil {
		t.Fatalf("Argo CD health check of %s: %v", gvk.Kind, err)
	}
	return res.Status, argo, message, reconciled
}

// settles waits until the controller has reconciled obj's generation and kstatus
// and Argo CD read it as want and wantArgo.
func settles(t *testing.T, what string, obj client.Object, want status.Status, wantArgo string) {
	t.Helper()
	var got status.Status
	var argo, message string
	var reconciled bool
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, argo, message, reconciled = judge(t, obj)
		if reconciled && got == want && argo == wantArgo {
			t.Logf("%s: kstatus %s, Argo CD %s (%s)", what, got, argo, message)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: kstatus %s and Argo CD %s (%s), want %s and %s", what, got, argo, message, want, wantArgo)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type shop struct {
	ns      string
	fake    *fakewhatsapp.Server
	channel *commercev1alpha1.WhatsAppChannel
}

// newShop makes a namespace with a Cloud channel sending to a fake WhatsApp API;
// withSecret false leaves its Secret out.
func newShop(t *testing.T, withSecret bool) *shop {
	t.Helper()
	s := &shop{ns: env.Namespace(t), fake: fakewhatsapp.New(fakewhatsapp.Options{})}
	if err := s.fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.fake.Close() })
	if withSecret {
		create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "wa"}, StringData: map[string]string{
			commercev1alpha1.SecretKeyWebhookToken: "a-long-random-webhook-token", commercev1alpha1.SecretKeyAppSecret: "app-secret",
			commercev1alpha1.SecretKeyAccessToken: "token",
		}})
	}
	s.channel = &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: "shop"}, Spec: commercev1alpha1.WhatsAppChannelSpec{
		API: commercev1alpha1.APICloud, PhoneNumberID: "106540352242922", APIURL: s.fake.URL(), SecretRef: commercev1alpha1.SecretReference{Name: "wa"},
	}}
	create(t, s.channel)
	return s
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T: %v", obj, err)
	}
}

func (s *shop) order(t *testing.T, name, currency string) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: "shop", MessageID: "wamid." + name, ReceivedAt: metav1.Now(), Customer: commercev1alpha1.Customer{WaID: "16505551234"}, CatalogID: "c",
		Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 2, ItemPrice: "7.99", Currency: currency}},
	}}
	create(t, o)
	return o
}

func setState(t *testing.T, o *commercev1alpha1.WhatsAppOrder, state commercev1alpha1.OrderState) {
	t.Helper()
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"state":"`+string(state)+`"}}`))
	if err := env.Client.Patch(context.Background(), o, patch); err != nil {
		t.Fatal(err)
	}
}

func TestChannel(t *testing.T) {
	broken := newShop(t, false)
	settles(t, "a channel whose Secret is missing", broken.channel, status.FailedStatus, "Degraded")
	ready := newShop(t, true)
	settles(t, "a channel with its Secret", ready.channel, status.CurrentStatus, "Healthy")
}

func TestOrder(t *testing.T) {
	s := newShop(t, true)
	settles(t, "the channel", s.channel, status.CurrentStatus, "Healthy")

	pending := s.order(t, "pending", "USD")
	settles(t, "a valid order waiting for a decision", pending, status.CurrentStatus, "Healthy")
	setState(t, pending, commercev1alpha1.OrderAccepted)
	settles(t, "an accepted order, its customer notified", pending, status.CurrentStatus, "Healthy")

	invalid := s.order(t, "invalid", "XYZ")
	settles(t, "an invalid cart", invalid, status.FailedStatus, "Degraded")

	if err := s.fake.FailAlways(fakewhatsapp.FailServerError); err != nil {
		t.Fatal(err)
	}
	retried := s.order(t, "retried", "USD")
	setState(t, retried, commercev1alpha1.OrderAccepted)
	settles(t, "an accepted order whose notification is being retried", retried, status.InProgressStatus, "Progressing")

	if err := s.fake.FailAlways(fakewhatsapp.FailPermanent); err != nil {
		t.Fatal(err)
	}
	refused := s.order(t, "refused", "USD")
	setState(t, refused, commercev1alpha1.OrderAccepted)
	settles(t, "an accepted order whose notification was refused for good", refused, status.FailedStatus, "Degraded")
}

func TestInquiry(t *testing.T) {
	s := newShop(t, true)
	settles(t, "the channel", s.channel, status.CurrentStatus, "Healthy")
	inquiry := func(name string) *commercev1alpha1.ProductInquiry {
		q := &commercev1alpha1.ProductInquiry{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name}, Spec: commercev1alpha1.ProductInquirySpec{
			Channel: "shop", MessageID: "wamid." + name, ReceivedAt: metav1.Now(), Customer: commercev1alpha1.Customer{WaID: "16505551234"},
			Product: commercev1alpha1.ProductReference{CatalogID: "c", ProductRetailerID: "a"}, Question: "In stock?",
		}}
		create(t, q)
		return q
	}
	reply := func(q *commercev1alpha1.ProductInquiry) {
		patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"reply":{"text":"Yes"}}}`))
		if err := env.Client.Patch(context.Background(), q, patch); err != nil {
			t.Fatal(err)
		}
	}
	open := inquiry("open")
	settles(t, "an open inquiry", open, status.CurrentStatus, "Healthy")
	reply(open)
	settles(t, "an answered inquiry", open, status.CurrentStatus, "Healthy")

	if err := s.fake.FailAlways(fakewhatsapp.FailServerError); err != nil {
		t.Fatal(err)
	}
	retried := inquiry("retried")
	reply(retried)
	settles(t, "an inquiry whose reply is being retried", retried, status.InProgressStatus, "Progressing")
}

func TestProductMessage(t *testing.T) {
	s := newShop(t, true)
	settles(t, "the channel", s.channel, status.CurrentStatus, "Healthy")
	message := func(name string) *commercev1alpha1.ProductMessage {
		m := &commercev1alpha1.ProductMessage{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: name}, Spec: commercev1alpha1.ProductMessageSpec{
			Channel: "shop", To: commercev1alpha1.Recipient{WaID: "16505551234"}, CatalogID: "c",
			Product: &commercev1alpha1.SingleProduct{ProductRetailerID: "a"}, Body: "Back in stock",
		}}
		create(t, m)
		return m
	}
	settles(t, "a product message sent", message("sent"), status.CurrentStatus, "Healthy")

	if err := s.fake.FailAlways(fakewhatsapp.FailServerError); err != nil {
		t.Fatal(err)
	}
	settles(t, "a product message whose send is being retried", message("retried"), status.InProgressStatus, "Progressing")

	if err := s.fake.FailAlways(fakewhatsapp.FailWindowClosed); err != nil {
		t.Fatal(err)
	}
	settles(t, "a product message refused: the window is closed and it names no template", message("closed"), status.FailedStatus, "Degraded")
}
