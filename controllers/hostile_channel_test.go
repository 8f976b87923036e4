package controllers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// A channel's spec is written by whoever may edit channels in its namespace:
// these tests give the operator hostile ones and check what every tenant sees.

// otherChannel creates, in ns, a Secret with data and a channel named name
// with spec, beside the world's.
func (w *world) otherChannel(ns, name string, data map[string]string, spec commercev1alpha1.WhatsAppChannelSpec) *commercev1alpha1.WhatsAppChannel {
	w.t.Helper()
	w.create(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-wa"}, StringData: data})
	spec.SecretRef = commercev1alpha1.SecretReference{Name: name + "-wa"}
	ch := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	w.create(ch)
	return ch
}

func secretData(name string, appSecret bool) map[string]string {
	d := map[string]string{commercev1alpha1.SecretKeyWebhookToken: "a-long-random-webhook-token-" + name, commercev1alpha1.SecretKeyAccessToken: accessToken}
	if appSecret {
		d[commercev1alpha1.SecretKeyAppSecret] = "app-secret-" + name
	}
	return d
}

// acceptedOrder creates an Accepted order of channel in ns, as the receiver
// would have stored it and a person accepted it.
func (w *world) acceptedOrder(ns, channel, name string) *commercev1alpha1.WhatsAppOrder {
	w.t.Helper()
	o := &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: commercev1alpha1.WhatsAppOrderSpec{
		Channel: channel, MessageID: "wamid." + name, ReceivedAt: metav1.NewTime(w.clock.Now()), Customer: commercev1alpha1.Customer{WaID: customer}, CatalogID: "c",
		Items: []commercev1alpha1.OrderItem{{ProductRetailerID: "di9ozbzfi4", Quantity: 1, ItemPrice: "7.99", Currency: "USD"}},
		State: commercev1alpha1.OrderAccepted,
	}}
	w.create(o)
	return o
}

func notifiedCondition(o *commercev1alpha1.WhatsAppOrder) *metav1.Condition {
	return meta.FindStatusCondition(o.Status.Conditions, commercev1alpha1.ConditionCustomerNotified)
}

// The two templates, beside an honest channel of another namespace
// on the same operator: the hostile channel is not Ready, saying which text
// and why, its order is sent nothing, and the honest one's order is notified.
// The refusal is made when the template is parsed (see notification.Parse),
// before anything is executed, so no timing is asserted here.
func TestHostileTemplatesStayWithTheirChannel(t *testing.T) {
	hostileNS := env.Namespace(t)
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{alsoWatch: []string{hostileNS}})

	loop := w.otherChannel(hostileNS, "loop", secretData("loop", true), commercev1alpha1.WhatsAppChannelSpec{
		PhoneNumberID: "106540352242922", APIURL: w.fake.URL(),
		Notifications: commercev1alpha1.NotificationSettings{OrderMessages: map[string]string{"Accepted": "{{range 9000000000000000000}}{{end}}"}},
	})
	alloc := w.otherChannel(hostileNS, "alloc", secretData("alloc", true), commercev1alpha1.WhatsAppChannelSpec{
		PhoneNumberID: "106540352242922", APIURL: w.fake.URL(),
		Notifications: commercev1alpha1.NotificationSettings{Template: &commercev1alpha1.MessageTemplate{Name: "order_update",
			Parameters: []string{"{{.Order}}", `{{range 150}}{{printf "%01000000d" 0}}{{end}}`}}},
	})
	for ch, says := range map[*commercev1alpha1.WhatsAppChannel]string{
		loop:  "orderMessages.Accepted: range is not allowed",
		alloc: "template.parameters[1]: range is not allowed",
	} {
		if c := w.waitReady(ch, metav1.ConditionFalse, commercev1alpha1.ReasonInvalidNotifications); !strings.Contains(c.Message, says) {
			t.Errorf("channel %s: Ready message %q, want it to say %q", ch.Name, c.Message, says)
		}
	}

	// A text over WhatsApp's limit never gets past the API server.
	for field, n := range map[string]commercev1alpha1.NotificationSettings{
		"orderMessages": {OrderMessages: map[string]string{"Accepted": strings.Repeat("{{.Items}}", 410)}},
		"parameters":    {Template: &commercev1alpha1.MessageTemplate{Name: "t", Parameters: []string{strings.Repeat("x", 1025)}}},
	} {
		huge := &commercev1alpha1.WhatsAppChannel{ObjectMeta: metav1.ObjectMeta{Namespace: hostileNS, Name: "huge"}, Spec: commercev1alpha1.WhatsAppChannelSpec{
			PhoneNumberID: "1", SecretRef: commercev1alpha1.SecretReference{Name: "x"}, Notifications: n}}
		err := env.Client.Create(ctx, huge)
		if want := map[string]string{"orderMessages": "at most 4096 characters", "parameters": "may not be more than 1024"}[field]; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("creating a channel with an oversized %s text: %v, want the API server to refuse it", field, err)
		}
	}

	hostileOrder := w.acceptedOrder(hostileNS, "loop", "hostile-order")
	honest := w.acceptedOrder(w.ns, "shop", "honest-order")
	w.waitOrder(honest, "the honest order notified", func(o *commercev1alpha1.WhatsAppOrder) bool {
		c := notifiedCondition(o)
		return c != nil && c.Status == metav1.ConditionTrue
	})
	// The text is refused where the order would render it, too: nothing is sent.
	w.waitOrder(hostileOrder, "the hostile order refused", func(o *commercev1alpha1.WhatsAppOrder) bool {
		c := notifiedCondition(o)
		return c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "orderMessages.Accepted: range is not allowed")
	})
	if sent := w.fake.Sent(); len(sent) != 1 {
		t.Fatalf("the fake got %d messages, want only the honest order's", len(sent))
	}
}

