package payload

import (
	"bytes"
	"encoding/json"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The walker (topLevel, parseCloud, parseOnPremises) decodes a body one
// nesting level at a time, so that a member of the wrong type spoils only its
// own element. Each level is a json.Unmarshal that validates its bytes and
// then decodes them, so the bytes of a message are scanned about twice per
// level above it. Almost every body WhatsApp sends is well typed, and for
// those one json.Unmarshal into the structs below does the same work in one
// pass. parseOnePass is that fast path; it gives up (ok false) on anything it
// cannot judge exactly as the walker would, and Parse then asks the walker,
// whose answer is the reference: the two must agree on every body the fast
// path accepts (TestOnePassMatchesWalker*, FuzzParse).
//
// Below the envelope both paths decode with the same structs (wireMessage's
// parts, wireStatus, wireError, contact, metadata), so encoding/json treats
// each member alike in both. In the envelope the walker reads members through
// maps and json.RawMessage, which differ from struct fields only for repeated
// or oddly cased keys; keysReadAlike sends such bodies to the walker.

// wireCloud is a Cloud webhook body.
type wireCloud struct {
	// Object stays raw so that only the exact string is accepted here; the
	// walker explains anything else.
	Object json.RawMessage `json:"object"`
	Entry  []*wireEntry    `json:"entry"`
}

// Elements of arrays are pointers so that a null element, which the walker
// reports as Invalid, can be told from an empty object.
type wireEntry struct {
	Changes []*wireChange `json:"changes"`
}

type wireChange struct {
	Field string           `json:"field"`
	Value *wireChangeValue `json:"value"`
}

type wireChangeValue struct {
	Metadata *metadata `json:"metadata"`
	wireValue
}

// wireValue is the four arrays that a Cloud change's value and a whole
// On-Premises body share, decoded.
type wireValue struct {
	Contacts []*contact     `json:"contacts"`
	Messages []*wireMessage `json:"messages"`
	Statuses []*wireStatus  `json:"statuses"`
	Errors   []*wireError   `json:"errors"`
}

// wireMessage is a message with every part any type needs: the header and the
// members of orderBody, textBody and the reported errors, with the same types.
type wireMessage struct {
	messageHeader
	Context *messageContext `json:"context"`
	Order   *wireOrder      `json:"order"`
	Text    wireText        `json:"text"`
	Errors  []wireError     `json:"errors"`
}

func (m *wireMessage) orderBody() (orderBody, error) {
	return orderBody{Context: m.Context, Order: m.Order}, nil
}

func (m *wireMessage) textBody() (textBody, error) {
	return textBody{Context: m.Context, Text: m.Text}, nil
}

func (m *wireMessage) reportedErrors() []wireError { return m.Errors }

// cloudObjectJSON is the one spelling of the object member taken here.
var cloudObjectJSON = []byte(`"` + cloudObject + `"`)

// parseOnePass is Parse's fast path for a known generation api. ok is false
// when the body needs the walker: it is not well typed throughout, or is
// wrong as a whole, or has something the walker reads its own way.
func parseOnePass(body []byte, api v1alpha1.APIGeneration) (d *Delivery, ok bool) {
	if api == v1alpha1.APICloud {
		var b wireCloud
		if json.Unmarshal(body, &b) != nil || !keysReadAlike(body) {
			return nil, false
		}
		return b.delivery()
	}
	var v wireValue
	if json.Unmarshal(body, &v) != nil || !keysReadAlike(body) {
		return nil, false
	}
	if v.Contacts == nil && v.Messages == nil && v.Statuses == nil && v.Errors == nil {
		return nil, false // not an On-Premises body: the walker says why
	}
	elems, ok := v.elements("", "")
	if !ok {
		return nil, false
	}
	return &Delivery{Elements: elems}, true
}

func (b *wireCloud) delivery() (*Delivery, bool) {
	if !bytes.Equal(b.Object, cloudObjectJSON) || b.Entry == nil {
		return nil, false
	}
	d := &Delivery{}
	for i, e := range b.Entry {
		// An entry or change that is not an object becomes an Invalid element
		// whose reason only the walker can word.
		if e == nil || e.Changes == nil {
			return nil, false
		}
		path := entryPath(i)
		for j, c := range e.Changes {
			if c == nil {
				return nil, false
			}
			elems, ok := c.elements(changePath(path, j))
			if !ok {
				return nil, false
			}
			d.Elements = append(d.Elements, elems...)
		}
	}
	return d, true
}

// elements mirrors the walker's change, path being the change's.
func (c *wireChange) elements(path string) ([]Element, bool) {
	if e, ok := notMessages(c.Field); ok {
		return []Element{at(path, e)}, true
	}
	if c.Value == nil || c.Value.Metadata == nil {
		return nil, false // missing or null: the walker words which
	}
	pn := c.Value.Metadata.PhoneNumberID
	if pn == "" {
		return []Element{at(path, unroutable())}, true
	}
	return c.Value.elements(valuePrefix(path), pn)
}

// elements is the walker's value.elements for decoded arrays.
func (v *wireValue) elements(prefix, phoneNumberID string) ([]Element, bool) {
	if hasNil(v.Contacts) || hasNil(v.Messages) || hasNil(v.Statuses) || hasNil(v.Errors) {
		return nil, false
	}
	l := newElementList(prefix, phoneNumberID, len(v.Messages)+len(v.Statuses)+len(v.Errors))
	contacts := make([]contact, len(v.Contacts))
	for i, c := range v.Contacts {
		contacts[i] = *c
	}
	for i, m := range v.Messages {
		l.add(messageElement(m.messageHeader, m, contacts), "messages", i)
	}
	for i, s := range v.Statuses {
		l.add(s.element(), "statuses", i)
	}
	for i, e := range v.Errors {
		l.add(e.reported(), "errors", i)
	}
	return l.out, true
}

// hasNil tells whether an array had a null element.
func hasNil[T any](elems []*T) bool {
	for _, e := range elems {
		if e == nil {
			return true
		}
	}
	return false
}
