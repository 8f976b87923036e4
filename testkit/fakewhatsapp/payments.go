package fakewhatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// Payments (Cloud only). The fake checks a bill (order_details) as WhatsApp
// does: the total equals its parts, the reference's format, one reference
// per bill; it refuses an order_status for a reference it never billed, and
// canceled while the bill's payment is captured or pending. It can play the
// customer who pays the bill, fails, or pays after failing, posting signed
// payment statuses.

// orderParameters are the parameters of order_details and order_status.
type orderParameters struct {
	ReferenceID     string      `json:"reference_id"`
	Type            string      `json:"type"`
	PaymentType     string      `json:"payment_type"`
	Currency        string      `json:"currency"`
	TotalAmount     *bill.Money `json:"total_amount"`
	PaymentSettings []struct {
		Type           string    `json:"type"`
		PaymentGateway *struct{} `json:"payment_gateway"`
		PixDynamicCode *struct{} `json:"pix_dynamic_code"`
		PaymentLink    *struct {
			URI string `json:"uri"`
		} `json:"payment_link"`
	} `json:"payment_settings"`
	Order *struct {
		Status      string `json:"status"`
		Description string `json:"description"`
		Items       []struct {
			RetailerID string     `json:"retailer_id"`
			Name       string     `json:"name"`
			Amount     bill.Money `json:"amount"`
			Quantity   int64      `json:"quantity"`
		} `json:"items"`
		Subtotal *bill.Money `json:"subtotal"`
		Tax      *bill.Money `json:"tax"`
		Shipping *bill.Money `json:"shipping"`
		Discount *bill.Money `json:"discount"`
	} `json:"order"`
}

// billState is what the fake knows of one reference.
type billState struct {
	message SentMessage
	total   bill.Money
	// currency is the bill's, whether it went as a message or a template.
	currency string
	// payment is the last payment status posted: "", pending, captured or failed.
	payment string
}

var orderStatuses = map[string]bool{"pending": true, "processing": true, "partially-shipped": true, "shipped": true, "completed": true, "canceled": true}

// validateOrderMessage returns why WhatsApp would refuse an order_details or
// order_status message on its own, or "".
func validateOrderMessage(gen whatsapp.Generation, in *interactiveRequest) string {
	a := in.Action
	switch {
	case gen == whatsapp.OnPremises:
		return "interactive type " + in.Type + " is not supported"
	case in.Body == nil || in.Body.Text == "":
		return "interactive.body is required for type " + in.Type
	case a.Parameters == nil || a.Parameters.Order == nil:
		return "interactive.action.parameters.order is required"
	case !whatsapp.ValidReference(a.Parameters.ReferenceID):
		return fmt.Sprintf("reference_id %q is not 1 to 35 of A-Z a-z 0-9 _ - .", a.Parameters.ReferenceID)
	}
	p := a.Parameters
	if in.Type == "order_status" {
		switch {
		case a.Name != "review_order":
			return `interactive.action.name must be "review_order"`
		case !orderStatuses[p.Order.Status]:
			return fmt.Sprintf("order.status %q is not a valid order status", p.Order.Status)
		}
		return ""
	}
	switch {
	case a.Name != "review_and_pay":
		return `interactive.action.name must be "review_and_pay"`
	case p.Order.Status != "pending":
		return `order.status of an order_details message must be "pending"`
	case p.Type != "physical-goods" && p.Type != "digital-goods":
		return fmt.Sprintf("type %q is not physical-goods or digital-goods", p.Type)
	case len(p.PaymentSettings) != 1:
		return "payment_settings must hold one payment setting"
	case p.TotalAmount == nil || p.Order.Subtotal == nil || p.Order.Tax == nil || len(p.Order.Items) == 0:
		return "total_amount, order.items, order.subtotal and order.tax are required"
	}
	switch ps := p.PaymentSettings[0]; {
	case ps.Type == "payment_gateway" && ps.PaymentGateway != nil && p.Currency != "INR":
		return "a payment_gateway bill must be in INR"
	case ps.Type == "pix_dynamic_code" && ps.PixDynamicCode != nil && (p.Currency != "BRL" || p.PaymentType != "br"):
		return `a pix_dynamic_code bill must be in BRL with payment_type "br"`
	case ps.Type == "payment_link" && ps.PaymentLink != nil && ps.PaymentLink.URI != "":
	case ps.Type == "payment_gateway" && ps.PaymentGateway != nil, ps.Type == "pix_dynamic_code" && ps.PixDynamicCode != nil:
	default:
		return fmt.Sprintf("payment setting %q is not one the fake knows, or lacks its object", ps.Type)
	}
	o := p.Order
	amounts := []*bill.Money{p.TotalAmount, o.Subtotal, o.Tax, o.Shipping, o.Discount}
	var subtotal int64
	for i, it := range o.Items {
		if it.RetailerID == "" || it.Name == "" || it.Quantity < 1 {
			return fmt.Sprintf("order.items[%d] needs retailer_id, name and a quantity of at least 1", i)
		}
		amounts = append(amounts, &it.Amount)
		subtotal += it.Amount.Value * it.Quantity
	}
	for _, m := range amounts {
		if m != nil && m.Offset != bill.Offset {
			return "every amount must have offset 100"
		}
	}
	if subtotal != o.Subtotal.Value {
		return fmt.Sprintf("order.subtotal %d is not the sum of the items, %d", o.Subtotal.Value, subtotal)
	}
	total := o.Subtotal.Value + o.Tax.Value + value(o.Shipping) - value(o.Discount)
	if total != p.TotalAmount.Value {
		return fmt.Sprintf("total_amount %d is not subtotal + tax + shipping - discount, %d", p.TotalAmount.Value, total)
	}
	return ""
}

