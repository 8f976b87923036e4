package fakewhatsapp

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/bill"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

const fakeReference = "wao-3f2a9c1b7d4e5f60718293a4b5c6d7e"

func fakeBill(t *testing.T, reference string) whatsapp.OrderDetails {
	t.Helper()
	b, err := bill.Compute(bill.Request{Items: []cart.Item{{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "499.50", Currency: "INR"}}, Method: bill.Gateway, Shipping: "50"})
	if err != nil {
		t.Fatal(err)
	}
	return whatsapp.OrderDetails{ReferenceID: reference, Body: "Your order", Bill: b, Settings: whatsapp.PaymentSettings{Gateway: &whatsapp.GatewaySettings{ConfigurationName: "razorpay-prod"}}}
}

// paymentsOf decodes the payment statuses of the webhooks a receiver got.
func paymentsOf(t *testing.T, rc *receiver) []payload.Payment {
	t.Helper()
	var out []payload.Payment
	for _, d := range rc.all() {
		parsed, err := payload.Parse(d.body, payload.Cloud)
		if err != nil {
			t.Fatal(err)
		}
		for _, el := range parsed.Elements {
			if el.Kind != payload.KindPayment {
				t.Fatalf("posted %s (%s), want payment statuses", el.Kind, el.Reason)
			}
			out = append(out, *el.Payment)
		}
	}
	return out
}

func TestBillsAreCheckedAsWhatsAppDoes(t *testing.T) {
	s := startFake(t, Options{})
	c := cloudClient(t, s, "any")
	if _, err := c.SendOrderDetails(t.Context(), toCustomer, fakeBill(t, fakeReference)); err != nil {
		t.Fatalf("a good bill: %v", err)
	}
	sent := s.Sent()[0].Interactive
	if sent.Type != "order_details" || sent.ReferenceID != fakeReference || sent.Currency != "INR" || *sent.Total != (bill.Money{Value: 104900, Offset: 100}) {
		t.Errorf("recorded %+v", sent)
	}
	if _, err := c.SendOrderDetails(t.Context(), toCustomer, fakeBill(t, fakeReference)); err == nil || !strings.Contains(err.Error(), "one reference per order") {
		t.Errorf("a second bill with the reference: %v", err)
	}
	if _, err := c.SendOrderStatus(t.Context(), toCustomer, whatsapp.OrderStatus{ReferenceID: "wao-unknown", Status: "shipped", Body: "x"}); err == nil || !strings.Contains(err.Error(), "names no order_details message") {
		t.Errorf("an order status for no bill: %v", err)
	}
	if _, err := c.SendOrderStatus(t.Context(), toCustomer, whatsapp.OrderStatus{ReferenceID: fakeReference, Status: "processing", Body: "x"}); err != nil {
		t.Errorf("an order status for the bill: %v", err)
	}

	// What the client never sends, but WhatsApp refuses: a total that is not its parts.
	raw := func(total int64) int {
		body := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"` + customer + `","type":"interactive","interactive":{"type":"order_details","body":{"text":"x"},` +
			`"action":{"name":"review_and_pay","parameters":{"reference_id":"wao-raw","type":"physical-goods","currency":"INR","total_amount":{"value":` + jsonInt(total) + `,"offset":100},` +
			`"payment_settings":[{"type":"payment_gateway","payment_gateway":{"configuration_name":"c"}}],"order":{"status":"pending","items":[{"retailer_id":"a","name":"a","amount":{"value":100,"offset":100},"quantity":3}],` +
			`"subtotal":{"value":300,"offset":100},"tax":{"value":10,"offset":100},"discount":{"value":50,"offset":100}}}}}}`
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/v23.0/"+testPhoneID+"/messages", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := raw(261); code != http.StatusBadRequest {
		t.Errorf("a total that is not subtotal + tax - discount answered %d", code)
	}
	if code := raw(260); code != http.StatusOK {
		t.Errorf("a total that adds up answered %d", code)
	}
	if _, err := onPremClient(t, s, "any").SendOrderDetails(t.Context(), toCustomer, fakeBill(t, "wao-onprem")); err == nil {
		t.Error("an On-Premises client sent a bill")
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestTheCustomerPaysFailsOrPaysAfterFailing(t *testing.T) {
	secret := []byte("app-secret")
	rc, srv := startReceiver(t, secret)
	s := startFake(t, Options{WebhookURL: srv.URL, AppSecret: secret})
	c := cloudClient(t, s, "any")
	for _, tc := range []struct {
		payer Payer
		want  []string
	}{
		{Pays, []string{"pending", "captured"}},
		{Fails, []string{"failed"}},
		{PaysAfterFailing, []string{"failed", "pending", "captured"}},
	} {
		t.Run(string(tc.payer), func(t *testing.T) {
			ref := "wao-" + string(tc.payer)
			id, err := c.SendOrderDetails(t.Context(), toCustomer, fakeBill(t, ref))
			must(t, err)
			before := len(rc.all())
			code, answer := admin(t, s, http.MethodPost, "/_fake/pay?payer="+string(tc.payer))
			if code != http.StatusOK {
				t.Fatalf("pay answered %d %s", code, answer)
			}
			got := paymentsOf(t, rc)[before:]
			if len(got) != len(tc.want) {
				t.Fatalf("posted %d payment statuses, want %v", len(got), tc.want)
			}
			for i, p := range got {
				if p.Status != tc.want[i] || p.ReferenceID != ref || p.MessageID != id || p.RecipientID != customer ||
					*p.Amount != (payload.Money{Value: 104900, Offset: 100}) || p.Currency != "INR" || (i > 0 && !p.Timestamp.After(got[i-1].Timestamp)) {
					t.Errorf("payment status %d: %+v, want %s of %s", i, p, tc.want[i], ref)
				}
			}
			last := tc.want[len(tc.want)-1]
			_, err = c.SendOrderStatus(t.Context(), toCustomer, whatsapp.OrderStatus{ReferenceID: ref, Status: "canceled", Body: "x"})
			if refused := err != nil && strings.Contains(err.Error(), "cannot be canceled: its payment is captured"); refused != (last == "captured") {
				t.Errorf("canceling after %s: %v", last, err)
			}
		})
	}
	if code, _ := admin(t, s, http.MethodPost, "/_fake/pay?reference=wao-nobody"); code != http.StatusBadRequest {
		t.Errorf("paying a bill never sent answered %d", code)
	}
}
