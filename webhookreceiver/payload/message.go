package payload

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// wireMessage is an element of messages[]. Its members are grouped by the
// message types that read them, so that a message decoded on its own
// (messageByElement) can be decoded in just the groups its type reads.
type wireMessage struct {
	messageHeader
	withContext
	withOrder
	withText
	withSystem
	withErrors
	flaw
}

// messageHeader is what every message has, whatever its type.
type messageHeader struct {
	sender
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Timestamp json.RawMessage `json:"timestamp"`
}

// withContext is the message a customer replied to or acted from; orders and
// inquiries read it.
type withContext struct {
	Context *messageContext `json:"context"`
}

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

type withOrder struct {
	Order *wireOrder `json:"order"`
}

type wireOrder struct {
	CatalogID    string        `json:"catalog_id"`
	Text         string        `json:"text"`
	ProductItems []productItem `json:"product_items"`
}

type withText struct {
	Text struct {
		Body string `json:"body"`
	} `json:"text"`
}

// withSystem is what a system message says changed about the customer.
type withSystem struct {
	System *struct {
		Type           string `json:"type"`
		UserID         string `json:"user_id"`
		PreviousUserID string `json:"previous_user_id"`
	} `json:"system"`
}

// withErrors are the errors WhatsApp attaches to a message it could not
// represent (types unsupported and unknown).
type withErrors struct {
	Errors []wireError `json:"errors"`
}

// typeParts are the groups beyond the header that a message of m's type
// reads. bestEffort says they only add to the reason of an Ignored message,
// so failing to decode them spoils nothing.
func (m *wireMessage) typeParts() (parts []any, bestEffort bool) {
	switch m.Type {
	case "order":
		return []any{&m.withContext, &m.withOrder}, false
	case "text":
		return []any{&m.withContext, &m.withText}, false
	case "system":
		return []any{&m.withSystem}, false
	}
	return []any{&m.withErrors}, true
}

func (m *wireMessage) decodeError() (string, error) { return m.ID, m.err }

// element turns a message into an Order, an Inquiry, or an Ignored or
// Invalid element.
func (m *wireMessage) element(contacts []contact) Element {
	if m.ID == "" {
		return invalidf("", "message has no id")
	}
	switch m.Type {
	case "order":
		return m.order(contacts)
	case "text":
		return m.inquiry(contacts)
	case "system":
		return m.userIDChange()
	case "":
		return ignoredf(m.ID, "message has no type")
	}
	return ignoredf(m.ID, "message of type %q is neither an order nor a product inquiry%s", m.Type, describeReported(m.Errors))
}

// origin reads what orders and inquiries both need: when and from whom.
func (h *messageHeader) origin(contacts []contact) (time.Time, Customer, error) {
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

func (m *wireMessage) order(contacts []contact) Element {
	if m.Order == nil {
		return invalidf(m.ID, "order message has no order object")
	}
	ts, cust, err := m.origin(contacts)
	if err != nil {
		return invalidf(m.ID, "%v", err)
	}
	if m.Order.CatalogID == "" {
		return invalidf(m.ID, "order has no catalog_id")
	}
	items := make([]Item, len(m.Order.ProductItems))
	for i, pi := range m.Order.ProductItems {
		it, err := pi.item()
		if err != nil {
			return invalidf(m.ID, "order.product_items[%d] (%q): %v", i, pi.ProductRetailerID, err)
		}
		items[i] = it
	}
	return Element{Kind: KindOrder, MessageID: m.ID, Order: &Order{
		MessageID:        m.ID,
		Timestamp:        ts,
		Customer:         cust,
		CatalogID:        m.Order.CatalogID,
		Text:             m.Order.Text,
		ReplyToMessageID: m.Context.replyTo(),
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

// item converts p exactly; whether the values make sense is the receiver's
// call (cart.Validate).
func (p productItem) item() (Item, error) {
	qty, err := integer(p.Quantity)
	if err != nil {
		return Item{}, fmt.Errorf("quantity %w", err)
	}
	pr, err := price(p.ItemPrice)
	if err != nil {
		return Item{}, fmt.Errorf("item_price %w", err)
	}
	return Item{ProductRetailerID: p.ProductRetailerID, Quantity: qty, ItemPrice: pr, Currency: p.Currency}, nil
}

// inquiry reads a text message: a product inquiry when it refers to a
// product, otherwise a conversation the operator has no use for.
func (m *wireMessage) inquiry(contacts []contact) Element {
	if m.Context == nil || m.Context.ReferredProduct == nil {
		return ignoredf(m.ID, "text message without context.referred_product is not a product inquiry")
	}
	ref := m.Context.ReferredProduct
	if ref.CatalogID == "" || ref.ProductRetailerID == "" {
		return invalidf(m.ID, "context.referred_product needs both catalog_id and product_retailer_id")
	}
	ts, cust, err := m.origin(contacts)
	if err != nil {
		return invalidf(m.ID, "%v", err)
	}
	return Element{Kind: KindInquiry, MessageID: m.ID, Inquiry: &Inquiry{
		MessageID:         m.ID,
		Timestamp:         ts,
		Customer:          cust,
		CatalogID:         ref.CatalogID,
		ProductRetailerID: ref.ProductRetailerID,
		Question:          m.Text.Body,
		ReplyToMessageID:  m.Context.ID,
	}}
}

// userIDChange reads a system message. user_changed_user_id reports a new
// business-scoped user id; user_changed_number (a new phone number) also
// regenerates it, and reports both ids since 2026. Other system messages,
// and a number change without user ids, say nothing the operator keeps.
func (m *wireMessage) userIDChange() Element {
	sys := m.System
	if sys == nil {
		return ignoredf(m.ID, "system message has no system object")
	}
	current := sys.UserID
	if current == "" {
		current = m.FromUserID
	}
	switch {
	case sys.Type != "user_changed_user_id" && sys.Type != "user_changed_number":
		return ignoredf(m.ID, "system message of type %q does not change a user id", sys.Type)
	case sys.Type == "user_changed_number" && (sys.PreviousUserID == "" || current == ""):
		return ignoredf(m.ID, "user_changed_number without previous_user_id and user_id changes no user id")
	case sys.PreviousUserID == "" || current == "":
		return invalidf(m.ID, "user_changed_user_id needs system.previous_user_id and system.user_id (or from_user_id)")
	}
	ts, err := timestamp(m.Timestamp)
	if err != nil {
		return invalidf(m.ID, "timestamp %v", err)
	}
	return Element{Kind: KindUserIDChange, MessageID: m.ID, UserIDChange: &UserIDChange{
		MessageID: m.ID, Timestamp: ts, Previous: sys.PreviousUserID, Current: current,
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
