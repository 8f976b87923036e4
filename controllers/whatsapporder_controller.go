package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/notification"
)

// WhatsAppOrderReconciler follows the business's decisions on orders: it checks
// the cart, computes the exact total, moves status.phase to spec.state at once,
// and tells the customer about every state the order enters, exactly once.
//
// Exactly once: a notification is recorded in status.notifications in the same
// status write as the reconcile that sent it, and before sending the reconciler
// re-reads the order from the API server, so neither a stale cache, a conflict
// nor a restart sends it again. The one window left is a crash (or an API
// server unreachable for every retry) between WhatsApp accepting the message
// and the status write: then the next reconcile sends that one message again.
type WhatsAppOrderReconciler struct {
	client.Client
	// APIReader reads the order fresh from the API server before a send.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Messenger *Messenger
	Clock     clock.PassiveClock
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders/status,verbs=update

// Reasons of the Validated, CustomerNotified and Ready conditions.
const (
	ReasonCartValid     = "CartValid"
	ReasonNothingToSend = "NothingToSend"
	ReasonUpToDate      = "UpToDate"
	ReasonInvalidCart   = "InvalidCart"
)

// Reconcile brings one order's status up to its spec: fetch, expire a finished
// order past retention, validate, take one step of notifying, write the status
// once, then emit the events of what changed.
func (r *WhatsAppOrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var order commercev1alpha1.WhatsAppOrder
	if err := r.Get(ctx, req.NamespacedName, &order); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !order.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	ch, err := getChannel(ctx, r.Client, order.Namespace, order.Spec.Channel)
	if err != nil {
		return ctrl.Result{}, err
	}
	keep, expired := retention(order.Status.FinishedAt, ch, r.Clock.Now())
	if expired {
		return ctrl.Result{}, deleteExpired(ctx, r.Client, r.Recorder, &order)
	}

	step := r.step(ctx, &order, ch)
	before := order.Status.DeepCopy()
	if err := writeStatus(ctx, r.Client, r.APIReader, &order, func(o *commercev1alpha1.WhatsAppOrder) { step.apply(o, r.Clock.Now()) }); err != nil {
		return ctrl.Result{}, err
	}
	r.recordEvents(&order, before, step)
	return withRetention(step.result, keep), step.err
}

// orderStep is what one reconcile decided, applied to the status in one write.
type orderStep struct {
	phase     commercev1alpha1.OrderPhase
	summary   cart.Summary
	validated metav1.Condition
	// notified is nil when this reconcile changes nothing about notifying.
	notified *metav1.Condition
	ready    metav1.Condition
	// sent is the notification to record: a message WhatsApp accepted, or one
	// that will never go out.
	sent   *commercev1alpha1.OrderNotification
	result ctrl.Result
	// err is returned after the status write, for the workqueue's backoff.
	err error
}

func (s *orderStep) apply(o *commercev1alpha1.WhatsAppOrder, now time.Time) {
	st := &o.Status
	st.ObservedGeneration = o.Generation
	st.Phase = s.phase
	st.ItemCount, st.Total, st.Currency = s.summary.ItemCount, s.summary.Total, s.summary.Currency
	if finalOrderPhase(s.phase) && st.FinishedAt == nil {
		st.FinishedAt = &metav1.Time{Time: now}
	}
	if s.sent != nil && notificationFor(st, s.sent.State) == nil {
		st.Notifications = append(st.Notifications, *s.sent)
	}
	for _, c := range []*metav1.Condition{&s.validated, s.notified, &s.ready} {
		if c != nil {
			c.ObservedGeneration = o.Generation
			meta.SetStatusCondition(&st.Conditions, *c)
		}
	}
}

// step validates the cart and sends at most one notification.
func (r *WhatsAppOrderReconciler) step(ctx context.Context, order *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel) *orderStep {
	s := &orderStep{}
	sum, err := cart.Summarize(cartItems(order))
	if err != nil {
		reason := ReasonInvalidCart
		var cartErr *cart.Error
		if errors.As(err, &cartErr) {
			reason = cartErr.Reason
		}
		s.phase = commercev1alpha1.OrderPhaseInvalid
		s.validated = metav1.Condition{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionFalse, Reason: reason, Message: err.Error()}
		s.notified = &metav1.Condition{Type: commercev1alpha1.ConditionCustomerNotified, Status: metav1.ConditionFalse, Reason: ReasonInvalidCart, Message: "nothing is sent about an invalid cart"}
		s.ready = metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonInvalidCart, Message: err.Error()}
		return s
	}
	s.summary = sum
	s.phase = commercev1alpha1.OrderPhase(order.Spec.State)
	s.validated = metav1.Condition{Type: commercev1alpha1.ConditionValidated, Status: metav1.ConditionTrue, Reason: ReasonCartValid,
		Message: fmt.Sprintf("%d items, total %s %s", sum.ItemCount, sum.Total, sum.Currency)}
	s.ready = metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonUpToDate, Message: "phase is " + string(s.phase)}

	due := dueNotifications(order)
	if len(due) == 0 {
		if len(order.Status.Notifications) == 0 {
			s.notified = &metav1.Condition{Type: commercev1alpha1.ConditionCustomerNotified, Status: metav1.ConditionFalse, Reason: ReasonNothingToSend,
				Message: "the customer is told once the order leaves Pending"}
		}
		return s
	}
	// The cache may not show the notification the previous reconcile recorded:
	// ask the API server before sending.
	var fresh commercev1alpha1.WhatsAppOrder
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(order), &fresh); err != nil {
		s.err = fmt.Errorf("re-reading the order before notifying: %w", err)
		return s
	}
	if notificationFor(&fresh.Status, due[0]) != nil {
		s.result = ctrl.Result{RequeueAfter: time.Millisecond}
		return s
	}
	r.notify(ctx, s, order, ch, due[0])
	if s.sent != nil && len(due) > 1 {
		s.result = ctrl.Result{RequeueAfter: time.Millisecond}
	}
	return s
}

