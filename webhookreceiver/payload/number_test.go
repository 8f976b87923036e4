package payload

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestPlainNumbers checks plainInteger and plainPrice against decimal on every
// short spelling over digits, point, sign and exponent, and on long ones near
// the limits: whenever they take a number they must read it exactly as
// decimalInteger and decimalPrice do.
func TestPlainNumbers(t *testing.T) {
	texts := []string{
		strings.Repeat("9", 18), "-" + strings.Repeat("9", 18), strings.Repeat("9", 19),
		strings.Repeat("0", 39) + "7", "1" + strings.Repeat("0", 40), strings.Repeat("1", 20) + "." + strings.Repeat("2", 19),
		strings.Repeat("1", 20) + "." + strings.Repeat("2", 20), "0000.000", "1750096325", "999999999999999.999999",
	}
	var spell func(prefix string)
	spell = func(prefix string) {
		texts = append(texts, prefix)
		if len(prefix) == 5 {
			return
		}
		for _, c := range []string{"0", "1", "9", ".", "-", "e"} {
			spell(prefix + c)
		}
	}
	spell("")
	var ints, prices int
	for _, text := range texts {
		for _, raw := range []json.RawMessage{json.RawMessage(text), json.RawMessage(strconv.Quote(text))} {
			if n, ok := plainInteger(raw); ok {
				ints++
				if want, err := decimalInteger(raw); err != nil || n != want {
					t.Errorf("plainInteger(%s) = %d; decimalInteger = %d, %v", raw, n, want, err)
				}
			}
			if p, ok := plainPrice(raw); ok {
				prices++
				if want, err := decimalPrice(raw); err != nil || p != want {
					t.Errorf("plainPrice(%s) = %q; decimalPrice = %q, %v", raw, p, want, err)
				}
			}
		}
	}
	if ints < 500 || prices < 500 {
		t.Errorf("only %d integers and %d prices were plain; the spellings miss the common cases", ints, prices)
	}
}
