package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// secretRetry is how long a message waits before the channel's Secret is read
// again when it has no usable access token. Secrets are not watched (that would
// take list and watch on every Secret), so this one case polls; a channel that
// is missing or not Ready is waited for through its watch instead.
const secretRetry = 30 * time.Second

// window is WhatsApp's customer service window: free-form messages are allowed
// only this long after the customer's last message.
const window = 24 * time.Hour

var messagesSent = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "whatsapp_messages_sent_total",
	Help: "Messages to customers, by what they were about (order, inquiry, productmessage) and outcome.",
}, []string{"about", "outcome"})

func init() { metrics.Registry.MustRegister(messagesSent) }

// Messenger sends messages to customers through a channel's WhatsApp API.
type Messenger struct {
	// Secrets holds the channels' access tokens, so a send costs no Secret
	// read; a token WhatsApp refuses is read again at once, so a rotation
	// takes effect at the first send that needs it.
	Secrets *channelsecret.Cache
	// SecretMaxAge is how long a cached token is used without a refusal.
	SecretMaxAge time.Duration
	HTTPClient   *http.Client
	// AllowedAPIURLs are where sends may go (--allowed-api-urls). The channel
	// controller makes a channel elsewhere not Ready; checking again here
	// holds between an edit of apiURL and that controller's next pass.
	AllowedAPIURLs whatsapp.AllowedURLs
}

// message is one message to send to a customer: text, or a template when the
// window has closed. callbackData names the resource and what the message is
// about (see internal/callbackdata); Cloud echoes it in every status.
type message struct {
	to            whatsapp.Recipient
	text, replyTo string
	callbackData  string
	template      *commercev1alpha1.MessageTemplate
	params        []string
	// card, when set, makes the message an update of the order card of a
	// bill (order_status) rather than text; template then names the
	// channel's ORDER_STATUS template.
	card *whatsapp.OrderStatus
}

// sendResult is how a send went, ready to become a condition: Reason is one
// of commercev1alpha1's send outcomes (ReasonSent, ReasonRetrying, ...).
type sendResult struct {
	MessageID string
	Reason    string
	Message   string
	// Error is WhatsApp's refusal, to record on the message.
	Error *commercev1alpha1.MessageError
	// RetryAfter is when to try again; zero means the workqueue's backoff for
	// Retrying, the channel's watch for ChannelNotReady (see afterSend).
	RetryAfter time.Duration
	// Unanswered is a Retrying send whose outcome is unknown: no answer at
	// all (a timeout, a reset connection) or a 5xx, which WhatsApp or a proxy
	// in front of it may give after the message was taken. WhatsApp may have
	// accepted it, so its intent stays until a status or its timeout.
	Unanswered bool
	// Err is the send's error as the WhatsApp client returned it (a
	// *whatsapp.Error keeps its class and code); nil when the send never
	// reached WhatsApp.
	Err error
}

// cause is the error a send that will be retried returns to the workqueue.
func (r sendResult) cause() error {
	if r.Err != nil {
		return r.Err
	}
	return errors.New(r.Message)
}

func (r sendResult) final() bool {
	return r.Reason == commercev1alpha1.ReasonWindowClosed || r.Reason == commercev1alpha1.ReasonSendFailed
}

// send sends msg on ch and classifies the outcome. Nothing it returns is an
// error to the caller: every outcome is something to record.
func (m *Messenger) send(ctx context.Context, about string, ch *commercev1alpha1.WhatsAppChannel, msg message) sendResult {
	send := whatsapp.Send{To: msg.to, ReplyTo: msg.replyTo, CallbackData: msg.callbackData}
	return m.sendWith(ctx, about, ch, func(api *whatsapp.Client) (string, error) {
		t := msg.template
		switch {
		case msg.card != nil && t != nil:
			return api.SendOrderStatusTemplate(ctx, send, templateRef(t.Name, t.Language, t.Namespace), *msg.card)
		case msg.card != nil:
			return api.SendOrderStatus(ctx, send, *msg.card)
		case t != nil:
			return api.SendTemplate(ctx, send, templateRef(t.Name, t.Language, t.Namespace), msg.params)
		}
		return api.SendText(ctx, send, msg.text)
	})
}

// templateRef names an approved template, in en_US when no language is set.
func templateRef(name, language, namespace string) whatsapp.TemplateRef {
	if language == "" {
		language = "en_US"
	}
	return whatsapp.TemplateRef{Name: name, Language: language, Namespace: namespace}
}

// sendBill sends the bill d on ch, or, with template, that template in its
// place, and classifies the outcome as send does.
func (m *Messenger) sendBill(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, to whatsapp.Send, d whatsapp.OrderDetails, template *whatsapp.TemplateRef) sendResult {
	return m.sendWith(ctx, "payment", ch, func(api *whatsapp.Client) (string, error) {
		if template != nil {
			return api.SendOrderDetailsTemplate(ctx, to, *template, d)
		}
		return api.SendOrderDetails(ctx, to, d)
	})
}

