package webhookreceiver_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver"
)

// cloudOrder is a Cloud body with one order of items.
func cloudOrder(items ...cart.Item) []byte {
	return cloudOrders(map[string][]cart.Item{"bad-input": items})
}

func TestBadInputIsRefusedAndStoresNothing(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	path := ch.Status.WebhookPath
	valid := sample(t, "cloud-order-multi-item.json")
	signed := func(body []byte) map[string]string {
		return map[string]string{"X-Hub-Signature-256": sign(body)}
	}
	huge := append([]byte(`{"object":"whatsapp_business_account","entry":[],"pad":"`), bytes.Repeat([]byte("x"), webhookreceiver.MaxBodyBytes)...)
	huge = append(huge, `"}`...)

	cases := []struct {
		name   string
		method string
		path   string
		body   []byte
		header map[string]string
		code   int
	}{
		{"not JSON", "POST", path, []byte("order=1"), signed([]byte("order=1")), 400},
		{"JSON array", "POST", path, []byte(`[{"object":"whatsapp_business_account"}]`), signed([]byte(`[{"object":"whatsapp_business_account"}]`)), 400},
		{"JSON of another webhook object", "POST", path, []byte(`{"object":"page","entry":[]}`), signed([]byte(`{"object":"page","entry":[]}`)), 400},
		{"Cloud body without entry", "POST", path, []byte(`{"object":"whatsapp_business_account"}`), signed([]byte(`{"object":"whatsapp_business_account"}`)), 400},
		{"empty body", "POST", path, nil, signed(nil), 400},
		{"huge body", "POST", path, huge, signed(huge), 413},
		{"missing signature", "POST", path, valid, map[string]string{}, 401},
		{"signature with another secret", "POST", path, valid, map[string]string{"X-Hub-Signature-256": signWith("not-the-app-secret", valid)}, 401},
		{"signature of a different body", "POST", path, valid, signed(sample(t, "cloud-product-inquiry.json")), 401},
		{"non-hex signature", "POST", path, valid, map[string]string{"X-Hub-Signature-256": "sha256=" + strings.Repeat("zz", 32)}, 401},
		{"signature without prefix", "POST", path, valid, map[string]string{"X-Hub-Signature-256": strings.TrimPrefix(sign(valid), "sha256=")}, 401},
		{"unknown path", "POST", "/webhooks/" + strings.Repeat("0", 64), valid, signed(valid), 404},
		{"path outside /webhooks", "POST", "/", valid, signed(valid), 404},
		{"wrong verify token", "GET", path + "?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=123", nil, nil, 403},
		{"GET with no parameters", "GET", path, nil, nil, 400},
		{"wrong method", "PUT", path, valid, signed(valid), 405},
		{"DELETE", "DELETE", path, nil, nil, 405},
		{"order with no items", "POST", path, cloudOrder(), signed(cloudOrder()), 400},
		{"negative quantity", "POST", path, cloudOrder(item(-1, "1", "USD")), nil, 400},
		{"zero quantity", "POST", path, cloudOrder(item(0, "1", "USD")), nil, 400},
		{"non-numeric quantity", "POST", path, []byte(strings.Replace(string(cloudOrder(item(2, "1", "USD"))), `"quantity":2`, `"quantity":"two"`, 1)), nil, 400},
		{"price that is not a decimal", "POST", path, cloudOrder(item(1, "7,99", "USD")), nil, 400},
		{"negative price", "POST", path, cloudOrder(item(1, "-7.99", "USD")), nil, 400},
		{"unknown currency code", "POST", path, cloudOrder(item(1, "1", "XYZ")), nil, 400},
		{"customer name longer than the schema allows", "POST", path, []byte(strings.Replace(string(valid), "Sheena Nelson", strings.Repeat("n", 300), 1)), nil, 400},
		{"mixed currencies", "POST", path, cloudOrder(item(1, "1", "USD"), item(1, "1", "EUR")), nil, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header
			if header == nil && tc.method == "POST" {
				header = signed(tc.body)
			}
			r := do(t, tc.method, tc.path, tc.body, header)
			if r.code != tc.code {
				t.Fatalf("answer %d %s, want %d", r.code, r.body, tc.code)
			}
			if tc.code != 405 && !strings.Contains(r.body, "error") && !strings.Contains(r.body, "invalid") {
				t.Errorf("answer body %q does not say what is wrong", r.body)
			}
			if n := len(orders(t, ch.Namespace)) + len(inquiries(t, ch.Namespace)); n != 0 {
				t.Fatalf("%d resources created", n)
			}
		})
	}
}

func TestVerificationHandshake(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	r := do(t, "GET", ch.Status.WebhookPath+"?hub.mode=subscribe&hub.verify_token="+verifyToken+"&hub.challenge=1158201444", nil, nil)
	if r.code != http.StatusOK || r.body != "1158201444" {
		t.Fatalf("handshake answered %d %q, want 200 with the challenge", r.code, r.body)
	}

	noToken := newChannel(t, channelOpts{api: commercev1alpha1.APICloud, secret: map[string]string{
		commercev1alpha1.SecretKeyWebhookToken: "another-long-random-webhook-token", commercev1alpha1.SecretKeyAppSecret: appSecret}})
	r = do(t, "GET", noToken.Status.WebhookPath+"?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", nil, nil)
	if r.code != http.StatusForbidden {
		t.Fatalf("handshake without a configured verify token answered %d, want 403", r.code)
	}
}

func TestInvalidElementDoesNotHideValidOnes(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	body := cloudOrders(map[string][]cart.Item{"bad": {item(1, "1", "XYZ")}, "good": {item(1, "2.50", "EUR")}})
	r := post(t, ch.Status.WebhookPath, body, appSecret)
	if r.code != http.StatusBadRequest || !strings.Contains(r.body, "XYZ") {
		t.Fatalf("answer %d %s, want 400 naming the bad currency", r.code, r.body)
	}
	got := orders(t, ch.Namespace)
	if len(got) != 1 || got[0].Spec.MessageID != "wamid.good" || got[0].Spec.Items[0].ItemPrice != "2.50" {
		t.Fatalf("want only the valid order stored, got %+v", got)
	}
}
