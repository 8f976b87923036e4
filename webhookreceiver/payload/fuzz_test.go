package payload

import (
	"errors"
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
)

// FuzzParse feeds Parse arbitrary bodies. Whatever comes in, Parse must not
// panic, must answer as the walker alone would (its one-pass fast path is only
// a shortcut), must fail only with a *BodyError, and every element it returns
// must keep the promises the receiver relies on: orders have an id, a customer
// and a cart that validates; every other kind is self-consistent.
func FuzzParse(f *testing.F) {
	for name, api := range sampleFiles(f) {
		f.Add(readSample(f, name), api == v1alpha1.APIOnPremises)
	}
	f.Add(cloudValue(annContact+`,"messages":[`+orderMsg(item(`"2"`, `"1e2"`, "JPY"))+`,5]`), false)
	f.Add(onPremValue(`"messages":[`+orderMsg(item("2.5", "-1", "XYZ"))+`],"statuses":[{"id":"s","status":"failed","timestamp":1,"errors":[{"code":"470"}]}]`), true)
	// Envelope corners where the fast path must leave the body to the walker.
	f.Add(cloudValue(`"messages":[`+orderMsg(item("1", "1", "USD"))+`],"Messages":[],"messages":[{"id":"m2"}]`), false)
	f.Add(onPremValue(`"statuses":[null,{"id":"s","status":"read","timestamp":"1"}],"st\u0061tuses":[]`), true)

	f.Fuzz(func(t *testing.T, body []byte, onPrem bool) {
		api := v1alpha1.APICloud
		if onPrem {
			api = v1alpha1.APIOnPremises
		}
		// The fast path and the walker must give the same answer.
		agree(t, body, api)
		d, err := Parse(body, api)
		if err != nil {
			var be *BodyError
			if !errors.As(err, &be) || d != nil {
				t.Fatalf("Parse = %v, %v; want nil and a *BodyError", d, err)
			}
			return
		}
		for i, e := range d.Elements {
			if msg := checkElement(e, onPrem); msg != "" {
				t.Fatalf("element %d (%s): %s\n%s", i, e.Path, msg, dump(e))
			}
		}
	})
}

// checkElement says what promise e breaks, "" when none.
func checkElement(e Element, onPrem bool) string {
	if e.Path == "" {
		return "no path"
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
		case o.CatalogID == "" || o.Timestamp.IsZero():
			return "order without catalog or timestamp"
		case onPrem == routed:
			return "order routing does not match the generation"
		}
		if err := cart.Validate(o.Items); err != nil {
			return "order cart fails validation: " + err.Error()
		}
		if _, err := cart.Summarize(o.Items); err != nil {
			return "order cart cannot be summed: " + err.Error()
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
		case q.CatalogID == "" || q.ProductRetailerID == "" || q.Timestamp.IsZero():
			return "inquiry without product or timestamp"
		case onPrem == routed:
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
		case onPrem == routed:
			return "status routing does not match the generation"
		}
	case KindIgnored, KindInvalid:
		if e.Reason == "" || e.Order != nil || e.Inquiry != nil || e.Status != nil {
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
		d, err := Parse(body, v1alpha1.APICloud)
		if err != nil || len(d.Elements) != 1 || d.Elements[0].Kind != KindOrder {
			b.Fatalf("Parse = %+v, %v", d, err)
		}
	}
}
