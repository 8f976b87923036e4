package webhookreceiver_test

import (
	"net/http"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
)

// TestSamples posts every sample body of testdata/webhooks through the handler
// and asserts exactly what lands in the API server.
func TestSamples(t *testing.T) {
	sheena := commercev1alpha1.Customer{WaID: "16505551234", Name: "Sheena Nelson"}
	kerry := commercev1alpha1.Customer{WaID: "16315551234", Name: "Kerry Fisher"}
	const (
		cloudOrderID   = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
		cloudInquiryID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTA2NTUwRkNEMDdFQjJCRUU0NQA="
		productMessage = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGA9wcm9kdWN0X2lucXVpcnkA"
	)
	cloudInquiry := commercev1alpha1.ProductInquirySpec{
		Channel: "shop", MessageID: cloudInquiryID, ReceivedAt: at(1750016800), Customer: sheena,
		Product:  commercev1alpha1.ProductReference{CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4"},
		Question: "Is this still available?", ReplyToMessageID: productMessage,
	}
	cases := []struct {
		file      string
		api       commercev1alpha1.APIGeneration
		phone     string
		orders    []commercev1alpha1.WhatsAppOrderSpec
		inquiries []commercev1alpha1.ProductInquirySpec
		// sentID is a message the operator sent, recorded on an order before the
		// body is posted; wantDelivery is its delivery status afterwards.
		sentID       string
		wantDelivery commercev1alpha1.DeliveryStatus
		wantError    int64
	}{
		{file: "cloud-batch-inquiry-order-status.json", api: commercev1alpha1.APICloud,
			inquiries: []commercev1alpha1.ProductInquirySpec{cloudInquiry},
			orders: []commercev1alpha1.WhatsAppOrderSpec{{
				Channel: "shop", MessageID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAB=", ReceivedAt: at(1750096325),
				Customer: sheena, CatalogID: "194836987003835", Text: "Love these!", State: commercev1alpha1.OrderPending,
				Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "30", Currency: "USD"}},
			}},
			sentID: cloudOrderID, wantDelivery: commercev1alpha1.DeliverySent},
		{file: "cloud-errors.json", api: commercev1alpha1.APICloud},
		{file: "cloud-order-bsuid-empty-text.json", api: commercev1alpha1.APICloud, phone: "1122334455667",
			orders: []commercev1alpha1.WhatsAppOrderSpec{{
				Channel: "shop", MessageID: "wamid.xyzxyz", ReceivedAt: at(1697044668), State: commercev1alpha1.OrderPending,
				Customer:  commercev1alpha1.Customer{WaID: "972987654321", UserID: "US.13491208655302741918", Name: "Test Name"},
				CatalogID: "354160437058781",
				Items: []commercev1alpha1.OrderItem{
					{ProductRetailerID: "HAMBURGER", Quantity: 3, ItemPrice: "30", Currency: "ILS"},
					{ProductRetailerID: "FRENCH_FRIES", Quantity: 2, ItemPrice: "35", Currency: "ILS"},
					{ProductRetailerID: "SODA", Quantity: 2, ItemPrice: "10", Currency: "ILS"},
				},
			}}},
		{file: "cloud-order-fractional-price.json", api: commercev1alpha1.APICloud,
			orders: []commercev1alpha1.WhatsAppOrderSpec{{
				Channel: "shop", MessageID: cloudOrderID, ReceivedAt: at(1750096325), State: commercev1alpha1.OrderPending,
				Customer: sheena, CatalogID: "194836987003835",
				Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"}},
			}}},
		{file: "cloud-order-multi-item.json", api: commercev1alpha1.APICloud,
			orders: []commercev1alpha1.WhatsAppOrderSpec{{
				Channel: "shop", MessageID: cloudOrderID, ReceivedAt: at(1750096325), State: commercev1alpha1.OrderPending,
				Customer: sheena, CatalogID: "194836987003835", Text: "Love these!",
				Items: []commercev1alpha1.OrderItem{
					{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "30", Currency: "USD"},
					{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: "25", Currency: "USD"},
				},
			}}},
		{file: "cloud-product-inquiry.json", api: commercev1alpha1.APICloud, inquiries: []commercev1alpha1.ProductInquirySpec{cloudInquiry}},
		{file: "cloud-status-failed.json", api: commercev1alpha1.APICloud,
			sentID: "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA", wantDelivery: commercev1alpha1.DeliveryFailed, wantError: 131049},
		{file: "cloud-status-minimal.json", api: commercev1alpha1.APICloud, sentID: cloudOrderID, wantDelivery: commercev1alpha1.DeliverySent},
		{file: "cloud-status-sent.json", api: commercev1alpha1.APICloud, sentID: cloudOrderID, wantDelivery: commercev1alpha1.DeliverySent},
		{file: "cloud-unsupported.json", api: commercev1alpha1.APICloud, phone: "1122334455667"},
		{file: "cloud-order-username-only.json", api: commercev1alpha1.APICloud,
			orders: []commercev1alpha1.WhatsAppOrderSpec{{
				Channel: "shop", MessageID: "wamid.HBgNVVMuMTM0OTEyMDg2NTUzMDI3NDE5MTgVAgASGBQzQUIxRjBBMjI3RjdDNTNEQzlCNQA=", ReceivedAt: at(1767225600),
				State: commercev1alpha1.OrderPending, Customer: commercev1alpha1.Customer{UserID: "US.13491208655302741918", Name: "Noa"}, CatalogID: "194836987003835",
				Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "di9ozbzfi4", Quantity: 1, ItemPrice: "12.5", Currency: "USD"}},
			}}},
		// Without metadata the change is for the channel it was posted to.
		{file: "cloud-status-no-metadata.json", api: commercev1alpha1.APICloud, sentID: cloudOrderID, wantDelivery: commercev1alpha1.DeliveryRead},

		{file: "onprem-errors.json", api: commercev1alpha1.APIOnPremises},
		{file: "onprem-order-multi-item.json", api: commercev1alpha1.APIOnPremises,
			orders: []commercev1alpha1.WhatsAppOrderSpec{{
				Channel: "shop", MessageID: "ABGGFlCGg0cvAgo6cHbBhfK5760V", ReceivedAt: at(1603069091), State: commercev1alpha1.OrderPending,
				Customer: kerry, CatalogID: "194836987003835", Text: "Love these!", ReplyToMessageID: "gBGGFlaCGg0xcvAdgmZ9plHrf2Mh-o",
				Items: []commercev1alpha1.OrderItem{
					{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "30", Currency: "USD"},
					{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: "25", Currency: "USD"},
				},
			}}},
		{file: "onprem-product-inquiry.json", api: commercev1alpha1.APIOnPremises,
			inquiries: []commercev1alpha1.ProductInquirySpec{{
				Channel: "shop", MessageID: "ABGGFlA5FpafAgo6tHcNmNjXmuSf", ReceivedAt: at(1603069091), Customer: kerry,
				Product:  commercev1alpha1.ProductReference{CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4"},
				Question: "Is this still available?", ReplyToMessageID: "gBGGFlA5FpafAgkOuJbRq54qwbM",
			}}},
		// deleted is not a delivery status of a text: acknowledged, nothing moves.
		{file: "onprem-status-deleted.json", api: commercev1alpha1.APIOnPremises, sentID: "ABGGFmkiWVVPAgo66iFiii_-TG0-", wantDelivery: commercev1alpha1.DeliverySent},
		{file: "onprem-status-delivered.json", api: commercev1alpha1.APIOnPremises, sentID: "gBGGEgFVUXl_AgmQ1p4lCm7vdfo", wantDelivery: commercev1alpha1.DeliveryDelivered},
		{file: "onprem-status-failed-window-closed.json", api: commercev1alpha1.APIOnPremises,
			sentID: "gBGGEgZHMlEfAgkM1RBkhDRr7t8", wantDelivery: commercev1alpha1.DeliveryFailed, wantError: 470},
		{file: "onprem-status-sent.json", api: commercev1alpha1.APIOnPremises, sentID: "message-ID", wantDelivery: commercev1alpha1.DeliverySent},
		{file: "onprem-text.json", api: commercev1alpha1.APIOnPremises},
		{file: "onprem-unsupported.json", api: commercev1alpha1.APIOnPremises},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			ch := newChannel(t, channelOpts{api: tc.api, phone: tc.phone})
			var sender *commercev1alpha1.WhatsAppOrder
			if tc.sentID != "" {
				sender = orderThatSent(t, ch, tc.sentID)
			}
			r := post(t, ch.Status.WebhookPath, sample(t, tc.file), appSecret)
			if r.code != http.StatusOK {
				t.Fatalf("answer %d %s, want 200", r.code, r.body)
			}

			gotOrders := orders(t, ch.Namespace)
			if sender != nil {
				gotOrders = without(gotOrders, sender.Name)
			}
			if len(gotOrders) != len(tc.orders) {
				t.Fatalf("got %d orders, want %d", len(gotOrders), len(tc.orders))
			}
			for _, want := range tc.orders {
				var got commercev1alpha1.WhatsAppOrder
				key := client.ObjectKey{Namespace: ch.Namespace, Name: commercev1alpha1.ResourceName("shop", want.MessageID)}
				if err := env.Client.Get(ctx, key, &got); err != nil {
					t.Fatalf("order for %s: %v", want.MessageID, err)
				}
				assertEqual(t, "order spec", got.Spec, want)
				assertLabels(t, got.Labels, want.Customer.WaID)
			}
			gotInquiries := inquiries(t, ch.Namespace)
			if len(gotInquiries) != len(tc.inquiries) {
				t.Fatalf("got %d inquiries, want %d", len(gotInquiries), len(tc.inquiries))
			}
			for _, want := range tc.inquiries {
				var got commercev1alpha1.ProductInquiry
				key := client.ObjectKey{Namespace: ch.Namespace, Name: commercev1alpha1.ResourceName("shop", want.MessageID)}
				if err := env.Client.Get(ctx, key, &got); err != nil {
					t.Fatalf("inquiry for %s: %v", want.MessageID, err)
				}
				assertEqual(t, "inquiry spec", got.Spec, want)
				assertLabels(t, got.Labels, want.Customer.WaID)
			}
			if sender != nil {
				if err := env.Client.Get(ctx, client.ObjectKeyFromObject(sender), sender); err != nil {
					t.Fatal(err)
				}
				m := sender.SentMessage(tc.sentID)
				if m.DeliveryStatus != tc.wantDelivery {
					t.Errorf("delivery status %q, want %q", m.DeliveryStatus, tc.wantDelivery)
				}
				if tc.wantError != 0 && (m.Error == nil || m.Error.Code != tc.wantError) {
					t.Errorf("delivery error %+v, want code %d", m.Error, tc.wantError)
				}
			}
		})
	}
}

