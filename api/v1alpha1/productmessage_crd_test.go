package v1alpha1_test

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The ProductMessage schema refuses what WhatsApp would refuse, so a message
// that can never be sent is never stored.

func newProductMessage(ns string) *commercev1alpha1.ProductMessage {
	return &commercev1alpha1.ProductMessage{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "pmsg-"},
		Spec: commercev1alpha1.ProductMessageSpec{
			Channel:   "shop",
			To:        commercev1alpha1.Recipient{WaID: "16505551234"},
			CatalogID: "194836987003835",
			Header:    "Summer picks",
			Body:      "Three things we think you will love.",
			Footer:    "Free delivery over 50 USD",
			Sections: []commercev1alpha1.ProductSection{
				{Title: "Tees", ProductRetailerIDs: []string{"di9ozbzfi4", "nqryix03ez"}},
				{Title: "Hats", ProductRetailerIDs: []string{"hat0001"}},
			},
			Template: &commercev1alpha1.ProductTemplate{Name: "summer_picks_mpm"},
		},
	}
}

func singleProduct(ns string) *commercev1alpha1.ProductMessage {
	m := newProductMessage(ns)
	m.Spec.Sections, m.Spec.Header = nil, ""
	m.Spec.Product = &commercev1alpha1.SingleProduct{ProductRetailerID: "di9ozbzfi4"}
	return m
}

func catalogMessage(ns string) *commercev1alpha1.ProductMessage {
	m := newProductMessage(ns)
	m.Spec.Sections, m.Spec.Header = nil, ""
	m.Spec.Catalog = &commercev1alpha1.CatalogShowcase{ThumbnailProductRetailerID: "di9ozbzfi4"}
	return m
}

// productIDs returns n distinct product retailer ids.
func productIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return ids
}

func TestProductMessagesWhatsAppWouldSendAreAccepted(t *testing.T) {
	ns := env.Namespace(t)
	cases := map[string]func() *commercev1alpha1.ProductMessage{
		"multi-product with a template": func() *commercev1alpha1.ProductMessage { return newProductMessage(ns) },
		"single product without body or footer": func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Body, m.Spec.Footer = "", ""
			return m
		},
		"catalog without a thumbnail": func() *commercev1alpha1.ProductMessage {
			m := catalogMessage(ns)
			m.Spec.Catalog.ThumbnailProductRetailerID = ""
			return m
		},
		"one untitled section": func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections = []commercev1alpha1.ProductSection{{ProductRetailerIDs: []string{"di9ozbzfi4"}}}
			return m
		},
		"10 sections of 3 products: 30 in all": func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections = nil
			for i := range 10 {
				m.Spec.Sections = append(m.Spec.Sections, commercev1alpha1.ProductSection{
					Title: fmt.Sprintf("Section %d", i), ProductRetailerIDs: productIDs(fmt.Sprint(i), 3),
				})
			}
			return m
		},
		"title of 24 characters, body of 1024 and footer of 60, in multi-byte letters": func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections[0].Title = strings.Repeat("é", 24)
			m.Spec.Body = strings.Repeat("ü", 1024)
			m.Spec.Footer = strings.Repeat("ø", 60)
			return m
		},
		"customer known only by a user id": func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.To = commercev1alpha1.Recipient{UserID: "US.13491208655302741918"}
			return m
		},
		"answer to an inquiry": func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Inquiry = "inquiry-abc"
			return m
		},
		"tracking a message another system sent": func() *commercev1alpha1.ProductMessage {
			m := catalogMessage(ns)
			m.Spec.MessageID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2="
			return m
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			mustCreate(t, build())
		})
	}

	t.Run("template language defaults to en_US", func(t *testing.T) {
		m := newProductMessage(ns)
		mustCreate(t, m)
		if m.Spec.Template.Language != "en_US" {
			t.Errorf("spec.template.language defaulted to %q, want en_US", m.Spec.Template.Language)
		}
	})
}

