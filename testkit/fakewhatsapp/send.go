package fakewhatsapp

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// maxSendBytes bounds a send request; real ones are a few kilobytes.
const maxSendBytes = 1 << 20

// graphVersion matches the version prefix of Graph API paths, e.g. v23.0.
var graphVersion = regexp.MustCompile(`^v[0-9]+(\.[0-9]+)?$`)

// SentMessage is a send the fake accepted.
type SentMessage struct {
	Generation whatsapp.Generation `json:"generation"`
	// PhoneNumberID is the Cloud sender from the request path; empty for
	// On-Premises.
	PhoneNumberID string `json:"phoneNumberID,omitempty"`
	// To is the customer's WhatsApp id; Recipient the business-scoped user
	// id a Cloud send used instead.
	To               string   `json:"to,omitempty"`
	Recipient        string   `json:"recipient,omitempty"`
	CallbackData     string   `json:"callbackData,omitempty"`
	Type             string   `json:"type"`
	Text             string   `json:"text,omitempty"`
	TemplateName     string   `json:"templateName,omitempty"`
	TemplateLanguage string   `json:"templateLanguage,omitempty"`
	TemplateParams   []string `json:"templateParams,omitempty"`
	// TemplateNamespace is the On-Premises template namespace sent.
	TemplateNamespace string `json:"templateNamespace,omitempty"`
	ContextMessageID  string `json:"contextMessageID,omitempty"`
	// Interactive is the product message of an interactive send.
	Interactive *Interactive `json:"interactive,omitempty"`
	// TemplateButton is the product button of a catalog or MPM template.
	TemplateButton *TemplateButton `json:"templateButton,omitempty"`
	MessageID      string          `json:"messageID"`
	Time           time.Time       `json:"time"`
}

// Customer is who the send went to: the WhatsApp id, or the user id.
func (m SentMessage) Customer() string {
	if m.To != "" {
		return m.To
	}
	return m.Recipient
}

