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
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/testkit/testenv"
)

// afterTaken stands for what may go wrong once WhatsApp took a message:
// once armed, the next send WhatsApp accepts reaches it (and the fake posts
// its statuses), and the operator gets answer's instead of WhatsApp's answer;
// the taken channel says it happened.
type afterTaken struct {
	next   http.RoundTripper
	armed  atomic.Bool
	taken  chan struct{}
	answer func(*http.Request) (*http.Response, error)
}

// died: the operator's process dies before it could record the answer.
func died(*http.Request) (*http.Response, error) {
	return nil, errors.New("the operator died after WhatsApp accepted the message")
}

// badGateway: a proxy in front of WhatsApp answers 502 on the way back.
func badGateway(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"text/html"}}, Body: io.NopCloser(strings.NewReader("<html>502 Bad Gateway</html>")), Request: req}, nil
}

func (a *afterTaken) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := a.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || !a.armed.CompareAndSwap(true, false) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	a.taken <- struct{}{}
	return a.answer(req)
}

// worldAfterTaken is a Cloud world whose sends go through a.
func worldAfterTaken(t *testing.T, answer func(*http.Request) (*http.Response, error)) (*world, *afterTaken) {
	a := &afterTaken{taken: make(chan struct{}, 1), answer: answer}
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{autoStatus: true, transport: func(next http.RoundTripper) http.RoundTripper {
		a.next = next
		return a
	}})
	return w, a
}

// waitTaken waits until a's armed send was taken.
func (a *afterTaken) waitTaken(t *testing.T, what string) {
	t.Helper()
	select {
	case <-a.taken:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s was never sent", what)
	}
}

// acceptEach accepts n orders, each announcement going through a's armed
// send, then after() (a restart, say), and checks every customer is told
// once, by the message WhatsApp took.
func (w *world) acceptEach(a *afterTaken, n int, after func()) {
	t := w.t
	t.Helper()
	var orders []*commercev1alpha1.WhatsAppOrder
	for i := range n {
		order := w.placeOrder(fmt.Sprintf("wamid.taken-%d", i))
		w.waitOrder(order, "Pending", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.Phase == "Pending" })
		a.armed.Store(true)
		w.setState(order, commercev1alpha1.OrderAccepted)
		a.waitTaken(t, fmt.Sprintf("order %d's notification", i))
		after()
		orders = append(orders, order)
	}
	for _, o := range orders {
		w.waitOrder(o, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified) &&
				len(o.Status.Notifications) == 1 && o.Status.Notifications[0].MessageID != ""
		})
	}
	testenv.Consistently(t, 2*time.Second, fmt.Sprintf("%d messages, one per customer", n), func() bool { return len(w.fake.Sent()) == n })
	byCallback := map[string]fakewhatsapp.SentMessage{}
	for _, m := range w.fake.Sent() {
		byCallback[m.CallbackData] = m
	}
	for _, o := range orders {
		m := o.Status.Notifications[0]
		if sent, ok := byCallback[m.CallbackData]; !ok || sent.MessageID != m.MessageID {
			t.Errorf("%s records message %s with callback data %q; the fake sent %+v", o.Name, m.MessageID, m.CallbackData, sent)
		}
	}
}

// Killing the operator between WhatsApp accepting a notification and the
// status write that records it, ten times over, tells every customer once:
// the intent recorded before the send is resolved by the status WhatsApp
// posts with its callback data, and nothing is sent again.
func TestCrashBetweenSendAndRecordTellsEveryCustomerOnce(t *testing.T) {
	w, a := worldAfterTaken(t, died)
	w.acceptEach(a, 10, w.restart)
}

// A 5xx says nothing of whether WhatsApp took the message: when it did
// (the proxy in front of it failed on the way back), the status WhatsApp
// posts with the intent's callback data resolves it, and nothing is sent
// again. Five orders, each notification answered 502 after WhatsApp took
// it, tell each customer once.
func TestGatewayErrorAfterWhatsAppTookTheMessageTellsEveryCustomerOnce(t *testing.T) {
	w, a := worldAfterTaken(t, badGateway)
	w.acceptEach(a, 5, func() {})
}

// The same for product messages: killing the operator between WhatsApp
// accepting a product message and its record, ten times over, sends every
// customer the message once. Every other message goes out as its template
// after WhatsApp refused the interactive message outside the window, so the
// kill falls on the fallback's send.
func TestCrashBetweenSendAndRecordSendsEveryProductMessageOnce(t *testing.T) {
	w, a := worldAfterTaken(t, died)
	const kills = 10
	var messages []*commercev1alpha1.ProductMessage
	for i := range kills {
		to := fmt.Sprintf("1650555%04d", i)
		changes := []func(*commercev1alpha1.ProductMessageSpec){func(s *commercev1alpha1.ProductMessageSpec) { s.To.WaID = to }}
		if i%2 == 1 {
			must(t, w.fake.FailNext(fakewhatsapp.FailWindowClosed, 1))
			changes = append(changes, withTemplate)
		}
		a.armed.Store(true)
		messages = append(messages, w.productMessage(fmt.Sprintf("crash-%d", i), changes...))
		a.waitTaken(t, fmt.Sprintf("product message %d", i))
		w.restart()
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
