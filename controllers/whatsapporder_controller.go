package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
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
// the order from the API server first. On On-Premises channels, which have no callback data, a crash
// (or an API server unreachable for every retry) between WhatsApp accepting
// the message and the status write sends that one message again.
type WhatsAppOrderReconciler struct {
	Messaging
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders/status,verbs=update

// Reconcile runs one pass over an order, in these phases:
//
//	read        the order, the generation read, its channel, now (orderScope)
//	retention   a finished order past its channel's retention is deleted once the
//	            archive (if any) holds it, and nothing else runs; until then: Archived
//	validate    the cart: phase, itemCount, total, currency, finishedAt, Validated
//	notify      at most one due notification is sent: notifications, CustomerNotified
//	conditions  Ready, Reconciling and Stalled follow from Validated and CustomerNotified
//	write       one status write, then the events of what changed
func (r *WhatsAppOrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := uncancelled(ctx)
	defer cancel()
	s, err := r.read(ctx, req)
	if s == nil || err != nil {
		return ctrl.Result{}, err
	}
	if s.expired {
		if s.archived, s.result, err = r.Retention.retire(ctx, r.Client, r.Recorder, s.order); s.archived == nil || err != nil {
			return s.result, err
		}
	}
	before := s.order.Status.DeepCopy()
	s.validate()
	if s.phase != commercev1alpha1.OrderPhaseInvalid {
		r.notify(ctx, s)
	}
	s.conditions = orderConditions(s.phase, s.validated, s.customerNotified())
	if _, err := statuswrite.Write(ctx, r.Client, r.APIReader, s.order, s.apply); err != nil {
		return ctrl.Result{}, err
	}
	r.recordEvents(s, before)
	return withRetention(s.result, s.keep), s.err
}

// orderScope is what one reconcile of an order read and decided.
type orderScope struct {
	// Read.
	order *commercev1alpha1.WhatsAppOrder
	// generation is the order's generation when it was read: what this pass
	// reconciles, whatever a re-read after a write conflict shows.
	generation int64
	channel    *commercev1alpha1.WhatsAppChannel
	now        time.Time
	// keep is how long a finished order is still kept; expired when that is over.
	keep    time.Duration
	expired bool
	// archived is the Archived condition while retention waits for the archive.
	archived *metav1.Condition

	// Decided by validate.
	phase     commercev1alpha1.OrderPhase
	summary   cart.Summary
	validated metav1.Condition
	// Decided by notify. notified is nil when this pass changes nothing about
	// notifying; sent is the outcome of this pass's send, to record.
	step     notifyStep
	notified *metav1.Condition
	sent     *notificationRecord
	// Decided by orderConditions.
	conditions []metav1.Condition

	result ctrl.Result
	// err is returned after the status write, for the workqueue's backoff.
	err error
}

// read is the first phase: the order, its channel and the time.
func (r *WhatsAppOrderReconciler) read(ctx context.Context, req ctrl.Request) (*orderScope, error) {
	var order commercev1alpha1.WhatsAppOrder
	if err := r.Get(ctx, req.NamespacedName, &order); err != nil || !order.DeletionTimestamp.IsZero() {
		return nil, client.IgnoreNotFound(err)
	}
	ch, err := getChannel(ctx, r.Client, order.Namespace, order.Spec.Channel)
	if err != nil {
		return nil, err
	}
	s := &orderScope{order: &order, generation: order.Generation, channel: ch, now: r.Clock.Now()}
	s.keep, s.expired = r.Retention.period(order.Status.FinishedAt, ch, s.now)
	return s, nil
}

// validate decides phase, totals and Validated from the cart and spec.state.
func (s *orderScope) validate() {
	s.phase, s.summary, s.validated = validation(s.order)
	if s.phase == commercev1alpha1.OrderPhaseInvalid {
		s.notified = &metav1.Condition{Type: commercev1alpha1.ConditionCustomerNotified, Status: metav1.ConditionFalse,
			Reason: commercev1alpha1.ReasonInvalidCart, Message: "nothing is sent about an invalid cart"}
	}
}

// notify does what nextNotification decides: nothing, wait for the status of
// an intent left by a restart, or send one message.
func (r *WhatsAppOrderReconciler) notify(ctx context.Context, s *orderScope) {
	s.step = nextNotification(s.order, s.channel, s.now)
	switch s.step.kind {
	case stepNone:
		s.notified = recordedNotified(s.order.Status.Notifications)
		if s.notified == nil {
			s.notified = &metav1.Condition{Type: commercev1alpha1.ConditionCustomerNotified, Status: metav1.ConditionFalse,
				Reason: commercev1alpha1.ReasonNothingToSend, Message: "the customer is told once the order leaves Pending"}
		}
		return
	}
	// The cache may not show what the previous reconcile recorded. A send
	// on Cloud writes its intent first, on the version this pass read: a
	// stale copy conflicts, and the write re-reads and finds the record (see
	// recordIntent), so that write is the check. Otherwise ask the API
	// server: before a send without an intent (On-Premises), and before
	// waiting on an intent, which may be this operator's own, settled a
	// moment ago (status updates start no reconcile, so a stale wait would
	// last the whole IntentTimeout).
	if s.step.kind == stepAwait || s.callbackData() == "" {
		var fresh commercev1alpha1.WhatsAppOrder
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(s.order), &fresh); err != nil {
			s.err = fmt.Errorf("re-reading the order before notifying: %w", err)
			return
		}
		if next := nextNotification(&fresh, s.channel, s.now); !next.sameAs(s.step) {
			s.result = requeueNow()
			return
		}
	}
	if s.step.kind == stepAwait {
		s.notified = recordedNotified(s.order.Status.Notifications)
		s.result = ctrl.Result{RequeueAfter: s.step.wait}
		return
	}
	res, rec := r.sendNotification(ctx, s)
	if rec == nil {
		return
	}
	s.sent = rec
	s.notified = notificationOutcome(s.step.state, rec.template, res)
	switch {
	case rec.message != nil:
		if s.moreDue(rec) {
			s.result = requeueNow() // the next due state, or the template after a refused text
		}
	case rec.keepIntent:
		s.result = ctrl.Result{RequeueAfter: commercev1alpha1.IntentTimeout}
	default:
		s.result, s.err = afterSend(res, "notifying the customer of "+string(s.step.state))
	}
	logf.FromContext(ctx).Info("customer notification", "state", s.step.state, "template", rec.template, "outcome", res.Reason, "messageID", res.MessageID)
}

