package payload

import (
	"reflect"
	"strings"
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// agree checks that Parse, the one-pass decode and the walker all read body
// alike, and returns whether the one-pass decode took it.
func agree(tb testing.TB, body []byte, api v1alpha1.APIGeneration) (onePass bool) {
	tb.Helper()
	want, wantErr := parseWalk(body, api)
	got, err := Parse(body, api)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		tb.Fatalf("Parse error %v, walker error %v\nbody: %s", err, wantErr, body)
	}
	if !reflect.DeepEqual(got, want) {
		tb.Fatalf("Parse and the walker differ\nParse: %s\nwalker: %s\nbody: %s", dump(got), dump(want), body)
	}
	d, ok := parseOnePass(body, api)
	if !ok {
		return false
	}
	if wantErr != nil || !reflect.DeepEqual(d, want) {
		tb.Fatalf("one pass and the walker differ\none pass: %s\nwalker: %s, %v\nbody: %s", dump(d), dump(want), wantErr, body)
	}
	return true
}

func otherGeneration(api v1alpha1.APIGeneration) v1alpha1.APIGeneration {
	if api == v1alpha1.APICloud {
		return v1alpha1.APIOnPremises
	}
	return v1alpha1.APICloud
}

// TestOnePassMatchesWalkerOnSamples checks that every sample takes the fast
// path, so the speed is had on what WhatsApp really sends, and gives what the
// walker gives; and that sent to the other generation it is refused alike.
func TestOnePassMatchesWalkerOnSamples(t *testing.T) {
	for name, api := range sampleFiles(t) {
		body := readSample(t, name)
		if !agree(t, body, api) {
			t.Errorf("%s: the one-pass decode refused it", name)
		}
		agree(t, body, otherGeneration(api))
	}
}

// TestOnePassMatchesWalkerOnElements runs well-typed messages, statuses and
// errors, valid or not, through both paths: the fast path must take them all
// and judge them as the walker does, reasons and paths included.
func TestOnePassMatchesWalkerOnElements(t *testing.T) {
	full := `{"from":"111","id":"m1","timestamp":"1750096325","type":"order","context":{"id":"ctx"},` +
		`"order":{"catalog_id":"c1","text":"note","product_items":[` + item("2", "7.99", "USD") + `,` + item(`"1"`, `"0.5"`, "USD") + `]}}`
	messages := []string{
		full,
		orderMsg(item("2", "30", "USD")),
		orderMsg(item("0", "1", "USD")),
		orderMsg(item("2.5", "1", "USD")),
		orderMsg(item("1", `"free"`, "USD")),
		orderMsg(item("1", "null", "USD")),
		orderMsg(item("1", "1", "XYZ")),
		orderMsg(item("1", "1", "USD") + "," + item("1", "1", "EUR")),
		orderMsg(`{"quantity":1,"item_price":1,"currency":"USD"}`),
		orderMsg(""),
		`{}`,
		`{"type":"order"}`,
		`{"id":"m1"}`,
		`{"id":"m1","type":"image","image":{"id":"x"}}`,
		`{"id":"m1","type":"unsupported","errors":[{"code":131051,"title":"t","error_data":{"details":"d"}}]}`,
		`{"id":"m1","type":"unknown","errors":[{"code":"x"}]}`,
		`{"id":"m1","type":"text","text":{"body":"hi"}}`,
		`{"id":"m1","from":"111","timestamp":1,"type":"text","context":{"id":"c","referred_product":{"catalog_id":"c","product_retailer_id":"p"}},"text":{"body":"?"}}`,
		`{"id":"m1","from":"111","timestamp":"1","type":"text","context":{"referred_product":{"catalog_id":"c"}}}`,
		`{"id":"m1","timestamp":"1","type":"order","order":{"catalog_id":"c1"}}`,
		`{"id":"m1","from":"111","timestamp":"soon","type":"order","order":{}}`,
		`{"id":"m1","from":"111","timestamp":1.5,"type":"order","order":{"catalog_id":"c1"}}`,
		`{"id":"m1","from":"US.1","type":"order","timestamp":2,"order":{"catalog_id":"c1","product_items":[` + item("1", "1", "USD") + `]}}`,
		// A repeated member inside a message is read by the same structs on both paths.
		`{"id":"m1","id":"m2","type":"text","type":"order","from":"111","timestamp":"1","order":{"catalog_id":"c1"},"order":{"text":"x"}}`,
	}
	statuses := []string{
		`{}`,
		`{"id":"s1","status":"sent","timestamp":"1","recipient_id":"111"}`,
		`{"id":"s1","status":"teleported","timestamp":"1"}`,
		`{"id":"s1","status":"read"}`,
		`{"id":"s1","status":"failed","timestamp":1,"recipient_user_id":"US.1","errors":[{"code":"470","title":"w","details":"d"}]}`,
		`{"id":"s1","status":"failed","timestamp":"1","errors":[{"code":"oops"}]}`,
	}
	errs := `"errors":[{"code":131000,"title":"x"},{"code":"x"},{"code":1,"message":"m","error_data":{"details":"d"}}]`
	contacts := []string{
		"",
		annContact + ",",
		`"contacts":[],`,
		`"contacts":[{"wa_id":"111","user_id":"US.1"},{"wa_id":"222","profile":{"name":"B"}}],`,
	}
	for _, c := range contacts {
		for _, m := range messages {
			members := c + `"messages":[` + m + `,` + full + `]`
			checkBoth(t, members)
		}
		for _, s := range statuses {
			checkBoth(t, c+`"statuses":[`+s+`],`+errs)
		}
	}
}

