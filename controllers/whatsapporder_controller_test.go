package controllers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/webhookbody"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

const customer = "16505551234"

// placeOrder posts a customer's order webhook (2 x 7.99 USD + 1 x 25 USD) in
// the channel's API format, stamped with the fake clock, and returns the order
// the receiver created.
func (w *world) placeOrder(messageID string) *commercev1alpha1.WhatsAppOrder {
	w.t.Helper()
	w.postMessage(w.webhook().Order(payload.Order{
		MessageID: messageID, Customer: payload.Customer{WaID: customer, Name: "Sheena Nelson"}, Timestamp: w.clock.Now(),
		CatalogID: "194836987003835", Text: "Love these!",
		Items: []payload.Item{
			{ProductRetailerID: "di9ozbzfi4", Quantity: 2, ItemPrice: "7.99", Currency: "USD"},
			{ProductRetailerID: "nqryix03ez", Quantity: 1, ItemPrice: "25", Currency: "USD"},
		},
	}))
	order := &commercev1alpha1.WhatsAppOrder{}
	key := client.ObjectKey{Namespace: w.ns, Name: commercev1alpha1.ResourceName("shop", messageID)}
	must(w.t, env.Client.Get(ctx, key, order))
	return order
}

// webhook starts a webhook body in the channel's API format.
func (w *world) webhook() *webhookbody.Body {
	return webhookbody.New(whatsapp.Generation(w.channel.API()), w.channel.Spec.PhoneNumberID)
}

// postMessage posts the body signed, as WhatsApp does, and wants it stored.
func (w *world) postMessage(body *webhookbody.Body) {
	w.t.Helper()
	req, err := webhookbody.Sign(body.Bytes(), []byte(appSecret)).Request(ctx, w.webhookURL())
	must(w.t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("webhook answered %d", resp.StatusCode)
	}
}

func (w *world) setState(o *commercev1alpha1.WhatsAppOrder, state commercev1alpha1.OrderState) {
	w.t.Helper()
	patch := []byte(fmt.Sprintf(`{"spec":{"state":%q}}`, state))
	must(w.t, env.Client.Patch(ctx, o, client.RawPatch("application/merge-patch+json", patch)))
}

func (w *world) get(o client.Object) client.Object {
	w.t.Helper()
	must(w.t, env.Client.Get(ctx, client.ObjectKeyFromObject(o), o))
	return o
}

func (w *world) waitOrder(o *commercev1alpha1.WhatsAppOrder, what string, cond func(*commercev1alpha1.WhatsAppOrder) bool) {
	w.t.Helper()
	w.eventually(what, func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(o), o)
		return cond(o)
	})
}

func notifiedReason(o *commercev1alpha1.WhatsAppOrder) string {
	if c := meta.FindStatusCondition(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified); c != nil {
		return c.Reason
	}
	return ""
}

