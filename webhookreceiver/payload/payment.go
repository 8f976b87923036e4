package payload

import (
	"bytes"
	"encoding/json"
	"time"
)

// Payment is WhatsApp's news about the payment of a bill (an order_details
// message) the business sent. Fields vary by region and payment provider:
// everything but the reference id and the status may be missing.
type Payment struct {
	// MessageID is the id of the order_details message.
	MessageID       string
	RecipientID     string
	RecipientUserID string
	// Status is pending, captured or failed.
	Status    string
	Timestamp time.Time
	// ReferenceID is the bill's reference_id.
	ReferenceID string
	// Amount is the amount paid, nil when not reported.
	Amount   *Money
	Currency string
	// TransactionID, TransactionType (the provider: razorpay, payu, ...),
	// TransactionStatus (pending, success, failed) and Method (upi, card,
	// ...) describe the attempt, when reported.
	TransactionID, TransactionType, TransactionStatus, Method string
	// ErrorCode and ErrorReason are the provider's, for a failed attempt.
	ErrorCode, ErrorReason string
	Refunds                []Refund
}

// Money is an amount as WhatsApp writes it: Value / Offset.
type Money struct{ Value, Offset int64 }

// Refund is one refund of a captured payment.
type Refund struct {
	ID     string
	Amount *Money
	Status string
}

// paymentStatuses are the payment status values WhatsApp documents.
var paymentStatuses = map[string]bool{"pending": true, "captured": true, "failed": true}

type wirePayment struct {
	ReferenceID string          `json:"reference_id"`
	Amount      json.RawMessage `json:"amount"`
	Currency    string          `json:"currency"`
	Transaction *struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		Status string          `json:"status"`
		Method json.RawMessage `json:"method"`
		// methodType is how some providers' reprints name it.
		MethodType string          `json:"method_type"`
		Error      json.RawMessage `json:"error"`
		Refunds    json.RawMessage `json:"refunds"`
	} `json:"transaction"`
	Refunds json.RawMessage `json:"refunds"`
}

type wireMoney struct {
	Value  json.RawMessage `json:"value"`
	Offset json.RawMessage `json:"offset"`
}

type wireRefund struct {
	ID     string          `json:"id"`
	Amount json.RawMessage `json:"amount"`
	Status string          `json:"status"`
}

// payment turns a statuses[] element of type payment into a Payment
// element. Only what the operator needs to match it and order it must be
// there (a reference id, a known status, a timestamp); every other field is
// read when it has a usable form and left empty otherwise.
func (w *wireStatus) payment() Element {
	if !paymentStatuses[w.Status] {
		return ignoredf(w.ID, "payment status %q is not one WhatsApp documents", w.Status)
	}
	ts, err := timestamp(w.Timestamp)
	if err != nil {
		return invalidf(w.ID, "payment status timestamp %v", err)
	}
	var wp wirePayment
	if err := json.Unmarshal(w.Payment, &wp); err != nil || absent(w.Payment) {
		return invalidf(w.ID, "payment status without a readable payment object")
	}
	if wp.ReferenceID == "" {
		return invalidf(w.ID, "payment status has no payment.reference_id")
	}
	to := identify(w.RecipientID, w.RecipientUserID)
	p := &Payment{
		MessageID: w.ID, RecipientID: to.WaID, RecipientUserID: to.UserID,
		Status: w.Status, Timestamp: ts, ReferenceID: wp.ReferenceID,
		Amount: money(wp.Amount), Currency: wp.Currency,
	}
	refunds := wp.Refunds
	if t := wp.Transaction; t != nil {
		p.TransactionID, p.TransactionType, p.TransactionStatus = t.ID, t.Type, t.Status
		p.Method = t.MethodType
		if m := text(t.Method); m != "" {
			p.Method = m
		} else {
			var obj struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(t.Method, &obj) == nil && obj.Type != "" {
				p.Method = obj.Type
			}
		}
		var e struct {
			Code   json.RawMessage `json:"code"`
			Reason string          `json:"reason"`
		}
		if json.Unmarshal(t.Error, &e) == nil {
			p.ErrorCode, p.ErrorReason = text(e.Code), e.Reason
		}
		if absent(refunds) {
			refunds = t.Refunds
		}
	}
	var rs []wireRefund
	if json.Unmarshal(refunds, &rs) == nil {
		for _, r := range rs {
			if r.ID != "" {
				p.Refunds = append(p.Refunds, Refund{ID: r.ID, Amount: money(r.Amount), Status: r.Status})
			}
		}
	}
	return Element{Kind: KindPayment, MessageID: w.ID, Payment: p}
}

// money reads {value, offset}, numbers or strings; nil when it is missing
// or not two whole numbers with a positive offset.
func money(raw json.RawMessage) *Money {
	var m wireMoney
	if absent(raw) || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	v, err := integer(m.Value)
	if err != nil {
		return nil
	}
	o, err := integer(m.Offset)
	if err != nil || o < 1 {
		return nil
	}
	return &Money{Value: v, Offset: o}
}

// text is a JSON string's value or a number's digits, "" for anything else.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
