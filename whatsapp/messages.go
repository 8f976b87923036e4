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
	To               string        `json:"to,omitempty"`
	Recipient        string        `json:"recipient,omitempty"`
	Context          *replyContext `json:"context,omitempty"`
	CallbackData     string        `json:"biz_opaque_callback_data,omitempty"`
	Type             string        `json:"type"`
	Text             *textBody     `json:"text,omitempty"`
	Template         *template     `json:"template,omitempty"`
	Interactive      *interactive  `json:"interactive,omitempty"`
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

// component is a body component, or a button component (with sub_type and
// index) of a template.
type component struct {
	Type       string      `json:"type"`
	SubType    string      `json:"sub_type,omitempty"`
	Index      *int        `json:"index,omitempty"`
	Parameters []parameter `json:"parameters"`
}

// parameter is a text parameter, the action parameter of a product or
// order_details button (a *buttonAction or an orderDetailsButton), or the
// order_status parameter of an order status template.
type parameter struct {
	Type        string             `json:"type"`
	Text        string             `json:"text,omitempty"`
	Action      any                `json:"action,omitempty"`
	OrderStatus *orderStatusParams `json:"order_status,omitempty"`
}

// SendText sends a free-form text message, addressed and threaded as s
// says, and returns the id WhatsApp assigned to it, which later status
// webhooks refer to. Free-form messages only go through within 24 hours of the
// customer's last message; outside that window the error's class is
// WindowClosed.
func (c *Client) SendText(ctx context.Context, s Send, body string) (string, error) {
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
	msg, err := c.envelopeFor(s, "text")
	if err != nil {
		return "", err
	}
	msg.Text = &textBody{Body: body}
	return c.post(ctx, msg)
}

// SendTemplate sends the approved template t, the only kind of message
// WhatsApp delivers outside the 24-hour window. params fill the template
// body's {{1}}, {{2}}, ... placeholders in order.
func (c *Client) SendTemplate(ctx context.Context, s Send, t TemplateRef, params []string) (string, error) {
	if t.Name == "" || t.Language == "" {
		return "", invalid("template name and language code are required")
	}
	msg, err := c.envelopeFor(s, "template")
	if err != nil {
		return "", err
	}
	msg.Template = c.template(t.Name, t.Language, t.Namespace)
	if len(params) > 0 {
		body := component{Type: "body", Parameters: make([]parameter, len(params))}
		for i, p := range params {
			body.Parameters[i] = parameter{Type: "text", Text: p}
		}
		msg.Template.Components = []component{body}
	}
	return c.post(ctx, msg)
}

// template names a template in this generation's terms.
func (c *Client) template(name, languageCode, namespace string) *template {
	t := &template{Name: name, Language: language{Code: languageCode}}
	if c.generation == OnPremises {
		// On-Premises requires the namespace and a language policy; only
		// "deterministic" is supported.
		t.Namespace = namespace
		t.Language.Policy = "deterministic"
	}
	return t
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
