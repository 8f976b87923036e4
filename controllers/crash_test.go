package controllers_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/fakewhatsapp"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/testenv"
)

// killSwitch stands for the operator's process dying at the worst moment:
// once armed, the first send WhatsApp accepts is answered, and then the
// operator is gone before it could record the answer. The send's caller gets
// an error instead of the answer, and the kill channel says it happened.
type killSwitch struct {
	next  http.RoundTripper
	armed atomic.Bool
	kill  chan struct{}
}

func (k *killSwitch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := k.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || !k.armed.CompareAndSwap(true, false) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	k.kill <- struct{}{}
	return nil, errors.New("the operator died after WhatsApp accepted the message")
}

// Killing the operator between WhatsApp accepting a notification and the
// status write that records it, ten times over, tells every customer once:
// the intent recorded before the send is resolved by the status WhatsApp
// posts with its callback data, and nothing is sent again.
func TestCrashBetweenSendAndRecordTellsEveryCustomerOnce(t *testing.T) {
	ks := &killSwitch{kill: make(chan struct{}, 1)}
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{autoStatus: true, transport: func(next http.RoundTripper) http.RoundTripper {
		ks.next = next
		return ks
	}})
	const kills = 10
	var orders []*commercev1alpha1.WhatsAppOrder
	for i := range kills {
		order := w.placeOrder(fmt.Sprintf("wamid.crash-%d", i))
		w.waitOrder(order, "Pending", func(o *commercev1alpha1.WhatsAppOrder) bool { return o.Status.Phase == "Pending" })
		ks.armed.Store(true)
		w.setState(order, commercev1alpha1.OrderAccepted)
		select {
		case <-ks.kill:
		case <-time.After(20 * time.Second):
			t.Fatalf("kill %d: the notification was never sent", i)
		}
		w.restart()
		orders = append(orders, order)
	}
	for _, o := range orders {
		w.waitOrder(o, "the customer notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
			return meta.IsStatusConditionTrue(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified) &&
				len(o.Status.Notifications) == 1 && o.Status.Notifications[0].MessageID != ""
		})
	}
	testenv.Consistently(t, 500*time.Millisecond, fmt.Sprintf("%d messages, one per customer", kills), func() bool { return len(w.fake.Sent()) == kills })
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
