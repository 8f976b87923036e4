package payload

import "testing"

// TestPaymentElements: a statuses[] element of type payment is a Payment,
// never a delivery Status, whatever its status value, and its varying
// fields are read tolerantly.
func TestPaymentElements(t *testing.T) {
	inr := func(v int64) *Money { return &Money{Value: v, Offset: 100} }
	tests := []struct {
		name   string
		status string
		want   Element
	}{
		{
			"captured through a gateway, as Meta documents it",
			`{"id":"wamid.bill","recipient_id":"919999999999","type":"payment","status":"captured","timestamp":"1746500005","payment":{"reference_id":"wao-1","amount":{"value":114900,"offset":100},"currency":"INR",` +
				`"transaction":{"id":"pay_1","type":"razorpay","status":"success","method":{"type":"upi"},"amount":{"value":114900,"offset":100},"currency":"INR","created_timestamp":1746500000,"updated_timestamp":1746500005}}}`,
			Element{Kind: KindPayment, MessageID: "wamid.bill", Payment: &Payment{MessageID: "wamid.bill", RecipientID: "919999999999", Status: "captured", Timestamp: unix(1746500005),
				ReferenceID: "wao-1", Amount: inr(114900), Currency: "INR", TransactionID: "pay_1", TransactionType: "razorpay", TransactionStatus: "success", Method: "upi"}},
		},
		{
			// failed is a payment's failure, not a delivery failure of the bill.
			"failed with the provider's error, numbers as strings, method as a string",
			`{"id":"wamid.bill","type":"payment","status":"failed","timestamp":1746500001,"payment":{"reference_id":"wao-1","amount":{"value":"114900","offset":"100"},"currency":"INR",` +
				`"transaction":{"id":"pay_0","type":"payu","status":"failed","method":"card","error":{"code":4001,"reason":"insufficient funds"}}}}`,
			Element{Kind: KindPayment, MessageID: "wamid.bill", Payment: &Payment{MessageID: "wamid.bill", Status: "failed", Timestamp: unix(1746500001),
				ReferenceID: "wao-1", Amount: inr(114900), Currency: "INR", TransactionID: "pay_0", TransactionType: "payu", TransactionStatus: "failed", Method: "card",
				ErrorCode: "4001", ErrorReason: "insufficient funds"}},
		},
		{
			"refunds inside the transaction, amount unreadable",
			`{"id":"wamid.bill","type":"payment","status":"captured","timestamp":"2","payment":{"reference_id":"wao-1","amount":{"value":1.5,"offset":100},` +
				`"transaction":{"id":"pay_1","refunds":[{"id":"rfnd_1","amount":{"value":450,"offset":100},"status":"completed"},{"amount":{"value":1,"offset":100}}]}}}`,
			Element{Kind: KindPayment, MessageID: "wamid.bill", Payment: &Payment{MessageID: "wamid.bill", Status: "captured", Timestamp: unix(2),
				ReferenceID: "wao-1", TransactionID: "pay_1", Refunds: []Refund{{ID: "rfnd_1", Amount: inr(450), Status: "completed"}}}},
		},
		{
			"pending with nothing but the reference, refunds null",
			`{"id":"wamid.bill","type":"payment","status":"pending","timestamp":"3","payment":{"reference_id":"wao-1","refunds":null,"transaction":{"error":"odd"}}}`,
			Element{Kind: KindPayment, MessageID: "wamid.bill", Payment: &Payment{MessageID: "wamid.bill", Status: "pending", Timestamp: unix(3), ReferenceID: "wao-1"}},
		},
		{"unknown payment status", `{"id":"wamid.bill","type":"payment","status":"authorized","timestamp":"3","payment":{"reference_id":"wao-1"}}`,
			Element{Kind: KindIgnored, MessageID: "wamid.bill", Reason: `payment status "authorized" is not one WhatsApp documents`}},
		{"no reference", `{"id":"wamid.bill","type":"payment","status":"captured","timestamp":"3","payment":{}}`,
			Element{Kind: KindInvalid, MessageID: "wamid.bill", Reason: "payment status has no payment.reference_id"}},
		{"no payment object", `{"id":"wamid.bill","type":"payment","status":"captured","timestamp":"3"}`,
			Element{Kind: KindInvalid, MessageID: "wamid.bill", Reason: "payment status without a readable payment object"}},
		{"no timestamp", `{"id":"wamid.bill","type":"payment","status":"captured","payment":{"reference_id":"wao-1"}}`,
			Element{Kind: KindInvalid, MessageID: "wamid.bill", Reason: "payment status timestamp is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Path = "statuses[0]"
			assertElements(t, parseBoth(t, `"statuses":[`+tt.status+`]`), []Element{tt.want})
		})
	}
}
