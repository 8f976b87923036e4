// Package webhookbody writes WhatsApp webhook bodies the way the Cloud API and
// the On-Premises client send them, and signs them as Meta does: the inverse
// of the receiver's parser, taking the very values payload.Parse reads
// (orders, product questions, message statuses). The tests, the benchmark, the
// demo and the fake WhatsApp API all post what it writes, so a change of
// format is made once.
package webhookbody

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The business account in every Cloud envelope; receivers route by
// phone_number_id only.
const (
	BusinessAccountID  = "102290129340398"
	DisplayPhoneNumber = "15550783881"
)

// Body is one webhook body being written.
type Body struct {
	generation    whatsapp.Generation
	phoneNumberID string
	contacts      []contact
	messages      []message
	statuses      []status
}

// New starts a body of the API generation; phoneNumberID is the Cloud
// business number the body is addressed to, unused for On-Premises.
func New(generation whatsapp.Generation, phoneNumberID string) *Body {
	return &Body{generation: generation, phoneNumberID: phoneNumberID}
}

// Order adds the order message o.
func (b *Body) Order(o payload.Order) *Body {
	items := make([]item, len(o.Items))
	for i, it := range o.Items {
		items[i] = item{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, Price: price(it.ItemPrice), Currency: it.Currency}
	}
	b.addContact(o.Customer)
	m := message{
		From: o.Customer.WaID, FromUserID: o.Customer.UserID, ID: o.MessageID, Timestamp: unix(o.Timestamp), Type: "order",
		Order: &order{CatalogID: o.CatalogID, Text: o.Text, ProductItems: items},
	}
	if o.ReplyToMessageID != "" {
		m.Context = &messageContext{From: DisplayPhoneNumber, ID: o.ReplyToMessageID}
	}
	b.messages = append(b.messages, m)
	return b
}

// Inquiry adds the product question q: a text replying to the business's
// product message q.ReplyToMessageID.
func (b *Body) Inquiry(q payload.Inquiry) *Body {
	b.addContact(q.Customer)
	b.messages = append(b.messages, message{
		Context: &messageContext{From: DisplayPhoneNumber, ID: q.ReplyToMessageID,
			ReferredProduct: &product{CatalogID: q.CatalogID, ProductRetailerID: q.ProductRetailerID}},
		From: q.Customer.WaID, FromUserID: q.Customer.UserID, ID: q.MessageID, Timestamp: unix(q.Timestamp), Type: "text",
		Text: &text{Body: q.Question},
	})
	return b
}

// Status adds the delivery status s. The On-Premises client sends only the
// code and title of an error.
func (b *Body) Status(s payload.Status) *Body {
	st := status{ID: s.MessageID, Status: s.Status, Timestamp: unix(s.Timestamp), RecipientID: s.RecipientID}
	if b.generation != whatsapp.OnPremises {
		// Cloud-only fields; per-message pricing (PMP) since July 2025.
		st.RecipientUserID, st.CallbackData = s.RecipientUserID, s.CallbackData
		if s.PricingCategory != "" {
			st.Pricing = &pricing{Billable: true, PricingModel: "PMP", Category: s.PricingCategory, Type: pricingType(s.PricingCategory)}
		}
	}
	for _, e := range s.Errors {
		se := statusError{Code: e.Code, Title: e.Title, Message: e.Message}
		if e.Details != "" {
			se.ErrorData = &errorData{Details: e.Details}
		}
		st.Errors = append(st.Errors, se)
	}
	b.statuses = append(b.statuses, st)
	return b
}

