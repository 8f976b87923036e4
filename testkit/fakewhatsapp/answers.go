package fakewhatsapp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// unauthorized answers a send with a wrong or missing token.
var unauthorized = map[whatsapp.Generation]apiError{
	whatsapp.Cloud:      {status: http.StatusUnauthorized, code: 190, message: "Invalid OAuth access token - Cannot parse access token"},
	whatsapp.OnPremises: {status: http.StatusUnauthorized, code: 1005, message: "Access denied", details: "Invalid credentials."},
}

// invalidParameter answers a send WhatsApp would refuse, saying why.
func invalidParameter(gen whatsapp.Generation, details string) apiError {
	e := injected[FailPermanent][gen]
	e.details = details
	return e
}

// newMessageID returns an id shaped like the generation's real ones. Cloud
// ids deliberately contain "+", "/" and "=", which receivers must cope with.
func newMessageID(gen whatsapp.Generation) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails since Go 1.24
	if gen == whatsapp.OnPremises {
		return base64.RawURLEncoding.EncodeToString(b[:20])
	}
	return "wamid." + base64.StdEncoding.EncodeToString(b)
}

func sendAnswer(m SentMessage) any {
	type id struct {
		ID string `json:"id"`
	}
	if m.Generation == whatsapp.OnPremises {
		return struct {
			Messages []id `json:"messages"`
		}{[]id{{m.MessageID}}}
	}
	// WhatsApp answers a send to a user id without a wa_id: it does not
	// reveal the number.
	type contact struct {
		Input  string `json:"input"`
		WaID   string `json:"wa_id,omitempty"`
		UserID string `json:"user_id,omitempty"`
	}
	return struct {
		MessagingProduct string    `json:"messaging_product"`
		Contacts         []contact `json:"contacts"`
		Messages         []id      `json:"messages"`
	}{"whatsapp", []contact{{Input: m.Customer(), WaID: m.To, UserID: m.Recipient}}, []id{{m.MessageID}}}
}

// writeAPIError answers with e in the generation's error format.
func writeAPIError(w http.ResponseWriter, gen whatsapp.Generation, e apiError) {
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	if gen == whatsapp.OnPremises {
		type onPremError struct {
			Code    int64  `json:"code"`
			Title   string `json:"title"`
			Details string `json:"details,omitempty"`
		}
		writeJSON(w, e.status, struct {
			Errors []onPremError `json:"errors"`
		}{[]onPremError{{e.code, e.message, e.details}}})
		return
	}
	type errorData struct {
		MessagingProduct string `json:"messaging_product"`
		Details          string `json:"details"`
	}
	type cloudError struct {
		Message   string     `json:"message"`
		Type      string     `json:"type"`
		Code      int64      `json:"code"`
		ErrorData *errorData `json:"error_data,omitempty"`
		FBTraceID string     `json:"fbtrace_id"`
	}
	body := cloudError{Message: e.message, Type: "OAuthException", Code: e.code, FBTraceID: newTraceID()}
	if e.details != "" {
		body.ErrorData = &errorData{MessagingProduct: "whatsapp", Details: e.details}
	}
	writeJSON(w, e.status, struct {
		Error cloudError `json:"error"`
	}{body})
}

func newTraceID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails, see newMessageID
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do then
}
