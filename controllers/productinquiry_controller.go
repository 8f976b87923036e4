package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
)

// ProductInquiryReconciler keeps a customer's product question open for the 24
// hours WhatsApp allows a free-form answer, and sends spec.reply.text as a reply
// in the customer's thread once someone sets it. The reply is sent once: the
// same re-read, intent and record discipline as order notifications applies
// (see intent.go).
type ProductInquiryReconciler struct {
	Messaging
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productinquiries,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productinquiries/status,verbs=update

// Reconcile runs one pass over an inquiry, in these phases:
//
//	read        the inquiry, the generation read, its channel, now (inquiryScope)
//	retention   a finished inquiry past its channel's retention is deleted once the
//	            archive (if any) holds it, and nothing else runs; until then: Archived
//	window      what is due at this time: nothing (finished), waiting, expiry or the reply
//	reply       the reply is sent when due: reply, phase, Answered, finishedAt
//	conditions  Ready, Reconciling and Stalled follow from the phase and Answered
//	write       one status write, then the event of a phase change
func (r *ProductInquiryReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := uncancelled(ctx)
	defer cancel()
	s, err := r.read(ctx, req)
	if s == nil || err != nil {
		return ctrl.Result{}, err
	}
	if s.expired {
		if s.archived, s.result, err = r.Retention.retire(ctx, r.Client, r.Recorder, s.inquiry); s.archived == nil || err != nil {
			return s.result, err
		}
	}
	before := s.inquiry.Status.DeepCopy()
	s.window()
	if s.action == replyDue {
		r.reply(ctx, s)
	}
	s.conditions = inquiryConditions(s.phase, s.inquiry.Spec.Reply != nil, s.answeredCondition())
	if _, err := statuswrite.Write(ctx, r.Client, r.APIReader, s.inquiry, s.apply); err != nil {
		return ctrl.Result{}, err
	}
	r.recordEvents(s, before)
	return withRetention(s.result, s.keep), s.err
}

// inquiryScope is what one reconcile of an inquiry read and decided.
type inquiryScope struct {
	// Read.
	inquiry *commercev1alpha1.ProductInquiry
	// generation is the inquiry's generation when it was read: what this pass
	// reconciles, whatever a re-read after a write conflict shows.
	generation int64
	channel    *commercev1alpha1.WhatsAppChannel
	now        time.Time
	keep       time.Duration
	expired    bool
	// answeredBy is a Sent ProductMessage answering the inquiry, or "".
	answeredBy string
	// archived is the Archived condition while retention waits for the archive.
	archived *metav1.Condition

	// Decided by window, then reply.
	action    inquiryAction
	phase     commercev1alpha1.InquiryPhase
	expiresAt time.Time
	// answered is nil when this pass leaves Answered as it is.
	answered *metav1.Condition
	// recorded: this pass sent the reply; sent is its record (nil for a send
	// to be retried) and keepIntent keeps its intent pending (see sendRecord).
	recorded   bool
	sent       *commercev1alpha1.SentMessage
	keepIntent bool
	// Decided by inquiryConditions.
	conditions []metav1.Condition

	result ctrl.Result
	err    error
}

// read is the first phase: the inquiry, its channel and the time.
func (r *ProductInquiryReconciler) read(ctx context.Context, req ctrl.Request) (*inquiryScope, error) {
	var inq commercev1alpha1.ProductInquiry
	if err := r.Get(ctx, req.NamespacedName, &inq); err != nil || !inq.DeletionTimestamp.IsZero() {
		return nil, client.IgnoreNotFound(err)
	}
	ch, err := getChannel(ctx, r.Client, inq.Namespace, inq.Spec.Channel)
	if err != nil {
		return nil, err
	}
	s := &inquiryScope{inquiry: &inq, generation: inq.Generation, channel: ch, now: r.Clock.Now()}
	s.keep, s.expired = r.Retention.period(inq.Status.FinishedAt, ch, s.now)
	var answers commercev1alpha1.ProductMessageList
	if err := r.List(ctx, &answers, client.InNamespace(inq.Namespace), client.MatchingFields{IndexInquiry: inq.Name}); err != nil {
		return nil, fmt.Errorf("listing the product messages answering the inquiry: %w", err)
	}
	for _, pm := range answers.Items {
		if pm.Status.Phase == commercev1alpha1.ProductMessageSent && pm.Spec.Channel == inq.Spec.Channel {
			s.answeredBy = pm.Name
		}
	}
	return s, nil
}

// window decides what is due now, and all of it but the reply.
func (s *inquiryScope) window() {
	s.expiresAt = s.inquiry.Spec.ReceivedAt.Add(window)
	s.action, s.phase, s.answered = inquiryDue(s.inquiry, s.now, s.answeredBy)
	switch s.action {
	case awaitingReply:
		s.result = ctrl.Result{RequeueAfter: s.expiresAt.Sub(s.now)}
	case awaitingStatus:
		s.result = ctrl.Result{RequeueAfter: intentWait(s.inquiry.Status.Reply, s.now)}
	}
}

// reply sends the reply, unless the API server shows it was recorded already.
func (r *ProductInquiryReconciler) reply(ctx context.Context, s *inquiryScope) {
	var fresh commercev1alpha1.ProductInquiry
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(s.inquiry), &fresh); err != nil {
		s.err = fmt.Errorf("re-reading the inquiry before replying: %w", err)
		return
	}
	if action, _, _ := inquiryDue(&fresh, s.now, s.answeredBy); action != replyDue {
		s.result = requeueNow() // the next pass decides from what the API server holds
		return
	}
	q := s.inquiry
	msg := message{to: recipient(q.Spec.Customer, q.Status.CustomerUserID), text: q.Spec.Reply.Text, replyTo: q.Spec.MessageID,
		callbackData: callbackData(s.channel, callbackdata.Ref{Kind: "ProductInquiry", Namespace: q.Namespace, Name: q.Name, About: "reply"})}
	if msg.callbackData != "" {
		claimed, err := r.recordIntent(ctx, s, msg.callbackData)
		if err != nil || !claimed {
			s.err, s.result = err, requeueNow()
			return
		}
	}
	res := r.Messenger.send(ctx, "inquiry", s.channel, msg)
	s.phase, s.answered = replyOutcome(res)
	s.sent, s.keepIntent = sendRecord(res, msg.callbackData, s.now)
	s.recorded = true
	switch {
	case s.keepIntent:
		s.result = ctrl.Result{RequeueAfter: commercev1alpha1.IntentTimeout}
	case s.phase == commercev1alpha1.InquiryOpen:
		s.result, s.err = afterSend(res, "replying to the inquiry")
	}
}

