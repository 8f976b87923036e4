package controllers

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/payment"
)

// WhatsAppOrderReconciler follows the business's decisions on orders: it checks
// the cart, computes the exact total, moves status.phase to spec.state at once,
// and tells the customer about every state the order enters, exactly once.
//
// Exactly once: on Cloud channels the notification is recorded as an intent
// (with its callback data) in a status write before it is sent, and its
// outcome in the next write. The intent's write is made on the version read,
// so a stale cache conflicts instead of sending twice, and a crash in between
// does not send it again either (see intent.go). On-Premises sends re-read
// the order from the API server first; a crash (or an API server unreachable
// for every retry) between WhatsApp accepting the message and the status
// write sends that one message again.
type WhatsAppOrderReconciler = messagingReconciler[*commercev1alpha1.WhatsAppOrder, *orderScope]

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders/status,verbs=update

// orderScope is what one reconcile of an order read and decided.
type orderScope struct {
	*pass[*commercev1alpha1.WhatsAppOrder]

	// Decided by validate.
	state     commercev1alpha1.OrderPhase
	summary   cart.Summary
	validated metav1.Condition
	// Decided by notify: the step, and the outcome of its send to record
	// (nil when nothing was sent).
	step   notifyStep
	record *notificationRecord
	// Decided by pay: the step; why the bill did not go (a refusal, or the
	// send's failure); the bill's record to merge and its reference; what
	// the payment lookup found or the business recorded; the Paid condition
	// written.
	bill       billStep
	billFailed *outcome
	billRecord *commercev1alpha1.SentMessage
	billKeep   bool
	billRef    string
	reported   *payment.Report
	paidCond   *metav1.Condition
}

var orderKind = &messagingKind[*commercev1alpha1.WhatsAppOrder]{
	name: "whatsapporder", outcomeType: commercev1alpha1.ConditionCustomerNotified, doing: "notifying the customer", action: "Notify",
	scope: func(_ context.Context, p *pass[*commercev1alpha1.WhatsAppOrder]) (kindScope[*commercev1alpha1.WhatsAppOrder], error) {
		return &orderScope{pass: p}, nil
	},
	news: paymentNews,
}

func (*orderScope) kind() *messagingKind[*commercev1alpha1.WhatsAppOrder] { return orderKind }

func (s *orderScope) eventReason(reason string) string { return notifiedEventReason(reason) }

// phases are the order's phases:
//
//	validate    the cart: phase, itemCount, total, currency, Validated
//	pay         the bill is refused, sent once or awaited; the payment looked up: payment, Paid
//	notify      at most one due notification (text, or the order card of the bill) is sent:
//	            notifications, CustomerNotified
//
// A pass that sends or awaits the bill sends nothing else: the order cards
// name it.
func (s *orderScope) phases(ctx context.Context) error {
	s.validate()
	if !s.pay(ctx) && s.state != commercev1alpha1.OrderPhaseInvalid {
		s.notify(ctx)
	}
	return nil
}

// validate decides phase, totals and Validated from the cart and spec.state.
func (s *orderScope) validate() {
	s.state, s.summary, s.validated = validation(s.obj)
	if s.state == commercev1alpha1.OrderPhaseInvalid {
		s.outcome = outcomeFor(commercev1alpha1.ReasonInvalidCart, "nothing is sent about an invalid cart")
		s.blocked = cartBlocks(s.validated)
	}
}

// notify does what nextNotification decides: nothing, wait for the status of
// an intent left by a restart, or send one message.
func (s *orderScope) notify(ctx context.Context) {
	s.step = nextNotification(s.obj, s.channel, s.now, s.intents)
	if s.step.kind == stepNone {
		s.outcome = recordedNotified(s.obj.Status.Notifications)
		if s.outcome == nil {
			s.outcome = outcomeFor(commercev1alpha1.ReasonNothingToSend, "the customer is told once the order leaves Pending")
		}
		return
	}
	// The cache may not show what the previous reconcile recorded. A send
	// writes its intent first, on the version this pass read: a stale copy
	// conflicts, and the write re-reads and finds the record (see
	// claimIntent), so that write is the check. Before waiting on an
	// intent, ask the API server: it may be this operator's own, settled a
	// moment ago (status updates start no reconcile, so a stale wait would
	// last the whole intent timeout).
	if s.step.kind == stepAwait {
		var fresh commercev1alpha1.WhatsAppOrder
		if !s.freshRead(ctx, &fresh, "notifying") {
			return
		}
		if next := nextNotification(&fresh, s.channel, s.now, s.intents); !next.sameAs(s.step) {
			s.result = requeueNow()
			return
		}
	}
	if s.step.kind == stepAwait {
		s.outcome = recordedNotified(s.obj.Status.Notifications)
		s.result = ctrl.Result{RequeueAfter: s.step.wait}
		return
	}
	res, rec := s.sendNotification(ctx)
	if rec == nil {
		return
	}
	s.record, s.settled = rec, rec.message != nil
	s.outcome = notificationOutcome(s.step.state, rec.template, res)
	switch {
	case rec.message != nil:
		if s.moreDue(rec) {
			s.result = requeueNow() // the next due state, or the template after a refused text
		}
	case rec.keepIntent:
		s.result = ctrl.Result{RequeueAfter: s.m.IntentTimeout}
	default:
		s.afterSend(res, "notifying the customer of "+string(s.step.state))
	}
	logf.FromContext(ctx).Info("customer notification", "state", s.step.state, "template", rec.template, "outcome", res.Reason, "messageID", res.MessageID)
}

