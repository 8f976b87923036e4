package controllers_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/operator"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/webhookreceiver/payload"
)

// killSwitch stands for the operator's process dying at the worst moment:
// once armed, the first send WhatsApp accepts is answered, and then the
// operator is gone before it could record the answer. The send's caller gets
// an error instead of the answer, and the kill channel says it happened.
type killSwitch struct {
	next  http.RoundTripper
	armed atomic.Bool
	kill  chan struct{}
	// answer, when set, is what the operator gets instead of an error: the
	// operator lives on, answered something else than WhatsApp's answer.
	answer func(*http.Request) (*http.Response, error)
}

func (k *killSwitch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := k.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || !k.armed.CompareAndSwap(true, false) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	k.kill <- struct{}{}
	if k.answer != nil {
		return k.answer(req)
	}
	return nil, errors.New("the operator died after WhatsApp accepted the message")
}

// badGateway: a proxy in front of WhatsApp answers 502 on the way back.
func badGateway(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/html"}}, Body: io.NopCloser(strings.NewReader("<html>502 Bad Gateway</html>")), Request: req}, nil
}

// killableWorld is a Cloud world whose fake posts every status, and the
// kill switch of its operator.
func killableWorld(t *testing.T, customize ...func(*commercev1alpha1.WhatsAppChannelSpec)) (*world, *killSwitch) {
	t.Helper()
	ks := &killSwitch{kill: make(chan struct{}, 1)}
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{autoStatus: true, transport: func(next http.RoundTripper) http.RoundTripper {
		ks.next = next
		return ks
	}}, customize...)
	return w, ks
}

// restartAfterKill waits for the kill switch to fire on the send of what,
// and starts the operator again.
func (w *world) restartAfterKill(ks *killSwitch, what string) {
	w.t.Helper()
	w.afterKill(ks, what)
	w.restart()
}

// afterKill waits for the kill switch to fire on the send of what.
func (w *world) afterKill(ks *killSwitch, what string) {
	w.t.Helper()
	select {
	case <-ks.kill:
	case <-time.After(20 * time.Second):
		w.t.Fatalf("%s was never sent", what)
	}
}

// Killing the operator between WhatsApp accepting a notification and the
// status write that records it, ten times over, tells every customer once:
// the intent recorded before the send is resolved by the status WhatsApp
// posts with its callback data, and nothing is sent again.
func TestCrashBetweenSendAndRecordTellsEveryCustomerOnce(t *testing.T) {
	w, ks := killableWorld(t)
	w.acceptEach(ks, 10, func(i int) { w.restartAfterKill(ks, fmt.Sprintf("kill %d: the notification", i)) })
}

// A 5xx says nothing of whether WhatsApp took the message: when it did
// (the proxy in front of it failed on the way back), the status WhatsApp
// posts with the intent's callback data resolves it, and nothing is sent
// again. Five orders, each notification answered 502 after WhatsApp took
// it, tell each customer once.
func TestGatewayErrorAfterWhatsAppTookTheMessageTellsEveryCustomerOnce(t *testing.T) {
	w, ks := killableWorld(t)
	ks.answer = badGateway
	w.acceptEach(ks, 5, func(i int) { w.afterKill(ks, fmt.Sprintf("order %d: the notification", i)) })
}

// A send whose outcome is unknown, its status late: the operator dies after
// WhatsApp took the notification, and the next leader's clock is ahead of
// the one that stamped the intent by more than the intent timeout, so by
// sentAt alone the intent has waited in vain and the message would go out
// again at once. The new leader counts the timeout from when it first saw
// the intent; the status that comes after the restart, later than the old
// leader's clock allowed, resolves it, and the customer is told once.
func TestALateStatusAfterARestartOnAClockAheadTellsTheCustomerOnce(t *testing.T) {
	ks := &killSwitch{kill: make(chan struct{}, 1)}
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{transport: func(next http.RoundTripper) http.RoundTripper {
		ks.next = next
		return ks
	}})
	order := w.placeOrder("wamid.late-status")
	w.waitOrder(order, "Pending", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.Phase == "Pending" })
	ks.armed.Store(true)
	w.setState(order, commercev1alpha1.OrderAccepted)
	w.afterKill(ks, "the notification")
	w.waitOrder(order, "the intent kept", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return len(o.Status.Notifications) == 1 && o.Status.Notifications[0].Pending()
	})
	w.stop()
	w.clock.SetTime(w.clock.Now().Add(operator.DefaultIntentTimeout + time.Minute))
	w.start()
	w.touch(order)
	testenv.Consistently(t, 3*time.Second, "nothing sent again while the status may still come", func() bool { return len(w.fake.Sent()) == 1 })

	sent := w.fake.Sent()[0]
	w.postMessage(w.webhook().Status(payload.Status{MessageID: sent.MessageID, RecipientID: sent.To, CallbackData: sent.CallbackData,
		Status: string(commercev1alpha1.DeliverySent), Timestamp: time.Now()}))
	w.waitOrder(order, "the customer notified by the message WhatsApp took", func(o *commercev1alpha1.WhatsAppOrder) bool {
		return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified) &&
			len(o.Status.Notifications) == 1 && o.Status.Notifications[0].MessageID == sent.MessageID
	})
	testenv.Consistently(t, 2*time.Second, "one message", func() bool { return len(w.fake.Sent()) == 1 })
}

