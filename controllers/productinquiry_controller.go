package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// ProductInquiryReconciler keeps a customer's product question open for the 24
// hours WhatsApp allows a free-form answer, and sends spec.reply.text as a reply
// in the customer's thread once someone sets it. The reply is sent at most once:
// the same re-read-then-record discipline as order notifications applies.
type ProductInquiryReconciler struct {
	client.Client
	APIReader client.Reader
	Recorder  events.EventRecorder
	Messenger *Messenger
	Clock     clock.PassiveClock
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productinquiries,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productinquiries/status,verbs=update

// Reasons of the Answered condition besides the send outcomes.
const ReasonAwaitingReply = "AwaitingReply"

// Reconcile brings one inquiry's status up to its spec and the clock.
func (r *ProductInquiryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var inq commercev1alpha1.ProductInquiry
	if err := r.Get(ctx, req.NamespacedName, &inq); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !inq.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	ch, err := getChannel(ctx, r.Client, inq.Namespace, inq.Spec.Channel)
	if err != nil {
		return ctrl.Result{}, err
	}
	keep, expired := retention(inq.Status.FinishedAt, ch, r.Clock.Now())
	if expired {
		return ctrl.Result{}, deleteExpired(ctx, r.Client, r.Recorder, &inq)
	}

	step := r.step(ctx, &inq, ch)
	before := inq.Status.Phase
	if err := writeStatus(ctx, r.Client, r.APIReader, &inq, func(q *commercev1alpha1.ProductInquiry) { step.apply(q, r.Clock.Now()) }); err != nil {
		return ctrl.Result{}, err
	}
	if before != step.phase {
		eventType := corev1.EventTypeNormal
		if step.phase == commercev1alpha1.InquiryExpired || step.phase == commercev1alpha1.InquiryFailed {
			eventType = corev1.EventTypeWarning
		}
		r.Recorder.Eventf(&inq, nil, eventType, string(step.phase), "Reconcile", "%s", step.answered.Message)
	}
	return withRetention(step.result, keep), step.err
}

type inquiryStep struct {
	phase     commercev1alpha1.InquiryPhase
	expiresAt time.Time
	answered  metav1.Condition
	ready     metav1.Condition
	reply     *commercev1alpha1.SentMessage
	result    ctrl.Result
	err       error
}

func (s *inquiryStep) apply(q *commercev1alpha1.ProductInquiry, now time.Time) {
	st := &q.Status
	st.ObservedGeneration = q.Generation
	st.Phase = s.phase
	st.WindowExpiresAt = &metav1.Time{Time: s.expiresAt}
	if s.reply != nil && st.Reply == nil {
		st.Reply = s.reply
	}
	if s.phase != commercev1alpha1.InquiryOpen && st.FinishedAt == nil {
		st.FinishedAt = &metav1.Time{Time: now}
	}
	for _, c := range []metav1.Condition{s.answered, s.ready} {
		c.ObservedGeneration = q.Generation
		meta.SetStatusCondition(&st.Conditions, c)
	}
}

func (r *ProductInquiryReconciler) step(ctx context.Context, q *commercev1alpha1.ProductInquiry, ch *commercev1alpha1.WhatsAppChannel) *inquiryStep {
	now := r.Clock.Now()
	s := &inquiryStep{phase: q.Status.Phase, expiresAt: q.Spec.ReceivedAt.Add(window)}
	s.ready = metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonUpToDate}
	if existing := meta.FindStatusCondition(q.Status.Conditions, commercev1alpha1.ConditionAnswered); existing != nil && finalInquiryPhase(s.phase) {
		s.answered = *existing
		s.ready.Message = "phase is " + string(s.phase)
		return s
	}
	closed := windowClosed(q.Spec.ReceivedAt, now)
	switch {
	case q.Spec.Reply == nil && !closed:
		s.phase = commercev1alpha1.InquiryOpen
		s.answered = condAnswered(metav1.ConditionFalse, ReasonAwaitingReply, "set spec.reply.text to answer before "+s.expiresAt.UTC().Format(time.RFC3339))
		s.result = ctrl.Result{RequeueAfter: s.expiresAt.Sub(now)}
	case closed:
		s.phase = commercev1alpha1.InquiryExpired
		why := "the 24-hour window closed unanswered"
		if q.Spec.Reply != nil {
			why = "the reply was set after the 24-hour window closed; it was not sent"
		}
		s.answered = condAnswered(metav1.ConditionFalse, ReasonWindowClosed, why)
	default:
		r.sendReply(ctx, s, q, ch)
	}
	s.ready.Message = "phase is " + string(s.phase)
	return s
}

func (r *ProductInquiryReconciler) sendReply(ctx context.Context, s *inquiryStep, q *commercev1alpha1.ProductInquiry, ch *commercev1alpha1.WhatsAppChannel) {
	var fresh commercev1alpha1.ProductInquiry
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(q), &fresh); err != nil {
		s.err = fmt.Errorf("re-reading the inquiry before replying: %w", err)
		return
	}
	if fresh.Status.Reply != nil {
		s.phase, s.result = fresh.Status.Phase, ctrl.Result{RequeueAfter: time.Millisecond}
		s.answered = condAnswered(metav1.ConditionTrue, ReasonSent, "replied")
		return
	}
	res := r.Messenger.send(ctx, "inquiry", ch, message{to: recipient(q.Spec.Customer), text: q.Spec.Reply.Text, replyTo: q.Spec.MessageID})
	switch res.Reason {
	case ReasonSent:
		s.phase = commercev1alpha1.InquiryAnswered
		s.reply = &commercev1alpha1.SentMessage{MessageID: res.MessageID, SentAt: &metav1.Time{Time: r.Clock.Now()}}
		s.answered = condAnswered(metav1.ConditionTrue, ReasonSent, "replied in the customer's thread (message "+res.MessageID+")")
	case ReasonWindowClosed:
		s.phase = commercev1alpha1.InquiryExpired
		s.answered = condAnswered(metav1.ConditionFalse, ReasonWindowClosed, "WhatsApp refused the reply, the window has closed: "+res.Message)
	case ReasonSendFailed:
		s.phase = commercev1alpha1.InquiryFailed
		s.answered = condAnswered(metav1.ConditionFalse, ReasonSendFailed, res.Message)
	default:
		s.phase = commercev1alpha1.InquiryOpen
		s.answered = condAnswered(metav1.ConditionFalse, res.Reason, res.Message)
		s.ready = metav1.Condition{Type: commercev1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: res.Reason, Message: "replying: " + res.Message}
		if res.RetryAfter > 0 {
			s.result = ctrl.Result{RequeueAfter: res.RetryAfter}
		} else {
			s.err = fmt.Errorf("replying to the inquiry: %s", res.Message)
		}
	}
}

func condAnswered(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: commercev1alpha1.ConditionAnswered, Status: status, Reason: reason, Message: message}
}

func finalInquiryPhase(p commercev1alpha1.InquiryPhase) bool {
	return p == commercev1alpha1.InquiryAnswered || p == commercev1alpha1.InquiryExpired || p == commercev1alpha1.InquiryFailed
}

// SetupWithManager registers the reconciler.
func (r *ProductInquiryReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.ProductInquiry{}).
		Named("productinquiry").
		Complete(r)
}