// moreDue reports whether another message is due once rec is recorded.
func (s *orderScope) moreDue(rec *notificationRecord) bool {
	after := s.obj.DeepCopy()
	after.Status.Notifications = rec.applyTo(after.Status.Notifications)
	return nextNotification(after, s.channel, s.now, s.intents).kind == stepSend
}

// sendNotification sends the message s.step decided on. The intent is
// recorded first; a nil record means it was not this pass's to send (the
// API server shows another pass recorded it) or the intent could not be
// written (s.err).
func (s *orderScope) sendNotification(ctx context.Context) (sendResult, *notificationRecord) {
	rec := &notificationRecord{state: s.step.state}
	if t := notifyTemplate(s.obj, s.channel); s.step.template && t != nil {
		rec.template = t.Name
	}
	msg, err := orderMessage(s.obj, s.channel, s.step.state, s.summary, s.step.template)
	var res sendResult
	switch {
	case errors.Is(err, errNoTemplate):
		res = sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: err.Error()}
	case err != nil:
		res = sendResult{Reason: commercev1alpha1.ReasonSendFailed, Message: err.Error()}
	default:
		msg.callbackData = s.callbackData()
		if !s.claimIntent(ctx, "notify the customer of "+string(s.step.state), msg.callbackData, "", s.slot(rec.template)) {
			return res, nil
		}
		res = s.m.Messenger.send(ctx, "order", s.channel, msg)
	}
	rec.message, rec.keepIntent = sendRecord(res, msg.callbackData, s.now)
	return res, rec
}

// slot is where the notification s.step decided on is recorded in o.
func (s *orderScope) slot(template string) func(*commercev1alpha1.WhatsAppOrder) (intentSlot, bool) {
	return func(o *commercev1alpha1.WhatsAppOrder) (intentSlot, bool) {
		if e := entryFor(o.Status.Notifications, s.step.state, s.step.template); e != nil {
			return intentSlot{current: &e.SentMessage, set: func(m commercev1alpha1.SentMessage) { e.SentMessage = m }}, true
		}
		return intentSlot{set: func(m commercev1alpha1.SentMessage) {
			o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{State: s.step.state, Template: template, SentMessage: m})
		}}, true
	}
}

// callbackData is what the message s.step decided on is sent with: empty
// when it has none, on On-Premises.
func (s *orderScope) callbackData() string {
	return callbackData(s.channel, callbackdata.Ref{Kind: "WhatsAppOrder", Namespace: s.obj.Namespace, Name: s.obj.Name,
		About: notificationAbout(s.step.state, s.step.template)})
}

func (s *orderScope) phaseText() string { return string(s.state) }

// finished: an order is over once the business rejected, cancelled or
// delivered it, whether its cart was valid or not.
func (s *orderScope) finished() bool { return finalOrderState(s.obj.Spec.State) }

func (s *orderScope) conditions() []metav1.Condition {
	if s.paidCond = s.paid(); s.paidCond != nil {
		return []metav1.Condition{s.validated, *s.paidCond}
	}
	return []metav1.Condition{s.validated}
}

// apply writes the order's own status fields into o.
func (s *orderScope) apply(o *commercev1alpha1.WhatsAppOrder) {
	st := &o.Status
	st.Phase = s.state
	st.ItemCount, st.Total, st.Currency = s.summary.ItemCount, s.summary.Total, s.summary.Currency
	if s.record != nil {
		st.Notifications = s.record.applyTo(st.Notifications)
	}
	s.applyPayment(o)
}

// events announces a phase change, and the template sent because a text
// failed once the window had closed. Every Event is a write the API server
// pays for, so a valid order's first phase has none (its creation and
// Validated say it), and a phase announced to the customer has only the
// outcome's Event, which names the phase: an order accepted and notified
// costs one Event.
func (s *orderScope) events(rec events.EventRecorder, before *commercev1alpha1.WhatsAppOrder) {
	switch from := before.Status.Phase; {
	case from == s.state:
	case s.state == commercev1alpha1.OrderPhaseInvalid:
		rec.Eventf(s.obj, nil, corev1.EventTypeWarning, commercev1alpha1.ReasonInvalidCart, "Reconcile", "%s", s.validated.Message)
	case from != "" && !s.announced():
		rec.Eventf(s.obj, nil, corev1.EventTypeNormal, commercev1alpha1.ReasonPhaseChanged, "Reconcile", "%s -> %s", from, s.state)
	}
	if f := s.step.fallback; f != nil {
		rec.Eventf(s.obj, nil, corev1.EventTypeWarning, notifiedEventReason(commercev1alpha1.ReasonDeliveryFailed), "Notify",
			"WhatsApp could not deliver the message announcing %s (%s): sending the channel's template instead", f.State, describeError(f.Error))
	}
	s.paymentEvent(rec, before)
}

// notifiedEventReason is the event reason of a notification outcome:
// CustomerNotified for Sent, CustomerNotified<Reason> otherwise.
func notifiedEventReason(reason string) string {
	if reason == commercev1alpha1.ReasonSent {
		return commercev1alpha1.ConditionCustomerNotified
	}
	return commercev1alpha1.ConditionCustomerNotified + reason
}
