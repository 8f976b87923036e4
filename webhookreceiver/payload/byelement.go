package payload

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Decoding element by element: for a body the one json.Unmarshal into the
// tree could not take, each level is decoded with its arrays kept raw (the
// raw instances of the envelope's types), and each element of an array into
// its own struct, the very one the tree holds. An element that does not fit
// keeps the reason in its flaw and spoils nothing else. The result is a tree
// like the one json.Unmarshal gives, judged by the same code.

// decodeBody decodes the whole body, which must be a JSON object, into v. A
// member of the wrong type is left empty, as encoding/json leaves it: the
// caller judges emptiness.
func decodeBody(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return bodyErrorf("body is empty")
	}
	err := json.Unmarshal(body, v)
	var te *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &te) {
		return bodyErrorf("body is not JSON: %v", err)
	}
	if t := jsonType(body); t != "object" {
		return bodyErrorf("body is %s, not a JSON object", article(t))
	}
	return nil
}

func cloudByElement(body []byte) (*cloudTree, error) {
	var b rawCloud
	if err := decodeBody(body, &b); err != nil {
		return nil, err
	}
	if err := checkObject(b.Object); err != nil {
		return nil, err
	}
	entries, err := array(b.Entry, "entry")
	if err != nil {
		return nil, bodyErrorf("Cloud body has no entry array: %v", err)
	}
	t := &cloudTree{Object: b.Object, Entry: make([]*entryTree, len(entries))}
	for i, raw := range entries {
		t.Entry[i] = entryByElement(raw)
	}
	return t, nil
}

func entryByElement(raw json.RawMessage) *entryTree {
	var e rawEntry
	if err := decodeObject(raw, "entry", &e); err != nil {
		return &entryTree{flaw: flaw{err}}
	}
	if absent(e.Changes) {
		return &entryTree{} // the judge words what is missing
	}
	changes, err := array(e.Changes, "changes")
	if err != nil {
		return &entryTree{flaw: flaw{errors.New("entry has no changes array: " + err.Error())}}
	}
	t := &entryTree{Changes: make([]*changeTree, len(changes))}
	for j, c := range changes {
		t.Changes[j] = changeByElement(c)
	}
	return t
}

// changeByElement decodes the value only for the messages field: other
// fields carry values of other shapes, none of the operator's business.
func changeByElement(raw json.RawMessage) *changeTree {
	var c rawChange
	if err := decodeObject(raw, "change", &c); err != nil {
		return &changeTree{flaw: flaw{err}}
	}
	t := &changeTree{Field: c.Field}
	if c.Field != "messages" || absent(c.Value) {
		return t
	}
	var v rawValue
	if err := decodeObject(c.Value, "value", &v); err != nil {
		t.err = err
		return t
	}
	t.Value = &valueTree{Metadata: v.Metadata}
	t.Value.valueArrays, t.Value.err = arraysByElement(&v.valueArrays)
	return t
}

func onPremisesByElement(body []byte) (*onPremTree, error) {
	var v rawArrays
	if err := decodeBody(body, &v); err != nil {
		return nil, err
	}
	t, err := arraysByElement(&v)
	if err != nil {
		return nil, bodyErrorf("On-Premises body's %v", err)
	}
	if t.Contacts == nil && t.Messages == nil && t.Statuses == nil && t.Errors == nil {
		hint := ""
		// A mistyped member fails Unmarshal but leaves the others decoded.
		var c rawCloud
		_ = json.Unmarshal(body, &c)
		if c.Entry != nil {
			hint = " (it looks like a Cloud body)"
		}
		return nil, bodyErrorf("On-Premises body has none of contacts, messages, statuses or errors%s", hint)
	}
	return &t, nil
}

// arraysByElement decodes the four arrays. One of the wrong JSON type is an
// error: the sender mixed up the format itself.
func arraysByElement(v *rawArrays) (onPremTree, error) {
	var t onPremTree
	var err error
	if t.Contacts, err = elementsOf(v.Contacts, "contacts", decoder[contact]("contact")); err != nil {
		return onPremTree{}, err
	}
	if t.Messages, err = elementsOf(v.Messages, "messages", messageByElement); err != nil {
		return onPremTree{}, err
	}
	if t.Statuses, err = elementsOf(v.Statuses, "statuses", decoder[wireStatus]("status")); err != nil {
		return onPremTree{}, err
	}
	if t.Errors, err = elementsOf(v.Errors, "errors", decoder[wireError]("error")); err != nil {
		return onPremTree{}, err
	}
	return t, nil
}

// flawable is a pointer to an element struct, which embeds a flaw.
type flawable[T any] interface {
	*T
	setFlaw(error)
}

// decoder decodes an element, named name in reasons, into its struct; one
// that does not fit becomes a struct holding only the flaw.
func decoder[T any, P flawable[T]](name string) func(json.RawMessage) *T {
	return func(raw json.RawMessage) *T {
		var el T
		if err := decodeObject(raw, name, &el); err != nil {
			el = *new(T)
			P(&el).setFlaw(err)
		}
		return &el
	}
}

// elementsOf decodes each element of the optional array raw, named name in
// errors: absent and null both mean "nothing of this kind".
func elementsOf[T any](raw json.RawMessage, name string, decode func(json.RawMessage) *T) ([]*T, error) {
	if absent(raw) {
		return nil, nil
	}
	raws, err := array(raw, name)
	if err != nil {
		return nil, err
	}
	out := make([]*T, len(raws))
	for i, r := range raws {
		out[i] = decode(r)
	}
	return out, nil
}

// messageByElement decodes a message, and when it does not fit decodes only
// the parts its type reads: a message the operator ignores is never Invalid
// because of a member it does not read.
func messageByElement(raw json.RawMessage) *wireMessage {
	var m wireMessage
	if decodeObject(raw, "message", &m) == nil {
		return &m
	}
	m = wireMessage{}
	if err := decodeObject(raw, "message", &m.messageHeader); err != nil {
		return &wireMessage{flaw: flaw{err}}
	}
	parts, bestEffort := m.typeParts()
	for _, p := range parts {
		if err := decodeObject(raw, "message", p); err != nil {
			if bestEffort {
				m.withErrors = withErrors{}
				return &m
			}
			m.err = err
			return &m
		}
	}
	return &m
}