// moreDue reports whether another message is due once rec is recorded.
func (s *orderScope) moreDue(rec *notificationRecord) bool {
	after := s.order.DeepCopy()
	after.Status.Notifications = rec.applyTo(after.Status.Notifications)
	return nextNotification(after, s.channel, s.now).kind == stepSend
}

// sendNotification sends the message s.step decided on. On Cloud, the intent
// is recorded first; a nil record means it was not this pass's to send (the
// API server shows another pass recorded it) or the intent could not be
// written (s.err).
func (r *WhatsAppOrderReconciler) sendNotification(ctx context.Context, s *orderScope) (sendResult, *notificationRecord) {
	rec := &notificationRecord{state: s.step.state}
	if s.step.template && s.channel != nil && s.channel.Spec.Notifications.Template != nil {
		rec.template = s.channel.Spec.Notifications.Template.Name
	}
	msg, err := orderMessage(s.order, s.channel, s.step.state, s.summary, s.step.template)
	var res sendResult
	switch {
	case errors.Is(err, errNoTemplate):
		res = sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: err.Error()}
	case err != nil:
		res = sendResult{Reason: commercev1alpha1.ReasonSendFailed, Message: err.Error()}
	default:
		msg.callbackData = s.callbackData()
		if msg.callbackData != "" {
			claimed, err := r.recordIntent(ctx, s, rec.template, msg.callbackData)
			if err != nil || !claimed {
				s.err, s.result = err, requeueNow()
				return res, nil
			}
		}
		res = r.Messenger.send(ctx, "order", s.channel, msg)
	}
	rec.message, rec.keepIntent = sendRecord(res, msg.callbackData, s.now)
	return res, rec
}

// callbackData is what the message s.step decided on is sent with: empty
// when it has none, on On-Premises.
func (s *orderScope) callbackData() string {
	return callbackData(s.channel, callbackdata.Ref{Kind: "WhatsAppOrder", Namespace: s.order.Namespace, Name: s.order.Name,
		About: notificationAbout(s.step.state, s.step.template)})
}

// recordIntent writes the intent to send s.step's message with callback data
// cb, and reports whether this pass may send it: not when the API server
// shows a record of it already (another pass got there first).
func (r *WhatsAppOrderReconciler) recordIntent(ctx context.Context, s *orderScope, template, cb string) (bool, error) {
	claimed := false
	_, err := statuswrite.Write(ctx, r.Client, r.APIReader, s.order, func(o *commercev1alpha1.WhatsAppOrder) {
		claimed = false
		e := entryFor(o.Status.Notifications, s.step.state, s.step.template)
		switch {
		case e == nil:
			o.Status.Notifications = append(o.Status.Notifications, commercev1alpha1.OrderNotification{State: s.step.state, Template: template, SentMessage: intent(cb, s.now)})
		case e.Pending() && intentWait(&e.SentMessage, s.now) <= 0:
			e.SentMessage = intent(cb, s.now)
		default:
			return
		}
		claimed = true
	})
	if err != nil {
		return false, fmt.Errorf("recording the intent to notify the customer of %s: %w", s.step.state, err)
	}
	return claimed, nil
}

