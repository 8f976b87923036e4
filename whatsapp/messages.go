package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxTextLength is the most characters (runes) a text message body may hold.
const MaxTextLength = 4096

var (
	// ErrTextTooLong is wrapped by the Permanent error SendText returns for a
	// body over MaxTextLength, before anything is sent.
	ErrTextTooLong = errors.New("whatsapp: text body too long")
	// ErrInvalidMessage is wrapped by the Permanent error returned for a message
	// WhatsApp would refuse anyway (no recipient, empty body, no template name),
	// before anything is sent.
	ErrInvalidMessage = errors.New("whatsapp: invalid message")
)

// outgoing is the message object of both generations; On-Premises leaves out
// messaging_product.
type outgoing struct {
	MessagingProduct string        `json:"messaging_product,omitempty"`
	RecipientType    string        `json:"recipient_type"`
	To               string        `json:"to"`
	Context          *replyContext `json:"context,omitempty"`
	Type             string        `json:"type"`
	Text             *textBody     `json:"text,omitempty"`
	Template         *template     `json:"template,omitempty"`
}

type replyContext struct {
	MessageID string `json:"message_id"`
}

type textBody struct {
	Body string `json:"body"`
}

type template struct {
	Namespace  string      `json:"namespace,omitempty"`
	Name       string      `json:"name"`
	Language   language    `json:"language"`
	Components []component `json:"components,omitempty"`
}

type language struct {
	Policy string `json:"policy,omitempty"`
	Code   string `json:"code"`
}

type component struct {
	Type       string      `json:"type"`
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// SendText sends a free-form text message to the customer with WhatsApp id to
// and returns the id WhatsApp assigned to it, which later status webhooks
// refer to. A non-empty replyTo threads the message under that message id.
// Free-form messages only go through within 24 hours of the customer's last
// message; outside that window the error's class is WindowClosed.
func (c *Client) SendText(ctx context.Context, to, body, replyTo string) (string, error) {
	if to == "" {
		return "", invalid("no recipient")
	}
	if body == "" {
		return "", invalid("empty text body")
	}
	if n := utf8.RuneCountInString(body); n > MaxTextLength {
		return "", &Error{
			Class:   Permanent,
			Message: fmt.Sprintf("text body has %d characters, the limit is %d", n, MaxTextLength),
			Err:     ErrTextTooLong,
		}
	}
	msg := c.envelope(to, "text")
	msg.Text = &textBody{Body: body}
	if replyTo != "" {
		msg.Context = &replyContext{MessageID: replyTo}
	}
	return c.post(ctx, msg)
}

// SendTemplate sends the approved template templateName in languageCode, the
// only kind of message WhatsApp delivers outside the 24-hour window. params
// fill the template body's {{1}}, {{2}}, ... placeholders in order.
func (c *Client) SendTemplate(ctx context.Context, to, templateName, languageCode string, params []string) (string, error) {
	if to == "" {
		return "", invalid("no recipient")
	}
	if templateName == "" || languageCode == "" {
		return "", invalid("template name and language code are required")
	}
	t := &template{Name: templateName, Language: language{Code: languageCode}}
	if c.generation == OnPremises {
		// On-Premises requires the namespace and a language policy; only
		// "deterministic" is supported.
		t.Namespace = c.namespace
		t.Language.Policy = "deterministic"
	}
	if len(params) > 0 {
		body := component{Type: "body", Parameters: make([]parameter, len(params))}
		for i, p := range params {
			body.Parameters[i] = parameter{Type: "text", Text: p}
		}
		t.Components = []component{body}
	}
	msg := c.envelope(to, "template")
	msg.Template = t
	return c.post(ctx, msg)
}

// envelope returns the fields every message shares in this generation.
func (c *Client) envelope(to, typ string) *outgoing {
	msg := &outgoing{RecipientType: "individual", To: to, Type: typ}
	if c.generation == Cloud {
		msg.MessagingProduct = "whatsapp"
	}
	return msg
}

func invalid(reason string) *Error {
	return &Error{Class: Permanent, Message: reason, Err: ErrInvalidMessage}
}