func TestOrderLoop(t *testing.T) {
	for _, tc := range []struct {
		api     commercev1alpha1.APIGeneration
		shuffle bool
	}{{commercev1alpha1.APICloud, false}, {commercev1alpha1.APICloud, true}, {commercev1alpha1.APIOnPremises, false}, {commercev1alpha1.APIOnPremises, true}} {
		t.Run(fmt.Sprintf("%s shuffled=%v", tc.api, tc.shuffle), func(t *testing.T) {
			w := newWorld(t, tc.api)
			order := w.placeOrder("wamid.loop-order")
			w.waitOrder(order, "phase Pending with the total", func(o *commercev1alpha1.WhatsAppOrder) bool {
				return o.Status.Phase == "Pending" && meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionReady)
			})
			if order.Status.Total != "40.98" || order.Status.ItemCount != 3 || order.Status.Currency != "USD" {
				t.Fatalf("status total %q items %d currency %q, want 40.98, 3, USD", order.Status.Total, order.Status.ItemCount, order.Status.Currency)
			}
			if len(w.fake.Sent()) != 0 {
				t.Fatalf("a Pending order notified the customer: %+v", w.fake.Sent())
			}

			w.setState(order, commercev1alpha1.OrderAccepted)
			w.waitOrder(order, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
				return o.Status.Phase == "Accepted" && meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified)
			})
			sent := w.fake.Sent()
			if len(sent) != 1 {
				t.Fatalf("the fake API got %d messages, want exactly 1: %+v", len(sent), sent)
			}
			if sent[0].To != customer || !strings.Contains(sent[0].Text, "accepted") || !strings.Contains(sent[0].Text, "40.98 USD") || !strings.Contains(sent[0].Text, "2 x di9ozbzfi4") {
				t.Fatalf("unexpected notification %+v", sent[0])
			}
			if got := order.Status.Notifications; len(got) != 1 || got[0].MessageID != sent[0].MessageID || got[0].State != commercev1alpha1.OrderAccepted {
				t.Fatalf("status.notifications %+v does not record message %s", got, sent[0].MessageID)
			}

			must(t, w.fake.PostStatuses(ctx, w.webhookURL(), []byte(appSecret), whatsapp.Generation(tc.api), sent[0].MessageID, customer,
				[]string{"sent", "delivered", "read"}, tc.shuffle))
			w.waitOrder(order, "delivery status read", func(o *commercev1alpha1.WhatsAppOrder) bool {
				return o.Status.Notifications[0].DeliveryStatus == commercev1alpha1.DeliveryRead
			})
			// A late delivered never downgrades read.
			must(t, w.fake.PostStatuses(ctx, w.webhookURL(), []byte(appSecret), whatsapp.Generation(tc.api), sent[0].MessageID, customer, []string{"delivered"}, false))
			w.get(order)
			if order.Status.Notifications[0].DeliveryStatus != commercev1alpha1.DeliveryRead {
				t.Fatalf("a late delivered moved read back to %q", order.Status.Notifications[0].DeliveryStatus)
			}
			if !w.hasEvent(order, corev1.EventTypeNormal, "CustomerNotified") {
				t.Error("no CustomerNotified event")
			}
		})
	}
}

func TestNoNotificationTwiceOrLostAcrossRestarts(t *testing.T) {
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{autoStatus: true})
	order := w.placeOrder("wamid.restarts")
	w.setState(order, commercev1alpha1.OrderAccepted)
	w.waitNotifications(order, 1)

	// Restart between state changes.
	w.stop()
	w.setState(order, commercev1alpha1.OrderShipped)
	w.start()
	w.waitNotifications(order, 2)

	// Restart in the middle of work: the state moves and the operator stops at once.
	w.setState(order, commercev1alpha1.OrderDelivered)
	w.restart()
	w.waitNotifications(order, 3)

	// A burst of state changes while no operator runs: every state is announced, in order.
	burst := w.placeOrder("wamid.burst")
	w.waitOrder(burst, "Pending", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.Phase == "Pending" })
	w.stop()
	w.setState(burst, commercev1alpha1.OrderAccepted)
	w.setState(burst, commercev1alpha1.OrderShipped)
	w.start()
	w.waitNotifications(burst, 2)
	w.restart()
	w.setState(burst, commercev1alpha1.OrderDelivered)
	w.waitNotifications(burst, 3)
	testenv.Consistently(t, 300*time.Millisecond, "6 messages (3 states x 2 orders), no duplicate", func() bool { return len(w.fake.Sent()) == 6 })
	for _, o := range []*commercev1alpha1.WhatsAppOrder{order, burst} {
		w.get(o)
		var states []string
		for _, n := range o.Status.Notifications {
			states = append(states, string(n.State))
		}
		if strings.Join(states, ",") != "Accepted,Shipped,Delivered" {
			t.Errorf("%s notified %v, want Accepted, Shipped, Delivered in order", o.Name, states)
		}
	}
}

func texts(sent []fakewhatsapp.SentMessage) []string {
	var out []string
	for _, m := range sent {
		out = append(out, m.Text)
	}
	return out
}

