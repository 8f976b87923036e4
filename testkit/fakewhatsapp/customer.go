package fakewhatsapp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
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
	body, id, err := customerReply(m, r, time.Now())
	if err != nil {
		return "", err
	}
	t := s.targetFor(m)
	t.url, t.secret = webhookURL, appSecret
	if err := s.post(ctx, t, body); err != nil {
		return "", fmt.Errorf("fakewhatsapp: posting the customer's reply to %s: %w", productMessageID, err)
	}
	s.log.Info("customer reply posted", "product_message_id", productMessageID, "message_id", id, "url", t.url)
	return id, nil
}

// customerReply is the webhook body of the customer's answer r to m, and the
// id of the customer's message.
func customerReply(m SentMessage, r Reply, now time.Time) ([]byte, string, error) {
	catalog := r.CatalogID
	if catalog == "" && m.Interactive != nil {
		catalog = m.Interactive.CatalogID
	}
	if catalog == "" {
		return nil, "", fmt.Errorf("fakewhatsapp: message %s names no catalog; give the reply's catalog id", m.MessageID)
	}
	id := newMessageID(m.Generation)
	who := payload.Customer{WaID: m.To, UserID: m.Recipient, Name: orDefault(r.Name, "Demo Customer")}
	body := webhookbody.New(m.Generation, m.PhoneNumberID)
	switch {
	case len(r.Items) > 0 && r.InquiryProduct != "":
		return nil, "", errors.New("fakewhatsapp: a reply is an order or an inquiry, not both")
	case len(r.Items) > 0:
		o := payload.Order{MessageID: id, Timestamp: now, Customer: who, CatalogID: catalog, Text: r.Text, ReplyToMessageID: m.MessageID}
		items := make([]cart.Item, len(r.Items))
		for i, it := range r.Items {
			items[i] = cart.Item{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, ItemPrice: it.Price, Currency: it.Currency}
			o.Items = append(o.Items, payload.Item(items[i]))
		}
		if err := cart.Validate(items); err != nil {
			return nil, "", fmt.Errorf("fakewhatsapp: the customer's cart: %w", err)
		}
		body.Order(o)
	case r.InquiryProduct != "":
		body.Inquiry(payload.Inquiry{MessageID: id, Timestamp: now, Customer: who, CatalogID: catalog, ProductRetailerID: r.InquiryProduct,
			Question: orDefault(r.Text, "Is this still available?"), ReplyToMessageID: m.MessageID})
	default:
		return nil, "", errors.New("fakewhatsapp: a reply needs order items or an inquiry product")
	}
	return body.Bytes(), id, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