func value(m *bill.Money) int64 {
	if m == nil {
		return 0
	}
	return m.Value
}

// orderParams are the order message parameters of an interactive send, or
// of a template's ORDER_DETAILS button, or nil.
func orderParams(req *sendRequest) (string, *orderParameters) {
	if b := templateButton(req); b != nil && b.subType == "order_details" && b.action != nil && b.action.OrderDetails != nil {
		return "order_details", b.action.OrderDetails
	}
	in := req.Interactive
	if in == nil || (in.Type != "order_details" && in.Type != "order_status") || in.Action == nil || in.Action.Parameters == nil {
		return "", nil
	}
	return in.Type, &in.Action.Parameters.orderParameters
}

// billRefusal returns why WhatsApp would refuse an order message given what
// it knows of the reference, or "".
func (s *Server) billRefusal(req *sendRequest) string {
	typ, p := orderParams(req)
	if p == nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bills[p.ReferenceID]
	switch {
	case typ == "order_details" && b != nil:
		return fmt.Sprintf("reference_id %s was already used for message %s: one reference per order", p.ReferenceID, b.message.MessageID)
	case typ == "order_status" && b == nil:
		return fmt.Sprintf("reference_id %s names no order_details message", p.ReferenceID)
	case typ == "order_status" && p.Order.Status == "canceled" && (b.payment == "captured" || b.payment == "pending"):
		return fmt.Sprintf("the order %s cannot be canceled: its payment is %s", p.ReferenceID, b.payment)
	}
	return ""
}

// noteBill records an accepted order_details send; s.mu is held.
func (s *Server) noteBill(m SentMessage, req *sendRequest) {
	typ, p := orderParams(req)
	if typ != "order_details" {
		return
	}
	if s.bills == nil {
		s.bills = map[string]*billState{}
	}
	s.bills[p.ReferenceID] = &billState{message: m, total: *p.TotalAmount, currency: p.Currency}
}

// Payer is how the customer the fake plays answers a bill.
type Payer string

const (
	// Pays: pending, then captured.
	Pays Payer = "pay"
	// Fails: the payment fails.
	Fails Payer = "fail"
	// PaysAfterFailing: failed, then pending and captured.
	PaysAfterFailing Payer = "fail-then-pay"
)

