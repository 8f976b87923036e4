package payload

import (
	"encoding/json"
	"fmt"
)

// value holds the four arrays that a Cloud change's value and a whole
// On-Premises body share.
type value struct {
	contacts, messages, statuses, errors []json.RawMessage
}

// valueArrays names the members of a value, in the order their elements are
// walked.
var valueArrays = []string{"contacts", "messages", "statuses", "errors"}

// splitValue takes the four arrays out of an object's members. A member of the
// wrong JSON type is an error: the sender mixed up the format itself.
func splitValue(members map[string]json.RawMessage) (value, error) {
	var v value
	dst := []*[]json.RawMessage{&v.contacts, &v.messages, &v.statuses, &v.errors}
	for i, name := range valueArrays {
		elems, err := optionalArray(members[name], name)
		if err != nil {
			return value{}, err
		}
		*dst[i] = elems
	}
	return v, nil
}

// elements walks v; prefix is v's path in the body ("" for On-Premises) and
// phoneNumberID the channel key every element gets.
func (v value) elements(prefix, phoneNumberID string) []Element {
	out := make([]Element, 0, len(v.messages)+len(v.statuses)+len(v.errors))
	add := func(e Element, name string, i int) {
		e.Path = fmt.Sprintf("%s%s[%d]", prefix, name, i)
		e.PhoneNumberID = phoneNumberID
		out = append(out, e)
	}
	contacts := make([]contact, 0, len(v.contacts))
	for i, raw := range v.contacts {
		var c contact
		if err := decodeObject(raw, "contact", &c); err != nil {
			// Reported, so the loss of a name is seen; the messages still go on.
			add(invalidf("", "%v", err), "contacts", i)
			continue
		}
		contacts = append(contacts, c)
	}
	for i, raw := range v.messages {
		add(message(raw, contacts), "messages", i)
	}
	for i, raw := range v.statuses {
		add(status(raw), "statuses", i)
	}
	for i, raw := range v.errors {
		add(reportedError(raw), "errors", i)
	}
	return out
}
