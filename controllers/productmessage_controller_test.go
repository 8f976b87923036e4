package controllers_test

import (
	"k8s.io/client-go/util/retry"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
)

const catalogID = "194836987003835"

// productMessage is a multi-product message to the test customer on the
// world's channel; change adjusts it before it is created.
func (w *world) productMessage(name string, change ...func(*commercev1alpha1.ProductMessageSpec)) *commercev1alpha1.ProductMessage {
	w.t.Helper()
	pm := &commercev1alpha1.ProductMessage{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: name}, Spec: commercev1alpha1.ProductMessageSpec{
		Channel: "shop", To: commercev1alpha1.Recipient{WaID: customer}, CatalogID: catalogID,
		Header: "Summer picks", Body: "Three things you will love", Footer: "Free delivery",
		Sections: []commercev1alpha1.ProductSection{
			{Title: "Tees", ProductRetailerIDs: []string{"di9ozbzfi4", "nqryix03ez"}},
			{Title: "Hats", ProductRetailerIDs: []string{"hat0001"}},
		},
	}}
	for _, c := range change {
		c(&pm.Spec)
	}
	w.create(pm)
	return pm
}

func singleProduct(s *commercev1alpha1.ProductMessageSpec) {
	s.Sections, s.Header = nil, ""
	s.Product = &commercev1alpha1.SingleProduct{ProductRetailerID: "di9ozbzfi4"}
}

func catalogShowcase(s *commercev1alpha1.ProductMessageSpec) {
	s.Sections, s.Header = nil, ""
	s.Catalog = &commercev1alpha1.CatalogShowcase{ThumbnailProductRetailerID: "di9ozbzfi4"}
}

func withTemplate(s *commercev1alpha1.ProductMessageSpec) {
	s.Template = &commercev1alpha1.ProductTemplate{Name: "summer_picks", Language: "en_US"}
}

func (w *world) waitMessage(pm *commercev1alpha1.ProductMessage, what string, cond func(*commercev1alpha1.ProductMessage) bool) {
	w.t.Helper()
	w.eventually(what, func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(pm), pm)
		return pm.Status.ObservedGeneration == pm.Generation && cond(pm)
	})
}

func phaseIs(phase commercev1alpha1.ProductMessagePhase) func(*commercev1alpha1.ProductMessage) bool {
	return func(pm *commercev1alpha1.ProductMessage) bool { return pm.Status.Phase == phase }
}

func sentReason(pm *commercev1alpha1.ProductMessage) string {
	if c := meta.FindStatusCondition(pm.Status.Conditions, commercev1alpha1.ConditionSent); c != nil {
		return c.Reason
	}
	return ""
}

var shelves = []fakewhatsapp.Section{{Title: "Tees", ProductRetailerIDs: []string{"di9ozbzfi4", "nqryix03ez"}}, {Title: "Hats", ProductRetailerIDs: []string{"hat0001"}}}

