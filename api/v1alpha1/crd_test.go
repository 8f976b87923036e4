package v1alpha1_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// These tests prove the CRDs themselves: schema validation, defaults and CEL rules
// as a real kube-apiserver enforces them.

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

var ctx = context.Background()

func newOrder(ns string) *commercev1alpha1.WhatsAppOrder {
	return &commercev1alpha1.WhatsAppOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "order-"},
		Spec: commercev1alpha1.WhatsAppOrderSpec{
			Channel:    "shop",
			MessageID:  "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
			ReceivedAt: metav1.NewTime(time.Unix(1750096325, 0)),
			Customer:   commercev1alpha1.Customer{WaID: "16505551234", Name: "Sheena Nelson"},
			CatalogID:  "194836987003835",
			Items: []commercev1alpha1.OrderItem{
				{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"},
				{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: "25", Currency: "USD"},
			},
			Text:             "Love these!",
			ReplyToMessageID: "wamid.product",
		},
	}
}

func newInquiry(ns string) *commercev1alpha1.ProductInquiry {
	return &commercev1alpha1.ProductInquiry{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "inquiry-"},
		Spec: commercev1alpha1.ProductInquirySpec{
			Channel:          "shop",
			MessageID:        "ABGGFlA5FpafAgo6tHcNmNjXmuSf",
			ReceivedAt:       metav1.NewTime(time.Unix(1603069091, 0)),
			Customer:         commercev1alpha1.Customer{WaID: "16315551234", Name: "Kerry Fisher"},
			Product:          commercev1alpha1.ProductReference{CatalogID: "194836987003835", ProductRetailerID: "di9ozbzfi4"},
			Question:         "Is this still available?",
			ReplyToMessageID: "gBGGFlA5FpafAgkOuJbRq54qwbM",
		},
	}
}

func newChannel(ns string) *commercev1alpha1.WhatsAppChannel {
	return &commercev1alpha1.WhatsAppChannel{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "channel-"},
		Spec: commercev1alpha1.WhatsAppChannelSpec{
			PhoneNumberID: "106540352242922",
			SecretRef:     commercev1alpha1.SecretReference{Name: "shop-whatsapp"},
		},
	}
}

func TestValidObjectsAreAcceptedWithDefaults(t *testing.T) {
	ns := env.Namespace(t)

	ch := newChannel(ns)
	mustCreate(t, ch)
	if ch.Spec.API != commercev1alpha1.APICloud {
		t.Errorf("channel spec.api defaulted to %q, want Cloud", ch.Spec.API)
	}
	onPrem := newChannel(ns)
	onPrem.Spec = commercev1alpha1.WhatsAppChannelSpec{API: commercev1alpha1.APIOnPremises, APIURL: "https://wa.internal:9090", SecretRef: commercev1alpha1.SecretReference{Name: "s"}}
	mustCreate(t, onPrem)

	order := newOrder(ns)
	mustCreate(t, order)
	if order.Spec.State != commercev1alpha1.OrderPending {
		t.Errorf("order spec.state defaulted to %q, want Pending", order.Spec.State)
	}
	noNote := newOrder(ns)
	noNote.Spec.Text, noNote.Spec.ReplyToMessageID = "", ""
	noNote.Spec.Customer = commercev1alpha1.Customer{UserID: "US.13491208655302741918"}
	mustCreate(t, noNote)

	inquiry := newInquiry(ns)
	mustCreate(t, inquiry)
	answered := newInquiry(ns)
	answered.Spec.Reply = &commercev1alpha1.InquiryReply{Text: "Yes, in stock."}
	mustCreate(t, answered)

	// Status is a subresource: the controller writes it apart from the spec.
	order.Status.Phase = commercev1alpha1.OrderPhase(commercev1alpha1.OrderPending)
	order.Status.Total = "40.98"
	if err := env.Client.Status().Update(ctx, order); err != nil {
		t.Fatalf("status update: %v", err)
	}
	var got commercev1alpha1.WhatsAppOrder
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(order), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.Total != "40.98" || got.Spec.State != commercev1alpha1.OrderPending {
		t.Errorf("after status update got total %q state %q", got.Status.Total, got.Spec.State)
	}
}