func TestSendFailureClasses(t *testing.T) {
	cases := []struct {
		mode       fakewhatsapp.FailureMode
		count      int
		wantReason string
		wantSent   int
		event      string
	}{
		// Transient failures are retried until the message goes out, once; a
		// 5xx after IntentTimeout without a status (WhatsApp may have taken it).
		{fakewhatsapp.FailRateLimited, 1, "Sent", 1, "CustomerNotified"},
		{fakewhatsapp.FailServerError, 2, "Sent", 1, "CustomerNotified"},
		// Final failures are recorded and never retried.
		{fakewhatsapp.FailWindowClosed, 1, "WindowClosed", 0, "CustomerNotifiedWindowClosed"},
		{fakewhatsapp.FailPermanent, 1, "SendFailed", 0, "CustomerNotifiedSendFailed"},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode), func(t *testing.T) {
			w := newWorld(t, commercev1alpha1.APICloud)
			order := w.placeOrder("wamid.fail-" + string(tc.mode))
			must(t, w.fake.FailNext(tc.mode, tc.count))
			w.setState(order, commercev1alpha1.OrderAccepted)
			w.waitOrder(order, "the outcome "+tc.wantReason, func(o *commercev1alpha1.WhatsAppOrder) bool {
				for _, n := range o.Status.Notifications {
					w.timeOut(o, n.SentMessage)
				}
				return notifiedReason(o) == tc.wantReason
			})
			testenv.Consistently(t, 500*time.Millisecond, "the outcome, and nothing sent again", func() bool {
				w.get(order)
				return len(w.fake.Sent()) == tc.wantSent && notifiedReason(order) == tc.wantReason && order.Status.Phase == "Accepted"
			})
			if tc.wantSent == 0 {
				n := order.Status.Notifications
				if len(n) != 1 || n[0].DeliveryStatus != commercev1alpha1.DeliveryFailed || n[0].Error == nil {
					t.Fatalf("the final failure is not recorded: %+v", n)
				}
				if !meta.IsStatusConditionTrue(order.Status.Conditions, commercev1alpha1.ConditionReady) {
					t.Error("Ready is not True after a final failure: the controller has nothing left to do")
				}
				if c := meta.FindStatusCondition(order.Status.Conditions, commercev1alpha1.ConditionStalled); c == nil || c.Reason != tc.wantReason {
					t.Errorf("Stalled = %+v after a final refusal, want True %s: it needs a person now", c, tc.wantReason)
				}
			}
			w.eventually("event "+tc.event, func() bool {
				eventType := corev1.EventTypeWarning
				if tc.wantSent > 0 {
					eventType = corev1.EventTypeNormal
				}
				return w.hasEvent(order, eventType, tc.event)
			})
		})
	}
}

func TestWindowClosedUsesTemplateOrNothing(t *testing.T) {
	t.Run("no template", func(t *testing.T) {
		w := newWorld(t, commercev1alpha1.APICloud)
		order := w.placeOrder("wamid.late")
		w.clock.SetTime(w.clock.Now().Add(25 * time.Hour))
		w.setState(order, commercev1alpha1.OrderAccepted)
		w.waitOrder(order, "WindowClosed", func(o *commercev1alpha1.WhatsAppOrder) bool { return notifiedReason(o) == "WindowClosed" })
		if n := len(w.fake.Sent()); n != 0 {
			t.Fatalf("%d messages sent outside the window", n)
		}
	})
	t.Run("template", func(t *testing.T) {
		w := newWorld(t, commercev1alpha1.APICloud, func(s *commercev1alpha1.WhatsAppChannelSpec) {
			s.Notifications.Template = &commercev1alpha1.MessageTemplate{Name: "order_update", Language: "en_US", Parameters: []string{"{{.Order}}", "{{.State}}", "{{.Total}} {{.Currency}}"}}
		})
		order := w.placeOrder("wamid.late-template")
		w.clock.SetTime(w.clock.Now().Add(25 * time.Hour))
		w.setState(order, commercev1alpha1.OrderAccepted)
		w.setState(order, commercev1alpha1.OrderShipped)
		w.waitNotifications(order, 2)
		sent := w.fake.Sent()
		if len(sent) != 2 || sent[0].TemplateName != "order_update" || strings.Join(sent[1].TemplateParams, "|") != order.Name+"|Shipped|40.98 USD" {
			t.Fatalf("want two template messages, got %+v", sent)
		}
	})
}

