package cart

import "fmt"

// Error is why a cart is invalid: a machine-readable Reason, one of the API's
// reasons of Validated=False (commercev1alpha1.ReasonNoItems, ...), so that it
// is the order's condition reason unchanged, and a Message for people that
// names the offending item and value.
type Error struct {
	Reason  string
	Message string
}

// Error returns the message; the reason is for programs, via errors.As.
func (e *Error) Error() string { return e.Message }

func newError(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}