func TestInvalidObjectsAreRefused(t *testing.T) {
	ns := env.Namespace(t)
	cases := []struct {
		name    string
		obj     func() client.Object
		message string
	}{
		{"order state not in the enum", func() client.Object {
			o := newOrder(ns)
			o.Spec.State = "Lost"
			return o
		}, `spec.state: Unsupported value: "Lost"`},
		{"channel name too long for the channel label", func() client.Object {
			c := newChannel(ns)
			c.Name = strings.Repeat("c", 64)
			return c
		}, "a channel's name is at most 63 characters"},
		{"channel api not in the enum", func() client.Object {
			c := newChannel(ns)
			c.Spec.API = "Business"
			return c
		}, `spec.api: Unsupported value: "Business"`},
		{"zero quantity", func() client.Object {
			o := newOrder(ns)
			o.Spec.Items[0].Quantity = 0
			return o
		}, "spec.items[0].quantity: Invalid value: 0: spec.items[0].quantity in body should be greater than or equal to 1"},
		{"negative quantity", func() client.Object {
			o := newOrder(ns)
			o.Spec.Items[1].Quantity = -2
			return o
		}, "spec.items[1].quantity"},
		{"price with a comma", func() client.Object {
			o := newOrder(ns)
			o.Spec.Items[0].ItemPrice = "7,99"
			return o
		}, `spec.items[0].itemPrice: Invalid value: "7,99"`},
		{"negative price", func() client.Object {
			o := newOrder(ns)
			o.Spec.Items[0].ItemPrice = "-1"
			return o
		}, `spec.items[0].itemPrice: Invalid value: "-1"`},
		{"price in exponent form", func() client.Object {
			o := newOrder(ns)
			o.Spec.Items[0].ItemPrice = "1e3"
			return o
		}, `spec.items[0].itemPrice: Invalid value: "1e3"`},
		{"lower-case currency", func() client.Object {
			o := newOrder(ns)
			o.Spec.Items[0].Currency = "usd"
			return o
		}, `spec.items[0].currency: Invalid value: "usd"`},
		{"order without items", func() client.Object {
			o := newOrder(ns)
			o.Spec.Items = nil
			return o
		}, "spec.items: Required value"},
		{"customer without any id", func() client.Object {
			o := newOrder(ns)
			o.Spec.Customer = commercev1alpha1.Customer{Name: "Anonymous"}
			return o
		}, "customer needs a waID or a userID"},
		{"Cloud channel without a phone number id", func() client.Object {
			c := newChannel(ns)
			c.Spec.PhoneNumberID = ""
			return c
		}, "phoneNumberID is required when api is Cloud"},
		{"On-Premises channel without an API URL", func() client.Object {
			c := newChannel(ns)
			c.Spec.API = commercev1alpha1.APIOnPremises
			return c
		}, "apiURL is required when api is OnPremises"},
		{"channel without a secret", func() client.Object {
			c := newChannel(ns)
			c.Spec.SecretRef.Name = ""
			return c
		}, "spec.secretRef.name"},
		{"inquiry with an empty reply", func() client.Object {
			i := newInquiry(ns)
			i.Spec.Reply = &commercev1alpha1.InquiryReply{}
			return i
		}, "spec.reply.text"},
		{"inquiry without a product", func() client.Object {
			i := newInquiry(ns)
			i.Spec.Product = commercev1alpha1.ProductReference{}
			return i
		}, "spec.product.catalogID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := env.Client.Create(ctx, tc.obj())
			expectInvalid(t, err, tc.message)
		})
	}
}