func TestChannelMessageTexts(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APIOnPremises, func(s *commercev1alpha1.WhatsAppChannelSpec) {
		s.Notifications.OrderMessages = map[string]string{"Rejected": "Sorry {{.CustomerName}}, {{.Items}} is sold out."}
	})
	order := w.placeOrder("ABGGFlCGg0cvAgo6cHbBhfK5760V")
	w.setState(order, commercev1alpha1.OrderRejected)
	w.waitOrder(order, "notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return len(o.Status.Notifications) == 1 && o.Status.Notifications[0].MessageID != ""
	})
	if sent := w.fake.Sent(); len(sent) != 1 || sent[0].Text != "Sorry Sheena Nelson, 2 x di9ozbzfi4, 1 x nqryix03ez is sold out." {
		t.Fatalf("got %+v", texts(sent))
	}
	if order.Status.FinishedAt == nil {
		t.Fatal("a Rejected order has no finishedAt")
	}
}

func TestInvalidCart(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud)
	order := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: "typed-in"}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: "shop", MessageID: "m", ReceivedAt: metav1.NewTime(w.clock.Now()), Customer: commercev1alpha1.Customer{WaID: customer}, CatalogID: "c",
		Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "a", Quantity: 1, ItemPrice: "1", Currency: "XYZ"}},
	}}
	w.create(order)
	w.waitOrder(order, "phase Invalid", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return o.Status.Phase == commercev1alpha1.OrderPhaseInvalid
	})
	c := meta.FindStatusCondition(order.Status.Conditions, commercev1alpha1.ConditionValidated)
	if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "UnknownCurrency" || !strings.Contains(c.Message, "XYZ") {
		t.Fatalf("Validated = %+v, want False UnknownCurrency naming XYZ", c)
	}
	w.setState(order, commercev1alpha1.OrderAccepted)
	if c := meta.FindStatusCondition(order.Status.Conditions, commercev1alpha1.ConditionStalled); c == nil || c.Reason != "InvalidCart" {
		t.Errorf("Stalled = %+v, want True InvalidCart", c)
	}
	w.eventually("a Warning event", func() bool { return w.hasEvent(order, corev1.EventTypeWarning, "InvalidCart") })
	testenv.Consistently(t, 300*time.Millisecond, "nothing sent about an invalid cart", func() bool { return len(w.fake.Sent()) == 0 })
}

func TestFinishedOrdersAreDeletedAfterRetention(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APICloud, func(s *commercev1alpha1.WhatsAppChannelSpec) { s.Retention = &metav1.Duration{Duration: time.Hour} })
	order := w.placeOrder("wamid.retention")
	w.setState(order, commercev1alpha1.OrderCancelled)
	w.waitOrder(order, "finished", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.FinishedAt != nil })
	w.deletedAfterAnHour(order, &commercev1alpha1.WhatsAppOrder{})
}

// deletedAfterAnHour checks that obj, finished now on a channel with a retention
// of one hour, is kept 30 minutes later and deleted 61 minutes later; into
// receives the reads.
func (w *world) deletedAfterAnHour(obj, into client.Object) {
	w.t.Helper()
	w.clock.SetTime(w.clock.Now().Add(30 * time.Minute))
	w.touch(obj)
	testenv.Consistently(w.t, 300*time.Millisecond, "kept within the retention period", func() bool {
		return env.Client.Get(ctx, client.ObjectKeyFromObject(obj), into) == nil
	})
	w.clock.SetTime(w.clock.Now().Add(31 * time.Minute))
	w.touch(obj)
	w.eventually("deleted after the retention period", func() bool {
		return apierrors.IsNotFound(env.Client.Get(ctx, client.ObjectKeyFromObject(obj), into))
	})
}
