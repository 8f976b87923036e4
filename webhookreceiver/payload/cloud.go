package payload

import (
	"encoding/json"
	"strconv"
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
		d.Elements = append(d.Elements, entry(raw, entryPath(i))...)
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
		out = append(out, change(c, changePath(path, j))...)
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
	if e, ok := notMessages(c.Field); ok {
		return []Element{at(path, e)}
	}
	members, err := fields(c.Value, "value")
	if err != nil {
		return []Element{at(path, invalidf("", "%v", err))}
	}
	var md metadata
	if err := decodeObject(members["metadata"], "value.metadata", &md); err != nil {
		return []Element{at(path, invalidf("", "%v", err))}
	}
	if md.PhoneNumberID == "" {
		return []Element{at(path, unroutable())}
	}
	v, err := splitValue(members)
	if err != nil {
		e := at(path, invalidf("", "value.%v", err))
		e.PhoneNumberID = md.PhoneNumberID
		return []Element{e}
	}
	return v.elements(valuePrefix(path), md.PhoneNumberID)
}

// metadata is a Cloud change value's metadata: the business phone number the
// change is for.
type metadata struct {
	PhoneNumberID string `json:"phone_number_id"`
}

// notMessages judges a change by its field: when the field is not messages,
// ok is true and e is the element the whole change becomes.
func notMessages(field string) (e Element, ok bool) {
	switch field {
	case "messages":
		return Element{}, false
	case "":
		return invalidf("", "change has no field"), true
	}
	return ignoredf("", "webhook field %q is not messages", field), true
}

// unroutable is the element for a messages change without a phone_number_id.
func unroutable() Element {
	return invalidf("", "value.metadata has no phone_number_id, so no channel can take the change")
}

// The paths of entries, changes and their values, e.g.
// "entry[0].changes[1].value.messages[2]"; concatenated rather than
// formatted because they are built for every body.
func entryPath(i int) string                { return "entry[" + strconv.Itoa(i) + "]" }
func changePath(entry string, j int) string { return entry + ".changes[" + strconv.Itoa(j) + "]" }
func valuePrefix(change string) string      { return change + ".value." }

// at sets the path of an element that stands for a whole entry or change.
func at(path string, e Element) Element {
	e.Path = path
	return e
}
