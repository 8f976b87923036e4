package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/funnel"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// ProductMessageReconciler sends a product message once, and follows how
// customers respond to it: the inquiries and orders replying to it are
// labelled with its name and counted, and the revenue of those orders summed.
//
// Exactly once: as for order notifications (see intent.go), before sending
// the message is re-read from the API server, and its intent is recorded in
// a status write of its own; the send's outcome settles it in the
// reconcile's status write. A crash in between leaves the intent, which the
// status WhatsApp posts with its callback data resolves; the message is sent
// again only when none came within the intent timeout. On-Premises has no callback
// data: its intent only keeps the receiver asking for early statuses again,
// and a crash between WhatsApp accepting the message and the status write
// sends it again.
type ProductMessageReconciler = messagingReconciler[*commercev1alpha1.ProductMessage, *pmsgScope]

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productmessages,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productmessages/status,verbs=update
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders;productinquiries,verbs=get;list;watch;patch

// pmsgScope is what one reconcile of a product message read and decided.
type pmsgScope struct {
	*pass[*commercev1alpha1.ProductMessage]
	inquiry *commercev1alpha1.ProductInquiry

	// Decided by send.
	state commercev1alpha1.ProductMessagePhase
	form  commercev1alpha1.ProductMessageForm
	// recorded: this pass settles the record of the send with record (nil:
	// none, see sendRecord) and keepIntent.
	recorded   bool
	record     *commercev1alpha1.SentMessage
	keepIntent bool
	// Decided by funnel.
	tally funnel.Tally
}

// readProductMessage reads the inquiry the message answers, if it names one.
func readProductMessage(ctx context.Context, p *pass[*commercev1alpha1.ProductMessage]) (kindScope[*commercev1alpha1.ProductMessage], error) {
	pm := p.obj
	s := &pmsgScope{pass: p, state: pm.Status.Phase, form: pm.Status.Form}
	if s.state == "" {
		s.state = commercev1alpha1.ProductMessagePending
	}
	if pm.Spec.Inquiry != "" {
		var inq commercev1alpha1.ProductInquiry
		switch err := p.m.Get(ctx, client.ObjectKey{Namespace: pm.Namespace, Name: pm.Spec.Inquiry}, &inq); {
		case err == nil:
			s.inquiry = &inq
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("getting inquiry %s: %w", pm.Spec.Inquiry, err)
		}
	}
	return s, nil
}

var productMessageKind = &messagingKind[*commercev1alpha1.ProductMessage]{
	name: "productmessage", outcomeType: commercev1alpha1.ConditionSent, doing: "sending", action: "Send",
	scope: readProductMessage,
	watches: func(b *builder.Builder, c client.Reader) *builder.Builder {
		return b.
			// An order's creation, deletion, state moves and payment news (the
			// paid revenue); not its label or the rest of its status.
			Watches(&commercev1alpha1.WhatsAppOrder{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
				return messagesBy(ctx, c, o.GetNamespace(), index.SentMessage, o.(*commercev1alpha1.WhatsAppOrder).Spec.ReplyToMessageID)
			}), builder.WithPredicates(predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, predicate.Funcs{
				CreateFunc: func(event.CreateEvent) bool { return false }, DeleteFunc: func(event.DeleteEvent) bool { return false },
				GenericFunc: func(event.GenericEvent) bool { return false }, UpdateFunc: paidChanged,
			}))).
			// An inquiry's creation and deletion: the message it replies to, and
			// the messages that answer it.
			Watches(&commercev1alpha1.ProductInquiry{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
				return append(messagesBy(ctx, c, o.GetNamespace(), index.SentMessage, o.(*commercev1alpha1.ProductInquiry).Spec.ReplyToMessageID),
					messagesBy(ctx, c, o.GetNamespace(), index.Inquiry, o.GetName())...)
			}), builder.WithPredicates(predicate.Funcs{UpdateFunc: func(event.UpdateEvent) bool { return false }}))
	},
}

func (*pmsgScope) kind() *messagingKind[*commercev1alpha1.ProductMessage] { return productMessageKind }

func (s *pmsgScope) eventReason(reason string) string { return reason }

// phases are the product
// message's phases, after reading the inquiry it answers:
//
//	send        tracking adopts spec.messageID; a Pending message is sent (once more as its
//	            template when the window is closed), on Cloud after its intent is written,
//	            or waits for the status of an intent a crash left: phase, form, the sent
//	            message, Sent
//	funnel      the orders and inquiries of the channel replying to it: their label, the
//	            counts and the revenue
func (s *pmsgScope) phases(ctx context.Context) error {
	s.send(ctx)
	return s.funnel(ctx)
}

