package webhookbody_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/hubsignature"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

const phone = "106540352242922"

var customer = payload.Customer{WaID: "16505551234", Name: "Sheena Nelson"}

// What the builder writes is what WhatsApp sends: two of the recorded samples,
// member for member.
func TestWritesWhatWhatsAppSends(t *testing.T) {
	for _, tc := range []struct {
		sample string
		body   *webhookbody.Body
	}{
		{"cloud-order-multi-item.json", webhookbody.New(whatsapp.Cloud, phone).Order(payload.Order{
			MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=", Customer: customer,
			Timestamp: time.Unix(1750096325, 0), CatalogID: "194836987003835", Text: "Love these!",
			Items: []payload.Item{item("di9ozbzfi4", 2, "30", "USD"), item("nqryix03ez", 1, "25", "USD")},
		})},
		{"onprem-status-failed-window-closed.json", webhookbody.New(whatsapp.OnPremises, "").Status(payload.Status{
			MessageID: "gBGGEgZHMlEfAgkM1RBkhDRr7t8", Status: "failed", Timestamp: time.Unix(1533332775, 0), RecipientID: "12064001000",
			Errors: []payload.StatusError{{Code: 470, Title: "Failed to send message because you are outside the support window for freeform messages to this user. Please use a valid HSM notification or reconsider."}},
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

func item(id string, quantity int64, price, currency string) payload.Item {
	return payload.Item{ProductRetailerID: id, Quantity: quantity, ItemPrice: price, Currency: currency}
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

// The receiver's parser reads back what the builder wrote from its values,
// every kind of element, in both formats.
func TestTheParserReadsWhatItWrites(t *testing.T) {
	at := time.Unix(1750096325, 0).UTC() // as the parser reads it
	bsuid := payload.Customer{WaID: "972987654321", UserID: "US.13491208655302741918", Name: "Test Name"}
	o := payload.Order{MessageID: "wamid.order", Customer: customer, Timestamp: at, CatalogID: "c", Text: "t", ReplyToMessageID: "wamid.catalog",
		Items: []payload.Item{item("a", 2, "7.99", "USD"), item("b", 1, "25", "USD")}}
	q := payload.Inquiry{MessageID: "wamid.inquiry", Customer: bsuid, Timestamp: at, Question: "Still there?",
		ReplyToMessageID: "wamid.product", CatalogID: "c", ProductRetailerID: "a"}
	s := payload.Status{MessageID: "wamid.sent", Status: "failed", Timestamp: at, RecipientID: customer.WaID, RecipientUserID: "US.1",
		CallbackData: "wco1|WhatsAppOrder|shop|o|Accepted", PricingCategory: "utility",
		Errors: []payload.StatusError{{Code: 131047, Title: "Re-engagement message", Message: "m", Details: "d"}}}
	username := payload.Order{MessageID: "wamid.username", Customer: payload.Customer{UserID: "US.777"}, Timestamp: at, CatalogID: "c",
		Items: []payload.Item{item("a", 1, "1", "USD")}}
	changed := payload.UserIDChange{MessageID: "wamid.system", Timestamp: at, Previous: "US.777", Current: "US.99"}
	for _, gen := range []whatsapp.Generation{whatsapp.Cloud, whatsapp.OnPremises} {
		if gen == whatsapp.OnPremises {
			// The On-Premises client sends an error's code and title only, and
			// knows no BSUID.
			s.Errors[0].Message, s.Errors[0].Details = "", ""
			s.CallbackData, s.PricingCategory, s.RecipientUserID = "", "", ""
			q.Customer.UserID = ""
		}
		body := webhookbody.New(gen, phone).Order(o).Inquiry(q).Status(s).Order(username).UserIDChange(changed).Bytes()
		parsed, err := payload.Parse(body, map[whatsapp.Generation]payload.Format{whatsapp.Cloud: payload.Cloud, whatsapp.OnPremises: payload.OnPremises}[gen])
		if err != nil {
			t.Fatalf("%s: %v\n%s", gen, err, body)
		}
		if len(parsed.Elements) != 5 {
			t.Fatalf("%s: %d elements, want 5: %+v", gen, len(parsed.Elements), parsed.Elements)
		}
		// Messages come before statuses in a body.
		for i, want := range []any{&o, &q, &username, &changed, &s} {
			el := parsed.Elements[i]
			var got any
			switch {
			case el.Order != nil:
				got = el.Order
			case el.Inquiry != nil:
				got = el.Inquiry
			case el.Status != nil:
				got = el.Status
			case el.UserIDChange != nil:
				got = el.UserIDChange
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: element %d read back as %+v (%s), want %+v", gen, i, got, el.Reason, want)
			}
			if gen == whatsapp.Cloud && el.PhoneNumberID != phone {
				t.Errorf("Cloud element %d addressed to %q, want %q", i, el.PhoneNumberID, phone)
			}
		}
	}
}

func TestPriceThatIsNotANumberIsWrittenAsAString(t *testing.T) {
	body := webhookbody.New(whatsapp.OnPremises, "").Order(payload.Order{MessageID: "m", Customer: customer, CatalogID: "c",
		Items: []payload.Item{item("a", 1, "7,99", "USD"), item("b", 1, "-7.99", "USD")}}).Bytes()
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

func TestTheParserReadsThePaymentsItWrites(t *testing.T) {
	at := time.Unix(1750096325, 0).UTC()
	paid := payload.Payment{MessageID: "wamid.bill", RecipientID: "919999999999", Status: "captured", Timestamp: at, ReferenceID: "wao-1",
		Amount: &payload.Money{Value: 114900, Offset: 100}, Currency: "INR", TransactionID: "pay_1", TransactionType: "razorpay", TransactionStatus: "success", Method: "upi",
		Refunds: []payload.Refund{{ID: "rfnd_1", Amount: &payload.Money{Value: 100, Offset: 100}, Status: "completed"}}}
	failed := payload.Payment{MessageID: "wamid.bill", Status: "failed", Timestamp: at, ReferenceID: "wao-1", TransactionID: "pay_0", TransactionStatus: "failed",
		ErrorCode: "4001", ErrorReason: "declined"}
	parsed, err := payload.Parse(webhookbody.New(whatsapp.Cloud, phone).Payment(failed).Payment(paid).Bytes(), payload.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []payload.Payment{failed, paid} {
		if el := parsed.Elements[i]; el.Kind != payload.KindPayment || !reflect.DeepEqual(*el.Payment, want) {
			t.Errorf("element %d read back as %s %+v (%s), want %+v", i, el.Kind, el.Payment, el.Reason, want)
		}
	}
}