// Payment adds the payment status p of a bill (Cloud only: a statuses[]
// element of type payment, as Meta's payments pages show it).
func (b *Body) Payment(p payload.Payment) *Body {
	wp := &wirePayment{ReferenceID: p.ReferenceID, Amount: moneyOf(p.Amount), Currency: p.Currency}
	if p.TransactionID != "" || p.TransactionStatus != "" {
		t := &transaction{ID: p.TransactionID, Type: p.TransactionType, Status: p.TransactionStatus, Amount: wp.Amount, Currency: p.Currency}
		if p.Method != "" {
			t.Method = &paymentMethod{Type: p.Method}
		}
		if p.ErrorCode != "" || p.ErrorReason != "" {
			t.Error = &paymentError{Code: p.ErrorCode, Reason: p.ErrorReason}
		}
		for _, r := range p.Refunds {
			t.Refunds = append(t.Refunds, refund{ID: r.ID, Amount: moneyOf(r.Amount), Status: r.Status})
		}
		wp.Transaction = t
	}
	b.statuses = append(b.statuses, status{ID: p.MessageID, Status: p.Status, Timestamp: unix(p.Timestamp), RecipientID: p.RecipientID,
		RecipientUserID: p.RecipientUserID, Type: "payment", Payment: wp})
	return b
}

func moneyOf(m *payload.Money) *bill.Money {
	if m == nil {
		return nil
	}
	return &bill.Money{Value: m.Value, Offset: m.Offset}
}

// UserIDChange adds WhatsApp's system message that a customer's user id
// changed from c.Previous to c.Current.
func (b *Body) UserIDChange(c payload.UserIDChange) *Body {
	b.messages = append(b.messages, message{
		FromUserID: c.Current, ID: c.MessageID, Timestamp: unix(c.Timestamp), Type: "system",
		System: &system{Body: "User changed their user id", Type: "user_changed_user_id", UserID: c.Current, PreviousUserID: c.Previous},
	})
	return b
}

func (b *Body) addContact(c payload.Customer) {
	for _, known := range b.contacts {
		if known.WaID == c.WaID && known.UserID == c.UserID {
			return
		}
	}
	ct := contact{WaID: c.WaID, UserID: c.UserID}
	ct.Profile.Name = c.Name
	b.contacts = append(b.contacts, ct)
}

// Bytes is the body as it goes on the wire.
func (b *Body) Bytes() []byte {
	v := value{Contacts: b.contacts, Messages: b.messages, Statuses: b.statuses}
	var doc any = v
	if b.generation != whatsapp.OnPremises {
		v.MessagingProduct = "whatsapp"
		v.Metadata = &metadata{DisplayPhoneNumber: DisplayPhoneNumber, PhoneNumberID: b.phoneNumberID}
		doc = cloudBody{Object: "whatsapp_business_account", Entry: []entry{{ID: BusinessAccountID, Changes: []change{{Value: v, Field: "messages"}}}}}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		// Every field is a string, an integer or a price that price encoded.
		panic(fmt.Sprintf("webhookbody: encoding a body: %v", err))
	}
	return out
}

// Signed is a body with the X-Hub-Signature-256 Meta sends with it; an empty
// Signature leaves the body unsigned, as an On-Premises client sends it.
type Signed struct {
	Body      []byte
	Signature string
}

// Sign signs body with the app secret; an empty secret signs nothing.
func Sign(body, appSecret []byte) Signed {
	s := Signed{Body: body}
	if len(appSecret) > 0 {
		s.Signature = hubsignature.Sign(appSecret, body)
	}
	return s
}