// send decides phase, form, Sent and the message to record, sending when due.
func (s *pmsgScope) send(ctx context.Context) {
	api := commercev1alpha1.APICloud
	if s.channel != nil {
		api = s.channel.API()
	}
	action, o := productMessageDue(s.obj, api)
	switch action {
	case pmsgSettled:
		return
	case pmsgTrack:
		s.state, s.outcome = commercev1alpha1.ProductMessageSent, o
		s.recorded, s.record, s.settled = true, &commercev1alpha1.SentMessage{MessageID: s.obj.Spec.MessageID}, true
		return
	case pmsgFail:
		s.state, s.outcome = commercev1alpha1.ProductMessageFailed, o
		return
	}
	replyTo, wait, fail := inquiryForReply(s.obj, s.inquiry)
	switch {
	case wait != nil:
		s.outcome = wait // the inquiry's creation wakes the message
		return
	case fail != nil:
		s.state, s.outcome = commercev1alpha1.ProductMessageFailed, fail
		return
	}
	// The cache may not show the send the previous reconcile recorded: ask
	// the API server before sending.
	var fresh commercev1alpha1.ProductMessage
	if !s.freshRead(ctx, &fresh, "sending") {
		return
	}
	// The form too: a template that is being retried must not go out as the
	// interactive message again.
	s.form = fresh.Status.Form
	if fresh.Status.Phase != "" && fresh.Status.Phase != commercev1alpha1.ProductMessagePending {
		s.state, s.result = fresh.Status.Phase, requeueNow()
		return
	}
	if o, phase, wait := productMessageRecorded(&fresh, s.now, s.intents); o != nil {
		s.state, s.outcome = phase, o
		switch phase {
		case commercev1alpha1.ProductMessageSent:
			s.recorded, s.record = true, fresh.Status.SentMessage.DeepCopy()
		case commercev1alpha1.ProductMessagePending:
			s.result = ctrl.Result{RequeueAfter: wait}
		}
		return
	}
	if s.form == "" {
		s.form = commercev1alpha1.FormInteractive
	}
	// own is the callback data of the intent this pass recorded and knows
	// WhatsApp refused (the window was closed): the template's replaces it.
	own := ""
	for {
		cb := callbackData(s.channel, productMessageRef(s.obj, s.form))
		if !s.claimIntent(ctx, "send the product message", cb, own, s.slot) {
			return
		}
		own = cb
		to, products := productMessageRequest(s.obj, replyTo, cb)
		res := s.m.Messenger.sendProducts(ctx, s.channel, to, products, s.templateRef())
		out := productMessageOutcome(s.obj, s.form, res, api, cb, s.now)
		s.state, s.form, s.outcome = out.phase, out.form, out.outcome
		s.recorded, s.record, s.keepIntent, s.settled = true, out.record, out.keepIntent, out.record != nil
		logf.FromContext(ctx).Info("product message send", "form", s.form, "outcome", res.Reason, "messageID", res.MessageID)
		switch {
		case out.again:
			continue
		case s.keepIntent:
			s.result = ctrl.Result{RequeueAfter: s.m.IntentTimeout}
		case s.state == commercev1alpha1.ProductMessagePending:
			s.afterSend(res, "sending the product message")
		case s.state == commercev1alpha1.ProductMessageSent:
			// Look again soon: a reply may have come before the cache showed
			// the message id it replies to.
			s.result = ctrl.Result{RequeueAfter: time.Second}
		}
		return
	}
}

// slot is where pm's send is recorded, while pm is Pending: a send claims
// it in the form this pass sends.
func (s *pmsgScope) slot(pm *commercev1alpha1.ProductMessage) (intentSlot, bool) {
	st := &pm.Status
	return intentSlot{current: recordOf(st), set: func(m commercev1alpha1.SentMessage) { st.Form, st.SentMessage = s.form, m }},
		st.Phase == "" || st.Phase == commercev1alpha1.ProductMessagePending
}

// recordOf is the record of st's send, nil before any.
func recordOf(st *commercev1alpha1.ProductMessageStatus) *commercev1alpha1.SentMessage {
	if st.SentMessage == (commercev1alpha1.SentMessage{}) {
		return nil
	}
	return &st.SentMessage
}

// templateRef is the template to send in the Template form, else nil.
func (s *pmsgScope) templateRef() *whatsapp.TemplateRef {
	if s.form != commercev1alpha1.FormTemplate {
		return nil
	}
	t := s.obj.Spec.Template
	return &whatsapp.TemplateRef{Name: t.Name, Language: t.Language, Namespace: templateNamespace(t, s.channel)}
}

