package payload

import (
	"encoding/json"
	"fmt"
)

// cloudObject is the only "object" a Cloud webhook for WhatsApp carries.
const cloudObject = "whatsapp_business_account"

// parseCloud walks {"object":"whatsapp_business_account","entry":[{"changes":[...]}]}.
// Only a wrong object or a missing entry array fails the body: past that,
// every entry and change is judged on its own, so one bad change cannot hide
// the orders of the others.
func parseCloud(top map[string]json.RawMessage) (*Delivery, error) {
	var object string
	if jsonType(top["object"]) != "string" || json.Unmarshal(top["object"], &object) != nil {
		return nil, bodyErrorf("Cloud body has no \"object\" string; want %q", cloudObject)
	}
	if object != cloudObject {
		return nil, bodyErrorf("Cloud body's object is %q, not %q", object, cloudObject)
	}
	entries, err := array(top["entry"], "entry")
	if err != nil {
		return nil, bodyErrorf("Cloud body has no entry array: %v", err)
	}
	d := &Delivery{}
	for i, raw := range entries {
		d.Elements = append(d.Elements, entry(raw, fmt.Sprintf("entry[%d]", i))...)
	}
	return d, nil
}

func entry(raw json.RawMessage, path string) []Element {
	var e struct {
		Changes json.RawMessage `json:"changes"`
	}
	if err := decodeObject(raw, "entry", &e); err != nil {
		return []Element{at(path, invalidf("", "%v", err))}
	}
	changes, err := array(e.Changes, "changes")
	if err != nil {
		return []Element{at(path, invalidf("", "entry has no changes array: %v", err))}
	}
	var out []Element
	for j, c := range changes {
		out = append(out, change(c, fmt.Sprintf("%s.changes[%d]", path, j))...)
	}
	return out
}

// change walks one {"field":..., "value":{...}}. Fields other than messages
// (account_update, message_template_status_update, ...) share the endpoint and
// are acknowledged as Ignored. A messages value without a phone_number_id
// cannot be routed to a channel, so it is one Invalid element.
func change(raw json.RawMessage, path string) []Element {
	var c struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	}
	if err := decodeObject(raw, "change", &c); err != nil {
		return []Element{at(path, invalidf("", "%v", err))}
	}
	switch c.Field {
	case "messages":
	case "":
		return []Element{at(path, invalidf("", "change has no field"))}
	default:
		return []Element{at(path, ignoredf("", "webhook field %q is not messages", c.Field))}
	}
	members, err := fields(c.Value, "value")
	if err != nil {
		return []Element{at(path, invalidf("", "%v", err))}
	}
	var md struct {
		PhoneNumberID string `json:"phone_number_id"`
	}
	if err := decodeObject(members["metadata"], "value.metadata", &md); err != nil {
		return []Element{at(path, invalidf("", "%v", err))}
	}
	if md.PhoneNumberID == "" {
		return []Element{at(path, invalidf("", "value.metadata has no phone_number_id, so no channel can take the change"))}
	}
	v, err := splitValue(members)
	if err != nil {
		e := at(path, invalidf("", "value.%v", err))
		e.PhoneNumberID = md.PhoneNumberID
		return []Element{e}
	}
	return v.elements(path+".value.", md.PhoneNumberID)
}

// at sets the path of an element that stands for a whole entry or change.
func at(path string, e Element) Element {
	e.Path = path
	return e
}
