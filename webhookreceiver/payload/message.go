package payload

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
)

// messageHeader is what every message has, whatever its type. The parts that
// depend on the type are decoded only once the type is known, so a message the
// operator ignores is never Invalid because of a member it does not read.
type messageHeader struct {
	sender
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp json.RawMessage `json:"timestamp"`
}

// messageContext is the message a customer replied to or acted from.
type messageContext struct {
	ID              string `json:"id"`
	ReferredProduct *struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"referred_product"`
}

// replyTo is the context's message id, "" without a context.
func (c *messageContext) replyTo() string {
	if c == nil {
		return ""
	}
	return c.ID
}

// orderBody and textBody are what order and text messages carry beyond the
// header.
type orderBody struct {
	Context *messageContext `json:"context"`
	Order   *wireOrder      `json:"order"`
}

type wireOrder struct {
	CatalogID    string        `json:"catalog_id"`
	Text         string        `json:"text"`
	ProductItems []productItem `json:"product_items"`
}

type textBody struct {
	Context *messageContext `json:"context"`
	Text    wireText        `json:"text"`
}

type wireText struct {
	Body string `json:"body"`
}

// messageBody gives the parts of a message that depend on its type. The
// walker's rawMessage decodes them only when the type asks for them; the
// one-pass wireMessage has them all already. Either way the same
// messageElement judges them, so both paths give the same elements.
type messageBody interface {
	orderBody() (orderBody, error)
	textBody() (textBody, error)
	// reportedErrors are the errors WhatsApp attached; nil if they are unreadable.
	reportedErrors() []wireError
}

// message is the walker's reading of one element of messages[].
func message(raw json.RawMessage, contacts []contact) Element {
	var h messageHeader
	if err := decodeObject(raw, "message", &h); err != nil {
		return invalidf("", "%v", err)
	}
	return messageElement(h, rawMessage(raw), contacts)
}

// messageElement turns a message into an Order, an Inquiry, or an Ignored or
// Invalid element.
func messageElement(h messageHeader, body messageBody, contacts []contact) Element {
	if h.ID == "" {
		return invalidf("", "message has no id")
	}
	switch h.Type {
	case "order":
		b, err := body.orderBody()
		if err != nil {
			return invalidf(h.ID, "%v", err)
		}
		return order(h, b, contacts)
	case "text":
		b, err := body.textBody()
		if err != nil {
			return invalidf(h.ID, "%v", err)
		}
		return inquiry(h, b, contacts)
	case "":
		return ignoredf(h.ID, "message has no type")
	}
	return ignoredf(h.ID, "message of type %q is neither an order nor a product inquiry%s", h.Type, describeReported(body.reportedErrors()))
}

// rawMessage is a message as the walker holds it, still JSON.
type rawMessage json.RawMessage

func (r rawMessage) orderBody() (b orderBody, err error) {
	err = decodeObject(json.RawMessage(r), "message", &b)
	return b, err
}

func (r rawMessage) textBody() (b textBody, err error) {
	err = decodeObject(json.RawMessage(r), "message", &b)
	return b, err
}

// reportedErrors is best effort: the message is ignored either way.
func (r rawMessage) reportedErrors() []wireError {
	var b struct {
		Errors []wireError `json:"errors"`
	}
	if json.Unmarshal(r, &b) != nil {
		return nil
	}
	return b.Errors
}

// origin reads what orders and inquiries both need: when and from whom.
func origin(h messageHeader, contacts []contact) (time.Time, Customer, error) {
	ts, err := timestamp(h.Timestamp)
	if err != nil {
		return time.Time{}, Customer{}, fmt.Errorf("timestamp %w", err)
	}
	cust := customer(h.sender, contacts)
	if cust.WaID == "" && cust.UserID == "" {
		return time.Time{}, Customer{}, errors.New("message names no sender: from, from_user_id and the contact's wa_id and user_id are all missing")
	}
	return ts, cust, nil
}

func order(h messageHeader, b orderBody, contacts []contact) Element {
	if b.Order == nil {
		return invalidf(h.ID, "order message has no order object")
	}
	ts, cust, err := origin(h, contacts)
	if err != nil {
		return invalidf(h.ID, "%v", err)
	}
	if b.Order.CatalogID == "" {
		return invalidf(h.ID, "order has no catalog_id")
	}
	items := make([]cart.Item, len(b.Order.ProductItems))
	for i, pi := range b.Order.ProductItems {
		it, err := pi.item()
		if err != nil {
			return invalidf(h.ID, "order.product_items[%d] (%q): %v", i, pi.ProductRetailerID, err)
		}
		items[i] = it
	}
	if err := cart.Validate(items); err != nil {
		return invalidf(h.ID, "%v", err)
	}
	return Element{Kind: KindOrder, MessageID: h.ID, Order: &Order{
		MessageID:        h.ID,
		Timestamp:        ts,
		Customer:         cust,
		CatalogID:        b.Order.CatalogID,
		Text:             b.Order.Text,
		ReplyToMessageID: b.Context.replyTo(),
		Items:            items,
	}}
}

// productItem is an element of order.product_items. Quantity and price stay
// raw because WhatsApp sends them as numbers or as strings.
type productItem struct {
	ProductRetailerID string          `json:"product_retailer_id"`
	Quantity          json.RawMessage `json:"quantity"`
	ItemPrice         json.RawMessage `json:"item_price"`
	Currency          string          `json:"currency"`
}

// item converts p exactly; whether the values make sense is cart.Validate's call.
func (p productItem) item() (cart.Item, error) {
	qty, err := integer(p.Quantity)
	if err != nil {
		return cart.Item{}, fmt.Errorf("quantity %w", err)
	}
	pr, err := price(p.ItemPrice)
	if err != nil {
		return cart.Item{}, fmt.Errorf("item_price %w", err)
	}
	return cart.Item{ProductRetailerID: p.ProductRetailerID, Quantity: qty, ItemPrice: pr, Currency: p.Currency}, nil
}

// inquiry reads a text message: a product inquiry when it refers to a
// product, otherwise a conversation the operator has no use for.
func inquiry(h messageHeader, b textBody, contacts []contact) Element {
	if b.Context == nil || b.Context.ReferredProduct == nil {
		return ignoredf(h.ID, "text message without context.referred_product is not a product inquiry")
	}
	ref := b.Context.ReferredProduct
	if ref.CatalogID == "" || ref.ProductRetailerID == "" {
		return invalidf(h.ID, "context.referred_product needs both catalog_id and product_retailer_id")
	}
	ts, cust, err := origin(h, contacts)
	if err != nil {
		return invalidf(h.ID, "%v", err)
	}
	return Element{Kind: KindInquiry, MessageID: h.ID, Inquiry: &Inquiry{
		MessageID:         h.ID,
		Timestamp:         ts,
		Customer:          cust,
		CatalogID:         ref.CatalogID,
		ProductRetailerID: ref.ProductRetailerID,
		Question:          b.Text.Body,
		ReplyToMessageID:  b.Context.ID,
	}}
}

// describeReported describes the errors WhatsApp attached to a message it
// could not represent (types unsupported and unknown), as a suffix for a
// reason.
func describeReported(errs []wireError) string {
	if len(errs) == 0 {
		return ""
	}
	se, err := errs[0].decode()
	if err != nil {
		return ""
	}
	return "; WhatsApp reported " + se.String()
}

func invalidf(id, format string, args ...any) Element {
	return Element{Kind: KindInvalid, MessageID: id, Reason: fmt.Sprintf(format, args...)}
}

func ignoredf(id, format string, args ...any) Element {
	return Element{Kind: KindIgnored, MessageID: id, Reason: fmt.Sprintf(format, args...)}
}
