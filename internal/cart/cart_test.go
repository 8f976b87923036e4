package cart

import (
	"errors"
	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"strings"
	"testing"
)

func TestValidateErrors(t *testing.T) {
	usd := func(id string, qty int64, price string) Item {
		return Item{ProductRetailerID: id, Quantity: qty, ItemPrice: price, Currency: "USD"}
	}
	many := make([]Item, MaxItems+1)
	for i := range many {
		many[i] = usd("p", 1, "1")
	}
	tests := []struct {
		name   string
		items  []Item
		reason string
		// message must contain each of these, so it names the item and value.
		mentions []string
	}{
		{"nil cart", nil, commercev1alpha1.ReasonNoItems, []string{"no items"}},
		{"empty cart", []Item{}, commercev1alpha1.ReasonNoItems, []string{"no items"}},
		{"too many items", many, commercev1alpha1.ReasonTooManyItems, []string{"101", "100"}},
		{"empty product id", []Item{usd("", 1, "1")}, commercev1alpha1.ReasonInvalidProductRetailerID, []string{"item 0", "empty"}},
		{"long product id", []Item{usd(strings.Repeat("é", 129), 1, "1")}, commercev1alpha1.ReasonInvalidProductRetailerID, []string{"item 0", "129"}},
		{"zero quantity", []Item{usd("a", 1, "1"), usd("b", 0, "1")}, commercev1alpha1.ReasonInvalidQuantity, []string{`item 1 ("b")`, "quantity 0"}},
		{"negative quantity", []Item{usd("a", -3, "1")}, commercev1alpha1.ReasonInvalidQuantity, []string{`item 0 ("a")`, "quantity -3"}},
		{"huge quantity", []Item{usd("a", MaxQuantity+1, "1")}, commercev1alpha1.ReasonInvalidQuantity, []string{"quantity 1000001"}},
		{"negative price", []Item{usd("a", 1, "-1")}, commercev1alpha1.ReasonInvalidPrice, []string{`item 0 ("a")`, `"-1"`}},
		{"empty price", []Item{usd("a", 1, "")}, commercev1alpha1.ReasonInvalidPrice, []string{`""`}},
		{"exponent price", []Item{usd("a", 1, "1e2")}, commercev1alpha1.ReasonInvalidPrice, []string{`"1e2"`}},
		{"seven decimals", []Item{usd("a", 1, "0.1234567")}, commercev1alpha1.ReasonInvalidPrice, []string{`"0.1234567"`}},
		{"sixteen integer digits", []Item{usd("a", 1, "1234567890123456")}, commercev1alpha1.ReasonInvalidPrice, []string{`"1234567890123456"`}},
		{"trailing dot", []Item{usd("a", 1, "1.")}, commercev1alpha1.ReasonInvalidPrice, []string{`"1."`}},
		{"leading dot", []Item{usd("a", 1, ".5")}, commercev1alpha1.ReasonInvalidPrice, []string{`".5"`}},
		{"spaces", []Item{usd("a", 1, " 1")}, commercev1alpha1.ReasonInvalidPrice, []string{`" 1"`}},
		{"unknown currency", []Item{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "XYZ"}}, commercev1alpha1.ReasonUnknownCurrency, []string{`item 0 ("a")`, `"XYZ"`}},
		{"empty currency", []Item{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1"}}, commercev1alpha1.ReasonUnknownCurrency, []string{`""`}},
		{"lower-case currency", []Item{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "usd"}}, commercev1alpha1.ReasonUnknownCurrency, []string{`"usd"`, "upper case"}},
		{"no-currency code", []Item{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "XXX"}}, commercev1alpha1.ReasonUnknownCurrency, []string{`"XXX"`}},
		{"mixed currencies", []Item{usd("a", 1, "1"), {ProductRetailerID: "b", Quantity: 1, ItemPrice: "1", Currency: "EUR"}}, commercev1alpha1.ReasonMixedCurrencies, []string{`item 1 ("b")`, `"EUR"`, `"USD"`}},
		{"first error wins", []Item{usd("a", 0, "x")}, commercev1alpha1.ReasonInvalidQuantity, []string{"quantity 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, err := range []error{Validate(tt.items), summarizeErr(tt.items)} {
				var cerr *Error
				if !errors.As(err, &cerr) {
					t.Fatalf("got %v, want a *cart.Error", err)
				}
				if cerr.Reason != tt.reason {
					t.Errorf("reason = %q, want %q (message %q)", cerr.Reason, tt.reason, cerr.Message)
				}
				if err.Error() != cerr.Message {
					t.Errorf("Error() = %q, want the message %q", err.Error(), cerr.Message)
				}
				for _, m := range tt.mentions {
					if !strings.Contains(cerr.Message, m) {
						t.Errorf("message %q does not mention %q", cerr.Message, m)
					}
				}
			}
		})
	}
}

func summarizeErr(items []Item) error {
	_, err := Summarize(items)
	return err
}

