// Package cart validates the items of a WhatsApp order and computes its totals
// exactly. Money is held as decimal strings and summed with gopkg.in/inf.v0,
// never in floats, because a float cannot hold 7.99 and a customer's total must
// be the sum they see on their phone.
package cart

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"golang.org/x/text/currency"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// Limits mirrored from the WhatsAppOrder CRD schema, so that a cart that passes
// Validate can always be stored: a cart the API server would refuse is reported
// here, with a reason, instead of failing later at create time.
const (
	// MaxItems is the most lines a cart may have.
	MaxItems = 100
	// MaxQuantity is the largest quantity of one line.
	MaxQuantity = 1_000_000
	// MaxProductRetailerIDLength is the longest product retailer id, in characters.
	MaxProductRetailerIDLength = 128
)

// pricePattern is the CRD's pattern for itemPrice: a plain non-negative decimal
// with at most 15 integer and 6 fractional digits, no sign, exponent or spaces.
var pricePattern = regexp.MustCompile(`^[0-9]{1,15}(\.[0-9]{1,6})?$`)

// Item is one line of a cart as the customer sent it.
type Item struct {
	// ProductRetailerID is the product's id in the catalog.
	ProductRetailerID string
	// Quantity is how many the customer wants.
	Quantity int64
	// ItemPrice is the unit price as a decimal string ("7.99", "30").
	ItemPrice string
	// Currency is the ISO 4217 code of ItemPrice ("USD").
	Currency string
}

// Validate reports the first problem of the cart as an *Error, or nil when the
// cart is valid: at least one and at most MaxItems items; each with a product
// retailer id, a quantity from 1 to MaxQuantity, a price matching the CRD
// pattern and an upper-case ISO 4217 currency known to golang.org/x/text; and
// one currency for the whole cart, since a total across currencies means nothing.
func Validate(items []Item) error {
	_, err := validate(items)
	return err
}

// validate is Validate that also returns the cart's currency unit, so Summarize
// does not parse it twice.
func validate(items []Item) (currency.Unit, error) {
	if len(items) == 0 {
		return currency.Unit{}, newError(commercev1alpha1.ReasonNoItems, "the cart has no items")
	}
	if len(items) > MaxItems {
		return currency.Unit{}, newError(commercev1alpha1.ReasonTooManyItems, "the cart has %d items, more than the %d allowed", len(items), MaxItems)
	}
	var unit currency.Unit
	for i, it := range items {
		if err := validateItem(i, it); err != nil {
			return currency.Unit{}, err
		}
		if i == 0 {
			u, err := parseCurrency(it.Currency)
			if err != nil {
				return currency.Unit{}, newError(commercev1alpha1.ReasonUnknownCurrency, "%s: %v", describe(i, it), err)
			}
			unit = u
			continue
		}
		if it.Currency != items[0].Currency {
			return currency.Unit{}, newError(commercev1alpha1.ReasonMixedCurrencies, "%s: currency %q differs from %q of item 0; a cart has one currency",
				describe(i, it), it.Currency, items[0].Currency)
		}
	}
	return unit, nil
}

// validateItem checks one line on its own; currencies are checked by the caller
// because only the first needs a table look-up, the others must equal it.
func validateItem(i int, it Item) error {
	switch n := utf8.RuneCountInString(it.ProductRetailerID); {
	case n == 0:
		return newError(commercev1alpha1.ReasonInvalidProductRetailerID, "%s: product_retailer_id is empty", describe(i, it))
	case n > MaxProductRetailerIDLength:
		return newError(commercev1alpha1.ReasonInvalidProductRetailerID, "%s: product_retailer_id has %d characters, more than %d",
			describe(i, it), n, MaxProductRetailerIDLength)
	}
	if it.Quantity < 1 || it.Quantity > MaxQuantity {
		return newError(commercev1alpha1.ReasonInvalidQuantity, "%s: quantity %d is not between 1 and %d", describe(i, it), it.Quantity, MaxQuantity)
	}
	if !pricePattern.MatchString(it.ItemPrice) {
		return newError(commercev1alpha1.ReasonInvalidPrice, "%s: item price %q is not a non-negative decimal with at most 15 integer and 6 fractional digits",
			describe(i, it), it.ItemPrice)
	}
	return nil
}

// parseCurrency accepts exactly the canonical upper-case code of a currency
// x/text knows. ParseISO alone would also take "usd" (the CRD pattern refuses
// lower case) and "XXX", the code for "no currency", which cannot price a cart.
func parseCurrency(code string) (currency.Unit, error) {
	u, err := currency.ParseISO(code)
	switch {
	case err != nil:
		return currency.Unit{}, fmt.Errorf("currency %q is not a known ISO 4217 code", code)
	case u == currency.XXX:
		return currency.Unit{}, fmt.Errorf("currency %q means no currency", code)
	case u.String() != code:
		return currency.Unit{}, fmt.Errorf("currency %q must be written in upper case (%q)", code, u.String())
	}
	return u, nil
}

// describe names an item in messages by position and product, so a person can
// find it in the customer's cart.
func describe(i int, it Item) string {
	return fmt.Sprintf("item %d (%q)", i, it.ProductRetailerID)
}

// OrderItems are a WhatsAppOrder's items as a cart.
func OrderItems(items []commercev1alpha1.OrderItem) []Item {
	out := make([]Item, len(items))
	for i, it := range items {
		out[i] = Item{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, ItemPrice: it.ItemPrice, Currency: it.Currency}
	}
	return out
}
