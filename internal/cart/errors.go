package cart

import "fmt"

// Reasons an *Error carries. They are PascalCase so callers can use them as
// condition and event reasons unchanged.
const (
	ReasonNoItems                  = "NoItems"
	ReasonTooManyItems             = "TooManyItems"
	ReasonInvalidProductRetailerID = "InvalidProductRetailerID"
	ReasonInvalidQuantity          = "InvalidQuantity"
	ReasonInvalidPrice             = "InvalidPrice"
	ReasonUnknownCurrency          = "UnknownCurrency"
	ReasonMixedCurrencies          = "MixedCurrencies"
)

// Error is why a cart is invalid: a machine-readable Reason and a Message for
// people that names the offending item and value.
type Error struct {
	Reason  string
	Message string
}

// Error returns the message; the reason is for programs, via errors.As.
func (e *Error) Error() string { return e.Message }

func newError(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}
