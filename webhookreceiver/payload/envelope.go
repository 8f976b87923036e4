package payload

import (
	"encoding/json"
	"slices"
	"strconv"
)

// The envelope of both formats: what holds the messages, statuses and errors.
// Each level is generic in the types of the members that hold the level
// below, so that one definition serves both readings of a body:
//
//   - the tree (cloudTree, onPremTree), whose members are decoded all the way
//     down, for the one json.Unmarshal nearly every body takes;
//   - the raw levels (rawCloud, ...), whose members stay json.RawMessage, for
//     byelement.go to decode a malformed body one element at a time.
//
// Elements of arrays are pointers so that a null element can be told from an
// empty object.

type cloudBody[Entries any] struct {
	Object string  `json:"object"`
	Entry  Entries `json:"entry"`
}

type cloudEntry[Changes any] struct {
	Changes Changes `json:"changes"`
	flaw
}

type cloudChange[Value any] struct {
	Field string `json:"field"`
	Value Value  `json:"value"`
	flaw
}

type cloudValue[C, M, S, E any] struct {
	// Metadata names the business phone number the change is for.
	Metadata *metadata `json:"metadata"`
	valueArrays[C, M, S, E]
	flaw
}

type metadata struct {
	PhoneNumberID string `json:"phone_number_id"`
}

// valueArrays are the four arrays that a Cloud change's value and a whole
// On-Premises body share.
type valueArrays[C, M, S, E any] struct {
	Contacts C `json:"contacts"`
	Messages M `json:"messages"`
	Statuses S `json:"statuses"`
	Errors   E `json:"errors"`
}

type (
	cloudTree  = cloudBody[[]*entryTree]
	entryTree  = cloudEntry[[]*changeTree]
	changeTree = cloudChange[*valueTree]
	valueTree  = cloudValue[[]*contact, []*wireMessage, []*wireStatus, []*wireError]
	onPremTree = valueArrays[[]*contact, []*wireMessage, []*wireStatus, []*wireError]

	rawCloud  = cloudBody[json.RawMessage]
	rawEntry  = cloudEntry[json.RawMessage]
	rawChange = cloudChange[json.RawMessage]
	rawValue  = cloudValue[json.RawMessage, json.RawMessage, json.RawMessage, json.RawMessage]
	rawArrays = valueArrays[json.RawMessage, json.RawMessage, json.RawMessage, json.RawMessage]
)

// flaw is why an element of the body, decoded on its own by byelement.go,
// did not fit its struct. The one json.Unmarshal never sets it: a body with
// any flaw fails that and is decoded element by element instead.
type flaw struct {
	err error
}

func (f *flaw) setFlaw(err error) { f.err = err }

// cloudObject is the only "object" a Cloud webhook for WhatsApp carries.
const cloudObject = "whatsapp_business_account"

// parseCloud reads a Cloud body. Only a wrong object or a missing entry array
// fails the body: past that, every entry and change is judged on its own, so
// one bad change cannot hide the orders of the others.
func parseCloud(body []byte) (*Body, error) {
	var t cloudTree
	if json.Unmarshal(body, &t) != nil || t.Entry == nil {
		// Something did not fit, or there are no entries: read again one
		// element at a time, which says what and where.
		bt, err := cloudByElement(body)
		if err != nil {
			return nil, err
		}
		t = *bt
	}
	if err := checkObject(t.Object); err != nil {
		return nil, err
	}
	b := &Body{}
	for i, e := range t.Entry {
		b.Elements = appendEntry(b.Elements, e, entryPath(i))
	}
	return b, nil
}

// checkObject refuses a Cloud body whose object is not WhatsApp's. An
// object that is not a string leaves the field empty, as if absent.
func checkObject(object string) error {
	if object == "" {
		return bodyErrorf("Cloud body has no \"object\" string; want %q", cloudObject)
	}
	if object != cloudObject {
		return bodyErrorf("Cloud body's object is %q, not %q", object, cloudObject)
	}
	return nil
}

// appendEntry appends the elements of entry e to out.
func appendEntry(out []Element, e *entryTree, path string) []Element {
	switch {
	case e == nil:
		return append(out, at(path, invalidf("", "entry is null, not an object")))
	case e.err != nil:
		return append(out, at(path, invalidf("", "%v", e.err)))
	case e.Changes == nil:
		return append(out, at(path, invalidf("", "entry has no changes array: changes is missing, not an array")))
	}
	for j, c := range e.Changes {
		out = appendChange(out, c, changePath(path, j))
	}
	return out
}

