package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The demo: on a local control plane, a namespace with a channel whose WhatsApp
// API is a fake that answers every send and then reports it sent, delivered and
// read, so the whole loop can be tried without Meta.
const (
	demoNamespace = "whatsapp-demo"
	demoPhone     = "106540352242922"
	demoCustomer  = "16505551234"
	// demoPaymentConfiguration is the demo channel's payment configuration,
	// which the fake takes as any other.
	demoPaymentConfiguration = "demo-razorpay"
)

// startDemo creates the demo channel once the operator runs, starts the fake API
// and prints how to place an order. It returns a function that stops the fake.
func startDemo(ctx context.Context, kubeconfig, stateDir, fakeAddr, webhookAddr string) (func(), error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: operator.NewScheme()})
	if err != nil {
		return nil, err
	}
	appSecret := "demo-app-secret"
	channel := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "shop"}}
	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demoNamespace}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: "shop-whatsapp"}},
		channel,
	} {
		// Created or updated, so a kept data directory follows a changed address.
		if _, err := controllerutil.CreateOrUpdate(ctx, c, obj, func() error {
			switch o := obj.(type) {
			case *corev1.Secret:
				o.StringData = map[string]string{
					commercev1alpha1.SecretKeyWebhookToken: "demo-webhook-token-change-me-for-real-use", commercev1alpha1.SecretKeyAppSecret: appSecret,
					commercev1alpha1.SecretKeyVerifyToken: "demo-verify-token", commercev1alpha1.SecretKeyAccessToken: "demo-access-token",
				}
			case *commercev1alpha1.WhatsAppChannel:
				o.Spec = commercev1alpha1.WhatsAppChannelSpec{API: commercev1alpha1.APICloud, PhoneNumberID: demoPhone, APIURL: "http://" + fakeAddr,
					SecretRef: commercev1alpha1.SecretReference{Name: "shop-whatsapp"},
					// India's payment gateway takes INR: the demo's INR order is billed through it.
					Payments: &commercev1alpha1.ChannelPayments{ConfigurationName: demoPaymentConfiguration}}
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("setting up the demo %T: %w", obj, err)
		}
	}
	var ch commercev1alpha1.WhatsAppChannel
	deadline := time.Now().Add(time.Minute)
	for {
		if err := c.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: "shop"}, &ch); err == nil {
			if ready := meta.FindStatusCondition(ch.Status.Conditions, commercev1alpha1.ConditionReady); ready != nil &&
				ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == ch.Generation {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("the demo channel did not become Ready")
		}
		time.Sleep(200 * time.Millisecond)
	}
	webhookURL := "http://" + loopback(webhookAddr) + ch.Status.WebhookPath
	fake := fakewhatsapp.New(fakewhatsapp.Options{
		Addr: fakeAddr, AccessToken: "demo-access-token", WebhookURL: webhookURL, AppSecret: []byte(appSecret),
		AutoStatus: true, StatusDelay: 2 * time.Second, PhoneNumberID: demoPhone,
	})
	if err := fake.Start(); err != nil {
		return nil, fmt.Errorf("starting the fake WhatsApp API on %s: %w", fakeAddr, err)
	}
	secretFile := filepath.Join(stateDir, "demo-app-secret")
	orderFile := filepath.Join(stateDir, "demo-order.json")
	if err := os.WriteFile(secretFile, []byte(appSecret), 0o600); err != nil {
		return nil, err
	}
	now := time.Now()
	if err := os.WriteFile(orderFile, demoOrder(fmt.Sprintf("wamid.demo-%d", now.Unix()), "Sheena Nelson", now, demoCart), 0o644); err != nil {
		return nil, err
	}
	paidOrderFile := filepath.Join(stateDir, "demo-order-inr.json")
	if err := os.WriteFile(paidOrderFile, demoOrder(fmt.Sprintf("wamid.demo-inr-%d", now.Unix()), "Priya Sharma", now, demoCartINR), 0o644); err != nil {
		return nil, err
	}
	fmt.Printf(`Demo: namespace %s has a Ready channel "shop" whose WhatsApp API is a fake on http://%s
(it reports every message sent, delivered and read). Place an order as a customer would:

    go run ./hack/postwebhook --url %s --secret-file %s --file %s

then decide it and watch the customer's notification arrive:

    kubectl -n %s get whatsapporders
    kubectl -n %s patch whatsapporder <name> --type=merge -p '{"spec":{"state":"Accepted"}}'
    kubectl -n %s get whatsapporders -o wide -w

The customer can also pay in the chat (India: a payment gateway, so this order is in INR).
Place it, ask for payment (the customer gets a bill), play the customer who pays, then ship
and deliver it: the customer's order card moves processing -> shipped -> completed:

    go run ./hack/postwebhook --url %[3]s --secret-file %[4]s --file %[9]s
    kubectl -n %[6]s get whatsapporders
    kubectl whatsapp -n %[6]s request-payment <name> --gateway %[10]s --shipping 40
    curl -X POST 'http://%[2]s/_fake/pay?payer=pay'
    kubectl whatsapp -n %[6]s accept <name>
    kubectl whatsapp -n %[6]s ship <name>
    kubectl whatsapp -n %[6]s deliver <name>
    kubectl -n %[6]s get whatsapporders -o wide
    curl -s http://%[2]s/_fake/sent

`, demoNamespace, fakeAddr, webhookURL, secretFile, orderFile, demoNamespace, demoNamespace, demoNamespace, paidOrderFile, demoPaymentConfiguration)
	pm := demoProductMessage(time.Now())
	if err := c.Create(ctx, pm); err != nil {
		_ = fake.Close()
		return nil, fmt.Errorf("sending the demo product message: %w", err)
	}
	fmt.Printf(`The demo also sent the customer a product message, %[2]s. Watch how they respond:

    kubectl -n %[1]s get pmsg -w

and play the customer: order from it, or ask about one of its products:

    curl -X POST 'http://%[3]s/_fake/reply?order=di9ozbzfi4:2:7.99:USD,hat0001:1:25:USD'
    curl -X POST 'http://%[3]s/_fake/reply?order=nqryix03ez:1:12.50:EUR'
    curl -X POST 'http://%[3]s/_fake/reply?inquiry=hat0001&text=Is+it+in+blue%%3F'
    kubectl -n %[1]s get pmsg -o wide
    kubectl -n %[1]s get whatsapporders,productinquiries -l commerce.wa.dev/product-message=%[2]s

`, demoNamespace, pm.Name, fakeAddr)
	return func() { _ = fake.Close() }, nil
}

