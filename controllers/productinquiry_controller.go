package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/callbackdata"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
)

// ProductInquiryReconciler keeps a customer's product question open for the 24
// hours WhatsApp allows a free-form answer, and sends spec.reply.text as a reply
// in the customer's thread once someone sets it. The reply is sent once: the
// same re-read, intent and record discipline as order notifications applies
// (see intent.go).
type ProductInquiryReconciler = messagingReconciler[*commercev1alpha1.ProductInquiry, *inquiryScope]

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productinquiries,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productinquiries/status,verbs=update

// inquiryScope is what one reconcile of an inquiry read and decided.
type inquiryScope struct {
	*pass[*commercev1alpha1.ProductInquiry]
	// answeredBy is a Sent ProductMessage answering the inquiry, or "".
	answeredBy string

	// Decided by window, then reply.
	action    inquiryAction
	state     commercev1alpha1.InquiryPhase
	expiresAt time.Time
	// recorded: this pass sent the reply; record is its record (nil for a
	// send to be retried) and keepIntent keeps its intent pending (see
	// sendRecord).
	recorded   bool
	record     *commercev1alpha1.SentMessage
	keepIntent bool
}

// readInquiry reads the ProductMessage of the channel that answered the inquiry.
func readInquiry(ctx context.Context, p *pass[*commercev1alpha1.ProductInquiry]) (kindScope[*commercev1alpha1.ProductInquiry], error) {
	s := &inquiryScope{pass: p}
	var answers commercev1alpha1.ProductMessageList
	if err := p.m.List(ctx, &answers, client.InNamespace(p.obj.Namespace), client.MatchingFields{index.Inquiry: p.obj.Name}); err != nil {
		return nil, fmt.Errorf("listing the product messages answering the inquiry: %w", err)
	}
	for _, pm := range answers.Items {
		if pm.Status.Phase == commercev1alpha1.ProductMessageSent && pm.Spec.Channel == p.obj.Spec.Channel {
			s.answeredBy = pm.Name
		}
	}
	return s, nil
}

var inquiryKind = &messagingKind[*commercev1alpha1.ProductInquiry]{
	name: "productinquiry", outcomeType: commercev1alpha1.ConditionAnswered, doing: "replying", action: "Reconcile",
	scope: readInquiry,
	watches: func(b *builder.Builder, _ client.Reader) *builder.Builder {
		return b.Watches(&commercev1alpha1.ProductMessage{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			pm := o.(*commercev1alpha1.ProductMessage)
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: pm.Namespace, Name: pm.Spec.Inquiry}}}
		}), builder.WithPredicates(answerSent))
	},
}

func (*inquiryScope) kind() *messagingKind[*commercev1alpha1.ProductInquiry] { return inquiryKind }

func (s *inquiryScope) eventReason(reason string) string { return string(s.state) }

// phases are the inquiry's phases,
// after reading which Sent ProductMessage answers it:
//
//	window      what is due at this time: nothing (finished), waiting, expiry or the reply
//	reply       the reply is sent when due: reply, phase, Answered
func (s *inquiryScope) phases(ctx context.Context) error {
	s.window()
	if s.action == replyDue {
		s.reply(ctx)
	}
	return nil
}

// window decides what is due now, and all of it but the reply.
func (s *inquiryScope) window() {
	s.expiresAt = s.obj.Spec.ReceivedAt.Add(window)
	s.action, s.state, s.outcome = inquiryDue(s.obj, s.now, s.intents, s.answeredBy)
	switch s.action {
	case awaitingReply:
		s.result = ctrl.Result{RequeueAfter: s.expiresAt.Sub(s.now)}
	case awaitingStatus:
		s.result = ctrl.Result{RequeueAfter: s.intents.wait(s.obj.Status.Reply, s.now)}
	}
}

// reply sends the reply, unless the API server shows it was recorded already.
func (s *inquiryScope) reply(ctx context.Context) {
	var fresh commercev1alpha1.ProductInquiry
	if !s.freshRead(ctx, &fresh, "replying") {
		return
	}
	if action, _, _ := inquiryDue(&fresh, s.now, s.intents, s.answeredBy); action != replyDue {
		s.result = requeueNow() // the next pass decides from what the API server holds
		return
	}
	q := s.obj
	msg := message{to: recipient(q.Spec.Customer, q.Status.CustomerUserID), text: q.Spec.Reply.Text, replyTo: q.Spec.MessageID,
		callbackData: callbackData(s.channel, callbackdata.Ref{Kind: "ProductInquiry", Namespace: q.Namespace, Name: q.Name, About: "reply"})}
	if !s.claimIntent(ctx, "reply", msg.callbackData, "", replySlot) {
		return
	}
	res := s.m.Messenger.send(ctx, "inquiry", s.channel, msg)
	s.state, s.outcome = replyOutcome(res)
	s.record, s.keepIntent = sendRecord(res, msg.callbackData, s.now)
	s.recorded, s.settled = true, s.record != nil
	switch {
	case s.keepIntent:
		s.result = ctrl.Result{RequeueAfter: s.m.IntentTimeout}
	case s.state == commercev1alpha1.InquiryOpen:
		s.afterSend(res, "replying to the inquiry")
	}
}

// replySlot is where an inquiry's reply is recorded.
func replySlot(q *commercev1alpha1.ProductInquiry) (intentSlot, bool) {
	return intentSlot{current: q.Status.Reply, set: func(m commercev1alpha1.SentMessage) { q.Status.Reply = &m }}, true
}

func (s *inquiryScope) phaseText() string { return string(s.state) }

func (s *inquiryScope) finished() bool { return finalInquiryPhase(s.state) }

func (s *inquiryScope) conditions() []metav1.Condition { return nil }

// apply writes the inquiry's own status fields into q.
func (s *inquiryScope) apply(q *commercev1alpha1.ProductInquiry) {
	st := &q.Status
	st.Phase = s.state
	st.WindowExpiresAt = &metav1.Time{Time: s.expiresAt}
	if s.recorded {
		merged, remove := settle(st.Reply, s.record, s.keepIntent)
		if remove {
			merged = nil
		}
		st.Reply = merged
	}
}

// events says that spec.reply.text was dropped, when a ProductMessage
// answered the inquiry before the reply went out: when that answer comes, or
// when the reply is set afterwards.
func (s *inquiryScope) events(rec events.EventRecorder, before *commercev1alpha1.ProductInquiry) {
	q := s.obj
	if q.Spec.Reply == nil || q.Status.Reply != nil || !answeredByProducts(q) {
		return
	}
	if answeredByProducts(before) && before.Status.ObservedGeneration == s.generation {
		return
	}
	rec.Eventf(q, nil, corev1.EventTypeWarning, commercev1alpha1.ReasonReplyNotSent, "Reconcile",
		"spec.reply.text was not sent: %s", meta.FindStatusCondition(q.Status.Conditions, commercev1alpha1.ConditionAnswered).Message)
}

func answeredByProducts(q *commercev1alpha1.ProductInquiry) bool {
	c := meta.FindStatusCondition(q.Status.Conditions, commercev1alpha1.ConditionAnswered)
	return c != nil && c.Reason == commercev1alpha1.ReasonAnsweredWithProducts
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
