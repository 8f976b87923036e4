package webhookreceiver_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
)

// cloudStatuses is a Cloud webhook body carrying statuses (status names, with
// increasing timestamps) of messageID, as WhatsApp sends when it reports
// several at once, after an outage say.
func cloudStatuses(messageID string, statuses ...string) []byte {
	var items []string
	for i, s := range statuses {
		items = append(items, fmt.Sprintf(`{"id": %q, "status": %q, "timestamp": "%d", "recipient_id": "16505551234"}`, messageID, s, 1750030073+i))
	}
	return fmt.Appendf(nil, `{"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages",
		"value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": %q},
		"statuses": [%s]}}]}]}`, cloudPhone, strings.Join(items, ","))
}

// Three statuses of one message in one body cost one status write, not one
// read-modify-write each, and the message ends at the furthest of them.
func TestStatusesOfOneMessageInOneBodyAreOneWrite(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	const id = "wamid.three-at-once"
	o := orderThatSent(t, ch, id)
	before := env.Requests(t, "whatsapporders", "status", "PUT")
	r := post(t, ch.Status.WebhookPath, cloudStatuses(id, "delivered", "sent", "read"), appSecret)
	if r.code != http.StatusOK {
		t.Fatalf("answer %d %s", r.code, r.body)
	}
	// The record starts at sent: sent changes nothing, and whichever of
	// delivered and read is applied last may find it moved past already.
	// Each is counted once, as updated or unchanged.
	if rep := reportOf(t, r); rep["updated"].(float64) < 1 || rep["updated"].(float64)+rep["unchanged"].(float64) != 3 {
		t.Errorf("report %s, want the 3 statuses counted as updated or unchanged, at least one updated", r.body)
	}
	if n := env.Requests(t, "whatsapporders", "status", "PUT") - before; n != 1 {
		t.Errorf("the API server saw %v status writes of the order, want 1", n)
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
		t.Fatal(err)
	}
	if got := o.SentMessage(id).DeliveryStatus; got != commercev1alpha1.DeliveryRead {
		t.Errorf("delivery status %q, want read", got)
	}
}

// Statuses of several messages of one order, each in its own body, all at
// once and in any order: every answer is 200 and every message ends at its
// furthest status, whatever writes they were batched into.
func TestConcurrentStatusesAreAllApplied(t *testing.T) {
	ch := newChannel(t, channelOpts{api: commercev1alpha1.APICloud})
	ids := []string{"wamid.c1", "wamid.c2", "wamid.c3"}
	o := orderThatSent(t, ch, ids[0])
	for i, state := range []commercev1alpha1.OrderState{commercev1alpha1.OrderShipped, commercev1alpha1.OrderDelivered} {
		o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{State: state,
			SentMessage: commercev1alpha1.SentMessage{MessageID: ids[i+1]}})
	}
	if err := env.Client.Status().Update(ctx, o); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every sent message in the cache index", func() bool {
		var list commercev1alpha1.WhatsAppOrderList
		_ = mgrCache.List(ctx, &list, client.MatchingFields{index.SentMessage: ids[2]}, client.InNamespace(ch.Namespace))
		return len(list.Items) == 1
	})
	var bodies [][]byte
	for _, id := range ids {
		for _, s := range []string{"read", "sent", "delivered"} {
			bodies = append(bodies, cloudStatuses(id, s))
		}
	}
	codes := make(chan int, len(bodies))
	var wg sync.WaitGroup
	for _, b := range bodies {
		wg.Go(func() { codes <- postTo(t, server.URL, ch.Status.WebhookPath, b).code })
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Errorf("a status body answered %d", code)
		}
	}
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got := o.SentMessage(id).DeliveryStatus; got != commercev1alpha1.DeliveryRead {
			t.Errorf("%s ends at %q, want read", id, got)
		}
	}
}
