package bill

import (
	"strings"
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

func items(cur string, lines ...any) []cart.Item {
	var out []cart.Item
	for i := 0; i < len(lines); i += 2 {
		out = append(out, cart.Item{ProductRetailerID: "sku" + string(rune('a'+i/2)), Quantity: int64(lines[i].(int)), ItemPrice: lines[i+1].(string), Currency: cur})
	}
	return out
}

func m(v int64) Money { return Money{Value: v, Offset: Offset} }

func TestCompute(t *testing.T) {
	cases := []struct {
		name string
		req  Request
		want Bill
		err  string
	}{
		{
			name: "the format reference's bill",
			req:  Request{Items: items("INR", 2, "499.50", 1, "100"), Method: Gateway, Shipping: "50"},
			want: Bill{Currency: "INR", Items: []Line{{RetailerID: "skua", Quantity: 2, Amount: m(49950)}, {RetailerID: "skub", Quantity: 1, Amount: m(10000)}},
				Subtotal: m(109900), Tax: m(0), Shipping: m(5000), Discount: m(0), Total: m(114900)},
		},
		{
			name: "tax, shipping and discount, exactly",
			req:  Request{Items: items("BRL", 3, "0.10", 1, "0.20"), Method: Pix, Tax: "0.07", Shipping: "10", Discount: "0.5"},
			// 0.30 + 0.20 + 0.07 + 10 − 0.50: a float gives 10.069999…
			want: Bill{Currency: "BRL", Items: []Line{{RetailerID: "skua", Quantity: 3, Amount: m(10)}, {RetailerID: "skub", Quantity: 1, Amount: m(20)}},
				Subtotal: m(50), Tax: m(7), Shipping: m(1000), Discount: m(50), Total: m(1007)},
		},
		{
			name: "a price with trailing zeros beyond cents is whole cents",
			req:  Request{Items: items("SGD", 1, "7.990000"), Method: Link},
			want: Bill{Currency: "SGD", Items: []Line{{RetailerID: "skua", Quantity: 1, Amount: m(799)}}, Subtotal: m(799), Tax: m(0), Shipping: m(0), Discount: m(0), Total: m(799)},
		},
		{
			name: "a subtotal an int64 of cents cannot hold",
			req:  Request{Items: items("INR", 1000000, "999999999999.99"), Method: Gateway},
			err:  "the subtotal is too large to pay",
		},
		{name: "gateway takes only INR", req: Request{Items: items("BRL", 1, "5"), Method: Gateway}, err: "the cart is in BRL but a gateway payment takes only INR"},
		{name: "pix takes only BRL", req: Request{Items: items("INR", 1, "5"), Method: Pix}, err: "the cart is in INR but a pix payment takes only BRL"},
		{name: "links take BRL, INR and SGD", req: Request{Items: items("USD", 1, "5"), Method: Link}, err: "takes only BRL, INR, SGD"},
		{name: "unknown method", req: Request{Items: items("INR", 1, "5"), Method: "boleto"}, err: `payment method "boleto" is not one of gateway, pix or link`},
		{name: "a fraction of a cent in a price", req: Request{Items: items("INR", 3, "0.333"), Method: Gateway}, err: `the price 0.333 of item 0 ("skua") is not a whole number of cents`},
		{name: "a fraction of a cent in the tax", req: Request{Items: items("INR", 1, "5"), Method: Gateway, Tax: "0.125"}, err: "the tax is not a whole number of cents: 0.125"},
		{name: "a negative total", req: Request{Items: items("INR", 1, "5"), Method: Gateway, Discount: "6"}, err: "the total -1 INR (subtotal + tax + shipping − discount) is not positive"},
		{name: "a zero total", req: Request{Items: items("INR", 1, "0"), Method: Gateway}, err: "is not positive"},
		{name: "a discount that is not a decimal", req: Request{Items: items("INR", 1, "5"), Method: Gateway, Discount: "-1"}, err: `the discount "-1" is not a non-negative decimal`},
		{name: "an invalid cart", req: Request{Items: nil, Method: Gateway}, err: "the cart has no items"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compute(tc.req)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			var sum int64
			for _, l := range got.Items {
				sum += l.Amount.Value * l.Quantity
			}
			if sum != got.Subtotal.Value || got.Total.Value != got.Subtotal.Value+got.Tax.Value+got.Shipping.Value-got.Discount.Value {
				t.Errorf("the bill does not add up: %+v", got)
			}
		})
	}
}

func equal(a, b Bill) bool {
	if a.Currency != b.Currency || a.Subtotal != b.Subtotal || a.Tax != b.Tax || a.Shipping != b.Shipping || a.Discount != b.Discount || a.Total != b.Total || len(a.Items) != len(b.Items) {
		return false
	}
	for i := range a.Items {
		if a.Items[i] != b.Items[i] {
			return false
		}
	}
	return true
}

func TestMoneyDecimal(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		want string
		ok   bool
	}{
		{Money{Value: 114900, Offset: 100}, "1149.00", true},
		{Money{Value: 5, Offset: 100}, "0.05", true},
		{Money{Value: 7, Offset: 1}, "7", true},
		{Money{Value: 1250, Offset: 1000}, "1.250", true},
		{Money{Value: 5, Offset: 3}, "", false},
		{Money{Value: 5, Offset: 0}, "", false},
		{Money{Value: 5, Offset: -10}, "", false},
	} {
		d, ok := Decimal(tc.m)
		if ok != tc.ok || (ok && d.String() != tc.want) {
			t.Errorf("%+vDecimal(...) = %v, %v; want %s, %v", tc.m, d, ok, tc.want, tc.ok)
		}
	}
}

func TestReference(t *testing.T) {
	a := Reference("shop", "order-1", "3f2a9c1b-7d4e-5f60-7182-93a4b5c6d7e8")
	if a != Reference("shop", "order-1", "3f2a9c1b-7d4e-5f60-7182-93a4b5c6d7e8") {
		t.Error("the reference of one order changes between calls")
	}
	if !whatsapp.ValidReference(a) || len(a) != 35 {
		t.Errorf("reference %q (%d characters) is not a valid reference_id of 35 characters", a, len(a))
	}
	for _, other := range []string{
		Reference("shop", "order-1", "00000000-0000-0000-0000-000000000000"), // recreated under the same name
		Reference("shop", "order-2", "3f2a9c1b-7d4e-5f60-7182-93a4b5c6d7e8"),
		Reference("shop2", "order-1", "3f2a9c1b-7d4e-5f60-7182-93a4b5c6d7e8"),
		Reference("sho", "p/order-1", "3f2a9c1b-7d4e-5f60-7182-93a4b5c6d7e8"),
	} {
		if other == a {
			t.Errorf("two orders share the reference %q", a)
		}
	}
	for s, ok := range map[string]bool{"wao-1": true, "A.b_c-9": true, "": false, "has space": false, "ção": false, strings.Repeat("a", 36): false, strings.Repeat("a", 35): true} {
		if whatsapp.ValidReference(s) != ok {
			t.Errorf("whatsapp.ValidReference(%q) = %v, want %v", s, !ok, ok)
		}
	}
}