// customerNotified is the CustomerNotified condition once this pass is written.
func (s *orderScope) customerNotified() *metav1.Condition {
	if s.notified != nil {
		return s.notified
	}
	return meta.FindStatusCondition(s.order.Status.Conditions, commercev1alpha1.ConditionCustomerNotified)
}

// apply writes what this pass decided into o's status. o may be a re-read
// copy (see statuswrite.Write): generation and everything else come from s.
func (s *orderScope) apply(o *commercev1alpha1.WhatsAppOrder) {
	st := &o.Status
	st.ObservedGeneration = s.generation
	st.Phase = s.phase
	st.ItemCount, st.Total, st.Currency = s.summary.ItemCount, s.summary.Total, s.summary.Currency
	if finalOrderPhase(s.phase) && st.FinishedAt == nil {
		st.FinishedAt = &metav1.Time{Time: s.now}
	}
	if s.sent != nil {
		st.Notifications = s.sent.applyTo(st.Notifications)
	}
	conds := []metav1.Condition{s.validated}
	if s.notified != nil {
		conds = append(conds, *s.notified)
	}
	if s.archived != nil {
		conds = append(conds, *s.archived)
	}
	setConditions(&st.Conditions, s.generation, append(conds, s.conditions...))
}

func (r *WhatsAppOrderReconciler) recordEvents(s *orderScope, before *commercev1alpha1.WhatsAppOrderStatus) {
	recordArchivePending(r.Recorder, s.order, before.Conditions, s.archived)
	if before.Phase != s.phase {
		eventType, reason := corev1.EventTypeNormal, commercev1alpha1.ReasonPhaseChanged
		from := string(before.Phase)
		if from == "" {
			from = "new"
		}
		note := fmt.Sprintf("%s -> %s", from, s.phase)
		if s.phase == commercev1alpha1.OrderPhaseInvalid {
			eventType, reason, note = corev1.EventTypeWarning, commercev1alpha1.ReasonInvalidCart, s.validated.Message
		}
		r.Recorder.Eventf(s.order, nil, eventType, reason, "Reconcile", "%s", note)
	}
	if f := s.step.fallback; f != nil {
		r.Recorder.Eventf(s.order, nil, corev1.EventTypeWarning, notifiedEventReason(commercev1alpha1.ReasonDeliveryFailed), "Notify",
			"WhatsApp could not deliver the message announcing %s (%s): sending the channel's template instead", f.State, describeError(f.Error))
	}
	if s.notified == nil || s.notified.Reason == commercev1alpha1.ReasonNothingToSend || s.notified.Reason == commercev1alpha1.ReasonInvalidCart {
		return
	}
	old := meta.FindStatusCondition(before.Conditions, commercev1alpha1.ConditionCustomerNotified)
	if (s.sent == nil || s.sent.message == nil) && old != nil && old.Reason == s.notified.Reason {
		return // still retrying: one event for the episode, not one per attempt
	}
	eventType := corev1.EventTypeNormal
	if s.notified.Status != metav1.ConditionTrue {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(s.order, nil, eventType, notifiedEventReason(s.notified.Reason), "Notify", "%s", s.notified.Message)
}

// notifiedEventReason is the event reason of a notification outcome:
// CustomerNotified for Sent, CustomerNotified<Reason> otherwise.
func notifiedEventReason(reason string) string {
	if reason == commercev1alpha1.ReasonSent {
		return commercev1alpha1.ConditionCustomerNotified
	}
	return commercev1alpha1.ConditionCustomerNotified + reason
}

// SetupWithManager registers the reconciler: orders wake on their own spec
// and annotations, on delivery news in their status (an intent resolved, a
// message failed) and on their channel turning Ready.
func (r *WhatsAppOrderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexByChannel(mgr, &commercev1alpha1.WhatsAppOrder{}, func(o client.Object) string {
		return o.(*commercev1alpha1.WhatsAppOrder).Spec.Channel
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.WhatsAppOrder{}, builder.WithPredicates(specOrAnnotationsOrDeliveryNews)).
		Watches(&commercev1alpha1.WhatsAppChannel{},
			onChannel(mgr.GetClient(), func() client.ObjectList { return &commercev1alpha1.WhatsAppOrderList{} }),
			builder.WithPredicates(channelTurnedReady)).
		Named("whatsapporder").
		Complete(r)
}
