package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// The channel every order arrives on, and the content of every order: the
// cart of testdata/webhooks/cloud-order-multi-item.json.
const (
	channelName   = "shop"
	secretName    = "wa"
	phoneNumberID = "106540352242922"
	displayPhone  = "15550783881"
	accountID     = "102290129340398"
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
	digit := 1
	if source == sourceReceiver {
		digit = 2
	}
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
		specs[i] = commercev1alpha1.WhatsAppOrderSpec{
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
	return specs
}

// orderObject is the WhatsAppOrder the receiver creates for spec: same name,
// labels and spec.
func orderObject(namespace string, spec commercev1alpha1.WhatsAppOrderSpec) *commercev1alpha1.WhatsAppOrder {
	return &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      webhookreceiver.ResourceName(spec.Channel, spec.MessageID),
			Labels:    orderLabels(spec),
		},
		Spec: spec,
	}
}

// orderLabels are the labels the receiver puts on the order for spec.
func orderLabels(spec commercev1alpha1.WhatsAppOrderSpec) map[string]string {
	return map[string]string{commercev1alpha1.LabelChannel: spec.Channel, commercev1alpha1.LabelCustomer: spec.Customer.WaID}
}

// The Cloud API webhook body, in the member order Meta uses.
type (
	cloudBody struct {
		Object string       `json:"object"`
		Entry  []cloudEntry `json:"entry"`
	}
	cloudEntry struct {
		ID      string        `json:"id"`
		Changes []cloudChange `json:"changes"`
	}
	cloudChange struct {
		Value cloudValue `json:"value"`
		Field string     `json:"field"`
	}
	cloudValue struct {
		MessagingProduct string         `json:"messaging_product"`
		Metadata         cloudMetadata  `json:"metadata"`
		Contacts         []cloudContact `json:"contacts,omitempty"`
		Messages         []cloudMessage `json:"messages,omitempty"`
		Statuses         []cloudStatus  `json:"statuses,omitempty"`
	}
	cloudMetadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	cloudContact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	}
	cloudMessage struct {
		From      string     `json:"from"`
		ID        string     `json:"id"`
		Timestamp string     `json:"timestamp"`
		Type      string     `json:"type"`
		Order     cloudOrder `json:"order"`
	}
	cloudOrder struct {
		CatalogID    string      `json:"catalog_id"`
		Text         string      `json:"text,omitempty"`
		ProductItems []cloudItem `json:"product_items"`
	}
	cloudItem struct {
		ProductRetailerID string      `json:"product_retailer_id"`
		Quantity          int64       `json:"quantity"`
		ItemPrice         json.Number `json:"item_price"`
		Currency          string      `json:"currency"`
	}
)

// webhookBody is the Cloud webhook Meta sends for the single order spec.
func webhookBody(spec commercev1alpha1.WhatsAppOrderSpec) ([]byte, error) {
	items := make([]cloudItem, len(spec.Items))
	for i, it := range spec.Items {
		items[i] = cloudItem{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, ItemPrice: json.Number(it.ItemPrice), Currency: it.Currency}
	}
	contact := cloudContact{WaID: spec.Customer.WaID}
	contact.Profile.Name = spec.Customer.Name
	body := cloudBody{Object: "whatsapp_business_account", Entry: []cloudEntry{{
		ID: accountID,
		Changes: []cloudChange{{Field: "messages", Value: cloudValue{
			MessagingProduct: "whatsapp",
			Metadata:         cloudMetadata{DisplayPhoneNumber: displayPhone, PhoneNumberID: phoneNumberID},
			Contacts:         []cloudContact{contact},
			Messages: []cloudMessage{{
				From:      spec.Customer.WaID,
				ID:        spec.MessageID,
				Timestamp: fmt.Sprint(spec.ReceivedAt.Unix()),
				Type:      "order",
				Order:     cloudOrder{CatalogID: spec.CatalogID, Text: spec.Text, ProductItems: items},
			}},
		}}},
	}}}
	return json.Marshal(body)
}

// signedBody is a webhook request ready to send: the body and its
// X-Hub-Signature-256, computed before the clock starts, since signing is
// Meta's work, not the receiver's.
type signedBody struct {
	body      []byte
	signature string
}

// signedBodies are the webhook requests for specs.
func signedBodies(specs []commercev1alpha1.WhatsAppOrderSpec) ([]signedBody, error) {
	out := make([]signedBody, len(specs))
	for i, spec := range specs {
		b, err := webhookBody(spec)
		if err != nil {
			return nil, fmt.Errorf("encoding the webhook body of %s: %w", spec.MessageID, err)
		}
		out[i] = signedBody{body: b, signature: hubsignature.Sign([]byte(appSecret), b)}
	}
	return out, nil
}
