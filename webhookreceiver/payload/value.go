package payload

import (
	"encoding/json"
	"strconv"
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
	l := newElementList(prefix, phoneNumberID, len(v.messages)+len(v.statuses)+len(v.errors))
	contacts := make([]contact, 0, len(v.contacts))
	for i, raw := range v.contacts {
		var c contact
		if err := decodeObject(raw, "contact", &c); err != nil {
			// Reported, so the loss of a name is seen; the messages still go on.
			l.add(invalidf("", "%v", err), "contacts", i)
			continue
		}
		contacts = append(contacts, c)
	}
	for i, raw := range v.messages {
		l.add(message(raw, contacts), "messages", i)
	}
	for i, raw := range v.statuses {
		l.add(status(raw), "statuses", i)
	}
	for i, raw := range v.errors {
		l.add(reportedError(raw), "errors", i)
	}
	return l.out
}

// elementList collects the elements of one value, in the order Delivery
// promises, and gives each its path and channel. Both the walker and the
// one-pass decode fill one, so their paths are spelled alike.
type elementList struct {
	out           []Element
	prefix        string
	phoneNumberID string
}

// newElementList makes a list for about n elements. out starts non-nil: an
// On-Premises body without elements has always given empty, not nil, Elements.
func newElementList(prefix, phoneNumberID string, n int) elementList {
	return elementList{out: make([]Element, 0, n), prefix: prefix, phoneNumberID: phoneNumberID}
}

// add appends e as element i of the value's array; concatenation rather than
// fmt because this runs for every element of every body.
func (l *elementList) add(e Element, array string, i int) {
	e.Path = l.prefix + array + "[" + strconv.Itoa(i) + "]"
	e.PhoneNumberID = l.phoneNumberID
	l.out = append(l.out, e)
}
