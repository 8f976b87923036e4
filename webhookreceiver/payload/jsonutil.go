package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// jsonType names the JSON type of raw by its first byte, "" when raw is
// empty (the field was absent). raw comes from encoding/json, so it is valid.
func jsonType(raw json.RawMessage) string {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// decodeObject decodes raw, which must be a JSON object, into v; name is what
// errors call raw. Unknown members are ignored: WhatsApp adds fields over time.
func decodeObject(raw json.RawMessage, name string, v any) error {
	if t := jsonType(raw); t != "object" {
		return fmt.Errorf("%s is %s, not an object", name, article(t))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return readable(name, err)
	}
	return nil
}

// array splits the JSON array raw, named name in errors, into its elements.
func array(raw json.RawMessage, name string) ([]json.RawMessage, error) {
	if t := jsonType(raw); t != "array" {
		return nil, fmt.Errorf("%s is %s, not an array", name, article(t))
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, readable(name, err)
	}
	return elems, nil
}

// absent tells whether a member was left out or null: both mean "none".
func absent(raw json.RawMessage) bool {
	t := jsonType(raw)
	return t == "" || t == "null"
}

// readable says what is wrong with the member of name that err, from
// encoding/json, is about, in JSON terms rather than Go types, for the people
// reading Element.Reason.
func readable(name string, err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s is not valid JSON: %w", name, err)
	}
	want := "a " + te.Type.String()
	switch te.Type.Kind() {
	case reflect.String:
		want = "a string"
	case reflect.Slice:
		want = "an array"
	case reflect.Struct, reflect.Map:
		want = "an object"
	}
	return fmt.Errorf("%s.%s is %s, not %s", name, te.Field, article(te.Value), want)
}

// article puts "a" or "an" before a JSON type name.
func article(jsonType string) string {
	switch jsonType {
	case "":
		return "missing"
	case "object", "array":
		return "an " + jsonType
	case "null":
		return jsonType
	case "bool": // encoding/json's name in its type errors
		return "a boolean"
	default:
		return "a " + jsonType
	}
}
