// Package payload parses the webhook bodies WhatsApp Business sends, in both
// formats (Cloud and On-Premises), into a flat list of elements: the orders,
// product inquiries and message statuses the operator stores, and everything
// else marked Ignored or Invalid with a reason.
//
// The split between an error and an Invalid element follows what the receiver
// must answer. WhatsApp retries any answer but 200 for a week, and one body
// batches many customers' messages. So Parse fails only when the body as a
// whole can never be stored (not JSON, not an object, not the format asked
// for): the receiver answers 400. Anything smaller, from a malformed change
// down to one bad item price, becomes an Invalid element and the others are
// still returned, so the receiver can store them and answer 200.
//
// Each format is defined once, by the structs of envelope.go and of the
// elements (message.go, status.go, customer.go). A body is decoded into them
// in one json.Unmarshal; only when that fails is it decoded again one array
// element at a time, into the same structs, to find and word the bad ones
// (byelement.go).
//
// Money is never held in a float: prices are read as exact decimal strings.
// Whether a cart is valid (limits, ISO 4217, one currency) is the receiver's
// call, with the cart package: the parser imports nothing from Kubernetes or
// the API, so it can be read, fuzzed and reused on its own.
package payload

import (
	"fmt"
	"strconv"
)

// Format is the shape of a webhook body, one per WhatsApp Business API
// generation.
type Format int

const (
	// Cloud is {"object":"whatsapp_business_account","entry":[{"changes":[...]}]}.
	Cloud Format = iota + 1
	// OnPremises is a bare {"contacts","messages","statuses","errors"} object.
	OnPremises
)

func (f Format) String() string {
	switch f {
	case Cloud:
		return "Cloud"
	case OnPremises:
		return "On-Premises"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// BodyError reports a body that can never be stored, however often WhatsApp
// resends it: the receiver answers 400.
type BodyError struct {
	Message string
	// OverLimit is set for a body over a bound of this package
	// (MaxArrayMembers): the receiver answers 413, as for a body over its
	// size limit.
	OverLimit bool
}

func (e *BodyError) Error() string { return "invalid webhook body: " + e.Message }

func bodyErrorf(format string, args ...any) *BodyError {
	return &BodyError{Message: fmt.Sprintf(format, args...)}
}

// Parse reads one webhook body of format f. Every error it returns for a body
// is a *BodyError. A format other than Cloud or OnPremises is the caller's
// bug and gets a plain error, before the body is looked at.
//
// A body of more than MaxArrayMembers array members is refused whole, before
// anything of it is decoded: what Parse costs is bounded by the body's bytes
// and that bound together.
func Parse(body []byte, f Format) (*Body, error) {
	if f != Cloud && f != OnPremises {
		return nil, fmt.Errorf("payload: unknown format %v", f)
	}
	if countArrayMembers(body, MaxArrayMembers) > MaxArrayMembers {
		return nil, &BodyError{OverLimit: true, Message: fmt.Sprintf(
			"body holds more than %d array members (elements, cart items and the like); WhatsApp batches at most about 1,000 updates in one body", MaxArrayMembers)}
	}
	switch f {
	case Cloud:
		return parseCloud(body)
	case OnPremises:
		return parseOnPremises(body)
	}
	return nil, fmt.Errorf("payload: unknown format %v", f)
}
