package payload

import (
	"fmt"
	"strings"
	"testing"
)

// inCloud wraps the members of a change's value in a one-change Cloud body
// for phone number id PN1.
func inCloud(members string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"W","changes":[{"field":"messages","value":` +
		`{"messaging_product":"whatsapp","metadata":{"phone_number_id":"PN1"},` + members + `}}]}]}`)
}

// inOnPremises makes the same members an On-Premises body.
func inOnPremises(members string) []byte { return []byte("{" + members + "}") }

const annContact = `"contacts":[{"profile":{"name":"Ann"},"wa_id":"111"}]`

func orderMsg(items string) string {
	return `{"from":"111","id":"m1","timestamp":"1750096325","type":"order","order":{"catalog_id":"c1","product_items":[` + items + `]}}`
}

func item(qty, price, currency string) string {
	return fmt.Sprintf(`{"product_retailer_id":"p1","quantity":%s,"item_price":%s,"currency":%q}`, qty, price, currency)
}

// parseBoth parses the same members as a Cloud and as an On-Premises body and
// checks both give the same elements, less the Cloud routing and path.
func parseBoth(t *testing.T, members string) []Element {
	t.Helper()
	cd, err := Parse(inCloud(members), Cloud)
	if err != nil {
		t.Fatalf("Parse Cloud: %v", err)
	}
	od, err := Parse(inOnPremises(members), OnPremises)
	if err != nil {
		t.Fatalf("Parse On-Premises: %v", err)
	}
	if len(cd.Elements) != len(od.Elements) {
		t.Fatalf("Cloud gave %d elements, On-Premises %d", len(cd.Elements), len(od.Elements))
	}
	for i, e := range cd.Elements {
		if e.PhoneNumberID != "PN1" {
			t.Errorf("Cloud element %d has phone number id %q, want PN1", i, e.PhoneNumberID)
		}
		if want := "entry[0].changes[0].value." + od.Elements[i].Path; e.Path != want {
			t.Errorf("Cloud element %d path %q, want %q", i, e.Path, want)
		}
		e.PhoneNumberID, e.Path = "", od.Elements[i].Path
		assertElements(t, []Element{e}, od.Elements[i:i+1])
	}
	return od.Elements
}

// TestMessageElements covers each way a message becomes Ignored or Invalid.
func TestMessageElements(t *testing.T) {
	tests := []struct {
		name     string
		contacts string
		message  string
		kind     Kind
		id       string
		reason   string // in Element.Reason
	}{
		{"not an object", annContact, `5`, KindInvalid, "", "message is a number, not an object"},
		{"null", annContact, `null`, KindInvalid, "", "message is null, not an object"},
		{"id not a string", annContact, `{"id":5,"type":"order"}`, KindInvalid, "", "message.id is a number, not a string"},
		{"no id", annContact, `{"from":"111","type":"order","timestamp":"1"}`, KindInvalid, "", "message has no id"},
		{"no id on ignored type", annContact, `{"type":"image"}`, KindInvalid, "", "message has no id"},
		{"no type", annContact, `{"id":"m1"}`, KindIgnored, "m1", "message has no type"},
		{"image", annContact, `{"id":"m1","type":"image","image":{"id":"x"}}`, KindIgnored, "m1", `message of type "image" is neither`},
		{"ignored type with odd members", annContact, `{"id":"m1","type":"sticker","text":5,"order":"x"}`, KindIgnored, "m1", `type "sticker"`},
		{"unsupported with odd errors", annContact, `{"id":"m1","type":"unsupported","errors":[{"code":"x"}]}`, KindIgnored, "m1", `type "unsupported" is neither an order nor a product inquiry`},
		{"plain text", annContact, `{"id":"m1","type":"text","text":{"body":"hi"}}`, KindIgnored, "m1", "without context.referred_product"},
		{"reply without product", annContact, `{"id":"m1","type":"text","context":{"id":"c"},"text":{"body":"hi"}}`, KindIgnored, "m1", "without context.referred_product"},
		{"text body not a string", annContact, `{"id":"m1","type":"text","text":{"body":5}}`, KindInvalid, "m1", "message.text.body is a number, not a string"},
		{"inquiry without product id", annContact, `{"id":"m1","from":"111","timestamp":"1","type":"text","context":{"referred_product":{"catalog_id":"c"}}}`, KindInvalid, "m1", "needs both catalog_id and product_retailer_id"},
		{"inquiry without timestamp", annContact, `{"id":"m1","from":"111","type":"text","context":{"referred_product":{"catalog_id":"c","product_retailer_id":"p"}}}`, KindInvalid, "m1", "timestamp is missing"},
		{"inquiry without sender", "", `{"id":"m1","timestamp":"1","type":"text","context":{"referred_product":{"catalog_id":"c","product_retailer_id":"p"}}}`, KindInvalid, "m1", "names no sender"},

		{"system without system", "", `{"id":"m1","type":"system"}`, KindIgnored, "m1", "system message has no system object"},
		{"system of another type", "", `{"id":"m1","type":"system","system":{"type":"customer_identity_changed"}}`, KindIgnored, "m1", `type "customer_identity_changed" does not change a user id`},
		{"number change without user ids", "", `{"id":"m1","from":"111","type":"system","system":{"type":"user_changed_number","wa_id":"222"}}`, KindIgnored, "m1", "changes no user id"},
		{"user id change without the previous id", "", `{"id":"m1","timestamp":"1","type":"system","system":{"type":"user_changed_user_id","user_id":"US.2"}}`, KindInvalid, "m1", "needs system.previous_user_id"},
		{"user id change without timestamp", "", `{"id":"m1","type":"system","system":{"type":"user_changed_user_id","user_id":"US.2","previous_user_id":"US.1"}}`, KindInvalid, "m1", "timestamp is missing"},
		{"system not an object", "", `{"id":"m1","type":"system","system":"x"}`, KindInvalid, "m1", "message.system is a string, not an object"},
		{"order without order", annContact, `{"id":"m1","from":"111","timestamp":"1","type":"order"}`, KindInvalid, "m1", "no order object"},
		{"order not an object", annContact, `{"id":"m1","from":"111","timestamp":"1","type":"order","order":[]}`, KindInvalid, "m1", "message.order is an array, not an object"},
		{"order without timestamp", annContact, `{"id":"m1","from":"111","type":"order","order":{"catalog_id":"c1"}}`, KindInvalid, "m1", "timestamp is missing"},
		{"order timestamp text", annContact, `{"id":"m1","from":"111","timestamp":"soon","type":"order","order":{}}`, KindInvalid, "m1", `timestamp "soon" is not a number`},
		{"order timestamp zero", annContact, `{"id":"m1","from":"111","timestamp":0,"type":"order","order":{}}`, KindInvalid, "m1", "timestamp 0 is not a Unix time"},
		{"order timestamp negative", annContact, `{"id":"m1","from":"111","timestamp":"-5","type":"order","order":{}}`, KindInvalid, "m1", "timestamp -5 is not a Unix time"},
		{"order timestamp after 9999", annContact, `{"id":"m1","from":"111","timestamp":253402300800,"type":"order","order":{}}`, KindInvalid, "m1", "not a Unix time between 1970 and 9999"},
		{"order timestamp fractional", annContact, `{"id":"m1","from":"111","timestamp":1.5,"type":"order","order":{}}`, KindInvalid, "m1", "timestamp 1.5 is not a whole number"},
		{"order timestamp object", annContact, `{"id":"m1","from":"111","timestamp":{},"type":"order","order":{}}`, KindInvalid, "m1", "timestamp is an object, not a number or a numeric string"},
		{"order without sender", "", `{"id":"m1","timestamp":"1","type":"order","order":{"catalog_id":"c1"}}`, KindInvalid, "m1", "names no sender"},
		{"order without catalog", annContact, `{"id":"m1","from":"111","timestamp":"1","type":"order","order":{"product_items":[]}}`, KindInvalid, "m1", "order has no catalog_id"},
		{"items not an array", annContact, `{"id":"m1","from":"111","timestamp":"1","type":"order","order":{"catalog_id":"c1","product_items":{}}}`, KindInvalid, "m1", "message.order.product_items is an object, not an array"},
		{"item not an object", annContact, orderMsg(`5`), KindInvalid, "m1", "message.order.product_items is a number, not an object"},
		{"fractional quantity", annContact, orderMsg(item("2.5", "1", "USD")), KindInvalid, "m1", `order.product_items[0] ("p1"): quantity 2.5 is not a whole number`},
		{"text quantity", annContact, orderMsg(item(`"abc"`, "1", "USD")), KindInvalid, "m1", `quantity "abc" is not a number`},
		{"missing quantity", annContact, orderMsg(`{"product_retailer_id":"p1","item_price":1,"currency":"USD"}`), KindInvalid, "m1", "quantity is missing"},
		{"boolean quantity", annContact, orderMsg(item("true", "1", "USD")), KindInvalid, "m1", "quantity is a boolean, not a number"},
		{"huge quantity", annContact, orderMsg(item("1e30", "1", "USD")), KindInvalid, "m1", "quantity 1000000000000000000000000000000 is out of range"},
		{"text price", annContact, orderMsg(item("1", `"free"`, "USD")), KindInvalid, "m1", `item_price "free" is not a number`},
		{"null price", annContact, orderMsg(item("1", "null", "USD")), KindInvalid, "m1", "item_price is null, not a number"},
		{"missing price", annContact, orderMsg(`{"product_retailer_id":"p1","quantity":1,"currency":"USD"}`), KindInvalid, "m1", "item_price is missing"},
		{"price with too many digits", annContact, orderMsg(item("1", "1"+strings.Repeat("0", 40), "USD")), KindInvalid, "m1", "has more than 40 digits"},
		{"price with huge exponent", annContact, orderMsg(item("1", "1e999999999999", "USD")), KindInvalid, "m1", "has an exponent beyond ±40"},
		{"price too long", annContact, orderMsg(item("1", `"`+strings.Repeat("1", 101)+`"`, "USD")), KindInvalid, "m1", "has 101 characters, too many for a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			members := `"messages":[` + tt.message + `]`
			if tt.contacts != "" {
				members = tt.contacts + "," + members
			}
			elems := parseBoth(t, members)
			if len(elems) != 1 {
				t.Fatalf("got %d elements, want 1: %s", len(elems), dump(elems))
			}
			e := elems[0]
			if e.Kind != tt.kind || e.MessageID != tt.id || e.Path != "messages[0]" {
				t.Errorf("got kind %s, id %q, path %q; want %s, %q, messages[0]", e.Kind, e.MessageID, e.Path, tt.kind, tt.id)
			}
			if !strings.Contains(e.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", e.Reason, tt.reason)
			}
			if e.Order != nil || e.Inquiry != nil || e.Status != nil {
				t.Errorf("an %s element carries a payload: %s", e.Kind, dump(e))
			}
		})
	}
}

// TestCartRulesAreNotTheParsers reads carts the receiver refuses: the parser
// reads them exactly, as sent, and leaves the cart's rules (and their reasons,
// the API's) to the receiver's cart.Validate.
func TestCartRulesAreNotTheParsers(t *testing.T) {
	tests := []struct {
		name  string
		items string
		want  []Item
	}{
		{"no items", "", []Item{}},
		{"zero quantity", item("0", "1", "USD"), []Item{usd("p1", 0, "1")}},
		{"negative price", item("1", "-7.99", "USD"), []Item{usd("p1", 1, "-7.99")}},
		{"unknown currency", item("1", "1", "XYZ"), []Item{{ProductRetailerID: "p1", Quantity: 1, ItemPrice: "1", Currency: "XYZ"}}},
		{"mixed currencies", item("1", "1", "USD") + "," + item("1", "1", "EUR"),
			[]Item{usd("p1", 1, "1"), {ProductRetailerID: "p1", Quantity: 1, ItemPrice: "1", Currency: "EUR"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			elems := parseBoth(t, annContact+`,"messages":[`+orderMsg(tt.items)+`]`)
			if len(elems) != 1 || elems[0].Kind != KindOrder {
				t.Fatalf("got %s, want one order", dump(elems))
			}
			if !equalItems(elems[0].Order.Items, tt.want) {
				t.Errorf("items %+v, want %+v", elems[0].Order.Items, tt.want)
			}
		})
	}
}

// TestNumberForms checks every accepted spelling of quantities, prices and
// timestamps, which WhatsApp sends as numbers or strings.
func TestNumberForms(t *testing.T) {
	tests := []struct {
		qty, price, ts string
		wantQty        int64
		wantPrice      string
		wantTS         int64
	}{
		{"2", "30", `"1750096325"`, 2, "30", 1750096325},
		{`"2"`, "7.99", "1750096325", 2, "7.99", 1750096325},
		{"2.0", `"7.99"`, "1.750096325e9", 2, "7.99", 1750096325},
		{"2e0", "1e2", `"1750096325.000"`, 2, "100", 1750096325},
		{`"2E0"`, "1.5e1", "1750096325", 2, "15", 1750096325},
		{"1000000", "1E-2", "1750096325", 1000000, "0.01", 1750096325},
		{"3", "7.90", "1750096325", 3, "7.90", 1750096325},
		{"3", `"007.5"`, "1750096325", 3, "7.5", 1750096325},
		{"3", "0", "1750096325", 3, "0", 1750096325},
		{"3", "-0", "1750096325", 3, "0", 1750096325},
		{"3", "999999999999999.999999", "1750096325", 3, "999999999999999.999999", 1750096325},
		{"3", "123.4500e-2", "1750096325", 3, "1.234500", 1750096325},
	}
	for _, tt := range tests {
		t.Run(tt.qty+" "+tt.price+" "+tt.ts, func(t *testing.T) {
			msg := `{"from":"111","id":"m1","timestamp":` + tt.ts + `,"type":"order","order":{"catalog_id":"c1","product_items":[` +
				item(tt.qty, tt.price, "USD") + `]}}`
			elems := parseBoth(t, annContact+`,"messages":[`+msg+`]`)
			if len(elems) != 1 || elems[0].Kind != KindOrder {
				t.Fatalf("got %s, want one order", dump(elems))
			}
			o := elems[0].Order
			if want := []Item{usd("p1", tt.wantQty, tt.wantPrice)}; !equalItems(o.Items, want) {
				t.Errorf("items %+v, want %+v", o.Items, want)
			}
			if !o.Timestamp.Equal(unix(tt.wantTS)) {
				t.Errorf("timestamp %v, want %v", o.Timestamp, unix(tt.wantTS))
			}
		})
	}
}

func equalItems(a, b []Item) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestUserIDChanges reads both system messages that carry a new user id.
func TestUserIDChanges(t *testing.T) {
	got := parseBoth(t, `"messages":[`+
		`{"from_user_id":"US.2","id":"m1","timestamp":"1750096325","type":"system","system":{"body":"User changed","type":"user_changed_user_id","previous_user_id":"US.1","parent_user_id":"US.ENT.9","previous_parent_user_id":"US.ENT.8"}},`+
		`{"from":"111","id":"m2","timestamp":"1750096326","type":"system","system":{"body":"User A changed from 111 to 222","wa_id":"222","type":"user_changed_number","user_id":"US.4","previous_user_id":"US.3"}}]`)
	want := []Element{
		{Kind: KindUserIDChange, Path: "messages[0]", MessageID: "m1", UserIDChange: &UserIDChange{MessageID: "m1", Timestamp: unix(1750096325), Previous: "US.1", Current: "US.2"}},
		{Kind: KindUserIDChange, Path: "messages[1]", MessageID: "m2", UserIDChange: &UserIDChange{MessageID: "m2", Timestamp: unix(1750096326), Previous: "US.3", Current: "US.4"}},
	}
	assertElements(t, got, want)
}

// TestStatusElements covers each way a status becomes Ignored or Invalid, and
// the forms of its errors.
func TestStatusElements(t *testing.T) {
	tests := []struct {
		name   string
		status string
		want   Element
	}{
		{"not an object", `"sent"`, Element{Kind: KindInvalid, Reason: "status is a string, not an object"}},
		{"no id", `{"status":"sent","timestamp":"1"}`, Element{Kind: KindInvalid, Reason: "status has no id"}},
		{"no value", `{"id":"s1","timestamp":"1"}`, Element{Kind: KindInvalid, MessageID: "s1", Reason: "status has no status value"}},
		{"unknown value", `{"id":"s1","status":"teleported","timestamp":"1"}`, Element{Kind: KindIgnored, MessageID: "s1", Reason: `status value "teleported" is not one WhatsApp documents`}},
		{"upper-case value", `{"id":"s1","status":"SENT","timestamp":"1"}`, Element{Kind: KindIgnored, MessageID: "s1", Reason: `status value "SENT" is not one WhatsApp documents`}},
		{"no timestamp", `{"id":"s1","status":"read"}`, Element{Kind: KindInvalid, MessageID: "s1", Reason: "timestamp is missing"}},
		{"errors not an array", `{"id":"s1","status":"failed","timestamp":"1","errors":{}}`, Element{Kind: KindInvalid, Reason: "status.errors is an object, not an array"}},
		{"error code text", `{"id":"s1","status":"failed","timestamp":"1","errors":[{"code":"oops"}]}`, Element{Kind: KindInvalid, MessageID: "s1", Reason: `errors[0]: code "oops" is not a number`}},
		{"error code missing", `{"id":"s1","status":"failed","timestamp":"1","errors":[{"title":"x"}]}`, Element{Kind: KindInvalid, MessageID: "s1", Reason: "errors[0]: code is missing"}},
		{
			"error code as string, recipient by user id", `{"id":"s1","status":"failed","timestamp":1,"recipient_user_id":"US.1","errors":[{"code":"470","title":"window","details":"closed"}]}`,
			Element{Kind: KindStatus, MessageID: "s1", Status: &Status{MessageID: "s1", RecipientUserID: "US.1", Status: "failed", Timestamp: unix(1),
				Errors: []StatusError{{Code: 470, Title: "window", Details: "closed"}}}},
		},
		{
			"user id in recipient_id is no phone number", `{"id":"s1","status":"sent","timestamp":1,"recipient_id":"US.13491208655302741918"}`,
			Element{Kind: KindStatus, MessageID: "s1", Status: &Status{MessageID: "s1", RecipientUserID: "US.13491208655302741918", Status: "sent", Timestamp: unix(1)}},
		},
		{
			"both recipient ids, callback data and pricing", `{"id":"s1","status":"delivered","timestamp":1,"recipient_id":"16505551234","recipient_user_id":"US.1",` +
				`"biz_opaque_callback_data":"wco1|WhatsAppOrder|shop|o|Accepted","pricing":{"billable":true,"pricing_model":"PMP","category":"utility","type":"regular"}}`,
			Element{Kind: KindStatus, MessageID: "s1", Status: &Status{MessageID: "s1", RecipientID: "16505551234", RecipientUserID: "US.1", Status: "delivered", Timestamp: unix(1),
				CallbackData: "wco1|WhatsAppOrder|shop|o|Accepted", PricingCategory: "utility"}},
		},
		{
			"played", `{"id":"s1","status":"played","timestamp":"2","recipient_id":"111"}`,
			Element{Kind: KindStatus, MessageID: "s1", Status: &Status{MessageID: "s1", RecipientID: "111", Status: "played", Timestamp: unix(2)}},
		},
		{
			"warning", `{"id":"s1","status":"warning","timestamp":"2","recipient_id":"111"}`,
			Element{Kind: KindStatus, MessageID: "s1", Status: &Status{MessageID: "s1", RecipientID: "111", Status: "warning", Timestamp: unix(2)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Path = "statuses[0]"
			assertElements(t, parseBoth(t, `"statuses":[`+tt.status+`]`), []Element{tt.want})
		})
	}
}

// TestReportedErrors covers errors[] beside messages: counted, never stored.
func TestReportedErrors(t *testing.T) {
	got := parseBoth(t, `"errors":[{"code":131000,"title":"Something went wrong"},{"code":"x"},[],{"code":1,"message":"m","error_data":{"details":"d"}}]`)
	want := []Element{
		{Kind: KindIgnored, Path: "errors[0]", Reason: "WhatsApp reported error 131000 (Something went wrong)"},
		{Kind: KindInvalid, Path: "errors[1]", Reason: `error code "x" is not a number`},
		{Kind: KindInvalid, Path: "errors[2]", Reason: "error is an array, not an object"},
		{Kind: KindIgnored, Path: "errors[3]", Reason: "WhatsApp reported error 1: d"},
	}
	assertElements(t, got, want)
}

// TestBadElementsDoNotHideOthers mixes invalid orders, a malformed contact and
// changes of other fields with valid orders and statuses: every valid one
// comes out, in body order.
func TestBadElementsDoNotHideOthers(t *testing.T) {
	good := func(id, price string) string {
		return `{"from":"111","id":"` + id + `","timestamp":"1750096325","type":"order","order":{"catalog_id":"c1","product_items":[` +
			item("1", price, "USD") + `]}}`
	}
	body := `{"object":"whatsapp_business_account","entry":[
	  {"id":"W","changes":[
	    {"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}},
	    {"field":"messages","value":{"metadata":{"phone_number_id":"PN1"},
	      "contacts":[{"wa_id":5},{"profile":{"name":"Ann"},"wa_id":"111"}],
	      "messages":[` + good("m1", "1.50") + `,` + good("m2", `"abc"`) + `,` + good("m3", "2") + `]}},
	    {"field":"messages","value":{"metadata":{"phone_number_id":"PN2"},"messages":{}}}
	  ]},
	  "not an entry",
	  {"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"PN3"},
	    "statuses":[{"id":"s1","status":"read","timestamp":"1750096400","recipient_id":"111"}]}}]}
	]}`
	d, err := Parse([]byte(body), Cloud)
	if err != nil {
		t.Fatal(err)
	}
	ann := Customer{WaID: "111", Name: "Ann"}
	order := func(path, id, price string) Element {
		return orderElem(path, "PN1", Order{MessageID: id, Timestamp: unix(1750096325), Customer: ann, CatalogID: "c1",
			Items: []Item{usd("p1", 1, price)}})
	}
	want := []Element{
		{Kind: KindIgnored, Path: "entry[0].changes[0]", Reason: `webhook field "account_update" is not messages`},
		{Kind: KindInvalid, Path: "entry[0].changes[1].value.contacts[0]", PhoneNumberID: "PN1", Reason: "contact.wa_id is a number, not a string"},
		order("entry[0].changes[1].value.messages[0]", "m1", "1.50"),
		{Kind: KindInvalid, Path: "entry[0].changes[1].value.messages[1]", PhoneNumberID: "PN1", MessageID: "m2",
			Reason: `order.product_items[0] ("p1"): item_price "abc" is not a number`},
		order("entry[0].changes[1].value.messages[2]", "m3", "2"),
		{Kind: KindInvalid, Path: "entry[0].changes[2]", PhoneNumberID: "PN2", Reason: "value.messages is an object, not an array"},
		{Kind: KindInvalid, Path: "entry[1]", Reason: "entry is a string, not an object"},
		statusElem("entry[2].changes[0].value.statuses[0]", "PN3", Status{MessageID: "s1", RecipientID: "111", Status: "read", Timestamp: unix(1750096400)}),
	}
	assertElements(t, d.Elements, want)
}

const readStatus = `{"id":"s1","status":"read","timestamp":"1750096400","recipient_id":"111"}`

// TestCloudStructure covers malformed entries and changes: each is one
// element, never an error for the body.
func TestCloudStructure(t *testing.T) {
	tests := []struct {
		name, entries string
		want          Element
	}{
		{"entry without changes", `{"id":"W"}`, Element{Kind: KindInvalid, Path: "entry[0]", Reason: "entry has no changes array: changes is missing, not an array"}},
		{"changes not an array", `{"changes":{}}`, Element{Kind: KindInvalid, Path: "entry[0]", Reason: "entry has no changes array: changes is an object, not an array"}},
		{"change not an object", `{"changes":[1]}`, Element{Kind: KindInvalid, Path: "entry[0].changes[0]", Reason: "change is a number, not an object"}},
		{"change field not a string", `{"changes":[{"field":1}]}`, Element{Kind: KindInvalid, Path: "entry[0].changes[0]", Reason: "change.field is a number, not a string"}},
		{"change without field", `{"changes":[{"value":{}}]}`, Element{Kind: KindInvalid, Path: "entry[0].changes[0]", Reason: "change has no field"}},
		{"other field", `{"changes":[{"field":"message_template_status_update","value":{}}]}`, Element{Kind: KindIgnored, Path: "entry[0].changes[0]", Reason: `webhook field "message_template_status_update" is not messages`}},
		{"value missing", `{"changes":[{"field":"messages"}]}`, Element{Kind: KindInvalid, Path: "entry[0].changes[0]", Reason: "value is missing, not an object"}},
		{"value not an object", `{"changes":[{"field":"messages","value":[]}]}`, Element{Kind: KindInvalid, Path: "entry[0].changes[0]", Reason: "value is an array, not an object"}},
		{"no metadata: for the channel of the path", `{"changes":[{"field":"messages","value":{"statuses":[` + readStatus + `]}}]}`,
			statusElem("entry[0].changes[0].value.statuses[0]", "", Status{MessageID: "s1", RecipientID: "111", Status: "read", Timestamp: unix(1750096400)})},
		{"phone number id not a string", `{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":1}}}]}`, Element{Kind: KindInvalid, Path: "entry[0].changes[0]", Reason: "value.metadata.phone_number_id is a number, not a string"}},
		{"no phone number id: for the channel of the path", `{"changes":[{"field":"messages","value":{"metadata":{},"statuses":[` + readStatus + `]}}]}`,
			statusElem("entry[0].changes[0].value.statuses[0]", "", Status{MessageID: "s1", RecipientID: "111", Status: "read", Timestamp: unix(1750096400)})},
		{"statuses not an array", `{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"PN1"},"statuses":"x"}}]}`, Element{Kind: KindInvalid, Path: "entry[0].changes[0]", PhoneNumberID: "PN1", Reason: "value.statuses is a string, not an array"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse([]byte(`{"object":"whatsapp_business_account","entry":[`+tt.entries+`]}`), Cloud)
			if err != nil {
				t.Fatal(err)
			}
			assertElements(t, d.Elements, []Element{tt.want})
		})
	}
}
