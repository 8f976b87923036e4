package whatsapp

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

const testReference = "wao-3f2a9c1b7d4e5f60718293a4b5c6d7e"

// testBill is what internal/bill computes for 2 x 499.50 and 1 x 100 (its
// tests pin that); this package cannot import it, which imports this one.
func testBill(cur string, shipping, discount int64) Bill {
	a := func(v int64) Amount { return Amount{Value: v, Offset: 100} }
	return Bill{Currency: cur, Items: []BillLine{{"di9ozbzfi4", 2, a(49950)}, {"nqryix03ez", 1, a(10000)}},
		Subtotal: a(109900), Tax: a(0), Shipping: a(shipping), Discount: a(discount), Total: a(109900 + shipping - discount)}
}

// The bodies are pinned byte for byte against the shapes of Meta's payments
// pages (see docs/payments.md for the sources).
func TestPaymentRequestBodies(t *testing.T) {
	gateway := OrderDetails{ReferenceID: testReference, Body: "Your order", Footer: "Thank you",
		Bill: testBill("INR", 5000, 0), Settings: PaymentSettings{Gateway: &GatewaySettings{ConfigurationName: "razorpay-prod", Provider: "razorpay"}}}
	pix := OrderDetails{ReferenceID: testReference, GoodsType: "digital-goods", Body: "Seu pedido",
		Bill:     testBill("BRL", 0, 9950),
		Settings: PaymentSettings{Pix: &PixSettings{Code: "00020101021226700014br.gov.bcb.pix", MerchantName: "Loja", Key: "39580525000189", KeyType: "CNPJ"}}}
	link := OrderDetails{ReferenceID: testReference, Body: "Your order", Bill: testBill("SGD", 0, 0), Settings: PaymentSettings{LinkURI: "https://pay.example/i/x"}}
	const (
		gatewayParams = `{"reference_id":"wao-3f2a9c1b7d4e5f60718293a4b5c6d7e","type":"physical-goods","currency":"INR","total_amount":{"value":114900,"offset":100},` +
			`"payment_settings":[{"type":"payment_gateway","payment_gateway":{"type":"razorpay","configuration_name":"razorpay-prod"}}],` +
			`"order":{"status":"pending","items":[{"retailer_id":"di9ozbzfi4","name":"di9ozbzfi4","amount":{"value":49950,"offset":100},"quantity":2},{"retailer_id":"nqryix03ez","name":"nqryix03ez","amount":{"value":10000,"offset":100},"quantity":1}],` +
			`"subtotal":{"value":109900,"offset":100},"tax":{"value":0,"offset":100},"shipping":{"value":5000,"offset":100}}}`
		items = `"items":[{"retailer_id":"di9ozbzfi4","name":"di9ozbzfi4","amount":{"value":49950,"offset":100},"quantity":2},{"retailer_id":"nqryix03ez","name":"nqryix03ez","amount":{"value":10000,"offset":100},"quantity":1}]`
	)
	tests := []struct {
		name     string
		send     func(*Client) (string, error)
		wantBody string
	}{
		{
			name: "order_details through a payment gateway, with callback data",
			send: func(c *Client) (string, error) {
				s := toSheena
				s.CallbackData = "WhatsAppOrder/shop/order-1"
				return c.SendOrderDetails(t.Context(), s, gateway)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","biz_opaque_callback_data":"WhatsAppOrder/shop/order-1","type":"interactive","interactive":{"type":"order_details","body":{"text":"Your order"},"footer":{"text":"Thank you"},` +
				`"action":{"name":"review_and_pay","parameters":` + gatewayParams + `}}}`,
		},
		{
			name: "order_details with a Pix code and a discount",
			send: func(c *Client) (string, error) { return c.SendOrderDetails(t.Context(), toSheena, pix) },
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"interactive","interactive":{"type":"order_details","body":{"text":"Seu pedido"},` +
				`"action":{"name":"review_and_pay","parameters":{"reference_id":"wao-3f2a9c1b7d4e5f60718293a4b5c6d7e","type":"digital-goods","payment_type":"br","currency":"BRL","total_amount":{"value":99950,"offset":100},` +
				`"payment_settings":[{"type":"pix_dynamic_code","pix_dynamic_code":{"code":"00020101021226700014br.gov.bcb.pix","merchant_name":"Loja","key":"39580525000189","key_type":"CNPJ"}}],` +
				`"order":{"status":"pending",` + items + `,"subtotal":{"value":109900,"offset":100},"tax":{"value":0,"offset":100},"discount":{"value":9950,"offset":100}}}}}}`,
		},
		{
			name: "order_details with a payment link, to a user id",
			send: func(c *Client) (string, error) {
				return c.SendOrderDetails(t.Context(), Send{To: Recipient{UserID: "US.13491208655302741918"}}, link)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.13491208655302741918","type":"interactive","interactive":{"type":"order_details","body":{"text":"Your order"},` +
				`"action":{"name":"review_and_pay","parameters":{"reference_id":"wao-3f2a9c1b7d4e5f60718293a4b5c6d7e","type":"physical-goods","currency":"SGD","total_amount":{"value":109900,"offset":100},` +
				`"payment_settings":[{"type":"payment_link","payment_link":{"uri":"https://pay.example/i/x"}}],"order":{"status":"pending",` + items + `,"subtotal":{"value":109900,"offset":100},"tax":{"value":0,"offset":100}}}}}}`,
		},
		{
			name: "order details template",
			send: func(c *Client) (string, error) {
				return c.SendOrderDetailsTemplate(t.Context(), toSheena, TemplateRef{Name: "bill", Language: "en_US"}, gateway)
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"bill","language":{"code":"en_US"},` +
				`"components":[{"type":"button","sub_type":"order_details","index":0,"parameters":[{"type":"action","action":{"order_details":` + gatewayParams + `}}]}]}}`,
		},
		{
			name: "order_status",
			send: func(c *Client) (string, error) {
				return c.SendOrderStatus(t.Context(), toSheena, OrderStatus{ReferenceID: testReference, Status: "shipped", Description: "On its way", Body: "Your order is shipped"})
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"interactive","interactive":{"type":"order_status","body":{"text":"Your order is shipped"},` +
				`"action":{"name":"review_order","parameters":{"reference_id":"wao-3f2a9c1b7d4e5f60718293a4b5c6d7e","order":{"status":"shipped","description":"On its way"}}}}}`,
		},
		{
			name: "order status template",
			send: func(c *Client) (string, error) {
				return c.SendOrderStatusTemplate(t.Context(), toSheena, TemplateRef{Name: "order_update", Language: "pt_BR"}, OrderStatus{ReferenceID: testReference, Status: "completed"})
			},
			wantBody: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"order_update","language":{"code":"pt_BR"},` +
				`"components":[{"type":"order_status","parameters":[{"type":"order_status","order_status":{"reference_id":"wao-3f2a9c1b7d4e5f60718293a4b5c6d7e","order":{"status":"completed"}}}]}]}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, srv := newServer(t, http.StatusOK, cloudOK)
			id, err := tt.send(cloudClient(t, srv))
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if id != "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2=" {
				t.Errorf("id = %q", id)
			}
			got := rec.only(t)
			if got.path != "/v23.0/106540352242922/messages" || got.auth != "Bearer "+testToken {
				t.Errorf("path %s auth %q", got.path, got.auth)
			}
			if got.body != tt.wantBody {
				t.Errorf("body:\n got %s\nwant %s", got.body, tt.wantBody)
			}
		})
	}
}

