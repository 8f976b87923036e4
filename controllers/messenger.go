package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/channelsecret"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// Reasons for the outcome of a message to a customer, shared by orders
// (CustomerNotified) and inquiries (Answered).
const (
	ReasonSent            = "Sent"
	ReasonRetrying        = "Retrying"
	ReasonWindowClosed    = "WindowClosed"
	ReasonSendFailed      = "SendFailed"
	ReasonChannelNotReady = "ChannelNotReady"
)

// channelRetry is how long a message waits for its channel to become usable.
const channelRetry = 30 * time.Second

// window is WhatsApp's customer service window: free-form messages are allowed
// only this long after the customer's last message.
const window = 24 * time.Hour

var messagesSent = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "whatsapp_messages_sent_total",
	Help: "Messages to customers, by what they were about (order, inquiry) and outcome.",
}, []string{"about", "outcome"})

func init() { metrics.Registry.MustRegister(messagesSent) }

// Messenger sends messages to customers through a channel's WhatsApp API.
type Messenger struct {
	// SecretReader reads the channel's Secret for its access token.
	SecretReader client.Reader
	HTTPClient   *http.Client
}

// message is one message to send: text, or the channel's template when the
// window has closed.
type message struct {
	to, text, replyTo string
	template          *commercev1alpha1.MessageTemplate
	params            []string
}

// sendResult is how a send went, ready to become a condition: Reason is one
// of the Reason constants above.
type sendResult struct {
	MessageID string
	Reason    string
	Message   string
	// Error is WhatsApp's refusal, to record on the message.
	Error *commercev1alpha1.MessageError
	// RetryAfter is when to try again, for Retrying and ChannelNotReady; zero
	// means "use the workqueue's backoff".
	RetryAfter time.Duration
}

func (r sendResult) final() bool {
	return r.Reason == ReasonWindowClosed || r.Reason == ReasonSendFailed
}

// send sends msg on ch and classifies the outcome. Nothing it returns is an
// error to the caller: every outcome is something to record.
func (m *Messenger) send(ctx context.Context, about string, ch *commercev1alpha1.WhatsAppChannel, msg message) sendResult {
	res := m.deliver(ctx, ch, msg)
	messagesSent.WithLabelValues(about, res.Reason).Inc()
	return res
}

func (m *Messenger) deliver(ctx context.Context, ch *commercev1alpha1.WhatsAppChannel, msg message) sendResult {
	if ch == nil || !meta.IsStatusConditionTrue(ch.Status.Conditions, commercev1alpha1.ConditionReady) {
		return sendResult{Reason: ReasonChannelNotReady, Message: "the WhatsAppChannel is missing or not Ready", RetryAfter: channelRetry}
	}
	vals, err := channelsecret.Load(ctx, m.SecretReader, ch)
	if err == nil && len(vals.AccessToken) == 0 {
		err = fmt.Errorf("the channel's Secret has no %q", commercev1alpha1.SecretKeyAccessToken)
	}
	if err != nil {
		return sendResult{Reason: ReasonChannelNotReady, Message: err.Error(), RetryAfter: channelRetry}
	}
	api, err := whatsapp.New(whatsapp.Config{
		Generation: whatsapp.Generation(ch.API()), BaseURL: ch.Spec.APIURL, PhoneNumberID: ch.Spec.PhoneNumberID,
		AccessToken: string(vals.AccessToken), HTTPClient: m.HTTPClient,
	})
	if err != nil {
		return sendResult{Reason: ReasonSendFailed, Message: err.Error()}
	}
	var id string
	if msg.template != nil {
		lang := msg.template.Language
		if lang == "" {
			lang = "en_US"
		}
		id, err = api.SendTemplate(ctx, msg.to, msg.template.Name, lang, msg.params)
	} else {
		id, err = api.SendText(ctx, msg.to, msg.text, msg.replyTo)
	}
	if err == nil {
		return sendResult{MessageID: id, Reason: ReasonSent}
	}
	res := sendResult{Message: err.Error()}
	var apiErr *whatsapp.Error
	if errors.As(err, &apiErr) && apiErr.Code != 0 {
		res.Error = &commercev1alpha1.MessageError{Code: apiErr.Code, Title: string(apiErr.Class), Message: apiErr.Message}
	}
	switch whatsapp.ClassOf(err) {
	case whatsapp.WindowClosed:
		res.Reason = ReasonWindowClosed
	case whatsapp.RateLimited, whatsapp.Transient:
		res.Reason, res.RetryAfter = ReasonRetrying, whatsapp.RetryAfter(err)
	default:
		res.Reason = ReasonSendFailed
	}
	return res
}

// recipient is who a message to the customer goes to: the phone-number WhatsApp
// id, or the business-scoped user id when WhatsApp withheld the number.
func recipient(c commercev1alpha1.Customer) string {
	if c.WaID != "" {
		return c.WaID
	}
	return c.UserID
}

// windowClosed reports whether the customer's 24-hour window, opened by the
// message received at receivedAt, has closed at now.
func windowClosed(receivedAt metav1.Time, now time.Time) bool {
	return !now.Before(receivedAt.Add(window))
}
