//go:build cluster

package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// shop is a channel whose webhooks go through the receiver Service, and whose
// messages to customers go to a fake WhatsApp API on the host.
type shop struct {
	namespace  string
	webhookURL string
	verify     string
	secret     []byte
	fake       *fakewhatsapp.Server
}

const (
	appSecret   = "cluster-app-secret"
	verifyToken = "cluster-verify-token"
)

// newShop creates a namespace with a Cloud channel for the fixture's phone number.
// The fake WhatsApp API listens on the node's address, the host end of the pods'
// bridge, which is where the pods reach the host.
func newShop(t *testing.T, name string) *shop {
	t.Helper()
	ctx := context.Background()
	ns := namespace(t, name)
	fake := fakewhatsapp.New(fakewhatsapp.Options{Addr: nodeIP(t) + ":0"})
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })

	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-whatsapp"},
		StringData: map[string]string{
			"webhookToken": "cluster-webhook-token-" + name, "appSecret": appSecret,
			"verifyToken": verifyToken, "accessToken": "cluster-access-token",
		},
	}
	channel := &commercev1alpha1.WhatsAppChannel{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec: commercev1alpha1.WhatsAppChannelSpec{
			API: commercev1alpha1.APICloud, PhoneNumberID: "106540352242922", APIURL: fake.URL(),
			SecretRef: commercev1alpha1.SecretReference{Name: secret.Name},
		},
	}
	for _, obj := range []client.Object{secret, channel} {
		if err := kube.Create(ctx, obj); err != nil {
			t.Fatalf("creating %T: %v", obj, err)
		}
	}
	testenv.Eventually(t, time.Minute, "the channel to become Ready", func() bool {
		err := kube.Get(ctx, client.ObjectKeyFromObject(channel), channel)
		return err == nil && channel.Status.WebhookPath != "" && conditionTrue(channel.Status.Conditions, "Ready")
	})
	return &shop{
		namespace:  ns,
		webhookURL: "http://" + serviceIP(t, receiverService) + channel.Status.WebhookPath,
		verify:     verifyToken,
		secret:     []byte(appSecret),
		fake:       fake,
	}
}

func conditionTrue(conds []metav1.Condition, typ string) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// nodeIP is the node's InternalIP, an address of the host the pods can reach.
func nodeIP(t testing.TB) string {
	t.Helper()
	var nodes corev1.NodeList
	if err := kube.List(context.Background(), &nodes); err != nil || len(nodes.Items) != 1 {
		t.Fatalf("want one node: %v (%d nodes)", err, len(nodes.Items))
	}
	for _, a := range nodes.Items[0].Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	t.Fatalf("node %s has no InternalIP", nodes.Items[0].Name)
	return ""
}

// serviceIP is the ClusterIP of a Service of the operator: the host reaches it
// through kube-proxy's rules, as a pod or an Ingress controller would.
func serviceIP(t testing.TB, name string) string {
	t.Helper()
	var svc corev1.Service
	if err := kube.Get(context.Background(), client.ObjectKey{Namespace: systemNamespace, Name: name}, &svc); err != nil {
		t.Fatal(err)
	}
	return svc.Spec.ClusterIP + ":80"
}

// orders lists the WhatsAppOrders of a namespace by message id.
func orders(t testing.TB, ns string) map[string][]commercev1alpha1.WhatsAppOrder {
	t.Helper()
	var list commercev1alpha1.WhatsAppOrderList
	if err := kube.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing orders: %v", err)
	}
	out := map[string][]commercev1alpha1.WhatsAppOrder{}
	for _, o := range list.Items {
		out[o.Spec.MessageID] = append(out[o.Spec.MessageID], o)
	}
	return out
}

// accept decides an order, as a person does with kubectl patch: the customer is
// told.
func accept(t testing.TB, order *commercev1alpha1.WhatsAppOrder) {
	t.Helper()
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"state":"Accepted"}}`))
	if err := kube.Patch(context.Background(), order, patch); err != nil {
		t.Fatalf("accepting order %s: %v", order.Name, err)
	}
}

// TestReceiverThroughService: Meta's handshake and a signed order, sent to the
// receiver Service's ClusterIP, reach a replica; the order becomes a resource and
// the customer is notified through the channel's API.
func TestReceiverThroughService(t *testing.T) {
	installed(t)
	s := newShop(t, "shop-service")

	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {s.verify}, "hub.challenge": {"1158201444"}}
	resp, err := http.Get(s.webhookURL + "?" + q.Encode())
	if err != nil {
		t.Fatalf("handshake through the Service: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "1158201444" {
		t.Fatalf("handshake: %d %q, want 200 and the challenge", resp.StatusCode, body)
	}

	snd := newSender(s.webhookURL, s.secret)
	id := fmt.Sprintf("wamid.service-%d", time.Now().UnixNano())
	if a := snd.post(context.Background(), orderBody(t, id, "15550001111")); a.status != http.StatusOK {
		t.Fatalf("order through the Service: %+v, want 200", a)
	}
	got := orders(t, s.namespace)[id]
	if len(got) != 1 {
		t.Fatalf("%d orders with message id %s after a 200, want 1", len(got), id)
	}
	accept(t, &got[0])
	testenv.Eventually(t, time.Minute, "the customer's notification", func() bool {
		for _, m := range s.fake.Sent() {
			if m.To == "15550001111" {
				return true
			}
		}
		return false
	})
}
