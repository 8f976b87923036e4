package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
)

// FuzzParse feeds Parse arbitrary bodies. Whatever comes in, Parse must not
// panic, must fail only with a *BodyError, must give the same answer twice,
// must place every element at its own path in the body, and every element it
// returns must keep the promises the receiver relies on: orders have an id, a
// customer and a cart that reads back the same, to the cent, when sent again;
// every other kind is self-consistent.
func FuzzParse(f *testing.F) {
	for name, format := range sampleFiles(f) {
		f.Add(readSample(f, name), format == OnPremises)
	}
	f.Add(inCloud(annContact+`,"messages":[`+orderMsg(item(`"2"`, `"1e2"`, "JPY"))+`,5]`), false)
	f.Add(inOnPremises(`"messages":[`+orderMsg(item("2.5", "-1", "XYZ"))+`],"statuses":[{"id":"s","status":"failed","timestamp":1,"errors":[{"code":"470"}]}]`), true)
	// Repeated, oddly cased and escaped keys, and null elements.
	f.Add(inCloud(`"messages":[`+orderMsg(item("1", "1", "USD"))+`],"Messages":[],"messages":[{"id":"m2"}]`), false)
	f.Add(inOnPremises(`"statuses":[null,{"id":"s","status":"read","timestamp":"1"}],"st\u0061tuses":[]`), true)
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[null,{"changes":[null,{"field":"messages","value":null}]}]}`), false)

	f.Fuzz(func(t *testing.T, body []byte, onPrem bool) {
		format := Cloud
		if onPrem {
			format = OnPremises
		}
		d, err := Parse(body, format)
		again, againErr := Parse(body, format)
		if !reflect.DeepEqual(d, again) || fmt.Sprint(err) != fmt.Sprint(againErr) {
			t.Fatalf("two parses of one body differ:\n%s, %v\n%s, %v", dump(d), err, dump(again), againErr)
		}
		if err != nil {
			var be *BodyError
			if !errors.As(err, &be) || d != nil {
				t.Fatalf("Parse = %v, %v; want nil and a *BodyError", d, err)
			}
			return
		}
		paths := map[string]bool{}
		all := make([]string, len(d.Elements))
		for i, e := range d.Elements {
			all[i] = e.Path
			if msg := checkElement(e, onPrem); msg != "" {
				t.Fatalf("element %d (%s): %s\n%s", i, e.Path, msg, dump(e))
			}
			if paths[e.Path] {
				t.Fatalf("two elements at %s:\n%s", e.Path, dump(d.Elements))
			}
			paths[e.Path] = true
			if e.Kind == KindOrder {
				checkResent(t, e.Order)
			}
		}
		// Every element can be kept verbatim: Locate finds JSON at its path.
		for i, raw := range Locate(body, all) {
			if !json.Valid(raw) {
				t.Fatalf("Locate(%s) = %q, not the element's JSON", all[i], raw)
			}
		}
	})
}

// elementPath is what Element.Path may be in each format: a whole entry or
// change, or an element of one of the four arrays.
var elementPath = map[bool]*regexp.Regexp{
	false: regexp.MustCompile(`^entry\[\d+\](\.changes\[\d+\](\.value\.(contacts|messages|statuses|errors)\[\d+\])?)?$`),
	true:  regexp.MustCompile(`^(contacts|messages|statuses|errors)\[\d+\]$`),
}

// checkResent sends o's cart again, its numbers spelled the other way
// (quantities as strings, prices as JSON numbers), and checks that it reads
// back as the same items and the same totals: nothing was rounded.
func checkResent(t *testing.T, o *Order) {
	t.Helper()
	items := make([]string, len(o.Items))
	for i, it := range o.Items {
		items[i] = fmt.Sprintf(`{"product_retailer_id":%q,"quantity":"%d","item_price":%s,"currency":%q}`,
			it.ProductRetailerID, it.Quantity, it.ItemPrice, it.Currency)
	}
	msg := fmt.Sprintf(`{"from":"111","id":"m","timestamp":%d,"type":"order","order":{"catalog_id":"c","product_items":[%s]}}`,
		o.Timestamp.Unix(), strings.Join(items, ","))
	d, err := Parse(inOnPremises(`"messages":[`+msg+`]`), OnPremises)
	if err != nil || len(d.Elements) != 1 || d.Elements[0].Kind != KindOrder {
		t.Fatalf("the order sent again does not read back: %s, %v\nsent: %s", dump(d), err, msg)
	}
	if back := d.Elements[0].Order.Items; !equalItems(back, o.Items) {
		t.Fatalf("the order sent again reads back as %+v, not %+v", back, o.Items)
	}
	want, wantErr := cart.Summarize(cartOf(o.Items))
	got, gotErr := cart.Summarize(cartOf(d.Elements[0].Order.Items))
	if !reflect.DeepEqual(got, want) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("the order sent again sums to %+v (%v), not %+v (%v)", got, gotErr, want, wantErr)
	}
}

// cartOf is what the receiver validates and sums: the items, as the cart's.
func cartOf(items []Item) []cart.Item {
	out := make([]cart.Item, len(items))
	for i, it := range items {
		out[i] = cart.Item(it)
	}
	return out
}

// checkElement says what promise e breaks, "" when none.
func checkElement(e Element, onPrem bool) string {
	if !elementPath[onPrem].MatchString(e.Path) {
		return "path is not one of the format's"
	}
	routed := e.PhoneNumberID != ""
	switch e.Kind {
	case KindOrder:
		o := e.Order
		switch {
		case o == nil || e.Inquiry != nil || e.Status != nil:
			return "an order element must carry exactly an Order"
		case o.MessageID == "" || o.MessageID != e.MessageID:
			return "order without its message id"
		case o.Customer.WaID == "" && o.Customer.UserID == "":
			return "order without a customer id"
		case o.Customer.WaID != "" && !waIDPattern.MatchString(o.Customer.WaID):
			return "order with a wa_id that is not a phone number"
		case o.CatalogID == "" || o.Timestamp.IsZero():
			return "order without catalog or timestamp"
		case onPrem && routed:
			return "order routing does not match the generation"
		}
	case KindInquiry:
		q := e.Inquiry
		switch {
		case q == nil || e.Order != nil || e.Status != nil:
			return "an inquiry element must carry exactly an Inquiry"
		case q.MessageID == "" || q.MessageID != e.MessageID:
			return "inquiry without its message id"
		case q.Customer.WaID == "" && q.Customer.UserID == "":
			return "inquiry without a customer id"
		case q.Customer.WaID != "" && !waIDPattern.MatchString(q.Customer.WaID):
			return "inquiry with a wa_id that is not a phone number"
		case q.CatalogID == "" || q.ProductRetailerID == "" || q.Timestamp.IsZero():
			return "inquiry without product or timestamp"
		case onPrem && routed:
			return "inquiry routing does not match the generation"
		}
	case KindStatus:
		s := e.Status
		switch {
		case s == nil || e.Order != nil || e.Inquiry != nil:
			return "a status element must carry exactly a Status"
		case s.MessageID == "" || s.MessageID != e.MessageID:
			return "status without its message id"
		case !knownStatuses[s.Status] || s.Timestamp.IsZero():
			return "status with an unknown value or no timestamp"
		case onPrem && routed:
			return "status routing does not match the generation"
		}
	case KindPayment:
		p := e.Payment
		switch {
		case p == nil || e.Order != nil || e.Inquiry != nil || e.Status != nil:
			return "a payment element must carry exactly a Payment"
		case p.MessageID != e.MessageID || p.ReferenceID == "":
			return "payment without its message or reference id"
		case !paymentStatuses[p.Status] || p.Timestamp.IsZero():
			return "payment with an unknown status or no timestamp"
		case p.Amount != nil && p.Amount.Offset < 1:
			return "payment amount without a positive offset"
		}
	case KindUserIDChange:
		c := e.UserIDChange
		switch {
		case c == nil || e.Order != nil || e.Inquiry != nil || e.Status != nil:
			return "a user id change must carry exactly a UserIDChange"
		case c.Previous == "" || c.Current == "" || c.Timestamp.IsZero():
			return "user id change without both ids or a timestamp"
		case onPrem && routed:
			return "user id change routing does not match the generation"
		}
	case KindIgnored, KindInvalid:
		if e.Reason == "" || e.Order != nil || e.Inquiry != nil || e.Status != nil || e.UserIDChange != nil || e.Payment != nil {
			return "ignored and invalid elements need a reason and no payload"
		}
	default:
		return "unknown kind"
	}
	return ""
}

func BenchmarkParseCloudOrder(b *testing.B) {
	body := readSample(b, "cloud-order-multi-item.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := Parse(body, Cloud)
		if err != nil || len(d.Elements) != 1 || d.Elements[0].Kind != KindOrder {
			b.Fatalf("Parse = %+v, %v", d, err)
		}
	}
}

// BenchmarkParseCloudOrderBadElement parses the same order behind a message
// that is not an object: the body is decoded element by element.
func BenchmarkParseCloudOrderBadElement(b *testing.B) {
	body := bytes.Replace(readSample(b, "cloud-order-multi-item.json"), []byte(`"messages": [`), []byte(`"messages": [5, `), 1)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := Parse(body, Cloud)
		if err != nil || len(d.Elements) != 2 || d.Elements[1].Kind != KindOrder {
			b.Fatalf("Parse = %+v, %v", d, err)
		}
	}
}
