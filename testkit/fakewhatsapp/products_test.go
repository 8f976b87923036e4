package fakewhatsapp

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

var (
	toCustomer = whatsapp.Send{To: whatsapp.Recipient{WaID: customer}}
	shelves    = whatsapp.Products{Kind: whatsapp.MultiProduct, CatalogID: "194836987003835", Header: "Summer picks", Body: "For you",
		Sections: []whatsapp.Section{{Title: "Tees", ProductRetailerIDs: []string{"di9ozbzfi4", "nqryix03ez"}}, {Title: "Hats", ProductRetailerIDs: []string{"hat0001"}}}}
	wantShelves = []Section{{Title: "Tees", ProductRetailerIDs: []string{"di9ozbzfi4", "nqryix03ez"}}, {Title: "Hats", ProductRetailerIDs: []string{"hat0001"}}}
)

func TestProductMessagesAreRecorded(t *testing.T) {
	s := startFake(t, Options{})
	cloud, onPrem := cloudClient(t, s, "any"), onPremClient(t, s, "any")
	single := whatsapp.Products{Kind: whatsapp.SingleProduct, CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4", Body: "Best seller", Footer: "Free delivery"}
	catalog := whatsapp.Products{Kind: whatsapp.CatalogMessage, ProductRetailerID: "di9ozbzfi4", Body: "Our catalog"}
	byUserID := whatsapp.Send{To: whatsapp.Recipient{UserID: "US.13491208655302741918"}, CallbackData: "pmsg/shop/a", ReplyTo: "wamid.q"}
	mpm := whatsapp.TemplateRef{Name: "abandoned_cart", Language: "en_US", Namespace: "ns"}

	sends := []struct {
		name string
		send func() (string, error)
		want SentMessage
	}{
		{"cloud single product to a user id", func() (string, error) { return cloud.SendProducts(t.Context(), byUserID, single) }, SentMessage{
			Generation: whatsapp.Cloud, PhoneNumberID: testPhoneID, Recipient: "US.13491208655302741918", CallbackData: "pmsg/shop/a", ContextMessageID: "wamid.q", Type: "interactive",
			Interactive: &Interactive{Type: "product", CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4", Body: "Best seller", Footer: "Free delivery"},
		}},
		{"cloud multi-product", func() (string, error) { return cloud.SendProducts(t.Context(), toCustomer, shelves) }, SentMessage{
			Generation: whatsapp.Cloud, PhoneNumberID: testPhoneID, To: customer, Type: "interactive",
			Interactive: &Interactive{Type: "product_list", CatalogID: "194836987003835", Header: "Summer picks", Body: "For you", Sections: wantShelves},
		}},
		{"cloud catalog message", func() (string, error) { return cloud.SendProducts(t.Context(), toCustomer, catalog) }, SentMessage{
			Generation: whatsapp.Cloud, PhoneNumberID: testPhoneID, To: customer, Type: "interactive",
			Interactive: &Interactive{Type: "catalog_message", ProductRetailerID: "di9ozbzfi4", Body: "Our catalog"},
		}},
		{"cloud catalog template", func() (string, error) { return cloud.SendProductTemplate(t.Context(), toCustomer, mpm, single) }, SentMessage{
			Generation: whatsapp.Cloud, PhoneNumberID: testPhoneID, To: customer, Type: "template", TemplateName: "abandoned_cart", TemplateLanguage: "en_US",
			TemplateButton: &TemplateButton{SubType: "CATALOG", ThumbnailProductRetailerID: "di9ozbzfi4"},
		}},
		{"on-premises MPM template", func() (string, error) { return onPrem.SendProductTemplate(t.Context(), toCustomer, mpm, shelves) }, SentMessage{
			Generation: whatsapp.OnPremises, To: customer, Type: "template", TemplateName: "abandoned_cart", TemplateLanguage: "en_US", TemplateNamespace: "ns",
			TemplateButton: &TemplateButton{SubType: "mpm", ThumbnailProductRetailerID: "di9ozbzfi4", Sections: wantShelves},
		}},
		{"on-premises single product", func() (string, error) { return onPrem.SendProducts(t.Context(), toCustomer, single) }, SentMessage{
			Generation: whatsapp.OnPremises, To: customer, Type: "interactive",
			Interactive: &Interactive{Type: "product", CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4", Body: "Best seller", Footer: "Free delivery"},
		}},
	}
	for i, tt := range sends {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.send()
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			got := s.Sent()[i]
			if got.MessageID != id {
				t.Errorf("recorded id %q, client got %q", got.MessageID, id)
			}
			got.MessageID, got.Time = "", got.Time.UTC().Truncate(0)
			tt.want.Time = got.Time
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("recorded\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// The fake refuses what WhatsApp refuses, even when a client other than ours
// sends it.
func TestMalformedProductMessagesAreRefused(t *testing.T) {
	s := startFake(t, Options{})
	cases := []struct {
		name, path, body, want string
	}{
		{"product with a header", "/v23.0/1/messages", `{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"product","header":{"type":"text","text":"x"},"action":{"catalog_id":"c","product_retailer_id":"p"}}}`, "header is not allowed"},
		{"product without product", "/v23.0/1/messages", `{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"product","action":{"catalog_id":"c"}}}`, "product_retailer_id are required"},
		{"product list without header", "/v23.0/1/messages", `{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"product_list","body":{"text":"b"},"action":{"catalog_id":"c","sections":[{"product_items":[{"product_retailer_id":"p"}]}]}}}`, "header of type text is required"},
		{"two sections, one untitled", "/v23.0/1/messages", `{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"product_list","header":{"type":"text","text":"h"},"body":{"text":"b"},"action":{"catalog_id":"c","sections":[{"title":"a","product_items":[{"product_retailer_id":"p"}]},{"product_items":[{"product_retailer_id":"q"}]}]}}}`, "sections[1].title is required"},
		{"catalog message on-premises", "/v1/messages", `{"to":"1","type":"interactive","interactive":{"type":"catalog_message","body":{"text":"b"},"action":{"name":"catalog_message"}}}`, "catalog_message is not supported"},
		{"catalog template on-premises", "/v1/messages", `{"to":"1","type":"template","template":{"namespace":"n","name":"t","language":{"code":"en"},"components":[{"type":"button","sub_type":"CATALOG","index":0,"parameters":[{"type":"action","action":{}}]}]}}`, "catalog templates are not supported"},
		{"recipient on-premises", "/v1/messages", `{"recipient":"US.1","type":"text","text":{"body":"hi"}}`, "recipient is not an On-Premises field"},
		{"mpm without thumbnail", "/v23.0/1/messages", `{"messaging_product":"whatsapp","to":"1","type":"template","template":{"name":"t","language":{"code":"en"},"components":[{"type":"button","sub_type":"mpm","index":0,"parameters":[{"type":"action","action":{"sections":[{"product_items":[{"product_retailer_id":"p"}]}]}}]}]}}`, "thumbnail_product_retailer_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(s.URL()+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var answer bytes.Buffer
			_, _ = answer.ReadFrom(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(answer.String(), tc.want) {
				t.Fatalf("answer %d %s, want 400 mentioning %q", resp.StatusCode, answer.String(), tc.want)
			}
		})
	}
	if n := len(s.Sent()); n != 0 {
		t.Fatalf("fake recorded %d refused sends", n)
	}
}

func TestUnknownCatalogOrProductIsRefusedWith131009(t *testing.T) {
	s := startFake(t, Options{})
	s.SetCatalog("194836987003835", "di9ozbzfi4", "nqryix03ez", "hat0001")
	cloud := cloudClient(t, s, "any")

	if _, err := cloud.SendProducts(t.Context(), toCustomer, shelves); err != nil {
		t.Fatalf("known products refused: %v", err)
	}
	unknownProduct := shelves
	unknownProduct.Sections = []whatsapp.Section{{ProductRetailerIDs: []string{"di9ozbzfi4", "nope"}}}
	unknownCatalog := shelves
	unknownCatalog.CatalogID = "1"
	for name, p := range map[string]whatsapp.Products{"product": unknownProduct, "catalog": unknownCatalog} {
		t.Run(name, func(t *testing.T) {
			_, err := cloud.SendProducts(t.Context(), toCustomer, p)
			e, ok := errors.AsType[*whatsapp.Error](err)
			if !ok || e.Code != 131009 || e.Class != whatsapp.Permanent {
				t.Fatalf("err = %v, want Permanent 131009", err)
			}
		})
	}
	_, err := onPremClient(t, s, "any").SendProducts(t.Context(), toCustomer, unknownProduct)
	if e, ok := errors.AsType[*whatsapp.Error](err); !ok || e.Code != 1009 || !strings.Contains(e.Message, "nope not found") {
		t.Fatalf("on-premises err = %v, want 1009 naming the product", err)
	}
	_, err = cloud.SendProductTemplate(t.Context(), toCustomer, whatsapp.TemplateRef{Name: "t", Language: "en"},
		whatsapp.Products{Kind: whatsapp.CatalogMessage, ProductRetailerID: "nope", Body: "b"})
	if e, ok := errors.AsType[*whatsapp.Error](err); !ok || e.Code != 131009 {
		t.Fatalf("template with an unknown thumbnail: err = %v, want 131009", err)
	}
	if n := len(s.Sent()); n != 1 {
		t.Fatalf("fake recorded %d sends, want only the valid one", n)
	}
}

// customerMessageOf parses the one message of a webhook body with the
// receiver's own parser.
func customerMessageOf(t *testing.T, gen whatsapp.Generation, body []byte) payload.Element {
	t.Helper()
	format := payload.Cloud
	if gen == whatsapp.OnPremises {
		format = payload.OnPremises
	}
	parsed, err := payload.Parse(body, format)
	if err != nil || len(parsed.Elements) != 1 {
		t.Fatalf("webhook %s: %v, %+v; want one element", body, err, parsed)
	}
	return parsed.Elements[0]
}

func TestTheFakePlaysTheCustomer(t *testing.T) {
	rc, srv := startReceiver(t, appSecret)
	s := startFake(t, Options{WebhookURL: srv.URL, AppSecret: appSecret})
	if status, _ := admin(t, s, http.MethodPost, "/_fake/reply?order=x:1:1:USD"); status != http.StatusNotFound {
		t.Errorf("reply before any product message = %d, want 404", status)
	}
	pmsg, err := cloudClient(t, s, "any").SendProducts(t.Context(), toCustomer, shelves)
	if err != nil {
		t.Fatal(err)
	}

	orderID, err := s.ReplyTo(t.Context(), srv.URL, appSecret, pmsg, Reply{Items: []OrderItem{{"di9ozbzfi4", 2, "7.99", "USD"}, {"hat0001", 1, "25", "USD"}}, Text: "Love these!", Name: "Sheena"})
	if err != nil {
		t.Fatalf("order reply: %v", err)
	}
	d := rc.all()[0]
	el := customerMessageOf(t, whatsapp.Cloud, d.body)
	wantOrder := &payload.Order{MessageID: orderID, Timestamp: el.Order.Timestamp, Customer: payload.Customer{WaID: customer, Name: "Sheena"}, CatalogID: "194836987003835",
		Text: "Love these!", ReplyToMessageID: pmsg, Items: []payload.Item{{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"}, {ProductRetailerID: "hat0001", Quantity: 1, ItemPrice: "25", Currency: "USD"}}}
	if el.Kind != payload.KindOrder || el.PhoneNumberID != testPhoneID || !reflect.DeepEqual(el.Order, wantOrder) {
		t.Errorf("order webhook %s parsed as %+v %+v", d.body, el, el.Order)
	}
	if !strings.Contains(string(d.body), `"item_price":7.99`) {
		t.Errorf("prices are not JSON numbers: %s", d.body)
	}

	// Over the admin API, as the demo does; Cloud ids must be query-escaped.
	status, body := admin(t, s, http.MethodPost, "/_fake/reply?id="+url.QueryEscape(pmsg)+"&inquiry=hat0001&text="+url.QueryEscape("In blue?"))
	if status != 200 {
		t.Fatalf("admin reply = %d %s", status, body)
	}
	if el := customerMessageOf(t, whatsapp.Cloud, rc.all()[1].body); el.Kind != payload.KindInquiry || el.Inquiry.Question != "In blue?" || el.Inquiry.ReplyToMessageID != pmsg ||
		el.Inquiry.CatalogID != "194836987003835" || el.Inquiry.ProductRetailerID != "hat0001" {
		t.Errorf("inquiry webhook %s", rc.all()[1].body)
	}

	// Without an id, the latest product message is answered.
	if status, body := admin(t, s, http.MethodPost, "/_fake/reply?order=hat0001:1:25:USD"); status != 200 || !strings.Contains(body, pmsg) {
		t.Fatalf("admin reply to the latest = %d %s", status, body)
	}
	if el := customerMessageOf(t, whatsapp.Cloud, rc.all()[2].body); el.Kind != payload.KindOrder || el.Order.ReplyToMessageID != pmsg {
		t.Errorf("reply to the latest %s", rc.all()[2].body)
	}
	for path, want := range map[string]string{
		"/_fake/reply?id=unknown&inquiry=x":                                       "no accepted send",
		"/_fake/reply?id=" + url.QueryEscape(pmsg):                                "order items or an inquiry",
		"/_fake/reply?id=" + url.QueryEscape(pmsg) + "&order=x:1:7.99":            "SKU:QUANTITY:PRICE:CURRENCY",
		"/_fake/reply?id=" + url.QueryEscape(pmsg) + "&order=x:0:7.99:USD":        "quantity 0",
		"/_fake/reply?id=" + url.QueryEscape(pmsg) + "&order=x:1:a:USD":           `price "a"`,
		"/_fake/reply?id=" + url.QueryEscape(pmsg) + "&order=x:1:1:USD&inquiry=x": "not both",
	} {
		if status, body := admin(t, s, http.MethodPost, path); status != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("POST %s = %d %q, want 400 mentioning %q", path, status, body, want)
		}
	}
	if n := len(rc.all()); n != 3 {
		t.Errorf("receiver got %d webhooks, want 3", n)
	}
}

func TestCustomerRepliesOnPremisesAndByUserID(t *testing.T) {
	rc, srv := startReceiver(t, nil)
	s := startFake(t, Options{WebhookURL: srv.URL})
	onPremMsg, err := onPremClient(t, s, "any").SendProducts(t.Context(), toCustomer, shelves)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplyTo(t.Context(), srv.URL, nil, onPremMsg, Reply{InquiryProduct: "di9ozbzfi4"}); err != nil {
		t.Fatal(err)
	}
	body := rc.all()[0].body
	if el := customerMessageOf(t, whatsapp.OnPremises, body); el.Kind != payload.KindInquiry || el.Inquiry.ReplyToMessageID != onPremMsg || el.Inquiry.Question != "Is this still available?" {
		t.Errorf("on-premises inquiry webhook %s", body)
	}

	catalog := whatsapp.Products{Kind: whatsapp.CatalogMessage, Body: "Our catalog"}
	userMsg, err := cloudClient(t, s, "any").SendProducts(t.Context(), whatsapp.Send{To: whatsapp.Recipient{UserID: "US.1"}}, catalog)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReplyTo(t.Context(), srv.URL, nil, userMsg, Reply{Items: []OrderItem{{"p", 1, "3", "EUR"}}}); err == nil || !strings.Contains(err.Error(), "names no catalog") {
		t.Fatalf("reply to a catalog message without a catalog id: %v", err)
	}
	if _, err := s.ReplyTo(t.Context(), srv.URL, nil, userMsg, Reply{Items: []OrderItem{{"p", 1, "3", "EUR"}}, CatalogID: "c1"}); err != nil {
		t.Fatal(err)
	}
	if el := customerMessageOf(t, whatsapp.Cloud, rc.all()[1].body); el.Kind != payload.KindOrder || el.Order.Customer.UserID != "US.1" || el.Order.Customer.WaID != "" || el.Order.CatalogID != "c1" {
		t.Errorf("reply of a user-id customer %s", rc.all()[1].body)
	}
}

func TestAdminCatalogs(t *testing.T) {
	s := startFake(t, Options{})
	if status, _ := admin(t, s, http.MethodPost, "/_fake/catalogs?id=194836987003835"); status != http.StatusBadRequest {
		t.Errorf("catalog without products = %d, want 400", status)
	}
	if status, body := admin(t, s, http.MethodPost, "/_fake/catalogs?id=194836987003835&products=di9ozbzfi4,nqryix03ez"); status != 200 {
		t.Fatalf("catalogs = %d %s", status, body)
	}
	_, err := cloudClient(t, s, "any").SendProducts(t.Context(), toCustomer, shelves) // hat0001 is not in it
	if e, ok := errors.AsType[*whatsapp.Error](err); !ok || e.Code != 131009 || !strings.Contains(e.Message, "hat0001") {
		t.Fatalf("err = %v, want 131009 naming hat0001", err)
	}
}