func at(unix int64) metav1.Time { return metav1.NewTime(time.Unix(unix, 0)) }

// orderThatSent creates an order whose status records that the operator sent
// messageID (delivery status sent), and waits until the receiver's cache knows.
func orderThatSent(t *testing.T, ch *commercev1alpha1.WhatsAppChannel, messageID string) *commercev1alpha1.WhatsAppOrder {
	t.Helper()
	o := &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ch.Namespace, Name: "sender"},
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel: ch.Name, MessageID: "wamid.original-order", ReceivedAt: at(1700000000),
			Customer: commercev1alpha1.Customer{WaID: "16505551234"}, CatalogID: "1",
			Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "p", Quantity: 1, ItemPrice: "1", Currency: "USD"}},
		},
	}
	mustCreate(t, o)
	o.Status.Notifications = []commercev1alpha1.OrderNotification{{State: commercev1alpha1.OrderAccepted,
		SentMessage: commercev1alpha1.SentMessage{MessageID: messageID, DeliveryStatus: commercev1alpha1.DeliverySent}}}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the sent message in the cache index", func() bool {
		var list commercev1alpha1.WhatsAppOrderList
		_ = mgrCache.List(ctx, &list, client.MatchingFields{index.SentMessage: messageID}, client.InNamespace(ch.Namespace))
		return len(list.Items) == 1
	})
	return o
}

func without(list []commercev1alpha1.WhatsAppOrder, name string) []commercev1alpha1.WhatsAppOrder {
	var out []commercev1alpha1.WhatsAppOrder
	for _, o := range list {
		if o.Name != name {
			out = append(out, o)
		}
	}
	return out
}

func assertLabels(t *testing.T, got map[string]string, waID string) {
	t.Helper()
	if got[commercev1alpha1.LabelChannel] != "shop" || got[commercev1alpha1.LabelCustomer] != waID {
		t.Errorf("labels %v, want channel shop and customer %s", got, waID)
	}
}
