package controllers

import (
	"errors"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/notification"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The order's decisions: pure functions of values, table-tested in
// whatsapporder_decisions_test.go.

// validation is the phase, totals and Validated condition of an order: its
// spec.state when the cart is valid, Invalid otherwise.
func validation(o *commercev1alpha1.WhatsAppOrder) (commercev1alpha1.OrderPhase, cart.Summary, metav1.Condition) {
	sum, err := cart.Summarize(cart.OrderItems(o.Spec.Items))
	if err != nil {
		return commercev1alpha1.OrderPhaseInvalid, cart.Summary{}, metav1.Condition{Type: commercev1alpha1.ConditionValidated,
			Status: metav1.ConditionFalse, Reason: invalidCartReason(err), Message: err.Error()}
	}
	return commercev1alpha1.OrderPhase(o.Spec.State), sum, metav1.Condition{Type: commercev1alpha1.ConditionValidated,
		Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonCartValid,
		Message: fmt.Sprintf("%d items, total %s %s", sum.ItemCount, sum.Total, sum.Currency)}
}

// cartBlocks is what holds an order with an invalid cart back (Ready False
// and Stalled, whatever was sent): the cart, as Validated says it.
func cartBlocks(validated metav1.Condition) *metav1.Condition {
	return &metav1.Condition{Reason: commercev1alpha1.ReasonInvalidCart, Message: validated.Message}
}

// invalidCartReason is the reason of a cart the cart package refuses: its
// reasons are the API's.
func invalidCartReason(err error) string {
	var cartErr *cart.Error
	if errors.As(err, &cartErr) {
		return cartErr.Reason
	}
	return commercev1alpha1.ReasonInvalidCart
}

// dueNotifications are the states the customer has yet to hear about, in the
// order they happened. A reconcile may see only the latest state of a burst
// (Accepted then Shipped within a second); the states the state machine must
// have passed through to get there are due too, so none is lost.
func dueNotifications(state commercev1alpha1.OrderState, sent []commercev1alpha1.OrderNotification) []commercev1alpha1.OrderState {
	var path []commercev1alpha1.OrderState
	switch state {
	case commercev1alpha1.OrderAccepted:
		path = []commercev1alpha1.OrderState{commercev1alpha1.OrderAccepted}
	case commercev1alpha1.OrderShipped:
		path = []commercev1alpha1.OrderState{commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped}
	case commercev1alpha1.OrderDelivered:
		path = []commercev1alpha1.OrderState{commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped, commercev1alpha1.OrderDelivered}
	case commercev1alpha1.OrderRejected, commercev1alpha1.OrderCancelled:
		path = []commercev1alpha1.OrderState{state}
	}
	var due []commercev1alpha1.OrderState
	for _, s := range path {
		if notificationFor(sent, s) == nil {
			due = append(due, s)
		}
	}
	return due
}

func notificationFor(sent []commercev1alpha1.OrderNotification, state commercev1alpha1.OrderState) *commercev1alpha1.OrderNotification {
	for i := range sent {
		if sent[i].State == state {
			return &sent[i]
		}
	}
	return nil
}

// entryFor is the record of the text (template false) or template message
// announcing state, or nil.
func entryFor(sent []commercev1alpha1.OrderNotification, state commercev1alpha1.OrderState, template bool) *commercev1alpha1.OrderNotification {
	for i := range sent {
		if sent[i].State == state && (sent[i].Template != "") == template {
			return &sent[i]
		}
	}
	return nil
}

// stepKind is what the notify phase does in one pass.
type stepKind int

const (
	// stepNone: nothing to send; CustomerNotified follows the records.
	stepNone stepKind = iota
	// stepAwait: an intent from before a restart waits for its status.
	stepAwait
	// stepSend: one message is sent.
	stepSend
)

// notifyStep is the notify phase's decision for one pass.
type notifyStep struct {
	kind  stepKind
	state commercev1alpha1.OrderState
	// template: the channel's template rather than text.
	template bool
	// wait is how long the awaited intent still waits.
	wait time.Duration
	// fallback: the text for state failed later because the window had
	// closed; template is true.
	fallback *commercev1alpha1.OrderNotification
}

// sameAs reports whether o decides the same thing as s: what a fresh read of
// the order must confirm before this pass sends or waits.
func (s notifyStep) sameAs(o notifyStep) bool {
	return s.kind == o.kind && s.state == o.state && s.template == o.template
}

// nextNotification decides the one thing the notify phase does now, in this
// order: an intent left by a crash waits for its status, or is sent again
// once its timeout has passed; a text WhatsApp reported failed because the
// window had closed is followed by the channel's template, once; the first
// due state is announced, as text inside the window, as the template outside.
func nextNotification(o *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel, now time.Time, intents intentClock) notifyStep {
	sent := o.Status.Notifications
	for i := range sent {
		if sent[i].Pending() {
			step := notifyStep{kind: stepSend, state: sent[i].State, template: sent[i].Template != ""}
			if wait := intents.wait(&sent[i].SentMessage, now); wait > 0 {
				step.kind, step.wait = stepAwait, wait
			}
			return step
		}
	}
	if notifyTemplate(o, ch) != nil {
		for i := range sent {
			e := &sent[i]
			if e.Template == "" && e.DeliveryStatus == commercev1alpha1.DeliveryFailed && windowCode(e.Error) && entryFor(sent, e.State, true) == nil {
				return notifyStep{kind: stepSend, state: e.State, template: true, fallback: e}
			}
		}
	}
	if due := dueNotifications(o.Spec.State, sent); len(due) > 0 {
		return notifyStep{kind: stepSend, state: due[0], template: windowClosed(o.Spec.ReceivedAt, now)}
	}
	return notifyStep{kind: stepNone}
}

// notificationAbout is what the callback data of a notification says it is
// about: the state, and ".template" for the template message.
func notificationAbout(state commercev1alpha1.OrderState, template bool) string {
	if template {
		return string(state) + ".template"
	}
	return string(state)
}

var errNoTemplate = errors.New("the customer's 24-hour service window has closed and the channel names no template; nothing was sent")

// notifyTemplate is the template announcing a state outside the window: the
// channel's ORDER_STATUS template for an order with a bill (its card is
// updated), else its notification template; nil when it has none.
func notifyTemplate(o *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel) *commercev1alpha1.MessageTemplate {
	switch {
	case ch == nil:
		return nil
	case cardReference(o) != "":
		return cardTemplate(ch)
	}
	return ch.Spec.Notifications.Template
}

// orderMessage is the message announcing state: free-form text, or the
// channel's template; for an order with a bill, the update of its order
// card, with the text as its body.
func orderMessage(order *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel, state commercev1alpha1.OrderState, sum cart.Summary, template bool) (message, error) {
	msg := message{to: recipient(order.Spec.Customer, order.Status.CustomerUserID)}
	if ch == nil {
		return msg, nil // the Messenger reports the missing channel
	}
	data := notification.For(order, state, sum)
	var err error
	if template {
		if msg.template = notifyTemplate(order, ch); msg.template == nil {
			return msg, errNoTemplate
		}
	}
	if ref := cardReference(order); ref != "" {
		msg.card = &whatsapp.OrderStatus{ReferenceID: ref, Status: cardStatuses[state]}
		if !template {
			msg.card.Body, err = notification.Text(ch, data)
		}
		return msg, err
	}
	if template {
		msg.params, err = notification.TemplateParameters(msg.template, data)
		return msg, err
	}
	msg.text, err = notification.Text(ch, data)
	return msg, err
}

// notificationRecord is the outcome of one notification's send, to merge
// into the status: message is nil for a send that will be retried, and
// keepIntent keeps its intent pending (see sendRecord).
type notificationRecord struct {
	state      commercev1alpha1.OrderState
	template   string
	message    *commercev1alpha1.SentMessage
	keepIntent bool
}

// applyTo merges n into the notifications as the status holds them now,
// which the receiver may have changed since the intent was written (see
// settle).
func (n *notificationRecord) applyTo(sent []commercev1alpha1.OrderNotification) []commercev1alpha1.OrderNotification {
	e := entryFor(sent, n.state, n.template != "")
	var current *commercev1alpha1.SentMessage
	if e != nil {
		current = &e.SentMessage
	}
	merged, remove := settle(current, n.message, n.keepIntent)
	switch {
	case remove:
		state, template := e.State, e.Template
		return slices.DeleteFunc(sent, func(x commercev1alpha1.OrderNotification) bool { return x.State == state && x.Template == template })
	case merged == nil:
		return sent
	case e == nil:
		return append(sent, commercev1alpha1.OrderNotification{State: n.state, Template: n.template, SentMessage: *merged})
	}
	e.SentMessage = *merged
	return sent
}

// notificationOutcome is the CustomerNotified outcome a send leads to.
func notificationOutcome(state commercev1alpha1.OrderState, template string, res sendResult) *outcome {
	if res.Reason == commercev1alpha1.ReasonSent {
		return outcomeFor(res.Reason, sentMessage(state, template, res.MessageID))
	}
	return outcomeFor(res.Reason, res.Message)
}

func sentMessage(state commercev1alpha1.OrderState, template, messageID string) string {
	if template != "" {
		return fmt.Sprintf("told the customer the order is %s with template %s (message %s)", state, template, messageID)
	}
	return fmt.Sprintf("told the customer the order is %s (message %s)", state, messageID)
}

// recordedNotified is the CustomerNotified outcome that the records say
// when this pass sends nothing: the latest notification decides. Nil when
// there is none.
func recordedNotified(sent []commercev1alpha1.OrderNotification) *outcome {
	if len(sent) == 0 {
		return nil
	}
	last := sent[len(sent)-1]
	about := "the message announcing " + string(last.State)
	if o := recordedOutcome(&last.SentMessage, about); o != nil {
		return o
	}
	return outcomeFor(commercev1alpha1.ReasonSent, sentMessage(last.State, last.Template, last.MessageID))
}

// finalOrderState reports whether an order in state is over.
func finalOrderState(s commercev1alpha1.OrderState) bool {
	return s == commercev1alpha1.OrderRejected || s == commercev1alpha1.OrderDelivered || s == commercev1alpha1.OrderCancelled
}

func orMessageError(e *commercev1alpha1.MessageError, message string) *commercev1alpha1.MessageError {
	if e != nil {
		return e
	}
	return &commercev1alpha1.MessageError{Message: message}
}
