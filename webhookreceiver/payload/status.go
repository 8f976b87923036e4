package payload

import (
	"encoding/json"
	"fmt"
)

// knownStatuses are the status values WhatsApp documents: sent, delivered,
// read, failed and played (Cloud), deleted and warning (On-Premises).
var knownStatuses = map[string]bool{
	"sent": true, "delivered": true, "read": true, "failed": true,
	"played": true, "deleted": true, "warning": true,
}

// wireStatus is an element of statuses[].
type wireStatus struct {
	ID          string `json:"id"`
	RecipientID string `json:"recipient_id"`
	// RecipientUserID is the business-scoped id, sent when the number is withheld.
	RecipientUserID string `json:"recipient_user_id"`
	Status          string `json:"status"`
	// Type is "payment" for a payment status, which is about the bill's
	// payment and never a delivery status of the bill.
	Type         string          `json:"type"`
	Payment      json.RawMessage `json:"payment"`
	Timestamp    json.RawMessage `json:"timestamp"`
	Errors       []wireError     `json:"errors"`
	CallbackData string          `json:"biz_opaque_callback_data"`
	Pricing      struct {
		Category string `json:"category"`
	} `json:"pricing"`
	flaw
}

func (w *wireStatus) decodeError() (string, error) { return "", w.err }

// element turns a status into a Status element. A value WhatsApp may add
// later is Ignored rather than Invalid: the body is fine, the operator just
// has nothing to do with it yet.
func (w *wireStatus) element() Element {
	if w.ID == "" {
		return invalidf("", "status has no id")
	}
	if w.Status == "" {
		return invalidf(w.ID, "status has no status value")
	}
	if w.Type == "payment" {
		return w.payment()
	}
	if !knownStatuses[w.Status] {
		return ignoredf(w.ID, "status value %q is not one WhatsApp documents", w.Status)
	}
	ts, err := timestamp(w.Timestamp)
	if err != nil {
		return invalidf(w.ID, "timestamp %v", err)
	}
	var errs []StatusError
	for i, we := range w.Errors {
		se, err := we.decode()
		if err != nil {
			return invalidf(w.ID, "errors[%d]: %v", i, err)
		}
		errs = append(errs, se)
	}
	// recipient_id is a phone number only when it is digits: for a customer
	// who withholds the number it may carry the user id.
	to := identify(w.RecipientID, w.RecipientUserID)
	return Element{Kind: KindStatus, MessageID: w.ID, Status: &Status{
		MessageID:       w.ID,
		RecipientID:     to.WaID,
		RecipientUserID: to.UserID,
		Status:          w.Status,
		Timestamp:       ts,
		Errors:          errs,
		CallbackData:    w.CallbackData,
		PricingCategory: w.Pricing.Category,
	}}
}

// wireError is an error as both generations write it: Cloud puts the details
// in error_data.details and adds message; On-Premises has details at the top.
type wireError struct {
	Code      json.RawMessage `json:"code"`
	Title     string          `json:"title"`
	Message   string          `json:"message"`
	Details   string          `json:"details"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	flaw
}

func (w *wireError) decodeError() (string, error) { return "", w.err }

func (w wireError) decode() (StatusError, error) {
	code, err := integer(w.Code)
	if err != nil {
		return StatusError{}, fmt.Errorf("code %w", err)
	}
	details := w.ErrorData.Details
	if details == "" {
		details = w.Details
	}
	return StatusError{Code: code, Title: w.Title, Message: w.Message, Details: details}, nil
}

// String describes the error for logs and reasons, e.g.
// "error 470 (Message failed to send …)".
func (e StatusError) String() string {
	s := fmt.Sprintf("error %d", e.Code)
	if e.Title != "" {
		s += " (" + e.Title + ")"
	}
	if e.Details != "" {
		s += ": " + e.Details
	}
	return s
}

// reported turns an element of errors[] at value or body level, where WhatsApp
// reports a problem not tied to one message, into an Ignored element: it is
// counted and logged, never stored.
func (w *wireError) reported() Element {
	se, err := w.decode()
	if err != nil {
		return invalidf("", "error %v", err)
	}
	return ignoredf("", "WhatsApp reported %s", se)
}