func TestPaymentMessagesRefusedBeforeSending(t *testing.T) {
	b := testBill("INR", 0, 0)
	ok := OrderDetails{ReferenceID: testReference, Body: "x", Bill: b, Settings: PaymentSettings{Gateway: &GatewaySettings{ConfigurationName: "c"}}}
	with := func(change func(*OrderDetails)) OrderDetails { d := ok; change(&d); return d }
	tests := []struct {
		name   string
		onPrem bool
		send   func(*Client) (string, error)
		want   error
	}{
		{"on-premises bill", true, func(c *Client) (string, error) { return c.SendOrderDetails(t.Context(), toSheena, ok) }, ErrUnsupported},
		{"on-premises order status", true, func(c *Client) (string, error) {
			return c.SendOrderStatus(t.Context(), toSheena, OrderStatus{ReferenceID: testReference, Status: "shipped", Body: "x"})
		}, ErrUnsupported},
		{"reference too long", false, func(c *Client) (string, error) {
			return c.SendOrderDetails(t.Context(), toSheena, with(func(d *OrderDetails) { d.ReferenceID = strings.Repeat("a", 36) }))
		}, ErrInvalidMessage},
		{"reference with a space", false, func(c *Client) (string, error) {
			return c.SendOrderDetails(t.Context(), toSheena, with(func(d *OrderDetails) { d.ReferenceID = "a b" }))
		}, ErrInvalidMessage},
		{"two payment settings", false, func(c *Client) (string, error) {
			return c.SendOrderDetails(t.Context(), toSheena, with(func(d *OrderDetails) { d.Settings.LinkURI = "https://x" }))
		}, ErrInvalidMessage},
		{"gateway without configuration", false, func(c *Client) (string, error) {
			return c.SendOrderDetails(t.Context(), toSheena, with(func(d *OrderDetails) { d.Settings.Gateway = &GatewaySettings{} }))
		}, ErrInvalidMessage},
		{"no body", false, func(c *Client) (string, error) {
			return c.SendOrderDetails(t.Context(), toSheena, with(func(d *OrderDetails) { d.Body = "" }))
		}, ErrInvalidMessage},
		{"unknown order status", false, func(c *Client) (string, error) {
			return c.SendOrderStatus(t.Context(), toSheena, OrderStatus{ReferenceID: testReference, Status: "delivered", Body: "x"})
		}, ErrInvalidMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, srv := newServer(t, http.StatusOK, cloudOK)
			c := cloudClient(t, srv)
			if tt.onPrem {
				c = onPremClient(t, srv)
			}
			_, err := tt.send(c)
			if !errors.Is(err, tt.want) || ClassOf(err) != Permanent {
				t.Fatalf("err = %v, want Permanent %v", err, tt.want)
			}
			if rec.count() != 0 {
				t.Errorf("%d requests left the client", rec.count())
			}
		})
	}
}