// sendRequest is the message object of both generations, as far as the fake
// checks and records it.
type sendRequest struct {
	MessagingProduct *string `json:"messaging_product"`
	To               string  `json:"to"`
	Recipient        string  `json:"recipient"`
	CallbackData     string  `json:"biz_opaque_callback_data"`
	Type             string  `json:"type"`
	Context          *struct {
		MessageID string `json:"message_id"`
	} `json:"context"`
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Template *struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		Language  struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string `json:"type"`
			SubType    string `json:"sub_type"`
			Parameters []struct {
				Type   string               `json:"type"`
				Text   string               `json:"text"`
				Action *buttonActionRequest `json:"action"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
	Interactive *interactiveRequest `json:"interactive"`
}

// Sent returns a copy of the sends accepted since start or the last Reset,
// oldest first.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// lookup returns the accepted send with the given message id.
func (s *Server) lookup(messageID string) (SentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.sent, func(m SentMessage) bool { return m.MessageID == messageID })
	if i < 0 {
		return SentMessage{}, false
	}
	return s.sent[i], true
}

func (s *Server) handleCloudSend(w http.ResponseWriter, r *http.Request) {
	if v := r.PathValue("version"); v != "" && !graphVersion.MatchString(v) {
		writeAPIError(w, whatsapp.Cloud, apiError{status: http.StatusNotFound, code: 100, message: fmt.Sprintf("Unknown path component %q", v)})
		return
	}
	s.handleSend(w, r, whatsapp.Cloud, r.PathValue("phone"))
}

func (s *Server) handleOnPremSend(w http.ResponseWriter, r *http.Request) {
	s.handleSend(w, r, whatsapp.OnPremises, "")
}

// handleSend checks a send as the real API would (token, then message
// shape), then applies any injected failure, and only then records it.
func (s *Server) handleSend(w http.ResponseWriter, r *http.Request, gen whatsapp.Generation, phoneNumberID string) {
	if !s.authorized(r) {
		s.log.Info("send refused: wrong or missing access token", "generation", gen)
		writeAPIError(w, gen, unauthorized[gen])
		return
	}
	var req sendRequest
	problem := ""
	if err := json.NewDecoder(io.LimitReader(r.Body, maxSendBytes)).Decode(&req); err != nil {
		problem = "request body is not a JSON message object: " + err.Error()
	} else {
		problem = validate(gen, &req)
	}
	if problem != "" {
		s.log.Info("send refused: invalid message", "generation", gen, "problem", problem)
		writeAPIError(w, gen, invalidParameter(gen, problem))
		return
	}
	if details := s.unknownIDs(productIDs(&req)); details != "" {
		s.log.Info("send refused: unknown catalog or product", "generation", gen, "problem", details)
		writeAPIError(w, gen, unknownProduct(gen, details))
		return
	}
	if details := s.billRefusal(&req); details != "" {
		s.log.Info("send refused: payments", "generation", gen, "problem", details)
		writeAPIError(w, gen, invalidParameter(gen, details))
		return
	}
	if failure, ok := s.takeFailure(gen); ok {
		s.log.Info("send refused: injected failure", "generation", gen, "to", req.To, "code", failure.code, "status", failure.status)
		writeAPIError(w, gen, failure)
		return
	}
	m := record(gen, phoneNumberID, &req)
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.noteBill(m, &req)
	s.mu.Unlock()
	s.log.Info("send accepted", "generation", m.Generation, "phone_number_id", m.PhoneNumberID, "to", m.Customer(),
		"type", m.Type, "message_id", m.MessageID, "context", m.ContextMessageID, "text", m.Text, "template", m.TemplateName)

	if s.opts.SentBeforeAnswer && s.opts.WebhookURL != "" {
		s.postSentBeforeAnswer(r.Context(), m)
	}
	writeJSON(w, http.StatusOK, sendAnswer(m))
	if s.opts.OnAccepted != nil {
		s.opts.OnAccepted(m)
	}
	if s.opts.AutoStatus && s.opts.WebhookURL != "" {
		s.goPostStatuses(m)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	s.mu.Lock()
	token := s.opts.AccessToken
	s.mu.Unlock()
	if token == "" {
		return true
	}
	want := "Bearer " + token
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) == 1
}

// SetAccessToken makes token the only one accepted from now on, as WhatsApp
// does once a business rotates its token and revokes the old one.
func (s *Server) SetAccessToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.AccessToken = token
}

// validate returns why WhatsApp would refuse req, or "" when it would not.
func validate(gen whatsapp.Generation, req *sendRequest) string {
	switch {
	case gen == whatsapp.Cloud && (req.MessagingProduct == nil || *req.MessagingProduct != "whatsapp"):
		return `messaging_product must be "whatsapp"`
	case gen == whatsapp.OnPremises && req.MessagingProduct != nil:
		return "messaging_product is not an On-Premises field"
	case gen == whatsapp.OnPremises && req.Recipient != "":
		return "recipient is not an On-Premises field"
	case req.To == "" && req.Recipient == "":
		return "to or recipient is required"
	case req.To != "" && !whatsapp.IsPhoneNumber(req.To):
		return fmt.Sprintf("to %q is not a phone number; a business-scoped user id goes in recipient", req.To)
	case gen == whatsapp.OnPremises && req.CallbackData != "":
		return "biz_opaque_callback_data is not an On-Premises field"
	case len(req.CallbackData) > callbackdata.MaxLen:
		return fmt.Sprintf("biz_opaque_callback_data has %d bytes, the limit is %d", len(req.CallbackData), callbackdata.MaxLen)
	case req.Type == "":
		return "type is required"
	case req.Context != nil && req.Context.MessageID == "":
		return "context.message_id is required"
	}
	switch req.Type {
	case "text":
		if req.Text == nil || req.Text.Body == "" {
			return "text.body is required"
		}
		if n := utf8.RuneCountInString(req.Text.Body); n > whatsapp.MaxTextLength {
			return fmt.Sprintf("text.body has %d characters, the limit is %d", n, whatsapp.MaxTextLength)
		}
	case "template":
		if req.Template == nil || req.Template.Name == "" || req.Template.Language.Code == "" {
			return "template.name and template.language.code are required"
		}
		if gen == whatsapp.OnPremises && req.Template.Namespace == "" {
			return "template.namespace is required"
		}
		if b := templateButton(req); b != nil {
			return validateButton(gen, b.subType, b.action)
		}
	case "interactive":
		return validateInteractive(gen, req.Interactive)
	}
	return ""
}

// record turns an accepted request into a SentMessage with a fresh id.
func record(gen whatsapp.Generation, phoneNumberID string, req *sendRequest) SentMessage {
	m := SentMessage{
		Generation:    gen,
		PhoneNumberID: phoneNumberID,
		To:            req.To,
		Recipient:     req.Recipient,
		CallbackData:  req.CallbackData,
		Type:          req.Type,
		MessageID:     newMessageID(gen),
		Time:          time.Now().UTC(),
	}
	if req.Context != nil {
		m.ContextMessageID = req.Context.MessageID
	}
	if req.Text != nil {
		m.Text = req.Text.Body
	}
	if req.Interactive != nil {
		m.Interactive = recordInteractive(req.Interactive)
	}
	if b := templateButton(req); b != nil {
		m.TemplateButton = &TemplateButton{SubType: b.subType}
		if b.action != nil {
			m.TemplateButton.ThumbnailProductRetailerID = b.action.ThumbnailProductRetailerID
			m.TemplateButton.Sections = recordSections(b.action.Sections)
		}
	}
	if t := req.Template; t != nil {
		m.TemplateName, m.TemplateLanguage, m.TemplateNamespace = t.Name, t.Language.Code, t.Namespace
		for _, c := range t.Components {
			if c.Type == "body" {
				for _, p := range c.Parameters {
					m.TemplateParams = append(m.TemplateParams, p.Text)
				}
			}
		}
	}
	return m
}