// notify sends the notification for state and records the outcome in s.
func (r *WhatsAppOrderReconciler) notify(ctx context.Context, s *orderStep, order *commercev1alpha1.WhatsAppOrder, ch *commercev1alpha1.WhatsAppChannel, state commercev1alpha1.OrderState) {
	now := r.Clock.Now()
	var res sendResult
	msg, err := orderMessage(order, ch, state, s.summary, now, false)
	switch {
	case errors.Is(err, errNoTemplate):
		res = sendResult{Reason: ReasonWindowClosed, Message: err.Error()}
	case err != nil:
		res = sendResult{Reason: ReasonSendFailed, Message: err.Error()}
	default:
		res = r.Messenger.send(ctx, "order", ch, msg)
		// WhatsApp knows of the window better than our clock does.
		if res.Reason == ReasonWindowClosed && msg.template == nil && ch.Spec.Notifications.Template != nil {
			if msg, err = orderMessage(order, ch, state, s.summary, now, true); err == nil {
				res = r.Messenger.send(ctx, "order", ch, msg)
			}
		}
	}
	cond := metav1.Condition{Type: commercev1alpha1.ConditionCustomerNotified, Status: metav1.ConditionFalse, Reason: res.Reason, Message: res.Message}
	switch {
	case res.Reason == ReasonSent:
		cond.Status, cond.Message = metav1.ConditionTrue, fmt.Sprintf("told the customer the order is %s (message %s)", state, res.MessageID)
		s.sent = &commercev1alpha1.OrderNotification{State: state, SentMessage: commercev1alpha1.SentMessage{MessageID: res.MessageID, SentAt: &metav1.Time{Time: now}}}
	case res.final():
		s.sent = &commercev1alpha1.OrderNotification{State: state, SentMessage: commercev1alpha1.SentMessage{DeliveryStatus: commercev1alpha1.DeliveryFailed,
			Error: orMessageError(res.Error, res.Message), SentAt: &metav1.Time{Time: now}}}
	default:
		s.ready = metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: res.Reason, Message: "notifying the customer: " + res.Message}
		if res.RetryAfter > 0 {
			s.result = ctrl.Result{RequeueAfter: res.RetryAfter}
		} else {
			s.err = fmt.Errorf("notifying the customer of %s: %s", state, res.Message)
		}
	}
	s.notified = &cond
	logf.FromContext(ctx).Info("customer notification", "state", state, "outcome", res.Reason, "messageID", res.MessageID)
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

