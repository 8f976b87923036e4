package webhookreceiver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The receiver is tested end to end: real HTTP requests into its handler, a real
// API server behind it, and the real channel controller making channels Ready.

var (
	env      *testenv.Env
	mgrCache client.Client
	server   *httptest.Server
	ctx      = context.Background()
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, &env, startManager))
}

func startManager(e *testenv.Env) (func(), error) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(testLogs())))
	op, err := operator.New(e.Config, operator.Options{SecretResyncPeriod: time.Second, WithoutCustomerReconcilers: true,
		AllowedAPIURLs: []string{"https://graph.facebook.com/", "https://wa.example.internal/"}})
	if err != nil {
		return nil, err
	}
	server = httptest.NewServer(op.Receiver.Handler())
	mgrCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- op.Start(mgrCtx) }()
	if !op.GetCache().WaitForCacheSync(mgrCtx) {
		cancel()
		return nil, <-done
	}
	mgrCache = op.GetClient()
	return func() { server.Close(); cancel(); <-done }, nil
}

// testLogs is where the operator's logs go: nowhere, unless TEST_LOGS is set.
func testLogs() io.Writer {
	if os.Getenv("TEST_LOGS") != "" {
		return os.Stderr
	}
	return io.Discard
}

const (
	appSecret   = "app-secret-for-tests"
	verifyToken = "verify-me"
	cloudPhone  = "106540352242922"
)

// customer sends the orders the tests build (webhookbody), on cloudPhone.
var customer = payload.Customer{WaID: "16505551234", Name: "Sheena Nelson"}

// cloudOrders is a Cloud body with one order per cart, message ids wamid.<key>.
func cloudOrders(carts map[string][]payload.Item) []byte {
	b := webhookbody.New(whatsapp.Cloud, cloudPhone)
	for _, id := range slices.Sorted(maps.Keys(carts)) {
		b.Order(payload.Order{MessageID: "wamid." + id, Customer: customer, Timestamp: time.Unix(1750096325, 0), CatalogID: "194836987003835", Items: carts[id]})
	}
	return b.Bytes()
}

// item is one of quantity of product a at price in currency.
func item(quantity int64, price, currency string) payload.Item {
	return payload.Item{ProductRetailerID: "a", Quantity: quantity, ItemPrice: price, Currency: currency}
}

type channelOpts struct {
	api   commercev1alpha1.APIGeneration
	phone string
	// secret overrides the Secret's data.
	secret map[string]string
}

// newChannel creates a Secret and a channel in a fresh namespace and waits until
// the receiver can see the channel Ready at its webhook path.
func newChannel(t *testing.T, o channelOpts) *commercev1alpha1.WhatsAppChannel {
	t.Helper()
	ns := env.Namespace(t)
	data := o.secret
	if data == nil {
		data = map[string]string{
			commercev1alpha1.SecretKeyWebhookToken: "a-long-random-webhook-token-" + ns,
			commercev1alpha1.SecretKeyAppSecret:    appSecret,
			commercev1alpha1.SecretKeyVerifyToken:  verifyToken,
		}
	}
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wa"}, StringData: data})
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop"},
		Spec: commercev1alpha1.WhatsAppChannelSpec{API: o.api, PhoneNumberID: o.phone, SecretRef: commercev1alpha1.SecretReference{Name: "wa"}}}
	if o.api == commercev1alpha1.APIOnPremises {
		ch.Spec.APIURL = "https://wa.example.internal"
	}
	if o.api == commercev1alpha1.APICloud && o.phone == "" {
		ch.Spec.PhoneNumberID = cloudPhone
	}
	mustCreate(t, ch)
	eventually(t, "channel Ready with a webhook path", func() bool {
		if err := mgrCache.Get(ctx, client.ObjectKeyFromObject(ch), ch); err != nil {
			return false
		}
		return ch.Status.WebhookPath != "" && meta.IsStatusConditionTrue(ch.Status.Conditions, commercev1alpha1.ConditionReady)
	})
	return ch
}

type response struct {
	code       int
	body       string
	retryAfter string
}

// post sends body as WhatsApp does, signed with secret unless it is empty.
func post(t *testing.T, path string, body []byte, secret string) response {
	t.Helper()
	req, err := webhookbody.Sign(body, []byte(secret)).Request(ctx, server.URL+path)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, req)
}

// do sends a request with exactly the header given.
func do(t *testing.T, method, path string, body []byte, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, server.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, body: string(b), retryAfter: resp.Header.Get("Retry-After")}
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(testenv.RepoRoot() + "/testdata/webhooks/" + name)
	if err != nil {
		t.Fatalf("reading sample: %v", err)
	}
	return b
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(ctx, obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, time.Minute, what, cond)
}

func orders(t *testing.T, ns string) []commercev1alpha1.WhatsAppOrder {
	t.Helper()
	var list commercev1alpha1.WhatsAppOrderList
	if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func inquiries(t *testing.T, ns string) []commercev1alpha1.ProductInquiry {
	t.Helper()
	var list commercev1alpha1.ProductInquiryList
	if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func reportOf(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("response body %q is not JSON: %v", r.body, err)
	}
	return m
}
