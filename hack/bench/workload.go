package main

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The channel every order arrives on, and the content of every order: the
// cart of testdata/webhooks/cloud-order-multi-item.json.
const (
	channelName   = "shop"
	secretName    = "wa"
	phoneNumberID = "106540352242922"
	catalogID     = "194836987003835"
	customerName  = "Sheena Nelson"
	orderText     = "Love these!"
	// firstTimestamp is the message timestamp of order 0; order i is i seconds later.
	firstTimestamp = 1750096325
	// webhookToken derives the webhook path; the channel controller wants at least 16 bytes.
	webhookToken = "bench-webhook-token-5f1c0e9a7d3b4a62"
	appSecret    = "bench-app-secret-c41d8e2b9f07a3e5"
	// accessToken is what the operator sends to the fake WhatsApp API with.
	accessToken = "bench-access-token-7e3a90c1"
)

// Where the orders of a phase come from.
const (
	sourceDirect   = "direct"
	sourceReceiver = "receiver"
	// sourceArchived is the receiver with the archive on.
	sourceArchived = "archived"
)

// sampleItems is the sample's cart.
var sampleItems = []commercev1alpha1.OrderItem{
	{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "30", Currency: "USD"},
	{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: "25", Currency: "USD"},
}

// customerWaID is the phone number of the customer who sends every order of
// one phase (round 0 is the warm-up). The receiver labels each order with it,
// so a label selector finds exactly the orders of one phase.
func customerWaID(source string, round int) string {
	digit := map[string]int{sourceDirect: 1, sourceReceiver: 2, sourceArchived: 3}[source]
	return fmt.Sprintf("1650555%d%03d", digit, round)
}

// messageID is the WhatsApp id of order i of a phase, unique across phases and
// shaped like a real one.
func messageID(source string, round, i int) string {
	return fmt.Sprintf("wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQz%s%03d%08d", strings.ToUpper(source[:1]), round, i)
}

// orderSpecs are the n orders of one phase, the sample's cart each time.
func orderSpecs(source string, round, n int) []commercev1alpha1.WhatsAppOrderSpec {
	specs := make([]commercev1alpha1.WhatsAppOrderSpec, n)
	for i := range specs {
		specs[i] = orderSpec(source, round, i)
	}
	return specs
}

// orderSpec is order i of a phase.
func orderSpec(source string, round, i int) commercev1alpha1.WhatsAppOrderSpec {
	return commercev1alpha1.WhatsAppOrderSpec{
		Channel:    channelName,
		MessageID:  messageID(source, round, i),
		ReceivedAt: metav1.NewTime(time.Unix(firstTimestamp+int64(i), 0)),
		Customer:   commercev1alpha1.Customer{WaID: customerWaID(source, round), Name: customerName},
		CatalogID:  catalogID,
		Items:      append([]commercev1alpha1.OrderItem(nil), sampleItems...),
		Text:       orderText,
		State:      commercev1alpha1.OrderPending,
	}
}

// orderObject is the WhatsAppOrder the receiver creates for spec: same name,
// labels and spec.
func orderObject(namespace string, spec commercev1alpha1.WhatsAppOrderSpec) *commercev1alpha1.WhatsAppOrder {
	return &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      commercev1alpha1.ResourceName(spec.Channel, spec.MessageID),
			Labels:    orderLabels(spec),
		},
		Spec: spec,
	}
}

// orderLabels are the labels the receiver puts on the order for spec.
func orderLabels(spec commercev1alpha1.WhatsAppOrderSpec) map[string]string {
	return map[string]string{commercev1alpha1.LabelChannel: spec.Channel, commercev1alpha1.LabelCustomer: spec.Customer.WaID}
}

// webhookBody is the Cloud webhook Meta sends for the single order spec.
func webhookBody(spec commercev1alpha1.WhatsAppOrderSpec) []byte {
	items := make([]payload.Item, len(spec.Items))
	for i, it := range spec.Items {
		items[i] = payload.Item{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, ItemPrice: it.ItemPrice, Currency: it.Currency}
	}
	return webhookbody.New(whatsapp.Cloud, phoneNumberID).Order(payload.Order{
		MessageID: spec.MessageID,
		Customer:  payload.Customer{WaID: spec.Customer.WaID, Name: spec.Customer.Name},
		Timestamp: spec.ReceivedAt.Time,
		CatalogID: spec.CatalogID,
		Text:      spec.Text,
		Items:     items,
	}).Bytes()
}

// signedBodies are the webhook requests for specs, signed before the clock
// starts, since signing is Meta's work, not the receiver's.
func signedBodies(specs []commercev1alpha1.WhatsAppOrderSpec) []webhookbody.Signed {
	out := make([]webhookbody.Signed, len(specs))
	for i, spec := range specs {
		out[i] = webhookbody.Sign(webhookBody(spec), []byte(appSecret))
	}
	return out
}