func TestProductMessagesWhatsAppWouldRefuseAreRefused(t *testing.T) {
	ns := env.Namespace(t)
	cases := []struct {
		name    string
		build   func() *commercev1alpha1.ProductMessage
		message string
	}{
		{"no kind of message", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Product = nil
			return m
		}, "exactly one of product, sections or catalog is required"},
		{"product and catalog", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Catalog = &commercev1alpha1.CatalogShowcase{}
			return m
		}, "exactly one of product, sections or catalog is required"},
		{"sections and product", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Product = &commercev1alpha1.SingleProduct{ProductRetailerID: "di9ozbzfi4"}
			return m
		}, "exactly one of product, sections or catalog is required"},
		{"all three kinds", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Product = &commercev1alpha1.SingleProduct{ProductRetailerID: "di9ozbzfi4"}
			m.Spec.Catalog = &commercev1alpha1.CatalogShowcase{}
			return m
		}, "exactly one of product, sections or catalog is required"},
		{"11 sections", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections = nil
			for i := range 11 {
				m.Spec.Sections = append(m.Spec.Sections, commercev1alpha1.ProductSection{
					Title: fmt.Sprintf("Section %d", i), ProductRetailerIDs: []string{"p"},
				})
			}
			return m
		}, "spec.sections: Too many: 11: must have at most 10 items"},
		{"31 products over two sections", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections[0].ProductRetailerIDs = productIDs("a", 16)
			m.Spec.Sections[1].ProductRetailerIDs = productIDs("b", 15)
			return m
		}, "sections hold at most 30 products in all"},
		{"31 products in one section", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections = []commercev1alpha1.ProductSection{{ProductRetailerIDs: productIDs("a", 31)}}
			return m
		}, "spec.sections[0].productRetailerIDs: Too many: 31: must have at most 30 items"},
		{"a section without products", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections[1].ProductRetailerIDs = []string{}
			return m
		}, "spec.sections[1].productRetailerIDs"},
		{"an empty product id", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections[1].ProductRetailerIDs = []string{""}
			return m
		}, "spec.sections[1].productRetailerIDs[0]"},
		{"a section title of 25 characters", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections[1].Title = strings.Repeat("é", 25)
			return m
		}, "spec.sections[1].title: Too long: may not be more than 24"},
		{"two sections, one untitled", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Sections[1].Title = ""
			return m
		}, "every section needs a title when there is more than one"},
		{"sections without header", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Header = ""
			return m
		}, "header is required with sections"},
		{"a header on a single product", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Header = "Look"
			return m
		}, "header is only allowed with sections"},
		{"sections without body", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Body = ""
			return m
		}, "body is required with sections and catalog"},
		{"catalog without body", func() *commercev1alpha1.ProductMessage {
			m := catalogMessage(ns)
			m.Spec.Body = ""
			return m
		}, "body is required with sections and catalog"},
		{"body of 1025 characters", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Body = strings.Repeat("b", 1025)
			return m
		}, "spec.body: Too long: may not be more than 1024"},
		{"footer of 61 characters", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Footer = strings.Repeat("f", 61)
			return m
		}, "spec.footer: Too long: may not be more than 60"},
		{"header of 61 characters", func() *commercev1alpha1.ProductMessage {
			m := newProductMessage(ns)
			m.Spec.Header = strings.Repeat("h", 61)
			return m
		}, "spec.header: Too long: may not be more than 60"},
		{"no recipient", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.To = commercev1alpha1.Recipient{}
			return m
		}, "to needs a waID or a userID"},
		{"no catalog", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.CatalogID = ""
			return m
		}, "spec.catalogID"},
		{"no channel", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Channel = ""
			return m
		}, "spec.channel"},
		{"an empty product id on a single product", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Product.ProductRetailerID = ""
			return m
		}, "spec.product.productRetailerID"},
		{"a template without a name", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Template = &commercev1alpha1.ProductTemplate{Language: "en_US"}
			return m
		}, "spec.template.name"},
		{"an inquiry and a replyToMessageID", func() *commercev1alpha1.ProductMessage {
			m := singleProduct(ns)
			m.Spec.Inquiry, m.Spec.ReplyToMessageID = "inquiry-abc", "wamid.other"
			return m
		}, "inquiry and replyToMessageID are exclusive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectInvalid(t, env.Client.Create(ctx, tc.build()), tc.message)
		})
	}
}

func TestProductMessageSpecIsImmutable(t *testing.T) {
	ns := env.Namespace(t)
	cases := map[string]func(*commercev1alpha1.ProductMessage){
		"body changed":      func(m *commercev1alpha1.ProductMessage) { m.Spec.Body = "Other text" },
		"footer removed":    func(m *commercev1alpha1.ProductMessage) { m.Spec.Footer = "" },
		"recipient changed": func(m *commercev1alpha1.ProductMessage) { m.Spec.To.WaID = "16505550000" },
		"user id added":     func(m *commercev1alpha1.ProductMessage) { m.Spec.To.UserID = "US.1" },
		"product added": func(m *commercev1alpha1.ProductMessage) {
			m.Spec.Sections[1].ProductRetailerIDs = append(m.Spec.Sections[1].ProductRetailerIDs, "x")
		},
		"section title":        func(m *commercev1alpha1.ProductMessage) { m.Spec.Sections[0].Title = "Shirts" },
		"channel changed":      func(m *commercev1alpha1.ProductMessage) { m.Spec.Channel = "other" },
		"catalog changed":      func(m *commercev1alpha1.ProductMessage) { m.Spec.CatalogID = "1" },
		"template removed":     func(m *commercev1alpha1.ProductMessage) { m.Spec.Template = nil },
		"template renamed":     func(m *commercev1alpha1.ProductMessage) { m.Spec.Template.Name = "other" },
		"message id set later": func(m *commercev1alpha1.ProductMessage) { m.Spec.MessageID = "wamid.later" },
		"reply-to set later":   func(m *commercev1alpha1.ProductMessage) { m.Spec.ReplyToMessageID = "wamid.later" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			m := newProductMessage(ns)
			mustCreate(t, m)
			mutate(m)
			expectInvalid(t, env.Client.Update(ctx, m), "spec is immutable once created")
		})
	}

	t.Run("labels and status still change", func(t *testing.T) {
		m := newProductMessage(ns)
		mustCreate(t, m)
		m.Labels = map[string]string{"campaign": "summer"}
		if err := env.Client.Update(ctx, m); err != nil {
			t.Fatalf("changing labels: %v", err)
		}
		m.Status = commercev1alpha1.ProductMessageStatus{
			Phase:       commercev1alpha1.ProductMessageSent,
			SentMessage: commercev1alpha1.SentMessage{MessageID: "wamid.sent", DeliveryStatus: commercev1alpha1.DeliveryRead},
			Orders:      2,
			Revenue:     []commercev1alpha1.Revenue{{Currency: "EUR", Total: "12.5"}, {Currency: "USD", Total: "85"}},
		}
		if err := env.Client.Status().Update(ctx, m); err != nil {
			t.Fatalf("status update: %v", err)
		}
		var got commercev1alpha1.ProductMessage
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(m), &got); err != nil {
			t.Fatal(err)
		}
		if got.Status.MessageID != "wamid.sent" || got.Status.DeliveryStatus != commercev1alpha1.DeliveryRead || len(got.Status.Revenue) != 2 {
			t.Errorf("status after update: %+v", got.Status)
		}
	})
}