func TestLookupPayment(t *testing.T) {
	const found = `{"payments":[{"reference_id":"wao-3f2a9c1b7d4e5f60718293a4b5c6d7e","status":"captured","currency":"INR","amount":{"value":114900,"offset":100},` +
		`"transactions":[{"id":"pay_1","type":"razorpay","status":"success","created_timestamp":1746500000,"updated_timestamp":1746500005,"method":{"type":"upi"},"amount":{"value":114900,"offset":100},"currency":"INR",` +
		`"refunds":[{"id":"rfnd_1","amount":{"value":114900,"offset":100},"status":"completed"}]}]}]}`
	rec, srv := newServer(t, http.StatusOK, found)
	p, ok, err := cloudClient(t, srv).LookupPayment(t.Context(), "razorpay prod", testReference)
	if err != nil || !ok {
		t.Fatalf("lookup: %v, found %v", err, ok)
	}
	got := rec.only(t)
	if got.method != http.MethodGet || got.path != "/v23.0/106540352242922/payments/razorpay%20prod/"+testReference || got.auth != "Bearer "+testToken {
		t.Errorf("request %s %s auth %q", got.method, got.path, got.auth)
	}
	tx := p.Transactions[0]
	if p.Status != "captured" || p.Amount != (Amount{Value: 114900, Offset: 100}) || tx.ID != "pay_1" || tx.Method.Type != "upi" || tx.Refunds[0].Status != "completed" {
		t.Errorf("payment %+v", p)
	}

	_, srv = newServer(t, http.StatusOK, `{"payments":[]}`)
	if _, ok, err := cloudClient(t, srv).LookupPayment(t.Context(), "c", testReference); ok || err != nil {
		t.Errorf("unknown reference: found %v, %v", ok, err)
	}
	_, srv = newServer(t, http.StatusBadRequest, `{"error":{"message":"(#131005) Access denied","code":131005,"fbtrace_id":"A"}}`)
	if _, _, err := cloudClient(t, srv).LookupPayment(t.Context(), "c", testReference); ClassOf(err) != Permanent || !strings.Contains(err.Error(), "131005") {
		t.Errorf("error answer: %v", err)
	}
	_, srv = newServer(t, http.StatusServiceUnavailable, `busy`)
	if _, _, err := cloudClient(t, srv).LookupPayment(t.Context(), "c", testReference); ClassOf(err) != Transient {
		t.Errorf("503: %v, want Transient", err)
	}
}