// checkBoth runs the members of a value as a Cloud and an On-Premises body,
// both of which the fast path must take.
func checkBoth(t *testing.T, members string) {
	t.Helper()
	if !agree(t, cloudValue(members), v1alpha1.APICloud) {
		t.Errorf("one pass refused the Cloud body of %s", members)
	}
	if !agree(t, onPremValue(members), v1alpha1.APIOnPremises) {
		t.Errorf("one pass refused the On-Premises body of %s", members)
	}
}

// TestOnePassMatchesWalkerOnEnvelopes covers the bodies the fast path must
// leave to the walker, and a few it may take, in the envelope, where the two
// read members differently. Either way Parse must give the walker's answer.
func TestOnePassMatchesWalkerOnEnvelopes(t *testing.T) {
	msg := orderMsg(item("1", "1", "USD"))
	change := func(value string) []byte {
		return []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":` + value + `}]}]}`)
	}
	const md = `"metadata":{"phone_number_id":"PN1"}`
	tests := []struct {
		name    string
		api     v1alpha1.APIGeneration
		body    []byte
		onePass bool
	}{
		{"plain", v1alpha1.APICloud, change(`{` + md + `,"messages":[` + msg + `]}`), true},
		{"other field, odd value", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"account_update","value":{"event":"x"}}]}]}`), true},
		{"no phone number id", v1alpha1.APICloud, change(`{"metadata":{},"messages":[` + msg + `]}`), true},
		{"no entries", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","entry":[]}`), true},
		{"empty on-premises", v1alpha1.APIOnPremises, []byte(`{"contacts":[{"wa_id":"1"}]}`), true},
		{"escaped value", v1alpha1.APICloud, change(`{` + md + `,"messages":[{"id":"m\u0031","type":"image"}]}`), true},

		{"repeated messages", v1alpha1.APICloud, change(`{` + md + `,"messages":[` + msg + `],"messages":[{"id":"m2","type":"order"}]}`), false},
		{"repeated metadata", v1alpha1.APICloud, change(`{` + md + `,"metadata":{},"messages":[` + msg + `]}`), false},
		{"repeated value", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{` + md + `},"value":{"messages":[` + msg + `]}}]}]}`), false},
		{"repeated changes", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages"}],"changes":[{"value":{` + md + `}}]}]}`), false},
		{"repeated entry", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[]},{"changes":[]}],"entry":[{}]}`), false},
		{"repeated statuses", v1alpha1.APIOnPremises, []byte(`{"statuses":[{"id":"s1","status":"sent","timestamp":1}],"statuses":[{"id":"s2"}]}`), false},
		{"repeated object", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","object":null,"entry":[]}`), false},
		{"upper-case messages", v1alpha1.APICloud, change(`{` + md + `,"Messages":[` + msg + `]}`), false},
		{"upper-case entry", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","Entry":[{"changes":[]}]}`), false},
		{"upper-case object", v1alpha1.APICloud, []byte(`{"OBJECT":"whatsapp_business_account","entry":[]}`), false},
		{"upper-case on-premises", v1alpha1.APIOnPremises, []byte(`{"STATUSES":[{"id":"s1"}],"errors":[]}`), false},
		{"long s", v1alpha1.APIOnPremises, []byte(`{"meſſages":[{"id":"m1"}],"errors":[]}`), false},
		{"escaped key", v1alpha1.APIOnPremises, []byte(`{"m\u0065ssages":[{"id":"m1"}]}`), false},
		{"escaped object", v1alpha1.APICloud, []byte(`{"object":"whatsapp\u005fbusiness_account","entry":[]}`), false},
		{"null body", v1alpha1.APICloud, []byte(`null`), false},
		{"null on-premises body", v1alpha1.APIOnPremises, []byte(`null`), false},
		{"null entry", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","entry":[null]}`), false},
		{"null change", v1alpha1.APICloud, []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[null]}]}`), false},
		{"null value", v1alpha1.APICloud, change(`null`), false},
		{"no metadata", v1alpha1.APICloud, change(`{"messages":[]}`), false},
		{"null message", v1alpha1.APICloud, change(`{` + md + `,"messages":[null,` + msg + `]}`), false},
		{"null contact", v1alpha1.APIOnPremises, []byte(`{"contacts":[null],"messages":[` + msg + `]}`), false},
		{"null status", v1alpha1.APIOnPremises, []byte(`{"statuses":[null]}`), false},
		{"null error", v1alpha1.APIOnPremises, []byte(`{"errors":[null]}`), false},
		{"mistyped contact", v1alpha1.APIOnPremises, []byte(`{"contacts":[{"wa_id":5}],"messages":[` + msg + `]}`), false},
		{"mistyped ignored member", v1alpha1.APIOnPremises, []byte(`{"messages":[{"id":"m1","type":"sticker","text":5}]}`), false},
		{"cloud body on-premises", v1alpha1.APIOnPremises, change(`{` + md + `}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := agree(t, tt.body, tt.api); got != tt.onePass {
				t.Errorf("one pass took the body: %v, want %v", got, tt.onePass)
			}
		})
	}
}