// appendChange judges one {"field":..., "value":{...}}. Fields other than
// messages (account_update, message_template_status_update, ...) share the
// endpoint and are acknowledged as Ignored. A messages value without a
// phone_number_id cannot be routed to a channel, so it is one Invalid element.
func appendChange(out []Element, c *changeTree, path string) []Element {
	switch {
	case c == nil:
		return append(out, at(path, invalidf("", "change is null, not an object")))
	case c.err != nil:
		return append(out, at(path, invalidf("", "%v", c.err)))
	case c.Field == "":
		return append(out, at(path, invalidf("", "change has no field")))
	case c.Field != "messages":
		return append(out, at(path, ignoredf("", "webhook field %q is not messages", c.Field)))
	case c.Value == nil:
		return append(out, at(path, invalidf("", "value is missing, not an object")))
	case c.Value.Metadata == nil:
		return append(out, at(path, invalidf("", "value.metadata is missing, not an object")))
	case c.Value.Metadata.PhoneNumberID == "":
		return append(out, at(path, invalidf("", "value.metadata has no phone_number_id, so no channel can take the change")))
	}
	pn := c.Value.Metadata.PhoneNumberID
	if c.Value.err != nil {
		e := at(path, invalidf("", "value.%v", c.Value.err))
		e.PhoneNumberID = pn
		return append(out, e)
	}
	return appendValue(out, &c.Value.valueArrays, valuePrefix(path), pn)
}

// parseOnPremises reads a bare {"contacts","messages","statuses","errors"}
// object. Having none of the four, or one of the wrong JSON type, means the
// body is not in this format at all (a Cloud body sent to an On-Premises
// channel, say).
func parseOnPremises(body []byte) (*Body, error) {
	var t onPremTree
	if json.Unmarshal(body, &t) != nil || (t.Contacts == nil && t.Messages == nil && t.Statuses == nil && t.Errors == nil) {
		bt, err := onPremisesByElement(body)
		if err != nil {
			return nil, err
		}
		t = *bt
	}
	// Empty, not nil, Elements for a body without any: as it always was.
	return &Body{Elements: appendValue([]Element{}, &t, "", "")}, nil
}

// appendValue appends the elements of v to out in the order Body promises;
// prefix is v's path in the body ("" for On-Premises) and phoneNumberID the
// channel key every element gets.
func appendValue(out []Element, v *onPremTree, prefix, phoneNumberID string) []Element {
	out = slices.Grow(out, len(v.Messages)+len(v.Statuses)+len(v.Errors))
	add := func(e Element, array string, i int) {
		// Concatenated rather than formatted: this runs for every element.
		e.Path = prefix + array + "[" + strconv.Itoa(i) + "]"
		e.PhoneNumberID = phoneNumberID
		out = append(out, e)
	}
	contacts := make([]contact, 0, len(v.Contacts))
	for i, c := range v.Contacts {
		if e, bad := flawed(c, "contact"); bad {
			// Reported, so the loss of a name is seen; the messages still go on.
			add(e, "contacts", i)
			continue
		}
		contacts = append(contacts, *c)
	}
	for i, m := range v.Messages {
		if e, bad := flawed(m, "message"); bad {
			add(e, "messages", i)
			continue
		}
		add(m.element(contacts), "messages", i)
	}
	for i, s := range v.Statuses {
		if e, bad := flawed(s, "status"); bad {
			add(e, "statuses", i)
			continue
		}
		add(s.element(), "statuses", i)
	}
	for i, r := range v.Errors {
		if e, bad := flawed(r, "error"); bad {
			add(e, "errors", i)
			continue
		}
		add(r.reported(), "errors", i)
	}
	return out
}

// flawedElement is an element struct that knows whether it was decoded, and
// the id to report it under when not.
type flawedElement interface {
	*contact | *wireMessage | *wireStatus | *wireError
	decodeError() (id string, err error)
}

// flawed tells whether el, named name in reasons, could not be decoded (null
// or mistyped), and if so gives the Invalid element it becomes.
func flawed[T flawedElement](el T, name string) (Element, bool) {
	if el == nil {
		return invalidf("", "%s is null, not an object", name), true
	}
	if id, err := el.decodeError(); err != nil {
		return invalidf(id, "%v", err), true
	}
	return Element{}, false
}

// The paths of entries, changes and their values, e.g.
// "entry[0].changes[1].value.messages[2]".
func entryPath(i int) string                { return "entry[" + strconv.Itoa(i) + "]" }
func changePath(entry string, j int) string { return entry + ".changes[" + strconv.Itoa(j) + "]" }
func valuePrefix(change string) string      { return change + ".value." }

// at sets the path of an element that stands for a whole entry or change.
func at(path string, e Element) Element {
	e.Path = path
	return e
}
