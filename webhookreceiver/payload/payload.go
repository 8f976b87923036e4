// Package payload parses the webhook bodies WhatsApp Business sends, in both
// API generations (Cloud and On-Premises), into a flat list of elements: the
// orders, product inquiries and message statuses the operator stores, and
// everything else marked Ignored or Invalid with a reason.
//
// The split between an error and an Invalid element follows what the receiver
// must answer. WhatsApp retries any answer but 200 for a week, and one body
// batches many customers' messages. So Parse fails only when the body as a
// whole can never be stored (not JSON, not an object, not the format of the
// channel's generation): the receiver answers 400. Anything smaller, from a
// malformed change down to one bad item price, becomes an Invalid element and
// the others are still returned, so the receiver can store them and answer 200.
//
// Money is never held in a float: prices are read as exact decimal strings
// and carts are checked with the cart package.
package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// BodyError reports a body that can never be stored, however often WhatsApp
// resends it: the receiver answers 400.
type BodyError struct {
	Message string
}

func (e *BodyError) Error() string { return "invalid webhook body: " + e.Message }

func bodyErrorf(format string, args ...any) *BodyError {
	return &BodyError{Message: fmt.Sprintf(format, args...)}
}

// Parse reads one webhook body in the format of the API generation api. Every
// error it returns for a body is a *BodyError. An api other than
// v1alpha1.APICloud or v1alpha1.APIOnPremises is the caller's bug and gets a
// plain error, before the body is looked at.
//
// A well-typed body, which is nearly every body, is decoded in one pass
// (parseOnePass); any other is walked level by level (parseWalk), which
// gives the same answer for the first kind and can word what is wrong with
// the second.
func Parse(body []byte, api v1alpha1.APIGeneration) (*Delivery, error) {
	if api != v1alpha1.APICloud && api != v1alpha1.APIOnPremises {
		return nil, fmt.Errorf("payload: unknown API generation %q", api)
	}
	if d, ok := parseOnePass(body, api); ok {
		return d, nil
	}
	return parseWalk(body, api)
}

// parseWalk reads body level by level, judging every entry, change and
// element on its own; it is the reference parseOnePass must agree with, and
// the only path that words what is wrong with a body.
func parseWalk(body []byte, api v1alpha1.APIGeneration) (*Delivery, error) {
	top, err := topLevel(body)
	if err != nil {
		return nil, err
	}
	if api == v1alpha1.APICloud {
		return parseCloud(top)
	}
	return parseOnPremises(top)
}

// topLevel splits the body, which must be a JSON object, into its members.
func topLevel(body []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, bodyErrorf("body is empty")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, bodyErrorf("body is %s, not a JSON object", article(te.Value))
		}
		return nil, bodyErrorf("body is not JSON: %v", err)
	}
	if top == nil {
		return nil, bodyErrorf("body is null, not a JSON object")
	}
	return top, nil
}

// parseOnPremises walks a bare {"contacts","messages","statuses","errors"}
// object. Having none of the four, or one of the wrong JSON type, means the
// body is not in this format at all (a Cloud body sent to an On-Premises
// channel, say).
func parseOnPremises(top map[string]json.RawMessage) (*Delivery, error) {
	v, err := splitValue(top)
	if err != nil {
		return nil, bodyErrorf("On-Premises body's %v", err)
	}
	if !hasAny(top, valueArrays) {
		hint := ""
		if _, ok := top["entry"]; ok {
			hint = " (it looks like a Cloud body)"
		}
		return nil, bodyErrorf("On-Premises body has none of contacts, messages, statuses or errors%s", hint)
	}
	return &Delivery{Elements: v.elements("", "")}, nil
}

// hasAny tells whether top has one of names with a non-null value.
func hasAny(top map[string]json.RawMessage, names []string) bool {
	for _, name := range names {
		if t := jsonType(top[name]); t != "" && t != "null" {
			return true
		}
	}
	return false
}