func TestKeysReadAlike(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`{"a":{"messages":[]},"b":{"messages":[]}}`, true},
		{`{"messages":"\"messages\":","x":["messages","messages"]}`, true},
		{`{"x":"\\","messages":[],"y":"\\\"messages\":"}`, true},
		{`{"id":1,"id":2}`, true},
		{`{"a":{"messages":[]},"messages":[]}`, true},
		{`{"messages":[],"a":{},"messages":[]}`, false},
		{`{"a" : {"errors" :[], "errors"	:[]}}`, false},
		{`{"Id":1}`, false},
		{`{"\u0069d":1}`, false},
		{`{"é":1}`, false},
		{`{"x":"Messages","y":"é\u0041"}`, true},
	}
	for _, tt := range tests {
		if got := keysReadAlike([]byte(tt.body)); got != tt.want {
			t.Errorf("keysReadAlike(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}

// TestOnePassLongBodies checks that long strings and many members, where the
// key scan jumps from quote to quote, are read alike.
func TestOnePassLongBodies(t *testing.T) {
	note := strings.Repeat(`a \"quoted\" {brace} [x], `, 200)
	msgs := make([]string, 50)
	for i := range msgs {
		msgs[i] = `{"from":"111","id":"m1","timestamp":"1750096325","type":"order","order":{"catalog_id":"c1","text":"` + note +
			`","product_items":[` + item("1", "1", "USD") + `]}}`
	}
	checkBoth(t, annContact+`,"messages":[`+strings.Join(msgs, ",")+`]`)
}