func (r *WhatsAppOrderReconciler) recordEvents(order *commercev1alpha1.WhatsAppOrder, before *commercev1alpha1.WhatsAppOrderStatus, s *orderStep) {
	if before.Phase != s.phase {
		eventType, reason := corev1.EventTypeNormal, "PhaseChanged"
		if s.phase == commercev1alpha1.OrderPhaseInvalid {
			eventType, reason = corev1.EventTypeWarning, ReasonInvalidCart
		}
		from := string(before.Phase)
		if from == "" {
			from = "new"
		}
		note := fmt.Sprintf("%s -> %s", from, s.phase)
		if s.phase == commercev1alpha1.OrderPhaseInvalid {
			note = s.validated.Message
		}
		r.Recorder.Eventf(order, nil, eventType, reason, "Reconcile", "%s", note)
	}
	if s.notified == nil || s.notified.Reason == ReasonNothingToSend || s.notified.Reason == ReasonInvalidCart {
		return
	}
	old := meta.FindStatusCondition(before.Conditions, commercev1alpha1.ConditionCustomerNotified)
	if s.sent == nil && old != nil && old.Reason == s.notified.Reason {
		return // still retrying: one event for the episode, not one per attempt
	}
	eventType := corev1.EventTypeNormal
	if s.notified.Status != metav1.ConditionTrue {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(order, nil, eventType, "CustomerNotified"+suffix(s.notified.Reason), "Notify", "%s", s.notified.Message)
}

// suffix turns a reason into an event reason suffix: "" for Sent.
func suffix(reason string) string {
	if reason == ReasonSent {
		return ""
	}
	return reason
}

// dueNotifications are the states the customer has yet to hear about, in the
// order they happened. A reconcile may see only the latest state of a burst
// (Accepted then Shipped within a second); the states the state machine must
// have passed through to get there are due too, so none is lost.
func dueNotifications(order *commercev1alpha1.WhatsAppOrder) []commercev1alpha1.OrderState {
	var path []commercev1alpha1.OrderState
	switch order.Spec.State {
	case commercev1alpha1.OrderAccepted:
		path = []commercev1alpha1.OrderState{commercev1alpha1.OrderAccepted}
	case commercev1alpha1.OrderShipped:
		path = []commercev1alpha1.OrderState{commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped}
	case commercev1alpha1.OrderDelivered:
		path = []commercev1alpha1.OrderState{commercev1alpha1.OrderAccepted, commercev1alpha1.OrderShipped, commercev1alpha1.OrderDelivered}
	case commercev1alpha1.OrderRejected, commercev1alpha1.OrderCancelled:
		path = []commercev1alpha1.OrderState{order.Spec.State}
	}
	var due []commercev1alpha1.OrderState
	for _, s := range path {
		if notificationFor(&order.Status, s) == nil {
			due = append(due, s)
		}
	}
	return due
}

func notificationFor(st *commercev1alpha1.WhatsAppOrderStatus, state commercev1alpha1.OrderState) *commercev1alpha1.OrderNotification {
	for i := range st.Notifications {
		if st.Notifications[i].State == state {
			return &st.Notifications[i]
		}
	}
	return nil
}

func finalOrderPhase(p commercev1alpha1.OrderPhase) bool {
	return p == commercev1alpha1.OrderPhase(commercev1alpha1.OrderRejected) || p == commercev1alpha1.OrderPhase(commercev1alpha1.OrderDelivered) || p == commercev1alpha1.OrderPhase(commercev1alpha1.OrderCancelled)
}

func cartItems(o *commercev1alpha1.WhatsAppOrder) []cart.Item {
	items := make([]cart.Item, len(o.Spec.Items))
	for i, it := range o.Spec.Items {
		items[i] = cart.Item{ProductRetailerID: it.ProductRetailerID, Quantity: it.Quantity, ItemPrice: it.ItemPrice, Currency: it.Currency}
	}
	return items
}

func orMessageError(e *commercev1alpha1.MessageError, message string) *commercev1alpha1.MessageError {
	if e != nil {
		return e
	}
	return &commercev1alpha1.MessageError{Message: message}
}

// SetupWithManager registers the reconciler.
func (r *WhatsAppOrderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.WhatsAppOrder{}).
		Named("whatsapporder").
		Complete(r)
}