// recorder is an HTTP server that counts requests, and those with a token.
type recorder struct {
	*httptest.Server
	requests, withToken atomic.Int32
}

func newRecorder(t *testing.T, h http.HandlerFunc) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		if req.Header.Get("Authorization") != "" {
			r.withToken.Add(1)
		}
		h(rw, req)
	}))
	t.Cleanup(r.Close)
	return r
}

// Sends go only where the administrator allows, and the token nowhere else.
func TestSendsGoOnlyWhereAllowed(t *testing.T) {
	const internalSecret = "internal-service-secret-value"
	// An internal service the operator can reach, not allowed.
	internal := newRecorder(t, func(rw http.ResponseWriter, _ *http.Request) { fmt.Fprint(rw, internalSecret) })
	// An allowed URL that redirects elsewhere, and where it points.
	target := newRecorder(t, func(rw http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(rw, `{"messages":[{"id":"wamid.stolen"}]}`)
	})
	redirector := newRecorder(t, func(rw http.ResponseWriter, req *http.Request) {
		http.Redirect(rw, req, target.URL+"/collect", http.StatusTemporaryRedirect)
	})
	// An allowed URL that answers errors that are not WhatsApp's.
	proxy := newRecorder(t, func(rw http.ResponseWriter, _ *http.Request) {
		http.Error(rw, "upstream says: "+internalSecret, http.StatusBadGateway)
	})
	w := newWorldWith(t, commercev1alpha1.APICloud, worldOptions{allow: []string{redirector.URL + "/", proxy.URL + "/"}})

	outside := w.otherChannel(w.ns, "outside", secretData("outside", true), commercev1alpha1.WhatsAppChannelSpec{PhoneNumberID: "1", APIURL: internal.URL + "/v1"})
	lookalike := w.otherChannel(w.ns, "lookalike", secretData("lookalike", true), commercev1alpha1.WhatsAppChannelSpec{PhoneNumberID: "1", APIURL: w.fake.URL() + "@" + strings.TrimPrefix(internal.URL, "http://")})
	onPrem := w.otherChannel(w.ns, "onprem", secretData("onprem", true), commercev1alpha1.WhatsAppChannelSpec{API: commercev1alpha1.APIOnPremises, APIURL: internal.URL})
	for _, ch := range []*commercev1alpha1.WhatsAppChannel{outside, lookalike, onPrem} {
		c := w.waitReady(ch, metav1.ConditionFalse, commercev1alpha1.ReasonAPIURLNotAllowed)
		if !strings.Contains(c.Message, "is not under any URL the operator allows") {
			t.Errorf("channel %s: Ready message %q does not say the apiURL is not allowed", ch.Name, c.Message)
		}
	}
	refused := w.acceptedOrder(w.ns, "outside", "to-outside")
	w.waitOrder(refused, "the order waiting for its channel", func(o *commercev1alpha1.WhatsAppOrder) bool {
		c := notifiedCondition(o)
		return c != nil && c.Reason == commercev1alpha1.ReasonChannelNotReady
	})

	redirecting := w.otherChannel(w.ns, "redirecting", secretData("redirecting", true), commercev1alpha1.WhatsAppChannelSpec{PhoneNumberID: "1", APIURL: redirector.URL})
	failing := w.otherChannel(w.ns, "failing", secretData("failing", true), commercev1alpha1.WhatsAppChannelSpec{PhoneNumberID: "1", APIURL: proxy.URL})
	w.waitReady(redirecting, metav1.ConditionTrue, commercev1alpha1.ReasonChannelReady)
	w.waitReady(failing, metav1.ConditionTrue, commercev1alpha1.ReasonChannelReady)
	redirected := w.acceptedOrder(w.ns, "redirecting", "redirected")
	w.waitOrder(redirected, "the redirected send refused", func(o *commercev1alpha1.WhatsAppOrder) bool {
		c := notifiedCondition(o)
		return c != nil && c.Reason == commercev1alpha1.ReasonSendFailed && strings.Contains(c.Message, "redirect not followed")
	})
	bad := w.acceptedOrder(w.ns, "failing", "bad-gateway")
	w.waitOrder(bad, "the proxy's error recorded", func(o *commercev1alpha1.WhatsAppOrder) bool {
		c := notifiedCondition(o)
		return c != nil && strings.Contains(c.Message, "HTTP 502") && strings.Contains(c.Message, "body not a WhatsApp error")
	})

	if internal.requests.Load() != 0 || target.requests.Load() != 0 || target.withToken.Load() != 0 {
		t.Fatalf("requests: %d to the internal service, %d to the redirect's target (%d with the token); want none",
			internal.requests.Load(), target.requests.Load(), target.withToken.Load())
	}
	var events eventsv1.EventList
	must(t, env.Client.List(ctx, &events, client.InNamespace(w.ns)))
	var orders commercev1alpha1.WhatsAppOrderList
	must(t, env.Client.List(ctx, &orders, client.InNamespace(w.ns)))
	if seen := fmt.Sprintf("%+v %+v", events.Items, orders.Items); strings.Contains(seen, internalSecret) || strings.Contains(seen, accessToken) {
		t.Fatal("another service's answer or the access token shows in an order or an event")
	}
}

