package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

func inrOrder(t *testing.T, ns string) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	// newOrder's cart is in USD, which no payment method takes; this one is India's.
	o := &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "shop-"},
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel: "shop", MessageID: "wamid.order-inr", ReceivedAt: metav1.NewTime(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
			Customer: commercev1alpha1.Customer{WaID: "919999999999", Name: "Asha"}, CatalogID: "194836987003835",
			Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "499.50", Currency: "INR"}},
		},
	}
	must(t, env.Client.Create(ctx, o))
	return o
}

func paymentOf(t *testing.T, o *commercev1alpha1.WhatsAppOrder) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	var got commercev1alpha1.WhatsAppOrder
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(o), &got))
	return &got
}

func TestRequestPaymentSetsThePaymentOnce(t *testing.T) {
	ns := env.Namespace(t)
	o := inrOrder(t, ns)

	refused(t, "give exactly one payment method: --gateway, --pix-code (with --merchant, --key, --key-type) or --link",
		"-n", ns, "request-payment", o.Name, "--gateway", "rzp", "--link", "https://pay.example/x")
	refused(t, "a Pix payment needs --pix-code, --merchant, --key and --key-type", "-n", ns, "request-payment", o.Name, "--pix-code", "000201")
	refused(t, fmt.Sprintf("order %s cannot be paid that way: the cart is in INR but a pix payment takes only BRL", o.Name),
		"-n", ns, "request-payment", o.Name, "--pix-code", "000201", "--merchant", "Loja", "--key", "k", "--key-type", "EVP")
	refused(t, fmt.Sprintf("order %s cannot be paid that way: the tax is not a whole number of cents: 0.125", o.Name),
		"-n", ns, "request-payment", o.Name, "--gateway", "rzp", "--tax", "0.125")
	if p := paymentOf(t, o).Spec.Payment; p != nil {
		t.Fatalf("a refused request set %+v", p)
	}

	want := fmt.Sprintf("order %s: payment of 1049 INR requested; the operator sends the bill\n", o.Name)
	if got := ok(t, "-n", ns, "request-payment", o.Name, "--gateway", "razorpay-prod", "--shipping", "50"); got != want {
		t.Errorf("request-payment printed %q, want %q", got, want)
	}
	p := paymentOf(t, o).Spec.Payment
	if p == nil || p.Gateway == nil || p.Gateway.ConfigurationName != "razorpay-prod" || p.Shipping != "50" {
		t.Fatalf("spec.payment is %+v", p)
	}
	if got, want := ok(t, "-n", ns, "request-payment", o.Name, "--gateway", "razorpay-prod", "--shipping", "50"), fmt.Sprintf("order %s already has this payment request\n", o.Name); got != want {
		t.Errorf("asking twice printed %q, want %q", got, want)
	}
	refused(t, fmt.Sprintf("order %s already has a payment request: it cannot be changed once set", o.Name),
		"-n", ns, "request-payment", o.Name, "--link", "https://pay.example/x")

	cancelled := inrOrder(t, ns)
	ok(t, "-n", ns, "cancel", cancelled.Name)
	res := run(t, "-n", ns, "request-payment", cancelled.Name, "--gateway", "rzp")
	if res.code == 0 || !strings.Contains(res.stderr, "payment cannot be requested for an order in a final state") {
		t.Errorf("requesting payment of a cancelled order: exit %d, %q", res.code, res.stderr)
	}
}

func TestTraceShowsThePaymentsSteps(t *testing.T) {
	ns := env.Namespace(t)
	o := inrOrder(t, ns)
	ok(t, "-n", ns, "request-payment", o.Name, "--gateway", "razorpay-prod")
	o = paymentOf(t, o)
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(o.CreationTimestamp.Add(d)); return &t }
	o.Status.Payment = &commercev1alpha1.OrderPaymentStatus{
		ReferenceID: "wao-3f2a9c1b7d4e5f60718293a4b5c6d7e",
		SentMessage: commercev1alpha1.SentMessage{MessageID: "wamid.bill", DeliveryStatus: commercev1alpha1.DeliveryRead, SentAt: at(time.Minute), UpdatedAt: at(2 * time.Minute)},
		Status:      commercev1alpha1.PaymentCaptured, PaymentUpdatedAt: at(3 * time.Minute),
		TransactionID: "pay_1", Method: "upi", Amount: "999", Currency: "INR",
	}
	must(t, env.Client.Status().Update(ctx, o))
	out := ok(t, "-n", ns, "trace", o.Name)
	for _, want := range []string{
		"payment sent the bill wao-3f2a9c1b7d4e5f60718293a4b5c6d7e (message wamid.bill)",
		"payment the bill was read",
		"payment the payment is Captured: 999 INR, transaction pay_1 by upi",
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasSuffix(strings.Join(strings.Fields(line), " "), want) {
				found = true
			}
		}
		if !found {
			t.Errorf("trace does not say %q:\n%s", want, out)
		}
	}
	if i, j := strings.Index(out, "sent the bill"), strings.Index(out, "is Captured"); i < 0 || j < i {
		t.Errorf("the payment's steps are not in time order:\n%s", out)
	}
}