// funnel labels and counts the orders and inquiries replying to the message.
func (s *pmsgScope) funnel(ctx context.Context) error {
	id := trackedID(s.obj)
	if s.record != nil && s.record.MessageID != "" {
		id = s.record.MessageID
	}
	if id == "" {
		return nil
	}
	match := []client.ListOption{client.InNamespace(s.obj.Namespace), client.MatchingFields{index.ReplyTo: id}}
	var orders commercev1alpha1.WhatsAppOrderList
	if err := s.m.List(ctx, &orders, match...); err != nil {
		return fmt.Errorf("listing the orders replying to %s: %w", id, err)
	}
	var inquiries commercev1alpha1.ProductInquiryList
	if err := s.m.List(ctx, &inquiries, match...); err != nil {
		return fmt.Errorf("listing the inquiries replying to %s: %w", id, err)
	}
	var onChannel []commercev1alpha1.WhatsAppOrder
	for i := range orders.Items {
		if o := &orders.Items[i]; o.Spec.Channel == s.obj.Spec.Channel {
			onChannel = append(onChannel, *o)
			if err := s.label(ctx, o); err != nil {
				return err
			}
		}
	}
	replies := 0
	for i := range inquiries.Items {
		if q := &inquiries.Items[i]; q.Spec.Channel == s.obj.Spec.Channel {
			replies++
			if err := s.label(ctx, q); err != nil {
				return err
			}
		}
	}
	s.tally = funnel.Count(onChannel, replies)
	return nil
}

// label names the product message on a response that does not name it yet.
func (s *pmsgScope) label(ctx context.Context, o client.Object) error {
	name := s.obj.Name
	if o.GetLabels()[commercev1alpha1.LabelProductMessage] == name {
		return nil
	}
	patch := client.MergeFrom(o.DeepCopyObject().(client.Object))
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[commercev1alpha1.LabelProductMessage] = name
	o.SetLabels(labels)
	if err := s.m.Patch(ctx, o, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("labelling %s with its product message: %w", o.GetName(), err)
	}
	return nil
}

func (s *pmsgScope) phaseText() string { return string(s.state) }

func (s *pmsgScope) finished() bool { return s.state != commercev1alpha1.ProductMessagePending }

func (s *pmsgScope) conditions() []metav1.Condition { return nil }

// apply writes the product message's own status fields into pm, leaving
// alone the delivery status the receiver keeps.
func (s *pmsgScope) apply(pm *commercev1alpha1.ProductMessage) {
	st := &pm.Status
	st.Phase, st.Form, st.Type = s.state, s.form, s.obj.Spec.InteractiveType()
	if s.recorded {
		switch merged, remove := settle(recordOf(st), s.record, s.keepIntent); {
		case remove || merged == nil:
			st.SentMessage = commercev1alpha1.SentMessage{}
		default:
			st.SentMessage = *merged
		}
	}
	st.Inquiries, st.Orders, st.Revenue, st.RevenueSummary = s.tally.Inquiries, s.tally.Orders, s.tally.Revenue, s.tally.Summary
	st.PaidRevenue = s.tally.PaidRevenue
}

// events: a product message's are its outcome's, which the driver emits.
func (s *pmsgScope) events(events.EventRecorder, *commercev1alpha1.ProductMessage) {}

// messagesBy finds the product messages of a namespace whose index field has
// value: one indexed lookup per event, whatever the number of orders.
func messagesBy(ctx context.Context, c client.Reader, namespace, field, value string) []reconcile.Request {
	if value == "" {
		return nil
	}
	var list commercev1alpha1.ProductMessageList
	if err := c.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{field: value}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "finding product messages", field, value)
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, pm := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: pm.Namespace, Name: pm.Name}})
	}
	return reqs
}

// paidChanged says whether an order's update changes what it adds to the paid
// revenue: its payment's status, amount or full refund.
func paidChanged(e event.UpdateEvent) bool {
	type paidPart struct {
		status           commercev1alpha1.PaymentState
		amount, currency string
		refundedInFull   bool
	}
	paid := func(o client.Object) paidPart {
		if p := o.(*commercev1alpha1.WhatsAppOrder).Status.Payment; p != nil {
			return paidPart{p.Status, p.Amount, p.Currency, p.RefundedInFull}
		}
		return paidPart{}
	}
	return paid(e.ObjectOld) != paid(e.ObjectNew)
}
