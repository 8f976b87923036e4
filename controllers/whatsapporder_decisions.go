package controllers

import (
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/notification"
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

// invalidCartReasons maps the cart package's vocabulary to the API's reasons:
// the API promises these names, the cart package is free to change its own.
var invalidCartReasons = map[string]string{
	cart.ReasonNoItems:                  commercev1alpha1.ReasonNoItems,
	cart.ReasonTooManyItems:             commercev1alpha1.ReasonTooManyItems,
	cart.ReasonInvalidProductRetailerID: commercev1alpha1.ReasonInvalidProductRetailerID,
	cart.ReasonInvalidQuantity:          commercev1alpha1.ReasonInvalidQuantity,
	cart.ReasonInvalidPrice:             commercev1alpha1.ReasonInvalidPrice,
	cart.ReasonUnknownCurrency:          commercev1alpha1.ReasonUnknownCurrency,
	cart.ReasonMixedCurrencies:          commercev1alpha1.ReasonMixedCurrencies,
}

func invalidCartReason(err error) string {
	var cartErr *cart.Error
	if errors.As(err, &cartErr) {
		if reason, ok := invalidCartReasons[cartErr.Reason]; ok {
			return reason
		}
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

var errNoTemplate = errors.New("the customer's 24-hour service window has closed and the channel names no template; nothing was sent")

// orderMessage is the message announcing state: free-form text inside the
// customer's window, the channel's template outside it (or when forced).
func orderMessage(order *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel, state commercev1alpha1.OrderState, sum cart.Summary, now time.Time, forceTemplate bool) (message, error) {
	msg := message{to: recipient(order.Spec.Customer)}
	if ch == nil {
		return msg, nil // the Messenger reports the missing channel
	}
	data := notification.For(order, state, sum)
	var err error
	if forceTemplate || windowClosed(order.Spec.ReceivedAt, now) {
		if ch.Spec.Notifications.Template == nil {
			return msg, errNoTemplate
		}
		msg.template = ch.Spec.Notifications.Template
		msg.params, err = notification.TemplateParameters(msg.template, data)
		return msg, err
	}
	msg.text, err = notification.Text(ch, data)
	return msg, err
}

// notificationOutcome is the CustomerNotified condition a send leads to, and
// the notification to record: the message WhatsApp accepted, or the record of
// a final refusal. A send that will be retried records nothing.
func notificationOutcome(state commercev1alpha1.OrderState, res sendResult, now time.Time) (*metav1.Condition, *commercev1alpha1.OrderNotification) {
	cond := &metav1.Condition{Type: commercev1alpha1.ConditionCustomerNotified, Status: metav1.ConditionFalse, Reason: res.Reason, Message: res.Message}
	switch {
	case res.Reason == commercev1alpha1.ReasonSent:
		cond.Status, cond.Message = metav1.ConditionTrue, fmt.Sprintf("told the customer the order is %s (message %s)", state, res.MessageID)
		return cond, &commercev1alpha1.OrderNotification{State: state, SentMessage: commercev1alpha1.SentMessage{MessageID: res.MessageID, SentAt: &metav1.Time{Time: now}}}
	case res.final():
		return cond, &commercev1alpha1.OrderNotification{State: state, SentMessage: commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed,
			Error: orMessageError(res.Error, res.Message), SentAt: &metav1.Time{Time: now}}}
	}
	return cond, nil
}

// orderConditions are Ready and the kstatus conditions of an order, from its
// phase, Validated and CustomerNotified (nil before any). Reconciling is there
// while a notification is retried or waits for its channel; Stalled while the
// cart is invalid or the last notification was refused for good. Absent
// kstatus conditions are removed when written.
func orderConditions(phase commercev1alpha1.OrderPhase, validated metav1.Condition, notified *metav1.Condition) []metav1.Condition {
	if validated.Status != metav1.ConditionTrue {
		return []metav1.Condition{
			{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: commercev1alpha1.ReasonInvalidCart, Message: validated.Message},
			kstatus(commercev1alpha1.ConditionStalled, commercev1alpha1.ReasonInvalidCart, validated.Message),
		}
	}
	ready := metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: commercev1alpha1.ReasonUpToDate, Message: "phase is " + string(phase)}
	if notified == nil {
		return []metav1.Condition{ready}
	}
	switch notified.Reason {
	case commercev1alpha1.ReasonRetrying, commercev1alpha1.ReasonChannelNotReady:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, notified.Reason, "notifying the customer: "+notified.Message
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionReconciling, notified.Reason, ready.Message)}
	case commercev1alpha1.ReasonWindowClosed, commercev1alpha1.ReasonSendFailed:
		return []metav1.Condition{ready, kstatus(commercev1alpha1.ConditionStalled, notified.Reason, notified.Message)}
	}
	return []metav1.Condition{ready}
}

func finalOrderPhase(p commercev1alpha1.OrderPhase) bool {
	return p == commercev1alpha1.OrderPhase(commercev1alpha1.OrderRejected) || p == commercev1alpha1.OrderPhase(commercev1alpha1.OrderDelivered) || p == commercev1alpha1.OrderPhase(commercev1alpha1.OrderCancelled)
}

func orMessageError(e *commercev1alpha1.MessageError, message string) *commercev1alpha1.MessageError {
	if e != nil {
		return e
	}
	return &commercev1alpha1.MessageError{Message: message}
}
