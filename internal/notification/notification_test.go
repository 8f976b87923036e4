package notification

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
)

func order() *commercev1alpha1.WhatsAppOrder {
	return &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Name: "shop-abc"}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Customer: commercev1alpha1.Customer{Name: "Sheena"},
		Items: []commercev1alpha1.OrderItem{
			{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"},
			{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: "25", Currency: "USD"},
		}}}
}

var summary = cart.Summary{ItemCount: 3, Total: "40.98", Currency: "USD"}

func TestDefaultTextNamesItemsAndTotal(t *testing.T) {
	d := For(order(), commercev1alpha1.OrderAccepted, summary)
	got, err := Text(&commercev1alpha1.WhatsAppChannel{}, d)
	if err != nil {
		t.Fatal(err)
	}
	want := "Your order shop-abc is accepted: 2 x di9ozbzfi4, 1 x nqryix03ez, total 40.98 USD. Thank you!"
	if got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestChannelTextsAndTemplateParameters(t *testing.T) {
	ch := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: commercev1alpha1.NotificationSettings{
		OrderMessages: map[string]string{"Shipped": "Hi {{.CustomerName}}, {{.ItemCount}} items shipped ({{.Total}} {{.Currency}})"},
		Template:      &commercev1alpha1.MessageTemplate{Name: "order_update", Parameters: []string{"{{.Order}}", "{{.State}}"}},
	}}}
	d := For(order(), commercev1alpha1.OrderShipped, summary)
	got, err := Text(ch, d)
	if err != nil || got != "Hi Sheena, 3 items shipped (40.98 USD)" {
		t.Fatalf("got %q, %v", got, err)
	}
	params, err := TemplateParameters(ch.Spec.Notifications.Template, d)
	if err != nil || strings.Join(params, "|") != "shop-abc|Shipped" {
		t.Fatalf("got %v, %v", params, err)
	}
}

func TestValidateRefusesBrokenTemplates(t *testing.T) {
	for _, s := range []commercev1alpha1.NotificationSettings{
		{OrderMessages: map[string]string{"Accepted": "{{.Order"}},
		{OrderMessages: map[string]string{"Accepted": "{{.NoSuchField}}"}},
		{Template: &commercev1alpha1.MessageTemplate{Name: "t", Parameters: []string{"{{if}}"}}},
	} {
		if err := Validate(s); err == nil {
			t.Errorf("Validate(%+v) accepted a broken template", s)
		}
	}
	if err := Validate(commercev1alpha1.NotificationSettings{OrderMessages: map[string]string{"Accepted": "ok {{.Total}}"}}); err != nil {
		t.Errorf("a good template refused: %v", err)
	}
}