var payerStatuses = map[Payer][]string{Pays: {"pending", "captured"}, Fails: {"failed"}, PaysAfterFailing: {"failed", "pending", "captured"}}

// Pay plays the customer who received the bill referenceID: it posts the
// payment statuses of payer, one signed webhook each, to webhookURL, each a
// second after the one before (WhatsApp's timestamps have seconds).
func (s *Server) Pay(ctx context.Context, webhookURL string, appSecret []byte, referenceID string, payer Payer) error {
	statuses, ok := payerStatuses[payer]
	if !ok {
		return fmt.Errorf("fakewhatsapp: %q is not pay, fail or fail-then-pay", payer)
	}
	if webhookURL == "" {
		return errors.New("fakewhatsapp: no webhook URL configured")
	}
	s.mu.Lock()
	b, ok := s.bills[referenceID]
	var m SentMessage
	var total bill.Money
	var currency string
	if ok {
		m, total, currency = b.message, b.total, b.currency
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("fakewhatsapp: no bill with reference %q was sent", referenceID)
	}
	t := s.targetFor(m)
	t.url, t.secret = webhookURL, appSecret
	start := time.Now().Truncate(time.Second)
	for i, st := range statuses {
		p := payload.Payment{MessageID: m.MessageID, Status: st, Timestamp: start.Add(time.Duration(i) * time.Second), ReferenceID: referenceID,
			Amount: &payload.Money{Value: total.Value, Offset: total.Offset}, Currency: currency, TransactionID: fmt.Sprintf("pay_fake_%d", i),
			TransactionType: "razorpay", TransactionStatus: map[string]string{"pending": "pending", "captured": "success", "failed": "failed"}[st], Method: "upi"}
		if st == "failed" {
			p.ErrorCode, p.ErrorReason = "BAD_REQUEST_ERROR", "Payment failed"
		}
		if whatsapp.IsPhoneNumber(m.To) {
			p.RecipientID = m.To
		} else {
			p.RecipientUserID = m.Recipient
		}
		if err := s.post(ctx, t, webhookbody.New(whatsapp.Cloud, m.PhoneNumberID).Payment(p).Bytes()); err != nil {
			return fmt.Errorf("fakewhatsapp: posting payment %s of %s: %w", st, referenceID, err)
		}
		s.mu.Lock()
		b.payment = st
		s.mu.Unlock()
	}
	s.log.Info("customer answered the bill", "reference_id", referenceID, "payer", string(payer))
	return nil
}

// PayUnreported plays the customer who pays the bill referenceID while
// WhatsApp's payment webhook is lost: nothing is posted, and only the
// payment lookup tells.
func (s *Server) PayUnreported(referenceID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.bills[referenceID]
	if !ok {
		return fmt.Errorf("fakewhatsapp: no bill with reference %q was sent", referenceID)
	}
	b.payment = "captured"
	return nil
}

// Lookups counts the payment lookups answered, by reference.
func (s *Server) Lookups(referenceID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups[referenceID]
}

// handleLookup answers the payment lookup as WhatsApp does: the bill's
// payment, or no payment while the customer has not paid.
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		writeAPIError(w, whatsapp.Cloud, apiError{status: http.StatusUnauthorized, code: 190, message: "Invalid OAuth access token"})
		return
	}
	ref := r.PathValue("reference")
	s.mu.Lock()
	if s.lookups == nil {
		s.lookups = map[string]int{}
	}
	s.lookups[ref]++
	b := s.bills[ref]
	var payments []whatsapp.Payment
	if b != nil && b.payment != "" {
		p := whatsapp.Payment{ReferenceID: ref, Status: b.payment, Currency: b.currency, Amount: b.total}
		t := whatsapp.PaymentTransaction{ID: "pay_fake_lookup", Type: "razorpay", Status: map[string]string{"pending": "pending", "captured": "success", "failed": "failed"}[b.payment],
			Created: b.message.Time.Unix(), Updated: b.message.Time.Unix() + 1}
		t.Method.Type = "upi"
		p.Transactions = append(p.Transactions, t)
		payments = append(payments, p)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"payments": payments})
}
