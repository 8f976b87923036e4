package payload

import "testing"

// TestLocateFindsEveryElement takes the raw JSON of every element of a body
// with good and bad elements, and finds each verbatim, spacing and all.
func TestLocateFindsEveryElement(t *testing.T) {
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
	paths := make([]string, len(d.Elements))
	for i, e := range d.Elements {
		paths[i] = e.Path
	}
	for i, raw := range Locate(body, paths) {
		if string(raw) != want[paths[i]] {
			t.Errorf("Locate(%s) = %s, want %s", paths[i], raw, want[paths[i]])
		}
	}
	onPrem := []byte(`{"statuses":[{"id":"s1"}, {"id":"s2","status":5}]}`)
	if raw := Locate(onPrem, []string{"statuses[1]"})[0]; string(raw) != `{"id":"s2","status":5}` {
		t.Errorf("On-Premises Locate = %s", raw)
	}
	for _, bad := range []string{"entry[9]", "entry[0].nothing", "entry[x]", "entry[0", "object[0]", "entry[-1]", ""} {
		if raw := Locate(body, []string{bad})[0]; raw != nil {
			t.Errorf("Locate(%s) = %s, want nothing", bad, raw)
		}
	}
}

// TestLocateReadsMembersAsUnmarshalDoes: the member a path names is the one
// json.Unmarshal decoded, however its key is spelled, and strings holding
// brackets and quotes do not mislead it.
func TestLocateReadsMembersAsUnmarshalDoes(t *testing.T) {
	body := []byte(`{"St\u0061tuses":[{"id":"first"}],"statuses" : [ {"id":"a]}\"["} , {"id":"s2"} ],"x":"]"}`)
	d, err := Parse(body, OnPremises)
	if err != nil || len(d.Elements) != 2 {
		t.Fatalf("Parse = %+v, %v", d, err)
	}
	got := Locate(body, []string{"statuses[0]", "statuses[1]", "statuses[0]"})
	want := []string{`{"id":"a]}\"["}`, `{"id":"s2"}`, `{"id":"a]}\"["}`}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("Locate #%d = %s, want %s", i, got[i], want[i])
		}
	}
	// The last of repeated members wins, folded or not.
	folded := []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[]}],"ENTRY":[{"changes":[{"field":"x"}]}]}`)
	if raw := Locate(folded, []string{"entry[0].changes[0]"})[0]; string(raw) != `{"field":"x"}` {
		t.Errorf("Locate in the last of repeated members = %s", raw)
	}
	longS := []byte(`{"statuses":[1],"statu\u017fes":[2]}`) // ſ folds to s
	if raw := Locate(longS, []string{"statuses[0]"})[0]; string(raw) != "2" {
		t.Errorf("Locate with a key folded to statuses = %s, want the last member's 2", raw)
	}
}
