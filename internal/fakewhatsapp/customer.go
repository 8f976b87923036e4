package fakewhatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The fake can play the customer who received a product message: it posts
// the webhook WhatsApp would post when that customer orders from the message
// or taps "Message business" on one of its products, with context.id set to
// the product message's id, signed like every webhook it posts.

// OrderItem is one line of a customer's cart. Price is a decimal string
// ("7.99"); it goes on the wire as a JSON number, as WhatsApp sends it.
type OrderItem struct {
	ProductRetailerID string
	Quantity          int64
	Price             string
	Currency          string
}

// Reply is what the customer answers a product message with: an order
// (Items, and an optional note in Text) or an inquiry (InquiryProduct, and
// the question in Text).
type Reply struct {
	Items          []OrderItem
	InquiryProduct string
	Text           string
	// CatalogID overrides the catalog of the product message (needed for a
	// catalog message or template, which name none).
	CatalogID string
	// Name is the customer's profile name; it defaults to "Demo Customer".
	Name string
}

// ReplyTo makes the customer who received the accepted send productMessageID
// answer it with r, posting the webhook to webhookURL, signed with appSecret
// when it is non-empty. It returns the new customer message's id.
func (s *Server) ReplyTo(ctx context.Context, webhookURL string, appSecret []byte, productMessageID string, r Reply) (string, error) {
	m, ok := s.lookup(productMessageID)
	if !ok {
		return "", fmt.Errorf("fakewhatsapp: no accepted send with message id %q", productMessageID)
	}
	if webhookURL == "" {
		return "", errors.New("fakewhatsapp: no webhook URL configured")
	}
	msg, err := customerMessage(m, r, time.Now())
	if err != nil {
		return "", err
	}
	t := s.targetFor(m)
	t.url, t.secret = webhookURL, appSecret
	body, err := json.Marshal(webhookBody(m.Generation, m.PhoneNumberID, webhookValue{
		Contacts: []contact{{Profile: profile{Name: orDefault(r.Name, "Demo Customer")}, WaID: m.To, UserID: m.Recipient}},
		Messages: []any{msg},
	}))
	if err != nil {
		return "", fmt.Errorf("fakewhatsapp: encoding the customer's reply: %w", err)
	}
	if err := s.post(ctx, t, body); err != nil {
		return "", fmt.Errorf("fakewhatsapp: posting the customer's reply to %s: %w", productMessageID, err)
	}
	id := msg.ID
	s.log.Info("customer reply posted", "product_message_id", productMessageID, "message_id", id, "type", msg.Type, "url", t.url)
	return id, nil
}

type contact struct {
	Profile profile `json:"profile"`
	WaID    string  `json:"wa_id,omitempty"`
	UserID  string  `json:"user_id,omitempty"`
}

type profile struct {
	Name string `json:"name"`
}

// inbound is a customer's message: an order or a text with a referred product.
type inbound struct {
	From       string         `json:"from,omitempty"`
	FromUserID string         `json:"from_user_id,omitempty"`
	ID         string         `json:"id"`
	Timestamp  string         `json:"timestamp"`
	Type       string         `json:"type"`
	Context    inboundContext `json:"context"`
	Order      *inboundOrder  `json:"order,omitempty"`
	Text       *inboundText   `json:"text,omitempty"`
}

type inboundContext struct {
	From            string           `json:"from"`
	ID              string           `json:"id"`
	ReferredProduct *referredProduct `json:"referred_product,omitempty"`
}

type referredProduct struct {
	CatalogID         string `json:"catalog_id"`
	ProductRetailerID string `json:"product_retailer_id"`
}

type inboundOrder struct {
	CatalogID    string        `json:"catalog_id"`
	Text         string        `json:"text,omitempty"`
	ProductItems []orderedItem `json:"product_items"`
}

type orderedItem struct {
	ProductRetailerID string      `json:"product_retailer_id"`
	Quantity          int64       `json:"quantity"`
	ItemPrice         json.Number `json:"item_price"`
	Currency          string      `json:"currency"`
}

type inboundText struct {
	Body string `json:"body"`
}

// customerMessage builds the customer's answer to m.
func customerMessage(m SentMessage, r Reply, now time.Time) (inbound, error) {
	catalog := r.CatalogID
	if catalog == "" && m.Interactive != nil {
		catalog = m.Interactive.CatalogID
	}
	if catalog == "" {
		return inbound{}, fmt.Errorf("fakewhatsapp: message %s names no catalog; give the reply's catalog id", m.MessageID)
	}
	msg := inbound{
		From: m.To, FromUserID: m.Recipient, ID: newMessageID(m.Generation), Timestamp: strconv.FormatInt(now.Unix(), 10),
		Context: inboundContext{From: displayPhoneNumber, ID: m.MessageID},
	}
	switch {
	case len(r.Items) > 0 && r.InquiryProduct != "":
		return inbound{}, errors.New("fakewhatsapp: a reply is an order or an inquiry, not both")
	case len(r.Items) > 0:
		msg.Type = "order"
		msg.Order = &inboundOrder{CatalogID: catalog, Text: r.Text}
		for _, it := range r.Items {
			if _, err := strconv.ParseFloat(it.Price, 64); err != nil || it.Quantity < 1 || it.ProductRetailerID == "" || it.Currency == "" {
				return inbound{}, fmt.Errorf("fakewhatsapp: order item %+v needs a product, a quantity of at least 1, a decimal price and a currency", it)
			}
			msg.Order.ProductItems = append(msg.Order.ProductItems, orderedItem{it.ProductRetailerID, it.Quantity, json.Number(it.Price), it.Currency})
		}
	case r.InquiryProduct != "":
		msg.Type = "text"
		msg.Context.ReferredProduct = &referredProduct{CatalogID: catalog, ProductRetailerID: r.InquiryProduct}
		msg.Text = &inboundText{Body: orDefault(r.Text, "Is this still available?")}
	default:
		return inbound{}, errors.New("fakewhatsapp: a reply needs order items or an inquiry product")
	}
	return msg, nil
}

// webhookValue is what one webhook carries: the value of a Cloud change, or
// the whole body of an On-Premises webhook.
type webhookValue struct {
	Contacts []contact `json:"contacts,omitempty"`
	Messages []any     `json:"messages,omitempty"`
	Statuses []status  `json:"statuses,omitempty"`
}

// webhookBody wraps v in the generation's body format.
func webhookBody(gen whatsapp.Generation, phoneNumberID string, v webhookValue) any {
	if gen == whatsapp.OnPremises {
		return v
	}
	type metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	type value struct {
		MessagingProduct string   `json:"messaging_product"`
		Metadata         metadata `json:"metadata"`
		webhookValue
	}
	type change struct {
		Value value  `json:"value"`
		Field string `json:"field"`
	}
	type entry struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	}
	return struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}{"whatsapp_business_account", []entry{{businessAccountID, []change{{
		Value: value{"whatsapp", metadata{displayPhoneNumber, phoneNumberID}, v},
		Field: "messages",
	}}}}}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