// TestLanguageOfChannelTexts pins what a channel text may be. Each refusal is
// made by Parse, which executes nothing: a text that could loop or allocate
// never reaches Execute.
func TestLanguageOfChannelTexts(t *testing.T) {
	d := For(order(), commercev1alpha1.OrderShipped, summary)
	for _, tc := range []struct {
		name, src, want string
		// refused is what the refusal must say; empty when the text is fine.
		refused string
	}{
		{"every field", "{{.Order}} {{.State}} {{.CustomerName}} {{.Items}} {{.ItemCount}} {{.Total}} {{.Currency}}",
			"shop-abc Shipped Sheena 2 x di9ozbzfi4, 1 x nqryix03ez 3 40.98 USD", ""},
		{"if and else", "{{if .CustomerName}}Hi {{.CustomerName}}{{else}}Hi{{end}}!", "Hi Sheena!", ""},
		{"with binds dot", "{{with .CustomerName}}Dear {{.}}, {{else}}Hello, {{end}}{{- /* a comment */ -}} done", "Dear Sheena, done", ""},
		{"else with", "{{with .Order}}{{.}}{{else with .Total}}{{.}}{{end}}", "shop-abc", ""},
		{"the issue's endless loop", "{{range 9000000000000000000}}{{end}}", "", "range is not allowed"},
		{"the issue's 1.5 GB", `{{range 150}}{{printf "%01000000d" 0}}{{end}}`, "", "range is not allowed"},
		{"printf alone", `{{printf "%01000000d" 0}}`, "", "function calls and pipelines are not allowed"},
		{"a builtin on a field", "{{len .Items}}", "", "function calls and pipelines are not allowed"},
		{"a pipeline", "{{.Total | print}}", "", "function calls and pipelines are not allowed"},
		{"a function without arguments", "{{print}}", "", "not allowed"},
		{"a variable", "{{$x := .Total}}{{$x}}", "", "variables"},
		{"define and template", `{{define "x"}}{{template "x"}}{{end}}{{template "x"}}`, "", "define and block are not allowed"},
		{"block", `{{block "x" .}}{{end}}`, "", "define and block are not allowed"},
		{"a literal", `{{"text"}}`, "", "not allowed"},
		{"the whole data", "{{.}}", "", "not allowed"},
		{"another field inside with", "{{with .Total}}{{.Order}}{{end}}", "", "inside with"},
		{"a field of a field", "{{.Order.Name}}", "", "is not a field"},
		{"an unknown field", "{{.NoSuchField}}", "", "is not a field"},
		{"a parenthesized pipeline", "{{(.Order)}}", "", "not allowed"},
		{"too long a source", strings.Repeat("x", MaxTextLength+1), "", "characters long, more than 4096"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse("orderMessages.Shipped", tc.src, MaxTextLength)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), "orderMessages.Shipped") {
					t.Fatalf("Parse: %v, want a refusal naming the text and saying %q", err, tc.refused)
				}
				ch := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: commercev1alpha1.NotificationSettings{
					OrderMessages: map[string]string{"Shipped": tc.src}}}}
				if err := Validate(ch.Spec.Notifications); err == nil {
					t.Error("Validate accepted it")
				}
				if got, err := Text(ch, d); err == nil {
					t.Errorf("Text rendered it: %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := tmpl.Execute(&b, d); err != nil || b.String() != tc.want {
				t.Fatalf("rendered %q, %v; want %q", b.String(), err, tc.want)
			}
		})
	}
}

func TestRenderedTextsAreBounded(t *testing.T) {
	long := order()
	for i := range 300 {
		long.Spec.Items = append(long.Spec.Items, commercev1alpha1.OrderItem{ProductRetailerID: strings.Repeat("p", 20) + string(rune('a'+i%26)), Quantity: 1, ItemPrice: "1", Currency: "USD"})
	}
	d := For(long, commercev1alpha1.OrderAccepted, summary)
	ch := &commercev1alpha1.WhatsAppChannel{Spec: commercev1alpha1.WhatsAppChannelSpec{Notifications: commercev1alpha1.NotificationSettings{
		OrderMessages: map[string]string{"Accepted": strings.Repeat("{{.Items}}", 400)}}}}
	if got, err := Text(ch, d); err == nil || !strings.Contains(err.Error(), "orderMessages.Accepted renders to more than 4096 characters") {
		t.Fatalf("Text: %d characters, %v; want a refusal", len(got), err)
	}
	params, err := TemplateParameters(&commercev1alpha1.MessageTemplate{Name: "t", Parameters: []string{"{{.Order}}", "{{.Items}}"}}, d)
	if err == nil || !strings.Contains(err.Error(), "template.parameters[1] renders to more than 1024 characters") {
		t.Fatalf("TemplateParameters: %v, %v; want a refusal of the second", params, err)
	}
	// Multi-byte characters count as one each, as WhatsApp counts them.
	ch.Spec.Notifications.OrderMessages["Accepted"] = strings.Repeat("é", MaxTextLength)
	if got, err := Text(ch, d); err != nil || len([]rune(got)) != MaxTextLength {
		t.Fatalf("a text of exactly the limit: %d characters, %v", len([]rune(got)), err)
	}
}
