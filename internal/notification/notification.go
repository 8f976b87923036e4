// Package notification writes the messages that tell a customer what became of
// their order: the channel's own texts where it configures them, a default that
// names the items and the total otherwise.
//
// A channel's texts are written by whoever may edit the channel and rendered
// by the leader, so they are hostile input: they are parsed into a small subset
// of Go's text/template (see Parse) in which rendering is one pass over the
// text, and what they render is bounded (see MaxTextLength, MaxParameterLength).
package notification

import (
	"fmt"
	"strings"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
)

// Bounds of a channel's texts, in characters, before and after rendering. The
// CRD refuses longer sources (MaxLength, and a CEL rule for orderMessages);
// these are checked again here, where the text is used.
const (
	// MaxTextLength is WhatsApp's limit on a text message body.
	MaxTextLength = 4096
	// MaxParameterLength bounds one template parameter.
	MaxParameterLength = 1024
)

// Data is what a message template can use: scalars only, which is what lets
// the template language be the small subset Parse accepts.
type Data struct {
	Order        string
	State        commercev1alpha1.OrderState
	CustomerName string
	Items        string
	ItemCount    int64
	Total        string
	Currency     string
}

var defaults = map[commercev1alpha1.OrderState]string{
	commercev1alpha1.OrderAccepted:  "Your order {{.Order}} is accepted: {{.Items}}, total {{.Total}} {{.Currency}}. Thank you!",
	commercev1alpha1.OrderRejected:  "Sorry, we cannot take your order {{.Order}} ({{.Items}}, total {{.Total}} {{.Currency}}).",
	commercev1alpha1.OrderShipped:   "Your order {{.Order}} is on its way: {{.Items}}, total {{.Total}} {{.Currency}}.",
	commercev1alpha1.OrderDelivered: "Your order {{.Order}} has been delivered. Enjoy!",
	commercev1alpha1.OrderCancelled: "Your order {{.Order}} ({{.Items}}, total {{.Total}} {{.Currency}}) is cancelled.",
}

// For returns the data of an order about to be announced in state; sum is the
// order's validated cart summary.
func For(o *commercev1alpha1.WhatsAppOrder, state commercev1alpha1.OrderState, sum cart.Summary) Data {
	lines := make([]string, len(o.Spec.Items))
	for i, it := range o.Spec.Items {
		lines[i] = fmt.Sprintf("%d x %s", it.Quantity, it.ProductRetailerID)
	}
	return Data{
		Order: o.Name, State: state, CustomerName: o.Spec.Customer.Name,
		Items: strings.Join(lines, ", "), ItemCount: sum.ItemCount, Total: sum.Total, Currency: sum.Currency,
	}
}

// Text is the free-form message announcing d.State on channel ch.
func Text(ch *commercev1alpha1.WhatsAppChannel, d Data) (string, error) {
	src, ok := ch.Spec.Notifications.OrderMessages[string(d.State)]
	if !ok {
		src = defaults[d.State]
	}
	return render("orderMessages."+string(d.State), src, MaxTextLength, d)
}

// TemplateParameters are the channel's template parameters rendered for d.
func TemplateParameters(t *commercev1alpha1.MessageTemplate, d Data) ([]string, error) {
	params := make([]string, len(t.Parameters))
	for i, src := range t.Parameters {
		p, err := render(parameterName(i), src, MaxParameterLength, d)
		if err != nil {
			return nil, err
		}
		params[i] = p
	}
	return params, nil
}

func parameterName(i int) string { return fmt.Sprintf("template.parameters[%d]", i) }

// Validate checks that every text the channel configures is a template Parse
// accepts and renders within its bound for a sample order, so a mistake shows
// on the channel rather than when an order needs it. A text outside the
// language is refused before anything is executed.
func Validate(s commercev1alpha1.NotificationSettings) error {
	sample := Data{Order: "sample", State: commercev1alpha1.OrderAccepted, CustomerName: "Sample", Items: "1 x sample", ItemCount: 1, Total: "1", Currency: "USD"}
	for state, src := range s.OrderMessages {
		if _, err := render("orderMessages."+state, src, MaxTextLength, sample); err != nil {
			return err
		}
	}
	if s.Template != nil {
		if _, err := TemplateParameters(s.Template, sample); err != nil {
			return err
		}
	}
	return nil
}

func render(name, src string, limit int, d Data) (string, error) {
	t, err := Parse(name, src, limit)
	if err != nil {
		return "", err
	}
	w := &limitedWriter{limit: limit}
	if err := t.Execute(w, d); err != nil {
		if w.over {
			return "", fmt.Errorf("%s renders to more than %d characters", name, limit)
		}
		return "", fmt.Errorf("%s cannot be rendered: %w", name, err)
	}
	return w.b.String(), nil
}
