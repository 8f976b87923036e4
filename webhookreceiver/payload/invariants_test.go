package payload

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// TestSamplesDecodeInOnePass checks that every sample fills the tree in one
// json.Unmarshal: what WhatsApp really sends never pays for the element by
// element decode.
func TestSamplesDecodeInOnePass(t *testing.T) {
	for name, format := range sampleFiles(t) {
		body := readSample(t, name)
		var err error
		whole := false
		if format == Cloud {
			var tr cloudTree
			err = json.Unmarshal(body, &tr)
			whole = tr.Entry != nil
		} else {
			var tr onPremTree
			err = json.Unmarshal(body, &tr)
			whole = tr.Contacts != nil || tr.Messages != nil || tr.Statuses != nil || tr.Errors != nil
		}
		if err != nil || !whole {
			t.Errorf("%s does not decode into the tree in one pass: %v", name, err)
		}
	}
}

// A badElement is put at the end of an array of a sample body, with the
// reason it must get.
type badElement struct {
	value  any
	reason string
}

// badElements are, for each array of the formats, an element that cannot be
// decoded into its struct.
var badElements = map[string]badElement{
	"entry":    {"not an entry", "entry is a string, not an object"},
	"changes":  {7, "change is a number, not an object"},
	"contacts": {map[string]any{"wa_id": 5}, "contact.wa_id is a number, not a string"},
	"messages": {map[string]any{"id": 5, "type": "order"}, "message.id is a number, not a string"},
	"statuses": {[]any{}, "status is an array, not an object"},
	"errors":   {"e", "error is a string, not an object"},
}

// TestBadElementSpoilsOnlyItself adds one bad element to each array of each
// sample in turn. The body no longer decodes in one pass, yet Parse must
// give exactly the sample's elements plus one Invalid element at the new
// path: decoding element by element reads the good ones as the one pass does.
func TestBadElementSpoilsOnlyItself(t *testing.T) {
	for name, format := range sampleFiles(t) {
		body := readSample(t, name)
		orig, err := Parse(body, format)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, spot := range arraysOf(t, body, format) {
			t.Run(name+" "+spot, func(t *testing.T) {
				bad, path, reason := withBadElement(t, body, spot)
				got, err := Parse(bad, format)
				if err != nil {
					t.Fatalf("Parse: %v\nbody: %s", err, bad)
				}
				var rest []Element
				found := false
				for _, e := range got.Elements {
					if e.Path != path {
						rest = append(rest, e)
						continue
					}
					found = true
					if e.Kind != KindInvalid || e.Reason != reason {
						t.Errorf("element at %s is %s %q, want Invalid %q", path, e.Kind, e.Reason, reason)
					}
				}
				if !found {
					t.Errorf("no element at %s: %s", path, dump(got.Elements))
				}
				if len(orig.Elements) == 0 && len(rest) == 0 {
					return
				}
				assertElements(t, rest, orig.Elements)
			})
		}
	}
}

// arraysOf lists the arrays of body a bad element can be added to, as
// dotted paths of map keys and indexes ("entry.0.changes.0.value.messages").
func arraysOf(t *testing.T, body []byte, format Format) []string {
	t.Helper()
	v := decodeGeneric(t, body)
	values := []string{""}
	var out []string
	if format == Cloud {
		out = append(out, "entry")
		values = nil
		for i, e := range v["entry"].([]any) {
			out = append(out, fmt.Sprintf("entry.%d.changes", i))
			for j, c := range e.(map[string]any)["changes"].([]any) {
				if c.(map[string]any)["field"] == "messages" {
					values = append(values, fmt.Sprintf("entry.%d.changes.%d.value.", i, j))
				}
			}
		}
	}
	for _, prefix := range values {
		for _, a := range []string{"contacts", "messages", "statuses", "errors"} {
			if _, ok := lookup(v, prefix+a); ok {
				out = append(out, prefix+a)
			}
		}
	}
	return out
}

// withBadElement adds the bad element of its kind at the end of the array at
// spot, and gives the new body, the element's Element.Path and its reason.
func withBadElement(t *testing.T, body []byte, spot string) ([]byte, string, string) {
	t.Helper()
	v := decodeGeneric(t, body)
	arr, _ := lookup(v, spot)
	parent, key := v, spot
	if i := bytes.LastIndexByte([]byte(spot), '.'); i >= 0 {
		p, _ := lookup(v, spot[:i])
		parent, key = p.(map[string]any), spot[i+1:]
	}
	elems := arr.([]any)
	bad := badElements[key]
	parent[key] = append(elems, bad.value)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	// "entry.0.changes.1.value.messages" → "entry[0].changes[1].value.messages[2]"
	path := ""
	parts := bytes.Split([]byte(spot), []byte("."))
	for i := 0; i < len(parts); i++ {
		if path != "" {
			path += "."
		}
		path += string(parts[i])
		if i+1 < len(parts) && parts[i+1][0] >= '0' && parts[i+1][0] <= '9' {
			path += "[" + string(parts[i+1]) + "]"
			i++
		}
	}
	return out, fmt.Sprintf("%s[%d]", path, len(elems)), bad.reason
}

// decodeGeneric reads body into maps and slices, numbers kept exact.
func decodeGeneric(t *testing.T, body []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// lookup follows a dotted path of map keys and slice indexes.
func lookup(v any, path string) (any, bool) {
	for _, part := range bytes.Split([]byte(path), []byte(".")) {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[string(part)]; !ok {
				return nil, false
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(string(part), &i); err != nil || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}