// recordIntent writes the intent to send the reply with callback data cb,
// and reports whether this pass may send it (see the order's recordIntent).
func (r *ProductInquiryReconciler) recordIntent(ctx context.Context, s *inquiryScope, cb string) (bool, error) {
	claimed := false
	_, err := statuswrite.Write(ctx, r.Client, r.APIReader, s.inquiry, func(q *commercev1alpha1.ProductInquiry) {
		claimed = claimable(q.Status.Reply, s.now)
		if claimed {
			in := intent(cb, s.now)
			q.Status.Reply = &in
		}
	})
	if err != nil {
		return false, fmt.Errorf("recording the intent to reply: %w", err)
	}
	return claimed, nil
}

// answeredCondition is the Answered condition once this pass is written.
func (s *inquiryScope) answeredCondition() *metav1.Condition {
	if s.answered != nil {
		return s.answered
	}
	return meta.FindStatusCondition(s.inquiry.Status.Conditions, commercev1alpha1.ConditionAnswered)
}

// apply writes what this pass decided into q's status. q may be a re-read
// copy (see statuswrite.Write): generation and everything else come from s.
func (s *inquiryScope) apply(q *commercev1alpha1.ProductInquiry) {
	st := &q.Status
	st.ObservedGeneration = s.generation
	st.Phase = s.phase
	st.WindowExpiresAt = &metav1.Time{Time: s.expiresAt}
	if s.recorded {
		merged, remove := settle(st.Reply, s.sent, s.keepIntent)
		if remove {
			merged = nil
		}
		st.Reply = merged
	}
	if finalInquiryPhase(s.phase) && st.FinishedAt == nil {
		st.FinishedAt = &metav1.Time{Time: s.now}
	}
	conds := s.conditions
	if s.answered != nil {
		conds = append([]metav1.Condition{*s.answered}, conds...)
	}
	if s.archived != nil {
		conds = append(conds, *s.archived)
	}
	setConditions(&st.Conditions, s.generation, conds)
}

func (r *ProductInquiryReconciler) recordEvents(s *inquiryScope, before *commercev1alpha1.ProductInquiryStatus) {
	recordArchivePending(r.Recorder, s.inquiry, before.Conditions, s.archived)
	if before.Phase == s.phase {
		return
	}
	eventType := corev1.EventTypeNormal
	if s.phase == commercev1alpha1.InquiryExpired || s.phase == commercev1alpha1.InquiryFailed {
		eventType = corev1.EventTypeWarning
	}
	note := ""
	if c := s.answeredCondition(); c != nil {
		note = c.Message
	}
	r.Recorder.Eventf(s.inquiry, nil, eventType, string(s.phase), "Reconcile", "%s", note)
}

// SetupWithManager registers the reconciler: inquiries wake on their own spec
// and annotations, on delivery news in their status, on their channel turning
// Ready, and on a ProductMessage answering them being sent (its reconciler
// registers IndexInquiry).
func (r *ProductInquiryReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexByChannel(mgr, &commercev1alpha1.ProductInquiry{}, func(o client.Object) string {
		return o.(*commercev1alpha1.ProductInquiry).Spec.Channel
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.ProductInquiry{}, builder.WithPredicates(specOrAnnotationsOrDeliveryNews)).
		Watches(&commercev1alpha1.WhatsAppChannel{},
			onChannel(mgr.GetClient(), func() client.ObjectList { return &commercev1alpha1.ProductInquiryList{} }),
			builder.WithPredicates(channelTurnedReady)).
		Watches(&commercev1alpha1.ProductMessage{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			pm := o.(*commercev1alpha1.ProductMessage)
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: pm.Namespace, Name: pm.Spec.Inquiry}}}
		}), builder.WithPredicates(answerSent)).
		Named("productinquiry").
		Complete(r)
}

// answerSent passes a ProductMessage naming an inquiry when it turns Sent.
var answerSent = predicate.Funcs{
	CreateFunc:  func(e event.CreateEvent) bool { return answers(e.Object) },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc:  func(e event.UpdateEvent) bool { return !answers(e.ObjectOld) && answers(e.ObjectNew) },
}

func answers(o client.Object) bool {
	pm, ok := o.(*commercev1alpha1.ProductMessage)
	return ok && pm.Spec.Inquiry != "" && pm.Status.Phase == commercev1alpha1.ProductMessageSent
}
