package whatsapp

import (
	"errors"
	"fmt"
)

// ErrUnsupported is wrapped by the Permanent error returned for a message the
// client's API generation cannot send at all, before anything is sent.
var ErrUnsupported = errors.New("whatsapp: not supported by this API generation")

// Recipient is who a message goes to: the WhatsApp id (phone number) when
// there is one, otherwise the business-scoped user id, which Cloud takes in
// the recipient field. A user id never goes into "to".
type Recipient struct {
	WaID   string
	UserID string
}

// Send says where a message goes and what it answers.
type Send struct {
	To Recipient
	// ReplyTo threads the message under that message id.
	ReplyTo string
	// CallbackData is echoed by WhatsApp in every status webhook about the
	// message (Cloud biz_opaque_callback_data; On-Premises has no such field
	// and leaves it out).
	CallbackData string
}

// TemplateRef names an approved template. Namespace is required by
// On-Premises and ignored by Cloud.
type TemplateRef struct {
	Name, Language, Namespace string
}

// IsPhoneNumber reports whether id can be a WhatsApp id (a phone number in
// international form, digits only). Business-scoped user ids
// ("US.13491208655302741918") cannot, and must never be sent in "to".
func IsPhoneNumber(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for _, r := range id {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// envelopeFor addresses a message: to the WhatsApp id when there is one,
// else (Cloud only) to the user id in recipient.
func (c *Client) envelopeFor(s Send, typ string) (*outgoing, error) {
	msg := c.envelope("", typ)
	switch {
	case s.To.WaID != "" && !IsPhoneNumber(s.To.WaID):
		return nil, invalid(fmt.Sprintf("%q is not a WhatsApp id (a phone number); a business-scoped user id goes in Recipient.UserID", s.To.WaID))
	case s.To.WaID != "":
		msg.To = s.To.WaID
	case s.To.UserID == "":
		return nil, invalid("no recipient")
	case c.generation == OnPremises:
		return nil, unsupported("On-Premises cannot send to a business-scoped user id; it needs the customer's WhatsApp id")
	default:
		msg.Recipient = s.To.UserID
	}
	if s.ReplyTo != "" {
		msg.Context = &replyContext{MessageID: s.ReplyTo}
	}
	if c.generation == Cloud {
		msg.CallbackData = s.CallbackData
	}
	return msg, nil
}

func unsupported(reason string) *Error {
	return &Error{Class: Permanent, Message: reason, Err: ErrUnsupported}
}
