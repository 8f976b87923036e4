package cart

import (
	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"slices"
	"strings"

	"golang.org/x/text/currency"
	"gopkg.in/inf.v0"
)

// Summary is what the order status shows about a cart.
type Summary struct {
	// ItemCount is the sum of the quantities.
	ItemCount int64
	// Total is the exact sum of quantity × price; see Summarize for its form.
	Total string
	// Currency is the cart's ISO 4217 code.
	Currency string
}

// Summarize validates the cart (see Validate) and adds it up exactly.
//
// Total is rendered so that it reads like a price and never loses money:
//   - an integral total has no decimals, whatever the currency: "85" (USD),
//     "1600" (JPY);
//   - a fractional total has exactly the currency's minor units from
//     x/text (currency.Standard): "15.98" and "10.50" (USD, 2), "1.250" (BHD, 3);
//   - a total with more fractional digits than the currency has, which a price
//     such as "0.333" USD can give, is not rounded: it keeps every digit it
//     needs ("0.333"), since rounding would change what the customer is charged.
func Summarize(items []Item) (Summary, error) {
	unit, err := validate(items)
	if err != nil {
		return Summary{}, err
	}
	total, count := sum(items)
	return Summary{ItemCount: count, Total: render(total, minorUnits(unit)), Currency: items[0].Currency}, nil
}

// sum adds up a validated cart: the exact total and the item count.
func sum(items []Item) (*inf.Dec, int64) {
	var count int64
	total := new(inf.Dec)
	for _, it := range items {
		// validate matched the price against pricePattern, which SetString accepts.
		price, _ := new(inf.Dec).SetString(it.ItemPrice)
		total.Add(total, price.Mul(price, inf.NewDec(it.Quantity, 0)))
		count += it.Quantity
	}
	return total, count
}

func minorUnits(unit currency.Unit) inf.Scale {
	scale, _ := currency.Standard.Rounding(unit)
	return inf.Scale(scale)
}

// Amount is a sum of money in one currency, rendered as Summarize renders a total.
type Amount struct {
	Currency string
	Total    string
}

// Ledger adds up the totals of many carts exactly, per currency. The zero
// value is an empty ledger.
type Ledger struct {
	sums  map[string]*inf.Dec
	units map[string]currency.Unit
}

// Add validates the cart (see Validate) and adds its total to its currency's
// sum; an invalid cart is not added, and its *Error is returned.
func (l *Ledger) Add(items []Item) error {
	unit, err := validate(items)
	if err != nil {
		return err
	}
	total, _ := sum(items)
	l.add(items[0].Currency, unit, total)
	return nil
}

// Totals returns the sum of each currency, currencies in alphabetical order.
func (l *Ledger) Totals() []Amount {
	out := make([]Amount, 0, len(l.sums))
	for cur, total := range l.sums {
		out = append(out, Amount{Currency: cur, Total: render(total, minorUnits(l.units[cur]))})
	}
	slices.SortFunc(out, func(a, b Amount) int { return strings.Compare(a.Currency, b.Currency) })
	return out
}

// render writes d by the rule in Summarize's doc: at scale 0 when d is
// integral, else at the smallest scale from the currency's minor units up that
// holds d exactly. The loop ends by d.Scale() at the latest, where rounding is
// exact by definition.
func render(d *inf.Dec, minor inf.Scale) string {
	if whole := new(inf.Dec).Round(d, 0, inf.RoundExact); whole != nil {
		return whole.String()
	}
	for s := minor; ; s++ {
		if exact := new(inf.Dec).Round(d, s, inf.RoundExact); exact != nil {
			return exact.String()
		}
	}
}

// AddAmount adds an exact decimal amount (a payment, "1149" or "15.98") to
// its currency's sum. An amount that is not a non-negative decimal, or a
// currency x/text does not know, is refused and not added.
func (l *Ledger) AddAmount(code, amount string) error {
	unit, err := parseCurrency(code)
	if err != nil {
		return newError(commercev1alpha1.ReasonUnknownCurrency, "%v", err)
	}
	if !pricePattern.MatchString(amount) {
		return newError(commercev1alpha1.ReasonInvalidPrice, "amount %q is not a non-negative decimal", amount)
	}
	d, _ := new(inf.Dec).SetString(amount)
	l.add(code, unit, d)
	return nil
}

func (l *Ledger) add(code string, unit currency.Unit, d *inf.Dec) {
	if l.sums == nil {
		l.sums, l.units = map[string]*inf.Dec{}, map[string]currency.Unit{}
	}
	if l.sums[code] == nil {
		l.sums[code], l.units[code] = new(inf.Dec), unit
	}
	l.sums[code].Add(l.sums[code], d)
}

// Format renders an exact amount of a currency as Summarize renders a total
// ("1149", "15.98"); a currency x/text does not know is rendered with two
// minor units.
func Format(d *inf.Dec, code string) string {
	minor := inf.Scale(2)
	if unit, err := parseCurrency(code); err == nil {
		minor = minorUnits(unit)
	}
	return render(d, minor)
}