// Each kind of message reaches WhatsApp as the interactive message it names;
// the bytes of each request are pinned in the whatsapp package's tests.
func TestEachKindOfProductMessageIsSent(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	cases := []struct {
		name   string
		change func(*commercev1alpha1.ProductMessageSpec)
		want   fakewhatsapp.Interactive
	}{
		{"sections", func(*commercev1alpha1.ProductMessageSpec) {},
			fakewhatsapp.Interactive{Type: "product_list", CatalogID: catalogID, Header: "Summer picks", Body: "Three things you will love", Footer: "Free delivery", Sections: shelves}},
		{"product", singleProduct,
			fakewhatsapp.Interactive{Type: "product", CatalogID: catalogID, ProductRetailerID: "di9ozbzfi4", Body: "Three things you will love", Footer: "Free delivery"}},
		{"catalog", catalogShowcase,
			fakewhatsapp.Interactive{Type: "catalog_message", ProductRetailerID: "di9ozbzfi4", Body: "Three things you will love", Footer: "Free delivery"}},
	}
	for i, tc := range cases {
		pm := w.productMessage(tc.name, tc.change)
		w.waitMessage(pm, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
		sent := w.fake.Sent()
		if len(sent) != i+1 {
			t.Fatalf("%s: fake accepted %d sends, want %d", tc.name, len(sent), i+1)
		}
		got := sent[i]
		if got.Type != "interactive" || got.To != customer || got.Interactive == nil || !reflect.DeepEqual(*got.Interactive, tc.want) {
			t.Errorf("%s: sent %+v %+v, want %+v", tc.name, got, got.Interactive, tc.want)
		}
		if got.CallbackData != "wco1|ProductMessage|"+w.ns+"|"+tc.name+"|product" {
			t.Errorf("%s: callback data %q", tc.name, got.CallbackData)
		}
		if pm.Status.MessageID != got.MessageID || pm.Status.Type != tc.want.Type || pm.Status.Form != commercev1alpha1.FormInteractive || pm.Status.SentAt == nil ||
			sentReason(pm) != commercev1alpha1.ReasonSent || !meta.IsStatusConditionTrue(pm.Status.Conditions, commercev1alpha1.ConditionReady) {
			t.Errorf("%s: status %+v", tc.name, pm.Status)
		}
	}
}

func TestClosedWindowFallsBackToTheTemplateOnce(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	must(t, w.fake.FailNext(fakewhatsapp.FailWindowClosed, 1))
	pm := w.productMessage("mpm", withTemplate)
	w.waitMessage(pm, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	sent := w.fake.Sent()
	if len(sent) != 1 || sent[0].Type != "template" || sent[0].TemplateName != "summer_picks" {
		t.Fatalf("want the template alone accepted, got %+v", sent)
	}
	if b := sent[0].TemplateButton; b == nil || b.SubType != "mpm" || b.ThumbnailProductRetailerID != "di9ozbzfi4" || !reflect.DeepEqual(b.Sections, shelves) {
		t.Fatalf("template button %+v, want mpm with the spec's sections", sent[0].TemplateButton)
	}
	if pm.Status.Form != commercev1alpha1.FormTemplate || pm.Status.MessageID != sent[0].MessageID {
		t.Fatalf("status %+v", pm.Status)
	}

	// A template that is rate-limited is retried as the template, never as
	// the interactive message again.
	must(t, w.fake.FailSequence(fakewhatsapp.FailWindowClosed, fakewhatsapp.FailRateLimited))
	retried := w.productMessage("mpm-retried", withTemplate)
	w.waitMessage(retried, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	if sent := w.fake.Sent(); len(sent) != 2 || sent[1].Type != "template" || retried.Status.Form != commercev1alpha1.FormTemplate {
		t.Fatalf("sends %+v, form %s: want the template alone, once", sent, retried.Status.Form)
	}

	// A single product goes as a catalog template showing it.
	must(t, w.fake.FailNext(fakewhatsapp.FailWindowClosed, 1))
	single := w.productMessage("single", singleProduct, withTemplate)
	w.waitMessage(single, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	if b := w.fake.Sent()[2].TemplateButton; b == nil || b.SubType != "CATALOG" || b.ThumbnailProductRetailerID != "di9ozbzfi4" {
		t.Fatalf("template button %+v, want CATALOG with the product", b)
	}
}

func TestClosedWindowWithoutTemplateFails(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	must(t, w.fake.FailAlways(fakewhatsapp.FailWindowClosed))
	pm := w.productMessage("no-template")
	w.waitMessage(pm, "failed", phaseIs(commercev1alpha1.ProductMessageFailed))
	if sentReason(pm) != commercev1alpha1.ReasonWindowClosed || !meta.IsStatusConditionTrue(pm.Status.Conditions, commercev1alpha1.ConditionStalled) ||
		pm.Status.Error == nil || pm.Status.Error.Code != 131047 {
		t.Fatalf("status %+v, want Failed WindowClosed, Stalled, with WhatsApp's 131047", pm.Status)
	}
	w.eventually("a Warning event", func() bool { return w.hasEvent(pm, corev1.EventTypeWarning, commercev1alpha1.ReasonWindowClosed) })

	// With a template that is refused too (the window cannot close twice),
	// the template is tried once and the message fails.
	tpl := w.productMessage("template-refused", withTemplate)
	w.waitMessage(tpl, "failed", phaseIs(commercev1alpha1.ProductMessageFailed))
	if sentReason(tpl) != commercev1alpha1.ReasonWindowClosed || tpl.Status.Form != commercev1alpha1.FormTemplate {
		t.Fatalf("status %+v", tpl.Status)
	}
	if n := len(w.fake.Sent()); n != 0 {
		t.Fatalf("fake accepted %d sends", n)
	}
}

func TestUnknownProductIsAFinalRefusal(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	w.fake.SetCatalog(catalogID, "di9ozbzfi4", "nqryix03ez")
	pm := w.productMessage("unknown-hat", withTemplate)
	w.waitMessage(pm, "failed", phaseIs(commercev1alpha1.ProductMessageFailed))
	if sentReason(pm) != commercev1alpha1.ReasonSendFailed || pm.Status.Error == nil || pm.Status.Error.Code != 131009 ||
		pm.Status.DeliveryStatus != commercev1alpha1.DeliveryFailed || !meta.IsStatusConditionTrue(pm.Status.Conditions, commercev1alpha1.ConditionStalled) {
		t.Fatalf("status %+v, want Failed SendFailed with 131009", pm.Status)
	}
	w.eventually("a Warning event", func() bool { return w.hasEvent(pm, corev1.EventTypeWarning, commercev1alpha1.ReasonSendFailed) })
	w.touch(pm)
	w.waitMessage(pm, "still failed", phaseIs(commercev1alpha1.ProductMessageFailed))
	if n := len(w.fake.Sent()); n != 0 {
		t.Fatalf("a refused message was sent %d times", n)
	}
}

func TestRateLimitsAndServerErrorsAreRetried(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	must(t, w.fake.FailNext(fakewhatsapp.FailServerError, 2))
	pm := w.productMessage("retried", singleProduct)
	// WhatsApp may have taken a message it answered 5xx: it is sent again
	// only once the intent timeout passed without a status.
	w.waitMessage(pm, "sent", func(pm *commercev1alpha1.ProductMessage) bool {
		w.timeOut(pm, pm.Status.SentMessage)
		return pm.Status.Phase == commercev1alpha1.ProductMessageSent
	})
	must(t, w.fake.FailNext(fakewhatsapp.FailRateLimited, 1))
	limited := w.productMessage("limited", singleProduct)
	w.waitMessage(limited, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	if n := len(w.fake.Sent()); n != 2 {
		t.Fatalf("fake accepted %d sends, want one per message", n)
	}
}

func TestTrackedMessageIsNotSentAndItsStatusesApply(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	const id = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2+/="
	pm := w.productMessage("tracked", func(s *commercev1alpha1.ProductMessageSpec) { s.MessageID = id })
	w.waitMessage(pm, "tracked", phaseIs(commercev1alpha1.ProductMessageSent))
	if sentReason(pm) != commercev1alpha1.ReasonTracked || pm.Status.MessageID != id {
		t.Fatalf("status %+v", pm.Status)
	}
	must(t, w.fake.PostStatuses(ctx, w.webhookURL(), []byte(appSecret), "Cloud", id, customer, []string{"delivered", "sent"}, false))
	w.eventually("delivered", func() bool {
		w.get(pm)
		return pm.Status.DeliveryStatus == commercev1alpha1.DeliveryDelivered
	})
	if n := len(w.fake.Sent()); n != 0 {
		t.Fatalf("a tracked message was sent %d times", n)
	}
}

func TestStatusesOutOfOrderNeverMoveBackwards(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	pm := w.productMessage("statuses")
	w.waitMessage(pm, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	must(t, w.fake.PostStatuses(ctx, w.webhookURL(), []byte(appSecret), "Cloud", pm.Status.MessageID, customer, []string{"read", "sent", "delivered"}, false))
	w.eventually("read", func() bool {
		w.get(pm)
		return pm.Status.DeliveryStatus == commercev1alpha1.DeliveryRead
	})
	must(t, w.fake.PostStatuses(ctx, w.webhookURL(), []byte(appSecret), "Cloud", pm.Status.MessageID, customer, []string{"failed", "read"}, false))
	w.eventually("failed, final", func() bool {
		w.get(pm)
		return pm.Status.DeliveryStatus == commercev1alpha1.DeliveryFailed && pm.Status.Error != nil
	})
	must(t, w.fake.PostStatuses(ctx, w.webhookURL(), []byte(appSecret), "Cloud", pm.Status.MessageID, customer, []string{"delivered"}, false))
	if w.get(pm); pm.Status.DeliveryStatus != commercev1alpha1.DeliveryFailed {
		t.Fatalf("delivery status moved from failed to %s", pm.Status.DeliveryStatus)
	}
}

// The funnel: orders in two currencies and in several states, and an
// inquiry, replying to the message; rejected and cancelled orders leave the revenue.
func TestFunnel(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	pm := w.productMessage("summer")
	w.waitMessage(pm, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	reply := func(r fakewhatsapp.Reply) string {
		t.Helper()
		id, err := w.fake.ReplyTo(ctx, w.webhookURL(), []byte(appSecret), pm.Status.MessageID, r)
		must(t, err)
		return id
	}
	usd := reply(fakewhatsapp.Reply{Items: []fakewhatsapp.OrderItem{{ProductRetailerID: "di9ozbzfi4", Quantity: 2, Price: "7.99", Currency: "USD"}, {ProductRetailerID: "hat0001", Quantity: 1, Price: "25", Currency: "USD"}}})
	reply(fakewhatsapp.Reply{Items: []fakewhatsapp.OrderItem{{ProductRetailerID: "nqryix03ez", Quantity: 3, Price: "10.5", Currency: "EUR"}}})
	rejected := reply(fakewhatsapp.Reply{Items: []fakewhatsapp.OrderItem{{ProductRetailerID: "hat0001", Quantity: 4, Price: "25", Currency: "USD"}}})
	cancelled := reply(fakewhatsapp.Reply{Items: []fakewhatsapp.OrderItem{{ProductRetailerID: "hat0001", Quantity: 1, Price: "20", Currency: "EUR"}}})
	reply(fakewhatsapp.Reply{InquiryProduct: "hat0001", Text: "In blue?"})

	revenue := func(want ...commercev1alpha1.Revenue) func(*commercev1alpha1.ProductMessage) bool {
		return func(pm *commercev1alpha1.ProductMessage) bool {
			return pm.Status.Orders == 4 && pm.Status.Inquiries == 1 && reflect.DeepEqual(pm.Status.Revenue, want)
		}
	}
	w.waitMessage(pm, "4 orders, 1 inquiry and the revenue of all four", revenue(
		commercev1alpha1.Revenue{Currency: "EUR", Total: "51.50"}, commercev1alpha1.Revenue{Currency: "USD", Total: "140.98"}))

	order := func(id string) *commercev1alpha1.WhatsAppOrder {
		o := &commercev1alpha1.WhatsAppOrder{}
		must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: commercev1alpha1.ResourceName("shop", id)}, o))
		return o
	}
	w.setState(order(rejected), commercev1alpha1.OrderRejected)
	w.setState(order(cancelled), commercev1alpha1.OrderCancelled)
	w.setState(order(usd), commercev1alpha1.OrderAccepted)
	w.waitMessage(pm, "rejected and cancelled orders out of the revenue", revenue(
		commercev1alpha1.Revenue{Currency: "EUR", Total: "31.50"}, commercev1alpha1.Revenue{Currency: "USD", Total: "40.98"}))
	if pm.Status.RevenueSummary != "31.50 EUR, 40.98 USD" {
		t.Errorf("revenue summary %q", pm.Status.RevenueSummary)
	}

	// WhatsApp reports a payment captured for the USD order (the receiver's
	// write, a status change only): the paid revenue follows.
	must(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		paidOrder := order(usd)
		paidOrder.Status.Payment = &commercev1alpha1.OrderPaymentStatus{ReferenceID: "wao-funnel-usd",
			Status: commercev1alpha1.PaymentCaptured, Amount: "40.98", Currency: "USD"}
		return env.Client.Status().Update(ctx, paidOrder)
	}))
	w.waitMessage(pm, "the captured payment in the paid revenue", func(pm *commercev1alpha1.ProductMessage) bool {
		return reflect.DeepEqual(pm.Status.PaidRevenue, []commercev1alpha1.Revenue{{Currency: "USD", Total: "40.98"}})
	})

	var labelled commercev1alpha1.WhatsAppOrderList
	must(t, env.Client.List(ctx, &labelled, client.InNamespace(w.ns), client.MatchingLabels{commercev1alpha1.LabelProductMessage: "summer"}))
	var inquiries commercev1alpha1.ProductInquiryList
	must(t, env.Client.List(ctx, &inquiries, client.InNamespace(w.ns), client.MatchingLabels{commercev1alpha1.LabelProductMessage: "summer"}))
	if len(labelled.Items) != 4 || len(inquiries.Items) != 1 {
		t.Fatalf("%d orders and %d inquiries carry the label, want 4 and 1", len(labelled.Items), len(inquiries.Items))
	}
}

func TestInquiryAnsweredWithAProductMessage(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	q := w.ask("wamid.question-about-hats")
	w.waitInquiry(q, commercev1alpha1.InquiryOpen)
	pm := w.productMessage("answer", func(s *commercev1alpha1.ProductMessageSpec) { s.Inquiry = q.Name })
	w.waitMessage(pm, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	sent := w.fake.Sent()
	if len(sent) != 1 || sent[0].ContextMessageID != "wamid.question-about-hats" {
		t.Fatalf("want the products in reply to the question, got %+v", sent)
	}
	w.waitInquiry(q, commercev1alpha1.InquiryAnswered)
	if c := meta.FindStatusCondition(q.Status.Conditions, commercev1alpha1.ConditionAnswered); c == nil || c.Reason != commercev1alpha1.ReasonAnsweredWithProducts {
		t.Fatalf("Answered = %+v", c)
	}

	// A message answering an inquiry that does not exist yet waits for it.
	later := w.productMessage("answer-later", singleProduct, func(s *commercev1alpha1.ProductMessageSpec) {
		s.Inquiry = commercev1alpha1.ResourceName("shop", "wamid.later")
	})
	w.waitMessage(later, "waiting for the inquiry", func(pm *commercev1alpha1.ProductMessage) bool {
		return sentReason(pm) == commercev1alpha1.ReasonInquiryNotFound && meta.IsStatusConditionTrue(pm.Status.Conditions, commercev1alpha1.ConditionReconciling)
	})
	q2 := w.ask("wamid.later")
	w.waitMessage(later, "sent once the inquiry came", phaseIs(commercev1alpha1.ProductMessageSent))
	w.waitInquiry(q2, commercev1alpha1.InquiryAnswered)
}

func TestProductMessageWaitsForItsChannel(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	pm := w.productMessage("waiting", singleProduct, func(s *commercev1alpha1.ProductMessageSpec) { s.Channel = "later" })
	w.waitMessage(pm, "waiting for the channel", func(pm *commercev1alpha1.ProductMessage) bool {
		return pm.Status.Phase == commercev1alpha1.ProductMessagePending && sentReason(pm) == commercev1alpha1.ReasonChannelNotReady &&
			meta.IsStatusConditionTrue(pm.Status.Conditions, commercev1alpha1.ConditionReconciling) &&
			!meta.IsStatusConditionTrue(pm.Status.Conditions, commercev1alpha1.ConditionReady)
	})
	later := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "later"}, Spec: w.channel.Spec}
	w.create(later)
	w.waitMessage(pm, "sent once the channel is Ready", phaseIs(commercev1alpha1.ProductMessageSent))
	if meta.FindStatusCondition(pm.Status.Conditions, commercev1alpha1.ConditionReconciling) != nil {
		t.Fatalf("Reconciling still there: %+v", pm.Status.Conditions)
	}
}

func TestOnPremisesRefusesWhatItCannotSend(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APIOnPremises)
	pm := w.productMessage("catalog", catalogShowcase)
	w.waitMessage(pm, "refused", phaseIs(commercev1alpha1.ProductMessageFailed))
	if sentReason(pm) != commercev1alpha1.ReasonNotSupportedByAPI {
		t.Fatalf("Sent reason %q, want NotSupportedByAPI", sentReason(pm))
	}
	must(t, w.fake.FailNext(fakewhatsapp.FailWindowClosed, 1))
	single := w.productMessage("single", singleProduct, withTemplate)
	w.waitMessage(single, "refused outside the window", phaseIs(commercev1alpha1.ProductMessageFailed))
	if sentReason(single) != commercev1alpha1.ReasonNotSupportedByAPI {
		t.Fatalf("Sent reason %q, want NotSupportedByAPI (no catalog templates)", sentReason(single))
	}
	mpm := w.productMessage("mpm", withTemplate)
	w.waitMessage(mpm, "sent", phaseIs(commercev1alpha1.ProductMessageSent))
	if n := len(w.fake.Sent()); n != 1 {
		t.Fatalf("fake accepted %d sends, want only the multi-product one", n)
	}
}