// lookupPayment asks WhatsApp, through ch, for the payment of the bill with
// reference under configuration; a non-nil result is why it could not ask.
func (m *Messenger) lookupPayment(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, configuration, reference string) (p whatsapp.Payment, found bool, res sendResult) {
	res = m.deliver(ctx, ch, func(api *whatsapp.Client) (string, error) {
		var err error
		p, found, err = api.LookupPayment(ctx, configuration, reference)
		return "", err
	})
	return p, found, res
}

// sendProducts sends the product message p on ch, or, with template, that
// template in its place, and classifies the outcome as send does.
func (m *Messenger) sendProducts(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, to whatsapp.Send, p whatsapp.Products, template *whatsapp.TemplateRef) sendResult {
	return m.sendWith(ctx, "productmessage", ch, func(api *whatsapp.Client) (string, error) {
		if template != nil {
			return api.SendProductTemplate(ctx, to, *template, p)
		}
		return api.SendProducts(ctx, to, p)
	})
}

// sendWith makes a client for ch, sends with call, counts the outcome and
// classifies it.
func (m *Messenger) sendWith(ctx context.Context, about string, ch *commercev1alpha1.WhatsAppChannel, call func(*whatsapp.Client) (string, error)) sendResult {
	res := m.deliver(ctx, ch, call)
	messagesSent.WithLabelValues(about, res.Reason).Inc()
	return res
}

func (m *Messenger) deliver(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, call func(*whatsapp.Client) (string, error)) sendResult {
	if ch == nil || !meta.IsStatusConditionTrue(ch.Status.Conditions, commercev1alpha1.ConditionReady) {
		return sendResult{Reason: commercev1alpha1.ReasonChannelNotReady, Message: "the WhatsAppChannel is missing or not Ready"}
	}
	if base := whatsapp.BaseURL(whatsapp.Generation(ch.API()), ch.Spec.APIURL); !m.AllowedAPIURLs.Allows(base) {
		return sendResult{Reason: commercev1alpha1.ReasonChannelNotReady, Message: apiURLNotAllowed(base, m.AllowedAPIURLs)}
	}
	start := time.Now()
	token, fetched, res := m.accessToken(ctx, ch, m.SecretMaxAge)
	if res != nil {
		return *res
	}
	id, err := m.call(ch, token, call)
	if refusedToken(err) && fetched.Before(start) {
		// The cached token may predate a rotation: read the Secret and, if
		// the token changed, send again; WhatsApp took nothing with the old.
		fresh, _, res := m.accessToken(ctx, ch, 0)
		if res != nil {
			return *res
		}
		if fresh != token {
			id, err = m.call(ch, fresh, call)
		}
	}
	if err == nil {
		return sendResult{MessageID: id, Reason: commercev1alpha1.ReasonSent}
	}
	res = &sendResult{Message: err.Error(), Err: err}
	var apiErr *whatsapp.Error
	if errors.As(err, &apiErr) && apiErr.Code != 0 {
		res.Error = &commercev1alpha1.MessageError{Code: apiErr.Code, Title: string(apiErr.Class), Message: apiErr.Message}
	}
	switch whatsapp.ClassOf(err) {
	case whatsapp.WindowClosed:
		res.Reason = commercev1alpha1.ReasonWindowClosed
	case whatsapp.RateLimited, whatsapp.Transient:
		res.Reason, res.RetryAfter = commercev1alpha1.ReasonRetrying, whatsapp.RetryAfter(err)
		res.Unanswered = apiErr == nil || apiErr.HTTPStatus == 0 || apiErr.HTTPStatus >= http.StatusInternalServerError
	default:
		res.Reason = commercev1alpha1.ReasonSendFailed
	}
	return *res
}

// accessToken is ch's access token, from a copy at most maxAge old, and when
// it was read; a non-nil result is the outcome of a send that cannot start.
func (m *Messenger) accessToken(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, maxAge time.Duration) (string, time.Time, *sendResult) {
	vals, fetched, err := m.Secrets.Get(ctx, ch, maxAge)
	if err == nil && len(vals.AccessToken) == 0 {
		err = fmt.Errorf("the channel's Secret has no %q", commercev1alpha1.SecretKeyAccessToken)
	}
	if err != nil {
		return "", fetched, &sendResult{Reason: commercev1alpha1.ReasonChannelNotReady, Message: err.Error(), RetryAfter: secretRetry}
	}
	return string(vals.AccessToken), fetched, nil
}

// call sends with call through a client for ch using token.
func (m *Messenger) call(ch *commercev1alpha1.WhatsAppChannel, token string, call func(*whatsapp.Client) (string, error)) (string, error) {
	api, err := whatsapp.New(whatsapp.Config{
		Generation: whatsapp.Generation(ch.API()), BaseURL: ch.Spec.APIURL, PhoneNumberID: ch.Spec.PhoneNumberID,
		AccessToken: token, HTTPClient: m.HTTPClient,
	})
	if err != nil {
		return "", err
	}
	return call(api)
}

// refusedToken reports whether WhatsApp refused the send's access token
// (HTTP 401, Graph's OAuthException), which took no message.
func refusedToken(err error) bool {
	apiErr, ok := errors.AsType[*whatsapp.Error](err)
	return ok && apiErr.HTTPStatus == http.StatusUnauthorized
}
