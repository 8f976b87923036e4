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
