// Package bill turns an order and its payment request into the amounts of a
// WhatsApp order_details message, exactly: WhatsApp writes money as an
// integer value with an offset (100 for INR, BRL and SGD: {114900, 100} is
// 1149.00), and the total must equal subtotal + tax + shipping − discount to
// the cent, so every amount is computed with gopkg.in/inf.v0 decimals and
// never passes through a float.
package bill

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/inf.v0"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// Offset is the offset of every amount the operator sends: the three
// currencies WhatsApp takes payments in have two minor units.
const Offset = 100

// Method is how the customer pays.
type Method string

const (
	Gateway Method = "gateway"
	Pix     Method = "pix"
	Link    Method = "link"
)

// currencies are what each method takes: a gateway payment configuration is
// India's (INR), a Pix code Brazil's (BRL); payment links exist in India,
// Brazil and Singapore.
var currencies = map[Method][]string{
	Gateway: {"INR"},
	Pix:     {"BRL"},
	Link:    {"BRL", "INR", "SGD"},
}

// Currencies are the currencies the method takes.
func Currencies(m Method) []string { return slices.Clone(currencies[m]) }

// Money, Line and Bill are the WhatsApp client's, so a computed bill is
// sent as it is.
type (
	Money = whatsapp.Amount
	Line  = whatsapp.BillLine
	Bill  = whatsapp.Bill
)

// Request is what the bill is computed from.
type Request struct {
	Items  []cart.Item
	Method Method
	// Tax, Shipping and Discount are non-negative decimal strings, "" for none.
	Tax, Shipping, Discount string
}

// Compute validates the cart (cart.Validate) and computes the bill. It
// refuses, with an error a person understands, what WhatsApp could never
// charge: a currency the method does not take, an amount that is not a whole
// number of cents, a total that is not positive, or one too large to write.
func Compute(r Request) (Bill, error) {
	if err := cart.Validate(r.Items); err != nil {
		return Bill{}, err
	}
	cur := r.Items[0].Currency
	if !slices.Contains(currencies[r.Method], cur) {
		if len(currencies[r.Method]) == 0 {
			return Bill{}, fmt.Errorf("payment method %q is not one of gateway, pix or link", r.Method)
		}
		return Bill{}, fmt.Errorf("the cart is in %s but a %s payment takes only %s", cur, r.Method, strings.Join(currencies[r.Method], ", "))
	}
	b := Bill{Currency: cur}
	subtotal := new(inf.Dec)
	for i, it := range r.Items {
		price, _ := new(inf.Dec).SetString(it.ItemPrice) // validated by cart.Validate
		amount, err := money(price, fmt.Sprintf("the price %s of item %d (%q)", it.ItemPrice, i, it.ProductRetailerID))
		if err != nil {
			return Bill{}, err
		}
		b.Items = append(b.Items, Line{RetailerID: it.ProductRetailerID, Quantity: it.Quantity, Amount: amount})
		subtotal.Add(subtotal, price.Mul(price, inf.NewDec(it.Quantity, 0)))
	}
	total := new(inf.Dec).Set(subtotal)
	var err error
	if b.Subtotal, err = money(subtotal, "the subtotal"); err != nil {
		return Bill{}, err
	}
	for _, f := range []struct {
		name  string
		value string
		into  *Money
		sign  int
	}{{"tax", r.Tax, &b.Tax, 1}, {"shipping", r.Shipping, &b.Shipping, 1}, {"discount", r.Discount, &b.Discount, -1}} {
		d, err := decimal(f.name, f.value)
		if err != nil {
			return Bill{}, err
		}
		if *f.into, err = money(d, "the "+f.name); err != nil {
			return Bill{}, err
		}
		if f.sign < 0 {
			total.Sub(total, d)
		} else {
			total.Add(total, d)
		}
	}
	if total.Sign() <= 0 {
		return Bill{}, fmt.Errorf("the total %s %s (subtotal + tax + shipping − discount) is not positive: there is nothing to pay", total, cur)
	}
	if b.Total, err = money(total, "the total"); err != nil {
		return Bill{}, err
	}
	return b, nil
}

var decimalPattern = regexp.MustCompile(`^[0-9]{1,15}(\.[0-9]{1,6})?$`)

// decimal parses a tax, shipping or discount, "" being zero.
func decimal(name, s string) (*inf.Dec, error) {
	if s == "" {
		return new(inf.Dec), nil
	}
	if !decimalPattern.MatchString(s) {
		return nil, fmt.Errorf("the %s %q is not a non-negative decimal", name, s)
	}
	d, _ := new(inf.Dec).SetString(s)
	return d, nil
}

var maxValue = big.NewInt(1<<63 - 1)

// money writes d as a value with offset 100, refusing a fraction of a cent
// and a value an int64 cannot hold.
func money(d *inf.Dec, what string) (Money, error) {
	cents := new(inf.Dec).Mul(d, inf.NewDec(Offset, 0))
	whole := new(inf.Dec).Round(cents, 0, inf.RoundExact)
	if whole == nil {
		return Money{}, fmt.Errorf("%s is not a whole number of cents: %s", what, d)
	}
	v := whole.UnscaledBig()
	if whole.Scale() < 0 {
		v = new(big.Int).Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-whole.Scale())), nil))
	}
	if v.CmpAbs(maxValue) > 0 {
		return Money{}, fmt.Errorf("%s is too large to pay: %s", what, d)
	}
	return Money{Value: v.Int64(), Offset: Offset}, nil
}

// Decimal is the amount m stands for, exactly; false when its offset is not
// a positive power of ten (WhatsApp documents 100), which no exact decimal
// string of the API can then hold.
func Decimal(m Money) (*inf.Dec, bool) {
	if m.Offset == 1 {
		return inf.NewDec(m.Value, 0), true
	}
	scale := inf.Scale(0)
	for o := m.Offset; o > 1; o /= 10 {
		if o%10 != 0 {
			return nil, false
		}
		scale++
	}
	if scale == 0 {
		return nil, false
	}
	return inf.NewDec(m.Value, scale), true
}

// Reference is the reference_id of an order's bill: "wao-" and 31 hex digits
// of a SHA-256 of the order's namespace, name and uid. It is derived, not
// random, so a send retried after a crash carries the same reference, and it
// differs for an order deleted and created again under the same name.
func Reference(namespace, name, uid string) string {
	sum := sha256.Sum256([]byte(namespace + "/" + name + "/" + uid))
	return "wao-" + hex.EncodeToString(sum[:])[:31]
}
