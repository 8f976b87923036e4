package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"time"

	"gopkg.in/inf.v0"
)

// WhatsApp sends quantities, prices and timestamps as JSON numbers in current
// documents and as strings in older ones, so both are read here, and always as
// exact decimals: a float64 cannot hold 7.99.

// numberPattern is a JSON number, less strict about leading zeros so that
// strings such as "07" are read too.
var numberPattern = regexp.MustCompile(`^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$`)

// Bounds on what a number may look like, so a hostile body cannot make the
// parser build huge integers: real prices, quantities and timestamps have far
// fewer digits, and anything beyond is refused rather than approximated.
const (
	maxNumberLength = 100
	maxDigits       = 40
	maxExponent     = 40
)

// maxTimestamp is 9999-12-31T23:59:59Z, the last instant RFC 3339 (and so a
// Kubernetes metav1.Time) can write.
const maxTimestamp = 253402300799

// decimal reads raw, a JSON number or a string holding one, exactly.
func decimal(raw json.RawMessage) (*inf.Dec, error) {
	var text string
	switch t := jsonType(raw); t {
	case "number":
		text = string(raw)
	case "string":
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("is not valid JSON: %w", err)
		}
	case "":
		return nil, errors.New("is missing")
	default:
		return nil, fmt.Errorf("is %s, not a number or a numeric string", article(t))
	}
	if len(text) > maxNumberLength {
		return nil, fmt.Errorf("has %d characters, too many for a number", len(text))
	}
	m := numberPattern.FindStringSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("%q is not a number", text)
	}
	sign, whole, frac, exp := m[1], m[2], m[3], m[4]
	if len(whole)+len(frac) > maxDigits {
		return nil, fmt.Errorf("%q has more than %d digits", text, maxDigits)
	}
	e := 0
	if exp != "" {
		var err error
		if e, err = strconv.Atoi(exp); err != nil || e < -maxExponent || e > maxExponent {
			return nil, fmt.Errorf("%q has an exponent beyond ±%d", text, maxExponent)
		}
	}
	unscaled, _ := new(big.Int).SetString(sign+whole+frac, 10) // the pattern admits only digits here
	return inf.NewDecBig(unscaled, inf.Scale(len(frac)-e)), nil
}

// price reads an item price as a plain decimal string: 30 → "30", 7.99 →
// "7.99", "7.99" → "7.99", 1e2 → "100". Sign and range are for the
// receiver's cart.Validate to judge, so its messages are the ones users see.
func price(raw json.RawMessage) (string, error) {
	if p, ok := plainPrice(raw); ok {
		return p, nil
	}
	return decimalPrice(raw)
}

// decimalPrice is price for any number decimal takes.
func decimalPrice(raw json.RawMessage) (string, error) {
	d, err := decimal(raw)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// integer reads a whole number: 2, "2" and 2.0 are 2; 2.5 is refused.
func integer(raw json.RawMessage) (int64, error) {
	if n, ok := plainInteger(raw); ok {
		return n, nil
	}
	return decimalInteger(raw)
}

// decimalInteger is integer for any number decimal takes.
func decimalInteger(raw json.RawMessage) (int64, error) {
	d, err := decimal(raw)
	if err != nil {
		return 0, err
	}
	whole := new(inf.Dec).Round(d, 0, inf.RoundExact)
	if whole == nil {
		return 0, fmt.Errorf("%s is not a whole number", d)
	}
	n, ok := whole.Unscaled()
	if !ok {
		return 0, fmt.Errorf("%s is out of range", d)
	}
	return n, nil
}

// timestamp reads Unix seconds as a UTC time.
func timestamp(raw json.RawMessage) (time.Time, error) {
	n, err := integer(raw)
	if err != nil {
		return time.Time{}, err
	}
	if n < 1 || n > maxTimestamp {
		return time.Time{}, fmt.Errorf("%d is not a Unix time between 1970 and 9999", n)
	}
	return time.Unix(n, 0).UTC(), nil
}

// Nearly every number WhatsApp sends is plain: 2, "1750096325", 30, 7.99.
// plainInteger and plainPrice read those directly, without the pattern and
// big integers decimal needs, which cost more than the rest of an order; they
// give exactly what decimalInteger and decimalPrice give
// (TestPlainNumbers), and leave everything else to them (ok false).

// plainText is raw's text when raw is a number, or what is between the quotes
// when it is a string: the string's value unless it has escapes, and then it
// has a backslash, which no plain number has.
func plainText(raw json.RawMessage) []byte {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		return raw[1 : len(raw)-1]
	}
	return raw
}

// maxPlainIntegerDigits is the most digits that always fit in an int64.
const maxPlainIntegerDigits = 18

// plainInteger reads an optional minus and up to 18 digits.
func plainInteger(raw json.RawMessage) (int64, bool) {
	t := plainText(raw)
	neg := len(t) > 0 && t[0] == '-'
	if neg {
		t = t[1:]
	}
	if len(t) == 0 || len(t) > maxPlainIntegerDigits {
		return 0, false
	}
	var n int64
	for _, c := range t {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// plainPrice reads digits with an optional fraction, no sign or exponent, of
// at most maxDigits characters: written as inf.Dec writes it, which is with
// the leading zeros of the whole part dropped and the fraction kept as sent.
func plainPrice(raw json.RawMessage) (string, bool) {
	t := plainText(raw)
	if len(t) == 0 || len(t) > maxDigits {
		return "", false
	}
	whole, frac, hasPoint := bytes.Cut(t, []byte("."))
	if !allDigits(whole) || (hasPoint && !allDigits(frac)) {
		return "", false
	}
	for len(whole) > 1 && whole[0] == '0' {
		t, whole = t[1:], whole[1:]
	}
	return string(t), true
}

// allDigits tells whether b is one or more ASCII digits.
func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}
