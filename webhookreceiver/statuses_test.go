package webhookreceiver_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
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
	if got := reportOf(t, r)["updated"]; got != float64(3) {
		t.Errorf("report counts %v statuses applied, want 3: %s", got, r.body)
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