func TestImmutableFieldsRefuseUpdates(t *testing.T) {
	ns := env.Namespace(t)
	orderCases := []struct {
		message string
		mutate  func(*commercev1alpha1.WhatsAppOrder)
	}{
		{"channel is immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.Channel = "other" }},
		{"messageID is immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.MessageID = "wamid.other" }},
		{"receivedAt is immutable", func(o *commercev1alpha1.WhatsAppOrder) {
			o.Spec.ReceivedAt = metav1.NewTime(o.Spec.ReceivedAt.Add(time.Hour))
		}},
		{"customer is immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.Customer.Name = "Someone Else" }},
		{"customer is immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.Customer.UserID = "US.1" }},
		{"catalogID is immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.CatalogID = "1" }},
		{"items are immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.Items[0].Quantity = 20 }},
		{"items are immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.Items[1].ItemPrice = "0" }},
		{"items are immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.Items = o.Spec.Items[:1] }},
		{"text is immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.Text = "changed" }},
		{"text is immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.Text = "" }},
		{"replyToMessageID is immutable", func(o *commercev1alpha1.WhatsAppOrder) { o.Spec.ReplyToMessageID = "" }},
	}
	for _, tc := range orderCases {
		t.Run("order "+tc.message, func(t *testing.T) {
			o := newOrder(ns)
			mustCreate(t, o)
			tc.mutate(o)
			expectInvalid(t, env.Client.Update(ctx, o), tc.message)
		})
	}

	inquiryCases := []struct {
		field   string
		initial *commercev1alpha1.InquiryReply
		mutate  func(*commercev1alpha1.ProductInquiry)
		message string
	}{
		{"channel", nil, func(i *commercev1alpha1.ProductInquiry) { i.Spec.Channel = "other" }, "channel is immutable"},
		{"messageID", nil, func(i *commercev1alpha1.ProductInquiry) { i.Spec.MessageID = "x" }, "messageID is immutable"},
		{"receivedAt", nil, func(i *commercev1alpha1.ProductInquiry) { i.Spec.ReceivedAt = metav1.NewTime(time.Unix(0, 0)) }, "receivedAt is immutable"},
		{"customer", nil, func(i *commercev1alpha1.ProductInquiry) { i.Spec.Customer.WaID = "1" }, "customer is immutable"},
		{"product", nil, func(i *commercev1alpha1.ProductInquiry) { i.Spec.Product.ProductRetailerID = "other" }, "product is immutable"},
		{"question", nil, func(i *commercev1alpha1.ProductInquiry) { i.Spec.Question = "?" }, "question is immutable"},
		{"replyToMessageID", nil, func(i *commercev1alpha1.ProductInquiry) { i.Spec.ReplyToMessageID = "y" }, "replyToMessageID is immutable"},
		{"reply changed", &commercev1alpha1.InquiryReply{Text: "Yes"}, func(i *commercev1alpha1.ProductInquiry) { i.Spec.Reply.Text = "No" }, "reply.text cannot change once set"},
		{"reply removed", &commercev1alpha1.InquiryReply{Text: "Yes"}, func(i *commercev1alpha1.ProductInquiry) { i.Spec.Reply = nil }, "reply.text cannot change once set"},
	}
	for _, tc := range inquiryCases {
		t.Run("inquiry "+tc.field, func(t *testing.T) {
			i := newInquiry(ns)
			i.Spec.Reply = tc.initial
			mustCreate(t, i)
			tc.mutate(i)
			expectInvalid(t, env.Client.Update(ctx, i), tc.message)
		})
	}

	t.Run("inquiry reply can be set once", func(t *testing.T) {
		i := newInquiry(ns)
		mustCreate(t, i)
		i.Spec.Reply = &commercev1alpha1.InquiryReply{Text: "Yes, in stock."}
		if err := env.Client.Update(ctx, i); err != nil {
			t.Fatalf("setting reply.text: %v", err)
		}
	})
}

func TestOrderStateMachine(t *testing.T) {
	ns := env.Namespace(t)
	states := []commercev1alpha1.OrderState{commercev1alpha1.OrderPending, commercev1alpha1.OrderAccepted, commercev1alpha1.OrderRejected, commercev1alpha1.OrderShipped, commercev1alpha1.OrderDelivered, commercev1alpha1.OrderCancelled}
	// pathTo is a sequence of allowed moves from Pending to each state.
	pathTo := map[commercev1alpha1.OrderState][]commercev1alpha1.OrderState{
		commercev1alpha1.OrderPending:   nil,
		commercev1alpha1.OrderAccepted:  {commercev1alpha1.OrderAccepted},
		commercev1alpha1.OrderRejected:  {commercev1alpha1.OrderRejected},
		commercev1alpha1.OrderShipped:   {commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped},
		commercev1alpha1.OrderDelivered: {commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped, commercev1alpha1.OrderDelivered},
		commercev1alpha1.OrderCancelled: {commercev1alpha1.OrderCancelled},
	}
	finalMessage := map[commercev1alpha1.OrderState]string{
		commercev1alpha1.OrderPending:   "from Pending it can move to Accepted, Rejected or Cancelled",
		commercev1alpha1.OrderAccepted:  "from Accepted it can move to Shipped or Cancelled",
		commercev1alpha1.OrderShipped:   "from Shipped it can move to Delivered",
		commercev1alpha1.OrderRejected:  "Rejected is final",
		commercev1alpha1.OrderDelivered: "Delivered is final",
		commercev1alpha1.OrderCancelled: "Cancelled is final",
	}
	for _, from := range states {
		for _, to := range states {
			if from == to {
				continue
			}
			// OrderState.CanMoveTo is what tools consult; this proves it is the CEL rule.
			ok := from.CanMoveTo(to)
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				o := newOrder(ns)
				mustCreate(t, o)
				for _, s := range pathTo[from] {
					o.Spec.State = s
					if err := env.Client.Update(ctx, o); err != nil {
						t.Fatalf("walking to %s: moving to %s: %v", from, s, err)
					}
				}
				o.Spec.State = to
				err := env.Client.Update(ctx, o)
				if ok {
					if err != nil {
						t.Fatalf("allowed move refused: %v", err)
					}
					return
				}
				expectInvalid(t, err, fmt.Sprintf("state cannot move from %s to %s: %s", from, to, finalMessage[from]))
			})
		}
	}
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(ctx, obj); err != nil {
		t.Fatalf("creating %T: %v", obj, err)
	}
}

func expectInvalid(t *testing.T, err error, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want refusal mentioning %q", message)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("got %v; want an Invalid error mentioning %q", err, message)
	}
	if !strings.Contains(err.Error(), message) {
		t.Fatalf("error %q does not mention %q", err, message)
	}
}
