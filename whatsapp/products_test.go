package whatsapp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

var (
	toSheena  = Send{To: Recipient{WaID: "16505551234", UserID: "US.13491208655302741918"}}
	oneProd   = Products{Kind: SingleProduct, CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4", Body: "Our best seller", Footer: "Free delivery"}
	twoShelfs = Products{Kind: MultiProduct, CatalogID: "194836987003835", Header: "Summer picks", Body: "Three things you will love", Footer: "Free delivery",
		Sections: []Section{{Title: "Tees", ProductRetailerIDs: []string{"di9ozbzfi4", "nqryix03ez"}}, {Title: "Hats", ProductRetailerIDs: []string{"hat0001"}}}}
	wholeShop = Products{Kind: CatalogMessage, CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4", Body: "Browse our catalog"}
)

// The request bodies are pinned byte for byte against WhatsApp's documented
// examples for each kind.
func TestProductMessageRequestBodies(t *testing.T) {
	tests := []struct {
		name     string
		onPrem   bool
		send     func(*Client) (string, error)
		wantBody string
	}{
		{
			name: "cloud single product, in reply, with callback data",
			send: func(c *Client) (string, error) {
				s := toSheena
				s.ReplyTo, s.CallbackData = "wamid.inquiry+/=", "pmsg/shop/summer"
				return c.SendProducts(t.Context(), s, oneProd)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","context":{"message_id":"wamid.inquiry+/="},"biz_opaque_callback_data":"pmsg/shop/summer","type":"interactive","interactive":{"type":"product","body":{"text":"Our best seller"},"footer":{"text":"Free delivery"},"action":{"catalog_id":"194836987003835","product_retailer_id":"di9ozbzfi4"}}}`,
		},
		{
			name: "cloud single product without texts",
			send: func(c *Client) (string, error) {
				p := oneProd
				p.Body, p.Footer = "", ""
				return c.SendProducts(t.Context(), toSheena, p)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"interactive","interactive":{"type":"product","action":{"catalog_id":"194836987003835","product_retailer_id":"di9ozbzfi4"}}}`,
		},
		{
			name: "cloud multi-product",
			send: func(c *Client) (string, error) { return c.SendProducts(t.Context(), toSheena, twoShelfs) },
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"interactive","interactive":{"type":"product_list","header":{"type":"text","text":"Summer picks"},"body":{"text":"Three things you will love"},"footer":{"text":"Free delivery"},` +
				`"action":{"catalog_id":"194836987003835","sections":[{"title":"Tees","product_items":[{"product_retailer_id":"di9ozbzfi4"},{"product_retailer_id":"nqryix03ez"}]},{"title":"Hats","product_items":[{"product_retailer_id":"hat0001"}]}]}}}`,
		},
		{
			name:     "cloud catalog message with a thumbnail",
			send:     func(c *Client) (string, error) { return c.SendProducts(t.Context(), toSheena, wholeShop) },
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"interactive","interactive":{"type":"catalog_message","body":{"text":"Browse our catalog"},"action":{"name":"catalog_message","parameters":{"thumbnail_product_retailer_id":"di9ozbzfi4"}}}}`,
		},
		{
			name: "cloud catalog message without a thumbnail, to a user id",
			send: func(c *Client) (string, error) {
				p := wholeShop
				p.ProductRetailerID = ""
				return c.SendProducts(t.Context(), Send{To: Recipient{UserID: "US.13491208655302741918"}}, p)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.13491208655302741918","type":"interactive","interactive":{"type":"catalog_message","body":{"text":"Browse our catalog"},"action":{"name":"catalog_message"}}}`,
		},
		{
			name: "cloud catalog template for a single product",
			send: func(c *Client) (string, error) {
				return c.SendProductTemplate(t.Context(), toSheena, TemplateRef{Name: "intro_catalog_offer", Language: "en_US", Namespace: "ignored"}, oneProd)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"intro_catalog_offer","language":{"code":"en_US"},"components":[{"type":"button","sub_type":"CATALOG","index":0,"parameters":[{"type":"action","action":{"thumbnail_product_retailer_id":"di9ozbzfi4"}}]}]}}`,
		},
		{
			name: "cloud catalog template for a catalog message without a thumbnail",
			send: func(c *Client) (string, error) {
				p := wholeShop
				p.ProductRetailerID = ""
				return c.SendProductTemplate(t.Context(), toSheena, TemplateRef{Name: "intro_catalog_offer", Language: "en_US"}, p)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"intro_catalog_offer","language":{"code":"en_US"},"components":[{"type":"button","sub_type":"CATALOG","index":0,"parameters":[{"type":"action","action":{}}]}]}}`,
		},
		{
			name: "cloud MPM template",
			send: func(c *Client) (string, error) {
				s := toSheena
				s.CallbackData = "pmsg/shop/summer"
				return c.SendProductTemplate(t.Context(), s, TemplateRef{Name: "abandoned_cart", Language: "en_US"}, twoShelfs)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","biz_opaque_callback_data":"pmsg/shop/summer","type":"template","template":{"name":"abandoned_cart","language":{"code":"en_US"},"components":[{"type":"button","sub_type":"mpm","index":0,"parameters":[{"type":"action","action":{"thumbnail_product_retailer_id":"di9ozbzfi4",` +
				`"sections":[{"title":"Tees","product_items":[{"product_retailer_id":"di9ozbzfi4"},{"product_retailer_id":"nqryix03ez"}]},{"title":"Hats","product_items":[{"product_retailer_id":"hat0001"}]}]}}]}]}}`,
		},
		{
			name:   "on-premises single product, no callback data",
			onPrem: true,
			send: func(c *Client) (string, error) {
				s := toSheena
				s.CallbackData = "pmsg/shop/summer"
				return c.SendProducts(t.Context(), s, oneProd)
			},
			wantBody: `{"recipient_type":"individual","to":"16505551234","type":"interactive","interactive":{"type":"product","body":{"text":"Our best seller"},"footer":{"text":"Free delivery"},"action":{"catalog_id":"194836987003835","product_retailer_id":"di9ozbzfi4"}}}`,
		},
		{
			name:   "on-premises multi-product in reply",
			onPrem: true,
			send: func(c *Client) (string, error) {
				s := toSheena
				s.ReplyTo = "ABGGFlA5FpafAgo6tHcNmNjXmuSf"
				p := twoShelfs
				p.Sections = []Section{{ProductRetailerIDs: []string{"hat0001"}}}
				return c.SendProducts(t.Context(), s, p)
			},
			wantBody: `{"recipient_type":"individual","to":"16505551234","context":{"message_id":"ABGGFlA5FpafAgo6tHcNmNjXmuSf"},"type":"interactive","interactive":{"type":"product_list","header":{"type":"text","text":"Summer picks"},"body":{"text":"Three things you will love"},"footer":{"text":"Free delivery"},"action":{"catalog_id":"194836987003835","sections":[{"product_items":[{"product_retailer_id":"hat0001"}]}]}}}`,
		},
		{
			name:   "on-premises MPM template in the message's namespace",
			onPrem: true,
			send: func(c *Client) (string, error) {
				return c.SendProductTemplate(t.Context(), toSheena, TemplateRef{Name: "abandoned_cart", Language: "en", Namespace: "ns-shop"}, twoShelfs)
			},
			wantBody: `{"recipient_type":"individual","to":"16505551234","type":"template","template":{"namespace":"ns-shop","name":"abandoned_cart","language":{"policy":"deterministic","code":"en"},"components":[{"type":"button","sub_type":"mpm","index":0,"parameters":[{"type":"action","action":{"thumbnail_product_retailer_id":"di9ozbzfi4",` +
				`"sections":[{"title":"Tees","product_items":[{"product_retailer_id":"di9ozbzfi4"},{"product_retailer_id":"nqryix03ez"}]},{"title":"Hats","product_items":[{"product_retailer_id":"hat0001"}]}]}}]}]}}`,
		},
		{
			name:   "on-premises MPM template in the client's namespace",
			onPrem: true,
			send: func(c *Client) (string, error) {
				p := twoShelfs
				p.Sections = p.Sections[1:]
				return c.SendProductTemplate(t.Context(), toSheena, TemplateRef{Name: "abandoned_cart", Language: "en", Namespace: "ns-1234"}, p)
			},
			wantBody: `{"recipient_type":"individual","to":"16505551234","type":"template","template":{"namespace":"ns-1234","name":"abandoned_cart","language":{"policy":"deterministic","code":"en"},"components":[{"type":"button","sub_type":"mpm","index":0,"parameters":[{"type":"action","action":{"thumbnail_product_retailer_id":"hat0001","sections":[{"title":"Hats","product_items":[{"product_retailer_id":"hat0001"}]}]}}]}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, client, path := cloudOK, cloudClient, "/v23.0/106540352242922/messages"
			if tt.onPrem {
				answer, client, path = onPremOK, onPremClient, "/v1/messages"
			}
			rec, srv := newServer(t, http.StatusOK, answer)
			if _, err := tt.send(client(t, srv)); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := rec.only(t)
			if got.path != path {
				t.Errorf("path = %s, want %s", got.path, path)
			}
			if got.body != tt.wantBody {
				t.Errorf("body:\n got %s\nwant %s", got.body, tt.wantBody)
			}
		})
	}
}

// What WhatsApp or the generation would refuse never leaves the client.
func TestProductMessagesRefusedBeforeSending(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("p", i)
		}
		return out
	}
	with := func(p Products, change func(*Products)) Products {
		p.Sections = append([]Section(nil), p.Sections...)
		change(&p)
		return p
	}
	tests := []struct {
		name   string
		onPrem bool
		send   func(*Client) (string, error)
		want   error
	}{
		{"on-premises catalog message", true, func(c *Client) (string, error) { return c.SendProducts(t.Context(), toSheena, wholeShop) }, ErrUnsupported},
		{"on-premises catalog template", true, func(c *Client) (string, error) {
			return c.SendProductTemplate(t.Context(), toSheena, TemplateRef{Name: "intro", Language: "en"}, oneProd)
		}, ErrUnsupported},
		{"on-premises to a user id", true, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), Send{To: Recipient{UserID: "US.1"}}, oneProd)
		}, ErrUnsupported},
		{"no recipient", false, func(c *Client) (string, error) { return c.SendProducts(t.Context(), Send{}, oneProd) }, ErrInvalidMessage},
		{"no catalog", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(oneProd, func(p *Products) { p.CatalogID = "" }))
		}, ErrInvalidMessage},
		{"product list without header", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(twoShelfs, func(p *Products) { p.Header = "" }))
		}, ErrInvalidMessage},
		{"single product with a header", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(oneProd, func(p *Products) { p.Header = "Hi" }))
		}, ErrInvalidMessage},
		{"catalog without body", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(wholeShop, func(p *Products) { p.Body = "" }))
		}, ErrInvalidMessage},
		{"11 sections", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(twoShelfs, func(p *Products) {
				p.Sections = nil
				for i := range 11 {
					p.Sections = append(p.Sections, Section{Title: fmt.Sprint(i), ProductRetailerIDs: []string{"x"}})
				}
			}))
		}, ErrInvalidMessage},
		{"31 products", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(twoShelfs, func(p *Products) { p.Sections[0].ProductRetailerIDs = ids(30) }))
		}, ErrInvalidMessage},
		{"untitled second section", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(twoShelfs, func(p *Products) { p.Sections[1].Title = "" }))
		}, ErrInvalidMessage},
		{"title of 25 characters", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(twoShelfs, func(p *Products) { p.Sections[1].Title = strings.Repeat("é", 25) }))
		}, ErrInvalidMessage},
		{"body of 1025 characters", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(oneProd, func(p *Products) { p.Body = strings.Repeat("é", 1025) }))
		}, ErrInvalidMessage},
		{"footer of 61 characters", false, func(c *Client) (string, error) {
			return c.SendProducts(t.Context(), toSheena, with(oneProd, func(p *Products) { p.Footer = strings.Repeat("f", 61) }))
		}, ErrInvalidMessage},
		{"template without language", false, func(c *Client) (string, error) {
			return c.SendProductTemplate(t.Context(), toSheena, TemplateRef{Name: "x"}, oneProd)
		}, ErrInvalidMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, client := cloudOK, cloudClient
			if tt.onPrem {
				answer, client = onPremOK, onPremClient
			}
			rec, srv := newServer(t, http.StatusOK, answer)
			_, err := tt.send(client(t, srv))
			if !errors.Is(err, tt.want) || ClassOf(err) != Permanent {
				t.Fatalf("err = %v (class %q), want Permanent %v", err, ClassOf(err), tt.want)
			}
			if n := rec.count(); n != 0 {
				t.Fatalf("server saw %d requests", n)
			}
		})
	}
}

// WhatsApp's answers to a product message are classified as for every send:
// an unknown product or catalog (131009) is final, a closed window calls for
// the template, rate limits and 5xx are retried.
func TestProductMessageErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		answer string
		want   Class
	}{
		{"unknown product", http.StatusBadRequest, `{"error":{"message":"(#131009) Parameter value is not valid","type":"OAuthException","code":131009,"error_data":{"messaging_product":"whatsapp","details":"Product with retailer id nope not found in catalog"},"fbtrace_id":"A1"}}`, Permanent},
		{"window closed", http.StatusBadRequest, `{"error":{"message":"(#131047) Re-engagement message","code":131047}}`, WindowClosed},
		{"rate limited", http.StatusTooManyRequests, `{"error":{"message":"(#130429) Rate limit hit","code":130429}}`, RateLimited},
		{"server error", http.StatusInternalServerError, `{"error":{"message":"(#131000) Something went wrong","code":131000}}`, Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newServer(t, tt.status, tt.answer)
			_, err := cloudClient(t, srv).SendProducts(t.Context(), toSheena, twoShelfs)
			if ClassOf(err) != tt.want {
				t.Fatalf("err = %v, class %q, want %q", err, ClassOf(err), tt.want)
			}
		})
	}
	_, srv := newServer(t, http.StatusBadRequest, tests[0].answer)
	_, err := cloudClient(t, srv).SendProducts(t.Context(), toSheena, twoShelfs)
	if e, ok := errors.AsType[*Error](err); !ok || e.Code != 131009 || !strings.Contains(e.Message, "Product with retailer id nope not found") {
		t.Fatalf("err = %#v, want code 131009 with WhatsApp's details", err)
	}
}
