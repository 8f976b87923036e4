package payload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// samplesDir holds the example webhook bodies of both formats, taken
// from Meta's documentation and other projects' fixtures.
const samplesDir = "../../testdata/webhooks"

// sampleFiles lists every sample body with the format its name says.
func sampleFiles(tb testing.TB) map[string]Format {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(samplesDir, "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no samples in %s (err %v)", samplesDir, err)
	}
	files := map[string]Format{}
	for _, p := range paths {
		name := filepath.Base(p)
		switch {
		case strings.HasPrefix(name, "cloud-"):
			files[name] = Cloud
		case strings.HasPrefix(name, "onprem-"):
			files[name] = OnPremises
		default:
			tb.Fatalf("sample %s is neither cloud-* nor onprem-*", name)
		}
	}
	return files
}

func readSample(tb testing.TB, name string) []byte {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// Ids shared by several samples.
const (
	pnID       = "106540352242922"
	pnIDBSUID  = "1122334455667"
	inquiryID  = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTA2NTUwRkNEMDdFQjJCRUU0NQA="
	productMsg = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA"
	orderID    = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
	catalogID  = "194836987003835"
	billID     = "wamid.HBgMOTE5OTk5OTk5OTk5FQIAERgSMzI1QjVGQjVBQzY0QTQ4NkIA"
)

var (
	sheena = Customer{WaID: "16505551234", Name: "Sheena Nelson"}
	kerry  = Customer{WaID: "16315551234", Name: "Kerry Fisher"}
)

func usd(id string, qty int64, price string) Item {
	return Item{ProductRetailerID: id, Quantity: qty, ItemPrice: price, Currency: "USD"}
}

func orderElem(path, pn string, o Order) Element {
	return Element{Kind: KindOrder, Path: path, PhoneNumberID: pn, MessageID: o.MessageID, Order: &o}
}

func inquiryElem(path, pn string, q Inquiry) Element {
	return Element{Kind: KindInquiry, Path: path, PhoneNumberID: pn, MessageID: q.MessageID, Inquiry: &q}
}

func statusElem(path, pn string, s Status) Element {
	return Element{Kind: KindStatus, Path: path, PhoneNumberID: pn, MessageID: s.MessageID, Status: &s}
}

// TestSamples pins exactly what every shared sample body parses to.
func TestSamples(t *testing.T) {
	want := map[string][]Element{
		"cloud-batch-inquiry-order-status.json": {
			inquiryElem("entry[0].changes[0].value.messages[0]", pnID, Inquiry{
				MessageID: inquiryID, Timestamp: unix(1750016800), Customer: sheena,
				CatalogID: catalogID, ProductRetailerID: "di9ozbzfi4",
				Question: "Is this still available?", ReplyToMessageID: productMsg,
			}),
			orderElem("entry[0].changes[0].value.messages[1]", pnID, Order{
				MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAB=", Timestamp: unix(1750096325),
				Customer: sheena, CatalogID: catalogID, Text: "Love these!",
				Items: []Item{usd("di9ozbzfi4", 2, "30")},
			}),
			statusElem("entry[0].changes[1].value.statuses[0]", pnID, Status{
				MessageID: orderID, RecipientID: "16505551234", Status: "sent", Timestamp: unix(1750030073),
			}),
		},
		"cloud-payment-captured.json": {
			{Kind: KindPayment, Path: "entry[0].changes[0].value.statuses[0]", PhoneNumberID: pnID, MessageID: billID, Payment: &Payment{
				MessageID: billID, RecipientID: "919999999999", Status: "captured", Timestamp: unix(1746500005), ReferenceID: "wao-3f2a9c1b7d4e5f60718293a4b5c6d7e",
				Amount: &Money{Value: 114900, Offset: 100}, Currency: "INR", TransactionID: "order_SdrcSSqobZ7voR", TransactionType: "razorpay", TransactionStatus: "success", Method: "upi",
			}},
			{Kind: KindPayment, Path: "entry[0].changes[0].value.statuses[1]", PhoneNumberID: pnID, MessageID: billID, Payment: &Payment{
				MessageID: billID, RecipientID: "919999999999", Status: "failed", Timestamp: unix(1746500001), ReferenceID: "wao-3f2a9c1b7d4e5f60718293a4b5c6d7e",
				Amount: &Money{Value: 114900, Offset: 100}, Currency: "INR", TransactionID: "order_SdrcSSqobZ7voQ", TransactionType: "razorpay", TransactionStatus: "failed",
				ErrorCode: "BAD_REQUEST_ERROR", ErrorReason: "Payment failed",
			}},
		},
		"cloud-errors.json": {{
			Kind: KindIgnored, Path: "entry[0].changes[0].value.errors[0]", PhoneNumberID: pnID,
			Reason: "WhatsApp reported error 130429 (Rate limit hit): Message failed to send because there were too many messages sent from this phone number in a short period of time",
		}},
		"cloud-order-bsuid-empty-text.json": {
			orderElem("entry[0].changes[0].value.messages[0]", pnIDBSUID, Order{
				MessageID: "wamid.xyzxyz", Timestamp: unix(1697044668),
				Customer:  Customer{WaID: "972987654321", UserID: "US.13491208655302741918", Name: "Test Name"},
				CatalogID: "354160437058781",
				Items: []Item{
					{ProductRetailerID: "HAMBURGER", Quantity: 3, ItemPrice: "30", Currency: "ILS"},
					{ProductRetailerID: "FRENCH_FRIES", Quantity: 2, ItemPrice: "35", Currency: "ILS"},
					{ProductRetailerID: "SODA", Quantity: 2, ItemPrice: "10", Currency: "ILS"},
				},
			}),
		},
		"cloud-order-fractional-price.json": {
			orderElem("entry[0].changes[0].value.messages[0]", pnID, Order{
				MessageID: orderID, Timestamp: unix(1750096325), Customer: sheena, CatalogID: catalogID,
				Items: []Item{usd("di9ozbzfi4", 2, "7.99")},
			}),
		},
		"cloud-order-multi-item.json": {
			orderElem("entry[0].changes[0].value.messages[0]", pnID, Order{
				MessageID: orderID, Timestamp: unix(1750096325), Customer: sheena, CatalogID: catalogID, Text: "Love these!",
				Items: []Item{usd("di9ozbzfi4", 2, "30"), usd("nqryix03ez", 1, "25")},
			}),
		},
		"cloud-product-inquiry.json": {
			inquiryElem("entry[0].changes[0].value.messages[0]", pnID, Inquiry{
				MessageID: inquiryID, Timestamp: unix(1750016800), Customer: sheena,
				CatalogID: catalogID, ProductRetailerID: "di9ozbzfi4",
				Question: "Is this still available?", ReplyToMessageID: productMsg,
			}),
		},
		"cloud-status-failed.json": {
			statusElem("entry[0].changes[0].value.statuses[0]", pnID, Status{
				MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA", RecipientID: "16505551234",
				Status: "failed", Timestamp: unix(1751142888),
				Errors: []StatusError{{
					Code:    131049,
					Title:   "This message was not delivered to maintain healthy ecosystem engagement.",
					Message: "This message was not delivered to maintain healthy ecosystem engagement.",
					Details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
				}},
			}),
		},
		"cloud-status-minimal.json": {
			statusElem("entry[0].changes[0].value.statuses[0]", pnID, Status{
				MessageID: orderID, RecipientID: "16505551234", Status: "sent", Timestamp: unix(1750030073),
			}),
		},
		"cloud-status-sent.json": {
			statusElem("entry[0].changes[0].value.statuses[0]", pnID, Status{
				MessageID: orderID, RecipientID: "16505551234", Status: "sent", Timestamp: unix(1750030073), PricingCategory: "marketing",
			}),
		},
		"cloud-unsupported.json": {{
			Kind: KindIgnored, Path: "entry[0].changes[0].value.messages[0]", PhoneNumberID: pnIDBSUID, MessageID: "wamid.xyzxyz",
			Reason: `message of type "unsupported" is neither an order nor a product inquiry; WhatsApp reported error 131051 (Message type unknown): Message type is currently not supported.`,
		}},
		"onprem-errors.json": {{
			Kind: KindIgnored, Path: "errors[0]",
			Reason: "WhatsApp reported error 400 (Media download error): Failed to download the media from the sender.",
		}},
		"onprem-order-multi-item.json": {
			orderElem("messages[0]", "", Order{
				MessageID: "ABGGFlCGg0cvAgo6cHbBhfK5760V", Timestamp: unix(1603069091), Customer: kerry,
				CatalogID: catalogID, Text: "Love these!", ReplyToMessageID: "gBGGFlaCGg0xcvAdgmZ9plHrf2Mh-o",
				Items: []Item{usd("di9ozbzfi4", 2, "30"), usd("nqryix03ez", 1, "25")},
			}),
		},
		"onprem-product-inquiry.json": {
			inquiryElem("messages[0]", "", Inquiry{
				MessageID: "ABGGFlA5FpafAgo6tHcNmNjXmuSf", Timestamp: unix(1603069091), Customer: kerry,
				CatalogID: catalogID, ProductRetailerID: "di9ozbzfi4",
				Question: "Is this still available?", ReplyToMessageID: "gBGGFlA5FpafAgkOuJbRq54qwbM",
			}),
		},
		"onprem-status-deleted.json": {
			statusElem("statuses[0]", "", Status{
				MessageID: "ABGGFmkiWVVPAgo66iFiii_-TG0-", RecipientID: "16692259554", Status: "deleted", Timestamp: unix(1532413514),
			}),
		},
		"onprem-status-delivered.json": {
			statusElem("statuses[0]", "", Status{
				MessageID: "gBGGEgFVUXl_AgmQ1p4lCm7vdfo", RecipientID: "12015551797", Status: "delivered", Timestamp: unix(1610413994),
			}),
		},
		"onprem-status-failed-window-closed.json": {
			statusElem("statuses[0]", "", Status{
				MessageID: "gBGGEgZHMlEfAgkM1RBkhDRr7t8", RecipientID: "12064001000", Status: "failed", Timestamp: unix(1533332775),
				Errors: []StatusError{{
					Code:  470,
					Title: "Failed to send message because you are outside the support window for freeform messages to this user. Please use a valid HSM notification or reconsider.",
				}},
			}),
		},
		"onprem-status-sent.json": {
			statusElem("statuses[0]", "", Status{
				MessageID: "message-ID", RecipientID: "16315555555", Status: "sent", Timestamp: unix(1518694700),
			}),
		},
		"onprem-text.json": {{
			Kind: KindIgnored, Path: "messages[0]", MessageID: "ABGGFlA5FpafAgo6tHcNmNjXmuSf",
			Reason: "text message without context.referred_product is not a product inquiry",
		}},
		"cloud-order-username-only.json": {
			orderElem("entry[0].changes[0].value.messages[0]", pnID, Order{
				MessageID: "wamid.HBgNVVMuMTM0OTEyMDg2NTUzMDI3NDE5MTgVAgASGBQzQUIxRjBBMjI3RjdDNTNEQzlCNQA=", Timestamp: unix(1767225600),
				Customer: Customer{UserID: "US.13491208655302741918", Name: "Noa"}, CatalogID: catalogID, Items: []Item{usd("di9ozbzfi4", 1, "12.5")},
			}),
		},
		"cloud-system-user-changed-user-id.json": {{
			Kind: KindUserIDChange, Path: "entry[0].changes[0].value.messages[0]", PhoneNumberID: pnID,
			MessageID: "wamid.HBgNVVMuMjczODIwMTk0NjY0MTM4NTI5MzEVAgASGBJTWVNURU1fVVNFUl9JRF9DSEFOR0VEAA==",
			UserIDChange: &UserIDChange{MessageID: "wamid.HBgNVVMuMjczODIwMTk0NjY0MTM4NTI5MzEVAgASGBJTWVNURU1fVVNFUl9JRF9DSEFOR0VEAA==",
				Timestamp: unix(1767229200), Previous: "US.13491208655302741918", Current: "US.27382019466413852931"},
		}},
		"cloud-status-username-callback-data.json": {
			statusElem("entry[0].changes[0].value.statuses[0]", pnID, Status{
				MessageID: "wamid.HBgNVVMuMTM0OTEyMDg2NTUzMDI3NDE5MTgVAgARGBJBQ0NFUFRFRF9OT1RJRklDQVRJT04A", RecipientUserID: "US.13491208655302741918",
				Status: "delivered", Timestamp: unix(1767226000), CallbackData: "wco1|WhatsAppOrder|shop|shop-username-order|Accepted", PricingCategory: "utility",
			}),
		},
		"cloud-status-no-metadata.json": {
			statusElem("entry[0].changes[0].value.statuses[0]", "", Status{
				MessageID: orderID, RecipientID: "16505551234", Status: "read", Timestamp: unix(1750030100),
			}),
		},
		"onprem-unsupported.json": {{
			Kind: KindIgnored, Path: "messages[0]", MessageID: "ABGGFRBzFymPAgo6N9KKs7HsN6eB",
			Reason: `message of type "unknown" is neither an order nor a product inquiry; WhatsApp reported error 501 (Unknown message type): Message type is not currently supported`,
		}},
	}
	files := sampleFiles(t)
	for name := range want {
		if _, ok := files[name]; !ok {
			t.Errorf("expectation for %s, which is not among the samples", name)
		}
	}
	for name, api := range files {
		t.Run(name, func(t *testing.T) {
			elems, ok := want[name]
			if !ok {
				t.Fatalf("sample %s has no expectation: add one", name)
			}
			d, err := Parse(readSample(t, name), api)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			assertElements(t, d.Elements, elems)
		})
	}
}

// TestSamplesWrongGeneration checks that a body sent to a channel of the
// other format is refused whole, not half-read.
func TestSamplesWrongGeneration(t *testing.T) {
	for name, api := range sampleFiles(t) {
		other := Cloud
		if api == Cloud {
			other = OnPremises
		}
		if _, err := Parse(readSample(t, name), other); !isBodyError(err) {
			t.Errorf("%s parsed as %s: err = %v, want a *BodyError", name, other, err)
		}
	}
}

func assertElements(t *testing.T, got, want []Element) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("elements differ\n got: %s\nwant: %s", dump(got), dump(want))
	}
}

func dump(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}