func TestSummarize(t *testing.T) {
	item := func(qty int64, price, cur string) Item {
		return Item{ProductRetailerID: "p", Quantity: qty, ItemPrice: price, Currency: cur}
	}
	tests := []struct {
		name  string
		items []Item
		want  Summary
	}{
		{"fractional USD", []Item{item(2, "7.99", "USD")}, Summary{2, "15.98", "USD"}},
		{"integral USD has no decimals", []Item{item(2, "30", "USD"), item(1, "25", "USD")}, Summary{3, "85", "USD"}},
		{"integral from fractions", []Item{item(2, "0.50", "USD")}, Summary{2, "1", "USD"}},
		{"padded to minor units", []Item{item(1, "10.5", "USD")}, Summary{1, "10.50", "USD"}},
		{"trailing zeros trimmed to minor units", []Item{item(1, "10.500000", "USD")}, Summary{1, "10.50", "USD"}},
		{"more digits than USD kept exactly", []Item{item(1, "0.333", "USD")}, Summary{1, "0.333", "USD"}},
		{"sub-cent sum kept exactly", []Item{item(3, "0.001", "USD"), item(1, "1.2", "USD")}, Summary{4, "1.203", "USD"}},
		{"zero total", []Item{item(5, "0", "USD")}, Summary{5, "0", "USD"}},
		{"JPY integral", []Item{item(2, "800", "JPY")}, Summary{2, "1600", "JPY"}},
		{"JPY fraction kept", []Item{item(1, "10.5", "JPY")}, Summary{1, "10.5", "JPY"}},
		{"BHD three minor units", []Item{item(5, "0.25", "BHD")}, Summary{5, "1.250", "BHD"}},
		{"KWD three minor units", []Item{item(1, "1.5", "KWD"), item(1, "0.001", "KWD")}, Summary{2, "1.501", "KWD"}},
		{"KWD integral", []Item{item(4, "0.250", "KWD")}, Summary{4, "1", "KWD"}},
		{"ILS sample", []Item{item(3, "30", "ILS"), item(2, "35", "ILS"), item(2, "10", "ILS")}, Summary{7, "180", "ILS"}},
		{"ILS fractional", []Item{item(3, "9.9", "ILS")}, Summary{3, "29.70", "ILS"}},
		{
			"largest values do not overflow",
			[]Item{item(MaxQuantity-1, "999999999999999.999999", "USD"), item(MaxQuantity-1, "999999999999999.999999", "USD")},
			Summary{2 * (MaxQuantity - 1), "1999997999999999999998.000002", "USD"},
		},
		{
			"beyond int64 integral",
			[]Item{item(MaxQuantity, "999999999999999", "EUR")},
			Summary{MaxQuantity, "999999999999999000000", "EUR"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Summarize(tt.items)
			if err != nil {
				t.Fatalf("Summarize: %v", err)
			}
			if got != tt.want {
				t.Errorf("Summarize = %+v, want %+v", got, tt.want)
			}
			if err := Validate(tt.items); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestSummarizeManyItems(t *testing.T) {
	items := make([]Item, MaxItems)
	for i := range items {
		items[i] = Item{ProductRetailerID: "p", Quantity: MaxQuantity, ItemPrice: "0.01", Currency: "USD"}
	}
	got, err := Summarize(items)
	if err != nil {
		t.Fatal(err)
	}
	want := Summary{ItemCount: MaxItems * MaxQuantity, Total: "1000000", Currency: "USD"}
	if got != want {
		t.Errorf("Summarize = %+v, want %+v", got, want)
	}
}

func TestLedgerSumsExactlyPerCurrency(t *testing.T) {
	item := func(qty int64, price, cur string) Item {
		return Item{ProductRetailerID: "p", Quantity: qty, ItemPrice: price, Currency: cur}
	}
	var l Ledger
	if got := l.Totals(); len(got) != 0 {
		t.Fatalf("empty ledger totals = %v", got)
	}
	for _, c := range [][]Item{
		{item(2, "7.99", "USD"), item(1, "25", "USD")}, // 40.98
		{item(3, "0.1", "USD")},                        // 0.3: floats would make 41.279999...
		{item(1, "10.5", "EUR")},
		{item(2, "0.25", "EUR")},
		{item(1, "1600", "JPY")},
		{item(1, "0.333", "BHD")},
	} {
		if err := l.Add(c); err != nil {
			t.Fatalf("Add(%v): %v", c, err)
		}
	}
	err := l.Add([]Item{item(1, "5", "USD"), item(1, "5", "EUR")})
	if e, ok := errors.AsType[*Error](err); !ok || e.Reason != commercev1alpha1.ReasonMixedCurrencies {
		t.Fatalf("Add(mixed currencies) = %v, want a MixedCurrencies error", err)
	}
	want := []Amount{{"BHD", "0.333"}, {"EUR", "11"}, {"JPY", "1600"}, {"USD", "41.28"}}
	got := l.Totals()
	if len(got) != len(want) {
		t.Fatalf("totals = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("totals[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}