// Request is the POST of s to url with the headers WhatsApp sends.
func (s Signed) Request(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(s.Body))
	if err != nil {
		return nil, fmt.Errorf("building the webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if s.Signature != "" {
		req.Header.Set(hubsignature.Header, s.Signature)
	}
	return req, nil
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// price is an item price as WhatsApp writes it, a JSON number, when p is one,
// and as a JSON string otherwise, so that a test can send a price that is not
// a number.
func price(p string) json.RawMessage {
	if p != "" {
		// json.Number refuses to encode what is not a JSON number.
		if n, err := json.Marshal(json.Number(p)); err == nil {
			return n
		}
	}
	quoted, _ := json.Marshal(p) // a string always encodes
	return quoted
}

// The wire format, in the member order WhatsApp uses.
type (
	cloudBody struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}
	entry struct {
		ID      string   `json:"id"`
		Changes []change `json:"changes"`
	}
	change struct {
		Value value  `json:"value"`
		Field string `json:"field"`
	}
	// value is a Cloud change's value, and a whole On-Premises body.
	value struct {
		MessagingProduct string    `json:"messaging_product,omitempty"`
		Metadata         *metadata `json:"metadata,omitempty"`
		Contacts         []contact `json:"contacts,omitempty"`
		Messages         []message `json:"messages,omitempty"`
		Statuses         []status  `json:"statuses,omitempty"`
	}
	metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	contact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID   string `json:"wa_id,omitempty"`
		UserID string `json:"user_id,omitempty"`
	}
	message struct {
		Context    *messageContext `json:"context,omitempty"`
		From       string          `json:"from,omitempty"`
		FromUserID string          `json:"from_user_id,omitempty"`
		ID         string          `json:"id"`
		Timestamp  string          `json:"timestamp"`
		Type       string          `json:"type"`
		Order      *order          `json:"order,omitempty"`
		Text       *text           `json:"text,omitempty"`
		System     *system         `json:"system,omitempty"`
	}
	system struct {
		Body           string `json:"body"`
		Type           string `json:"type"`
		UserID         string `json:"user_id"`
		PreviousUserID string `json:"previous_user_id"`
	}
	messageContext struct {
		From            string   `json:"from"`
		ID              string   `json:"id"`
		ReferredProduct *product `json:"referred_product,omitempty"`
	}
	product struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	}
	text struct {
		Body string `json:"body"`
	}
	order struct {
		CatalogID    string `json:"catalog_id"`
		Text         string `json:"text,omitempty"`
		ProductItems []item `json:"product_items"`
	}
	item struct {
		ProductRetailerID string          `json:"product_retailer_id"`
		Quantity          int64           `json:"quantity"`
		Price             json.RawMessage `json:"item_price"`
		Currency          string          `json:"currency"`
	}
	status struct {
		ID              string        `json:"id"`
		Status          string        `json:"status"`
		Timestamp       string        `json:"timestamp"`
		RecipientID     string        `json:"recipient_id,omitempty"`
		RecipientUserID string        `json:"recipient_user_id,omitempty"`
		Type            string        `json:"type,omitempty"`
		Payment         *wirePayment  `json:"payment,omitempty"`
		CallbackData    string        `json:"biz_opaque_callback_data,omitempty"`
		Pricing         *pricing      `json:"pricing,omitempty"`
		Errors          []statusError `json:"errors,omitempty"`
	}
	pricing struct {
		Billable     bool   `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Category     string `json:"category"`
		Type         string `json:"type"`
	}
	statusError struct {
		Code      int64      `json:"code"`
		Title     string     `json:"title"`
		Message   string     `json:"message,omitempty"`
		ErrorData *errorData `json:"error_data,omitempty"`
	}
	errorData struct {
		Details string `json:"details"`
	}
	wirePayment struct {
		ReferenceID string       `json:"reference_id"`
		Amount      *bill.Money  `json:"amount,omitempty"`
		Currency    string       `json:"currency,omitempty"`
		Transaction *transaction `json:"transaction,omitempty"`
	}
	transaction struct {
		ID       string         `json:"id"`
		Type     string         `json:"type,omitempty"`
		Status   string         `json:"status"`
		Method   *paymentMethod `json:"method,omitempty"`
		Amount   *bill.Money    `json:"amount,omitempty"`
		Currency string         `json:"currency,omitempty"`
		Error    *paymentError  `json:"error,omitempty"`
		Refunds  []refund       `json:"refunds,omitempty"`
	}
	paymentMethod struct {
		Type string `json:"type"`
	}
	paymentError struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	}
	refund struct {
		ID     string      `json:"id"`
		Amount *bill.Money `json:"amount,omitempty"`
		Status string      `json:"status"`
	}
)

// pricingType is the pricing.type WhatsApp reports with a category: service
// conversations are free inside the customer service window.
func pricingType(category string) string {
	if category == "service" {
		return "free_customer_service"
	}
	return "regular"
}
