// Package notification writes the messages that tell a customer what became of
// their order: the channel's own texts where it configures them, a default that
// names the items and the total otherwise.
package notification

import (
	"fmt"
	"strings"
	"text/template"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
)

// Data is what a message template can use.
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
	return render("orderMessages."+string(d.State), src, d)
}

// TemplateParameters are the channel's template parameters rendered for d.
func TemplateParameters(t *commercev1alpha1.MessageTemplate, d Data) ([]string, error) {
	params := make([]string, len(t.Parameters))
	for i, src := range t.Parameters {
		p, err := render(fmt.Sprintf("template.parameters[%d]", i), src, d)
		if err != nil {
			return nil, err
		}
		params[i] = p
	}
	return params, nil
}

// Validate checks that every text the channel configures is a usable template,
// so a mistake shows on the channel rather than when an order needs it.
func Validate(s commercev1alpha1.NotificationSettings) error {
	sample := Data{Order: "sample", State: commercev1alpha1.OrderAccepted, Items: "1 x sample", ItemCount: 1, Total: "1", Currency: "USD"}
	for state, src := range s.OrderMessages {
		if _, err := render("orderMessages."+state, src, sample); err != nil {
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

func render(name, src string, d Data) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("%s is not a valid template: %w", name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("%s cannot be rendered: %w", name, err)
	}
	return b.String(), nil
}