// demoProductMessage is a multi-product message to the demo customer, named
// after now so each run sends a fresh one (the fake remembers only its own
// run's sends, and a customer can only reply to one it knows).
func demoProductMessage(now time.Time) *commercev1alpha1.ProductMessage {
	return &commercev1alpha1.ProductMessage{
		ObjectMeta: metav1.ObjectMeta{Namespace: demoNamespace, Name: fmt.Sprintf("summer-picks-%d", now.Unix())},
		Spec: commercev1alpha1.ProductMessageSpec{
			Channel: "shop", To: commercev1alpha1.Recipient{WaID: demoCustomer}, CatalogID: "194836987003835",
			Header: "Summer picks", Body: "Three things we think you will love this summer.", Footer: "Free delivery over 50 USD",
			Sections: []commercev1alpha1.ProductSection{
				{Title: "Tees", ProductRetailerIDs: []string{"di9ozbzfi4", "nqryix03ez"}},
				{Title: "Hats", ProductRetailerIDs: []string{"hat0001"}},
			},
		},
	}
}

// demoCart is the order to decide: 2 x 7.99 + 1 x 25 USD.
var demoCart = []cart.Item{
	{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"},
	{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: "25", Currency: "USD"},
}

// demoCartINR is the order to bill through India's payment gateway (INR
// only): 2 x 499.50 + 1 x 150 INR.
var demoCartINR = []cart.Item{
	{ProductRetailerID: "kurta-blue", Quantity: 2, ItemPrice: "499.50", Currency: "INR"},
	{ProductRetailerID: "dupatta", Quantity: 1, ItemPrice: "150", Currency: "INR"},
}

// demoOrder is a Cloud order webhook of items from the demo customer,
// stamped now, so the customer's 24-hour window is open and the
// notification goes out as text.
func demoOrder(messageID, customer string, now time.Time, items []cart.Item) []byte {
	return webhookbody.New(whatsapp.Cloud, demoPhone).Order(payload.Order{
		MessageID: messageID,
		Customer:  payload.Customer{WaID: demoCustomer, Name: customer},
		Timestamp: now,
		CatalogID: "194836987003835",
		Text:      "Love these!",
		Items:     items,
	}).Bytes()
}

// loopback turns a bind address such as ":8082" into one to connect to.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// flagValue returns the value of --name in args (either --name=v or --name v).
func flagValue(args []string, name, def string) string {
	for i, a := range args {
		a = "--" + strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return def
}