// acceptEach accepts kills orders, each announcement going through ks's
// armed send and then after(i), and checks every customer is told once, by
// the message WhatsApp took.
func (w *world) acceptEach(ks *killSwitch, kills int, after func(i int)) {
	t := w.t
	t.Helper()
	var orders []*commercev1alpha1.WhatsAppOrder
	for i := range kills {
		order := w.placeOrder(fmt.Sprintf("wamid.crash-%d", i))
		w.waitOrder(order, "Pending", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.Phase == "Pending" })
		ks.armed.Store(true)
		w.setState(order, commercev1alpha1.OrderAccepted)
		after(i)
		orders = append(orders, order)
	}
	for _, o := range orders {
		w.waitOrder(o, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified) &&
				len(o.Status.Notifications) == 1 && o.Status.Notifications[0].MessageID != ""
		})
	}
	testenv.Consistently(t, 2*time.Second, fmt.Sprintf("%d messages, one per customer", kills), func() bool { return len(w.fake.Sent()) == kills })
	byCallback := map[string]fakewhatsapp.SentMessage{}
	for _, m := range w.fake.Sent() {
		byCallback[m.CallbackData] = m
	}
	for _, o := range orders {
		n := o.Status.Notifications[0]
		if m, ok := byCallback[n.CallbackData]; !ok || m.MessageID != n.MessageID {
			t.Errorf("%s records message %s with callback data %q; the fake sent %+v", o.Name, n.MessageID, n.CallbackData, m)
		}
	}
}

// The same for product messages: killing the operator between WhatsApp
// accepting a product message and its record, ten times over, sends every
// customer the message once. Every other message goes out as its template
// after WhatsApp refused the interactive message outside the window, so the
// kill falls on the fallback's send.
func TestCrashBetweenSendAndRecordSendsEveryProductMessageOnce(t *testing.T) {
	w, ks := killableWorld(t)
	const kills = 10
	var messages []*commercev1alpha1.ProductMessage
	for i := range kills {
		to := fmt.Sprintf("1650555%04d", i)
		changes := []func(*commercev1alpha1.ProductMessageSpec){func(s *commercev1alpha1.ProductMessageSpec) { s.To.WaID = to }}
		if i%2 == 1 {
			must(t, w.fake.FailNext(fakewhatsapp.FailWindowClosed, 1))
			changes = append(changes, withTemplate)
		}
		ks.armed.Store(true)
		messages = append(messages, w.productMessage(fmt.Sprintf("crash-%d", i), changes...))
		w.restartAfterKill(ks, fmt.Sprintf("kill %d: the product message", i))
	}
	for _, pm := range messages {
		w.waitMessage(pm, "sent", func(pm *commercev1alpha1.ProductMessage) bool {
			return pm.Status.Phase == commercev1alpha1.ProductMessageSent && pm.Status.MessageID != ""
		})
	}
	testenv.Consistently(t, 500*time.Millisecond, fmt.Sprintf("%d messages, one per customer", kills), func() bool { return len(w.fake.Sent()) == kills })
	byCustomer := map[string][]fakewhatsapp.SentMessage{}
	for _, m := range w.fake.Sent() {
		byCustomer[m.To] = append(byCustomer[m.To], m)
	}
	for i, pm := range messages {
		form := commercev1alpha1.FormInteractive
		if i%2 == 1 {
			form = commercev1alpha1.FormTemplate
		}
		sent := byCustomer[pm.Spec.To.WaID]
		if len(sent) != 1 || sent[0].MessageID != pm.Status.MessageID || sent[0].CallbackData != pm.Status.CallbackData || pm.Status.Form != form {
			t.Errorf("%s (form %s) records message %s with callback data %q; the fake sent its customer %+v", pm.Name, pm.Status.Form, pm.Status.MessageID, pm.Status.CallbackData, sent)
		}
	}
}

// The same for bills: killing the operator between WhatsApp accepting an
// order_details message and its record, five times over, bills every order
// once: the intent in status.payment is resolved by the status WhatsApp
// posts with its callback data.
func TestCrashBetweenSendAndRecordSendsEveryBillOnce(t *testing.T) {
	w, ks := killableWorld(t, withGateway)
	const kills = 5
	var orders []*commercev1alpha1.WhatsAppOrder
	for i := range kills {
		ks.armed.Store(true)
		orders = append(orders, w.billedOrder(fmt.Sprintf("crash-bill-%d", i), inrCart, &commercev1alpha1.OrderPayment{Gateway: &commercev1alpha1.GatewayPayment{}}))
		w.restartAfterKill(ks, fmt.Sprintf("kill %d: the bill", i))
	}
	for _, o := range orders {
		w.waitOrder(o, "the bill recorded", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return o.Status.Payment != nil && o.Status.Payment.MessageID != ""
		})
	}
	testenv.Consistently(t, 500*time.Millisecond, fmt.Sprintf("%d bills, one per order", kills), func() bool { return len(w.sentOfType("order_details")) == kills })
	byReference := map[string][]fakewhatsapp.SentMessage{}
	for _, m := range w.sentOfType("order_details") {
		byReference[m.Interactive.ReferenceID] = append(byReference[m.Interactive.ReferenceID], m)
	}
	for _, o := range orders {
		st := o.Status.Payment
		if sent := byReference[st.ReferenceID]; len(sent) != 1 || sent[0].MessageID != st.MessageID || sent[0].CallbackData != st.CallbackData {
			t.Errorf("%s records bill %s (%s); the fake got %+v", o.Name, st.MessageID, st.ReferenceID, sent)
		}
	}
}
