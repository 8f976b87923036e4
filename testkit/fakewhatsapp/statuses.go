package fakewhatsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// validStatuses are the status values each generation sends.
var validStatuses = map[whatsapp.Generation][]string{
	whatsapp.Cloud:      {"sent", "delivered", "read", "failed", "played"},
	whatsapp.OnPremises: {"sent", "delivered", "read", "failed", "deleted", "warning"},
}

// autoStatuses are what a successful delivery reports, in order.
var autoStatuses = []string{"sent", "delivered", "read"}

// statusTarget is where status webhooks about one message go.
type statusTarget struct {
	url           string
	secret        []byte
	generation    whatsapp.Generation
	phoneNumberID string
	messageID     string
	recipient     string
	// callbackData and pricingCategory are echoed in Cloud statuses, as
	// WhatsApp does for the send they are about.
	callbackData    string
	pricingCategory string
	// failure is the error of a failed status; the window-closed one when unset.
	failure payload.StatusError
}

// PostStatuses posts one status webhook per element of statuses about
// messageID to webhookURL, in the generation's body format, signed with
// appSecret when it is non-empty. Timestamps increase in the order given;
// shuffle changes only the order of arrival, as WhatsApp's own delivery does.
// A failed status carries the window-closed error. Statuses about a send the
// fake accepted echo its callback data and report its pricing category, as
// WhatsApp's do. Cloud envelopes name the phone number that sent messageID, or
// Options.PhoneNumberID for ids the fake did not send. Posting stops at the first answer other than 200, and the
// error names that status.
func (s *Server) PostStatuses(ctx context.Context, webhookURL string, appSecret []byte, generation whatsapp.Generation, messageID, recipient string, statuses []string, shuffle bool) error {
	t := statusTarget{url: webhookURL, secret: appSecret, generation: generation, messageID: messageID, recipient: recipient, phoneNumberID: s.opts.PhoneNumberID}
	if m, ok := s.lookup(messageID); ok {
		if m.PhoneNumberID != "" {
			t.phoneNumberID = m.PhoneNumberID
		}
		t.callbackData, t.pricingCategory = m.CallbackData, pricingCategory(m)
	}
	return s.postStatuses(ctx, t, statuses, shuffle, 0)
}

// targetFor addresses the configured webhook about an accepted send.
func (s *Server) targetFor(m SentMessage) statusTarget {
	return statusTarget{
		url: s.opts.WebhookURL, secret: s.opts.AppSecret, generation: m.Generation,
		phoneNumberID: m.PhoneNumberID, messageID: m.MessageID, recipient: m.Customer(),
		callbackData: m.CallbackData, pricingCategory: pricingCategory(m),
	}
}

// pricingCategory is what WhatsApp bills a message as: a template as
// utility, a free-form message (inside the customer service window) as
// service. On-Premises statuses carry no per-message pricing.
func pricingCategory(m SentMessage) string {
	switch {
	case m.Generation == whatsapp.OnPremises:
		return ""
	case m.Type == "template":
		return "utility"
	}
	return "service"
}

// autoStatus posts statuses to t, unless Close comes first.
func (s *Server) autoStatus(t statusTarget, statuses []string) {
	defer s.wg.Done()
	if err := s.postStatuses(s.ctx, t, statuses, false, s.opts.StatusDelay); err != nil && s.ctx.Err() == nil {
		s.log.Warn("posting status webhook failed", "message_id", t.messageID, "err", err)
	}
}

func (s *Server) postStatuses(ctx context.Context, t statusTarget, statuses []string, shuffle bool, delay time.Duration) error {
	if err := t.validate(statuses); err != nil {
		return err
	}
	base := time.Now().Unix()
	order := make([]int, len(statuses))
	for i := range order {
		order[i] = i
	}
	if shuffle {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	for _, i := range order {
		if delay > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("fakewhatsapp: posting %q status of %s: %w", statuses[i], t.messageID, ctx.Err())
			case <-time.After(delay):
			}
		}
		body := t.body(statuses[i], time.Unix(base+int64(i), 0))
		if err := s.post(ctx, t, body); err != nil {
			return fmt.Errorf("fakewhatsapp: posting %q status of %s: %w", statuses[i], t.messageID, err)
		}
		s.log.Info("status webhook posted", "message_id", t.messageID, "status", statuses[i], "url", t.url)
	}
	return nil
}

func (t statusTarget) validate(statuses []string) error {
	valid, ok := validStatuses[t.generation]
	switch {
	case !ok:
		return fmt.Errorf("fakewhatsapp: unknown API generation %q", t.generation)
	case t.url == "":
		return errors.New("fakewhatsapp: no webhook URL")
	case t.messageID == "" || t.recipient == "":
		return errors.New("fakewhatsapp: message id and recipient are required")
	case t.generation == whatsapp.Cloud && t.phoneNumberID == "":
		return fmt.Errorf("fakewhatsapp: no phone number id for Cloud statuses of %s: the fake did not send it and Options.PhoneNumberID is empty", t.messageID)
	case len(statuses) == 0:
		return errors.New("fakewhatsapp: no statuses to post")
	}
	for _, st := range statuses {
		if !slices.Contains(valid, st) {
			return fmt.Errorf("fakewhatsapp: %q is not a %s status (want one of %s)", st, t.generation, strings.Join(valid, ", "))
		}
	}
	return nil
}

// body is the webhook body carrying one status. A failed one carries
// t.failure, or the window-closed error, and no pricing: it is not billed.
func (t statusTarget) body(state string, at time.Time) []byte {
	st := payload.Status{MessageID: t.messageID, Status: state, Timestamp: at, CallbackData: t.callbackData, PricingCategory: t.pricingCategory}
	if whatsapp.IsPhoneNumber(t.recipient) {
		st.RecipientID = t.recipient
	} else {
		st.RecipientUserID = t.recipient
	}
	if state == "failed" {
		failure := t.failure
		if failure.Code == 0 {
			failure = deliveryErrors[codeWindowClosed][t.generation]
		}
		st.Errors, st.PricingCategory = []payload.StatusError{failure}, ""
	}
	return webhookbody.New(t.generation, t.phoneNumberID).Status(st).Bytes()
}

// post delivers one webhook body and insists on 200, as Meta does.
func (s *Server) post(ctx context.Context, t statusTarget, body []byte) error {
	req, err := webhookbody.Sign(body, t.secret).Request(ctx, t.url)
	if err != nil {
		return err
	}
	resp, err := s.poster.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512)) // only to explain a refusal
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("receiver answered %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}
