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
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/cart"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
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
	Retention Retention
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
	s.validate()
	if s.phase != commercev1alpha1.OrderPhaseInvalid {
		r.notify(ctx, s)
	}
	s.conditions = orderConditions(s.phase, s.validated, s.customerNotified())
	before := s.order.Status.DeepCopy()
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
	// notifying; sent is the notification to record: a message WhatsApp
	// accepted, or one that will never go out.
	notified *metav1.Condition
	sent     *commercev1alpha1.OrderNotification
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

// notify sends the first due notification, if any, and decides what to record.
func (r *WhatsAppOrderReconciler) notify(ctx context.Context, s *orderScope) {
	due := dueNotifications(s.order.Spec.State, s.order.Status.Notifications)
	if len(due) == 0 {
		if len(s.order.Status.Notifications) == 0 {
			s.notified = &metav1.Condition{Type: commercev1alpha1.ConditionCustomerNotified, Status: metav1.ConditionFalse,
				Reason: commercev1alpha1.ReasonNothingToSend, Message: "the customer is told once the order leaves Pending"}
		}
		return
	}
	// The cache may not show the notification the previous reconcile recorded:
	// ask the API server before sending.
	var fresh commercev1alpha1.WhatsAppOrder
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(s.order), &fresh); err != nil {
		s.err = fmt.Errorf("re-reading the order before notifying: %w", err)
		return
	}
	if notificationFor(fresh.Status.Notifications, due[0]) != nil {
		s.result = requeueNow()
		return
	}
	state := due[0]
	res := r.sendNotification(ctx, s, state)
	s.notified, s.sent = notificationOutcome(state, res, s.now)
	switch {
	case s.sent != nil && len(due) > 1:
		s.result = requeueNow()
	case s.sent == nil:
		s.result, s.err = afterSend(res, "notifying the customer of "+string(state))
	}
	logf.FromContext(ctx).Info("customer notification", "state", state, "outcome", res.Reason, "messageID", res.MessageID)
}

// sendNotification sends the message announcing state: text inside the
// customer's window, the channel's template outside it, or when WhatsApp,
// which knows of the window better than our clock, refuses the text.
func (r *WhatsAppOrderReconciler) sendNotification(ctx context.Context, s *orderScope, state commercev1alpha1.OrderState) sendResult {
	msg, err := orderMessage(s.order, s.channel, state, s.summary, s.now, false)
	switch {
	case errors.Is(err, errNoTemplate):
		return sendResult{Reason: commercev1alpha1.ReasonWindowClosed, Message: err.Error()}
	case err != nil:
		return sendResult{Reason: commercev1alpha1.ReasonSendFailed, Message: err.Error()}
	}
	res := r.Messenger.send(ctx, "order", s.channel, msg)
	if res.Reason == commercev1alpha1.ReasonWindowClosed && msg.template == nil && s.channel.Spec.Notifications.Template != nil {
		if msg, err = orderMessage(s.order, s.channel, state, s.summary, s.now, true); err == nil {
			res = r.Messenger.send(ctx, "order", s.channel, msg)
		}
	}
	return res
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
	if s.sent != nil && notificationFor(st.Notifications, s.sent.State) == nil {
		st.Notifications = append(st.Notifications, *s.sent)
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
	if s.notified == nil || s.notified.Reason == commercev1alpha1.ReasonNothingToSend || s.notified.Reason == commercev1alpha1.ReasonInvalidCart {
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
// and annotations and on their channel turning Ready.
func (r *WhatsAppOrderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexByChannel(mgr, &commercev1alpha1.WhatsAppOrder{}, func(o client.Object) string {
		return o.(*commercev1alpha1.WhatsAppOrder).Spec.Channel
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.WhatsAppOrder{}, builder.WithPredicates(specOrAnnotationsChanged)).
		Watches(&commercev1alpha1.WhatsAppChannel{},
			onChannel(mgr.GetClient(), func() client.ObjectList { return &commercev1alpha1.WhatsAppOrderList{} }),
			builder.WithPredicates(channelTurnedReady)).
		Named("whatsapporder").
		Complete(r)
}