func TestFinishedProductMessagesAreDeletedAfterRetention(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud, func(s *commercev1alpha1.WhatsAppChannelSpec) { s.Retention = &metav1.Duration{Duration: time.Hour} })
	pm := w.productMessage("retained", singleProduct)
	w.waitMessage(pm, "sent and finished", func(pm *commercev1alpha1.ProductMessage) bool {
		return pm.Status.Phase == commercev1alpha1.ProductMessageSent && pm.Status.FinishedAt != nil
	})
	w.deletedAfterAnHour(pm, &commercev1alpha1.ProductMessage{})
	if n := len(w.fake.Sent()); n != 1 {
		t.Fatalf("fake accepted %d sends, want 1", n)
	}
}

// On-Premises, a product template without a namespace of its own is sent in
// the namespace of the channel's notification template.
func TestOnPremisesProductTemplateTakesTheChannelsNamespace(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APIOnPremises, func(s *commercev1alpha1.WhatsAppChannelSpec) {
		s.Notifications.Template = &commercev1alpha1.MessageTemplate{Name: "order_update", Language: "en", Namespace: "b1c2d3e4_f5a6_7890"}
	})
	must(t, w.fake.FailNext(fakewhatsapp.FailWindowClosed, 1))
	pm := w.productMessage("mpm", withTemplate)
	w.waitMessage(pm, "sent as its template", phaseIs(commercev1alpha1.ProductMessageSent))
	sent := w.fake.Sent()
	if len(sent) != 1 || sent[0].TemplateName != "summer_picks" || sent[0].TemplateNamespace != "b1c2d3e4_f5a6_7890" || sent[0].CallbackData != "" {
		t.Fatalf("want the template summer_picks in namespace b1c2d3e4_f5a6_7890 without callback data, got %+v", sent)
	}
	if pm.Status.Form != commercev1alpha1.FormTemplate || pm.Status.MessageID != sent[0].MessageID {
		t.Errorf("status %+v", pm.Status)
	}

	must(t, w.fake.FailNext(fakewhatsapp.FailWindowClosed, 1))
	own := w.productMessage("own-namespace", func(s *commercev1alpha1.ProductMessageSpec) {
		withTemplate(s)
		s.Template.Namespace = "own_namespace"
	})
	w.waitMessage(own, "sent as its template", phaseIs(commercev1alpha1.ProductMessageSent))
	if sent := w.fake.Sent(); len(sent) != 2 || sent[1].TemplateNamespace != "own_namespace" {
		t.Fatalf("want the second template in its own namespace, got %+v", sent)
	}
}