// The webhook path of a channel never shows in its conditions or Events; an
// On-Premises channel without appSecret says it is unsigned, and removing
// appSecret is a Warning.
func TestWebhookPathStaysOutOfMessagesAndUnsignedIsSaid(t *testing.T) {
	w := newWorld(t, commercev1alpha1.APIOnPremises)
	if c := meta.FindStatusCondition(w.channel.Status.Conditions, commercev1alpha1.ConditionSigned); c == nil || c.Status != metav1.ConditionTrue {
		t.Fatalf("Signed = %+v, want True for a channel with appSecret", c)
	}

	open := w.otherChannel(w.ns, "open", secretData("open", false), commercev1alpha1.WhatsAppChannelSpec{API: commercev1alpha1.APIOnPremises, APIURL: w.fake.URL()})
	w.waitReady(open, metav1.ConditionTrue, commercev1alpha1.ReasonChannelReady)
	if c := meta.FindStatusCondition(open.Status.Conditions, commercev1alpha1.ConditionSigned); c == nil || c.Status != metav1.ConditionFalse || c.Reason != commercev1alpha1.ReasonUnsigned {
		t.Fatalf("Signed = %+v, want False Unsigned", c)
	}
	w.eventually("a Warning that the channel is unsigned", func() bool { return w.hasEvent(open, corev1.EventTypeWarning, commercev1alpha1.ReasonUnsigned) })

	// The shop's appSecret is removed: a Warning, never a silent downgrade.
	var secret corev1.Secret
	must(t, env.Client.Get(ctx, client.ObjectKey{Namespace: w.ns, Name: "wa"}, &secret))
	delete(secret.Data, commercev1alpha1.SecretKeyAppSecret)
	must(t, env.Client.Update(ctx, &secret))
	w.eventually("Signed False on the shop", func() bool {
		_ = env.Client.Get(ctx, client.ObjectKeyFromObject(w.channel), w.channel)
		c := meta.FindStatusCondition(w.channel.Status.Conditions, commercev1alpha1.ConditionSigned)
		return c != nil && c.Status == metav1.ConditionFalse
	})
	w.eventually("a Warning naming the removal", func() bool {
		var events eventsv1.EventList
		_ = env.Client.List(ctx, &events, client.InNamespace(w.ns))
		for _, e := range events.Items {
			if e.Regarding.Name == "shop" && e.Type == corev1.EventTypeWarning && e.Reason == commercev1alpha1.ReasonUnsigned && strings.Contains(e.Note, "was removed") {
				return true
			}
		}
		return false
	})

	var events eventsv1.EventList
	must(t, env.Client.List(ctx, &events, client.InNamespace(w.ns)))
	must(t, env.Client.Get(ctx, client.ObjectKeyFromObject(open), open))
	for _, ch := range []*commercev1alpha1.WhatsAppChannel{w.channel, open} {
		if ch.Status.WebhookPath == "" {
			t.Fatalf("channel %s publishes no status.webhookPath", ch.Name)
		}
		seen := fmt.Sprintf("%+v %+v", ch.Status.Conditions, events.Items)
		if strings.Contains(seen, strings.TrimPrefix(ch.Status.WebhookPath, "/webhooks/")) {
			t.Errorf("channel %s's webhook path shows in a condition or an event", ch.Name)
		}
	}
}
