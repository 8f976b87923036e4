package payload

import "testing"

// TestRawFindsEveryElement takes the raw JSON of every element of a body
// with good and bad elements, and finds each verbatim, spacing and all.
func TestRawFindsEveryElement(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[
	  {"field":"account_update","value":{}},
	  {"field":"messages","value":{"metadata":{"phone_number_id":"PN1"},"messages":[
	    {"id":"m1", "type":"order", "from":"111", "timestamp":"1", "order":{"catalog_id":"c","product_items":[]}}]}}]},
	  "not an entry"]}`)
	d, err := Parse(body, Cloud)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"entry[0].changes[0]":                   `{"field":"account_update","value":{}}`,
		"entry[0].changes[1].value.messages[0]": `{"id":"m1", "type":"order", "from":"111", "timestamp":"1", "order":{"catalog_id":"c","product_items":[]}}`,
		"entry[1]":                              `"not an entry"`,
	}
	if len(d.Elements) != len(want) {
		t.Fatalf("got %d elements, want %d", len(d.Elements), len(want))
	}
	for _, e := range d.Elements {
		raw, err := Raw(body, e.Path)
		if err != nil {
			t.Fatalf("Raw(%s): %v", e.Path, err)
		}
		if string(raw) != want[e.Path] {
			t.Errorf("Raw(%s) = %s, want %s", e.Path, raw, want[e.Path])
		}
	}
	onPrem := []byte(`{"statuses":[{"id":"s1"}, {"id":"s2","status":5}]}`)
	if raw, err := Raw(onPrem, "statuses[1]"); err != nil || string(raw) != `{"id":"s2","status":5}` {
		t.Errorf("On-Premises Raw = %s, %v", raw, err)
	}
	for _, bad := range []string{"entry[9]", "entry[0].nothing", "entry[x]", "entry[0", "object[0]"} {
		if raw, err := Raw(body, bad); err == nil {
			t.Errorf("Raw(%s) = %s, want an error", bad, raw)
		}
	}
}
