package webhookbody_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

const phone = "106540352242922"

var customer = webhookbody.Customer{WaID: "16505551234", Name: "Sheena Nelson"}

// What the builder writes is what WhatsApp sends: two of the recorded samples,
// member for member.
func TestWritesWhatWhatsAppSends(t *testing.T) {
	for _, tc := range []struct {
		sample string
		body   *webhookbody.Body
	}{
		{"cloud-order-multi-item.json", webhookbody.New(whatsapp.Cloud, phone).Order(webhookbody.Order{
			MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", Customer: customer,
			Timestamp: time.Unix(1750096325, 0), CatalogID: "194836987003835", Text: "Love these!",
			Items: []webhookbody.Item{{"di9ozbzfi4", 2, "30", "USD"}, {"nqryix03ez", 1, "25", "USD"}},
		})},
		{"onprem-status-failed-window-closed.json", webhookbody.New(whatsapp.OnPremises, "").Status(webhookbody.Status{
			MessageID: "gBGGEgZHMlEfAgkM1RBkhDRr7t8", Status: "failed", Timestamp: time.Unix(1533332775, 0), Recipient: "12064001000",
			Errors: []webhookbody.StatusError{{Code: 470, Title: "Failed to send message because you are outside the support window for freeform messages to this user. Please use a valid HSM notification or reconsider."}},
		})},
	} {
		want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "webhooks", tc.sample))
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.body.Bytes(); !sameJSON(t, got, want) {
			t.Errorf("%s: wrote\n%s", tc.sample, got)
		}
	}
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

// The receiver's parser reads back every kind of element, in both formats.
func TestTheParserReadsWhatItWrites(t *testing.T) {
	at := time.Unix(1750096325, 0)
	for _, gen := range []whatsapp.Generation{whatsapp.Cloud, whatsapp.OnPremises} {
		body := webhookbody.New(gen, phone).
			Order(webhookbody.Order{MessageID: "wamid.order", Customer: customer, Timestamp: at, CatalogID: "c", Text: "t",
				Items: []webhookbody.Item{{"a", 2, "7.99", "USD"}, {"b", 1, "25", "USD"}}}).
			Inquiry(webhookbody.Inquiry{MessageID: "wamid.inquiry", Customer: customer, Timestamp: at, Question: "Still there?",
				ProductMessageID: "wamid.product", CatalogID: "c", ProductRetailerID: "a"}).
			Status(webhookbody.Status{MessageID: "wamid.sent", Status: "failed", Timestamp: at, Recipient: customer.WaID,
				Errors: []webhookbody.StatusError{{Code: 131047, Title: "Re-engagement message", Message: "m", Details: "d"}}}).
			Bytes()
		parsed, err := payload.Parse(body, commercev1alpha1.APIGeneration(gen))
		if err != nil {
			t.Fatalf("%s: %v\n%s", gen, err, body)
		}
		if len(parsed.Elements) != 3 {
			t.Fatalf("%s: %d elements, want 3: %+v", gen, len(parsed.Elements), parsed.Elements)
		}
		o, q, s := parsed.Elements[0].Order, parsed.Elements[1].Inquiry, parsed.Elements[2].Status
		switch {
		case o == nil || o.MessageID != "wamid.order" || !o.Timestamp.Equal(at) || o.Customer.WaID != customer.WaID || o.Customer.Name != customer.Name ||
			len(o.Items) != 2 || o.Items[0].ItemPrice != "7.99" || o.Items[0].Quantity != 2 || o.Items[1].ItemPrice != "25":
			t.Errorf("%s: order %+v", gen, parsed.Elements[0])
		case q == nil || q.Question != "Still there?" || q.ProductRetailerID != "a" || q.ReplyToMessageID != "wamid.product":
			t.Errorf("%s: inquiry %+v", gen, parsed.Elements[1])
		case s == nil || s.Status != "failed" || s.RecipientID != customer.WaID || len(s.Errors) != 1 || s.Errors[0].Code != 131047:
			t.Errorf("%s: status %+v", gen, parsed.Elements[2])
		}
		if gen == whatsapp.Cloud && parsed.Elements[0].PhoneNumberID != phone {
			t.Errorf("Cloud body addressed to %q, want %q", parsed.Elements[0].PhoneNumberID, phone)
		}
	}
}

func TestPriceThatIsNotANumberIsWrittenAsAString(t *testing.T) {
	body := webhookbody.New(whatsapp.OnPremises, "").Order(webhookbody.Order{MessageID: "m", Customer: customer, CatalogID: "c",
		Items: []webhookbody.Item{{"a", 1, "7,99", "USD"}, {"b", 1, "-7.99", "USD"}}}).Bytes()
	var doc struct {
		Messages []struct {
			Order struct {
				ProductItems []struct {
					ItemPrice any `json:"item_price"`
				} `json:"product_items"`
			} `json:"order"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	items := doc.Messages[0].Order.ProductItems
	if items[0].ItemPrice != "7,99" || items[1].ItemPrice != -7.99 {
		t.Errorf("prices written as %#v and %#v", items[0].ItemPrice, items[1].ItemPrice)
	}
}

func TestSignedRequest(t *testing.T) {
	body := []byte(`{"statuses":[]}`)
	req, err := webhookbody.Sign(body, []byte("secret")).Request(t.Context(), "http://127.0.0.1:1/webhooks/x")
	if err != nil {
		t.Fatal(err)
	}
	sent, _ := io.ReadAll(req.Body)
	if req.Method != "POST" || string(sent) != string(body) || req.Header.Get("Content-Type") != "application/json" ||
		hubsignature.Verify([]byte("secret"), sent, req.Header.Get(hubsignature.Header)) != nil {
		t.Errorf("request %s %q, headers %v", req.Method, sent, req.Header)
	}
	unsigned, err := webhookbody.Sign(body, nil).Request(t.Context(), "http://127.0.0.1:1/webhooks/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := unsigned.Header[hubsignature.Header]; ok {
		t.Errorf("a body signed with no secret carries %s", hubsignature.Header)
	}
}
