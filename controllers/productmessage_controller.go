package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// Cache indexes of the product message funnel: an order or inquiry finds the
// message it replies to, and a message its replies, without listing either kind.
const (
	// IndexReplyTo indexes orders and inquiries by spec.replyToMessageID.
	IndexReplyTo = "spec.replyToMessageID"
	// IndexMessageID indexes product messages by the id of the message they
	// are about (status.messageID, or spec.messageID when tracked).
	IndexMessageID = "messageID"
	// IndexInquiry indexes product messages by spec.inquiry.
	IndexInquiry = "spec.inquiry"
)

// ProductMessageReconciler sends a product message once, and follows how
// customers respond to it: the inquiries and orders replying to it are
// labelled with its name and counted, and the revenue of those orders summed.
//
// Exactly once: as for order notifications (see intent.go), before sending
// the message is re-read from the API server, and on Cloud its intent is
// recorded in a status write of its own; the send's outcome settles it in the
// reconcile's status write. A crash in between leaves the intent, which the
// status WhatsApp posts with its callback data resolves; the message is sent
// again only when none came within IntentTimeout. On-Premises has no callback
// data: a crash between WhatsApp accepting the message and the status write
// sends it again.
type ProductMessageReconciler struct {
	Messaging
}

// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productmessages,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=productmessages/status,verbs=update
// +kubebuilder:rbac:groups=commerce.wa.dev,resources=whatsapporders;productinquiries,verbs=get;list;watch;patch

// Reconcile runs one pass over a product message, in these phases:
//
//	read        the message, the generation read, its channel, the inquiry it answers, now (pmsgScope)
//	retention   a finished message past its channel's retention is deleted once the
//	            archive (if any) holds it, and nothing else runs; until then: Archived
//	send        tracking adopts spec.messageID; a Pending message is sent (once more as its
//	            template when the window is closed), on Cloud after its intent is written,
//	            or waits for the status of an intent a crash left: phase, form, the sent
//	            message, Sent
//	funnel      the orders and inquiries of the channel replying to it: their label, the
//	            counts and the revenue
//	conditions  Ready, Reconciling and Stalled follow from the phase and Sent
//	write       one status write, then the events of what changed
func (r *ProductMessageReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := uncancelled(ctx)
	defer cancel()
	s, err := r.read(ctx, req)
	if s == nil || err != nil {
		return ctrl.Result{}, err
	}
	if s.expired {
		if s.archived, s.result, err = r.Retention.retire(ctx, r.Client, r.Recorder, s.pm); s.archived == nil || err != nil {
			return s.result, err
		}
	}
	r.send(ctx, s)
	if err := r.funnel(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	s.conditions = productMessageConditions(s.phase, s.sentCondition())
	before := s.pm.Status.DeepCopy()
	if _, err := statuswrite.Write(ctx, r.Client, r.APIReader, s.pm, s.apply); err != nil {
		return ctrl.Result{}, err
	}
	r.recordEvents(s, before)
	return withRetention(s.result, s.keep), s.err
}

// pmsgScope is what one reconcile of a product message read and decided.
type pmsgScope struct {
	// Read.
	pm *commercev1alpha1.ProductMessage
	// generation is the message's generation when it was read.
	generation int64
	channel    *commercev1alpha1.WhatsAppChannel
	inquiry    *commercev1alpha1.ProductInquiry
	now        time.Time
	// keep is how long a finished message is still kept; expired when that is over.
	keep    time.Duration
	expired bool
	// archived is the Archived condition while retention waits for the archive.
	archived *metav1.Condition

	// Decided by send. sent is nil when this pass leaves Sent as it is.
	phase commercev1alpha1.ProductMessagePhase
	form  commercev1alpha1.ProductMessageForm
	sent  *metav1.Condition
	// recorded: this pass settles the record of the send with record (nil:
	// none, see sendRecord) and keepIntent.
	recorded   bool
	record     *commercev1alpha1.SentMessage
	keepIntent bool
	// Decided by funnel.
	tally funnel.Tally
	// Decided by productMessageConditions.
	conditions []metav1.Condition

	result ctrl.Result
	err    error
}

// read is the first phase: the message, its channel, its inquiry and the time.
func (r *ProductMessageReconciler) read(ctx context.Context, req ctrl.Request) (*pmsgScope, error) {
	var pm commercev1alpha1.ProductMessage
	if err := r.Get(ctx, req.NamespacedName, &pm); err != nil || !pm.DeletionTimestamp.IsZero() {
		return nil, client.IgnoreNotFound(err)
	}
	ch, err := getChannel(ctx, r.Client, pm.Namespace, pm.Spec.Channel)
	if err != nil {
		return nil, err
	}
	s := &pmsgScope{pm: &pm, generation: pm.Generation, channel: ch, now: r.Clock.Now(), phase: pm.Status.Phase, form: pm.Status.Form}
	if s.phase == "" {
		s.phase = commercev1alpha1.ProductMessagePending
	}
	s.keep, s.expired = r.Retention.period(pm.Status.FinishedAt, ch, s.now)
	if pm.Spec.Inquiry != "" {
		var inq commercev1alpha1.ProductInquiry
		switch err := r.Get(ctx, client.ObjectKey{Namespace: pm.Namespace, Name: pm.Spec.Inquiry}, &inq); {
		case err == nil:
			s.inquiry = &inq
		case !apierrors.IsNotFound(err):
			return nil, fmt.Errorf("getting inquiry %s: %w", pm.Spec.Inquiry, err)
		}
	}
	return s, nil
}

// send decides phase, form, Sent and the message to record, sending when due.
func (r *ProductMessageReconciler) send(ctx context.Context, s *pmsgScope) {
	api := commercev1alpha1.APICloud
	if s.channel != nil {
		api = s.channel.API()
	}
	action, cond := productMessageDue(s.pm, api)
	switch action {
	case pmsgSettled:
		return
	case pmsgTrack:
		s.phase, s.sent = commercev1alpha1.ProductMessageSent, cond
		s.recorded, s.record = true, &commercev1alpha1.SentMessage{MessageID: s.pm.Spec.MessageID}
		return
	case pmsgRefuse:
		s.phase, s.sent = commercev1alpha1.ProductMessageFailed, cond
		return
	}
	replyTo, wait, fail := inquiryForReply(s.pm, s.inquiry)
	switch {
	case wait != nil:
		s.sent = wait // the inquiry's creation wakes the message
		return
	case fail != nil:
		s.phase, s.sent = commercev1alpha1.ProductMessageFailed, fail
		return
	}
	// The cache may not show the send the previous reconcile recorded: ask
	// the API server before sending.
	var fresh commercev1alpha1.ProductMessage
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(s.pm), &fresh); err != nil {
		s.err = fmt.Errorf("re-reading the product message before sending: %w", err)
		return
	}
	// The form too: a template that is being retried must not go out as the
	// interactive message again.
	s.form = fresh.Status.Form
	if fresh.Status.Phase != "" && fresh.Status.Phase != commercev1alpha1.ProductMessagePending {
		s.phase, s.result = fresh.Status.Phase, requeueNow()
		return
	}
	if cond, wait, resolved := productMessageRecorded(&fresh, s.now); cond != nil {
		s.sent = cond
		if resolved {
			s.phase, s.recorded, s.record = commercev1alpha1.ProductMessageSent, true, fresh.Status.SentMessage.DeepCopy()
		} else {
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
		cb := callbackData(s.channel, productMessageRef(s.pm, s.form))
		if cb != "" {
			claimed, err := r.recordIntent(ctx, s, cb, own)
			if err != nil || !claimed {
				s.err, s.result = err, requeueNow() // the next pass decides from what the API server holds
				return
			}
			own = cb
		}
		to, products := productMessageRequest(s.pm, replyTo, cb)
		res := r.Messenger.sendProducts(ctx, s.channel, to, products, s.templateRef())
		out := productMessageOutcome(s.pm, s.form, res, api, cb, s.now)
		s.phase, s.form, s.sent = out.phase, out.form, out.sent
		s.recorded, s.record, s.keepIntent = true, out.record, out.keepIntent
		logf.FromContext(ctx).Info("product message send", "form", s.form, "outcome", res.Reason, "messageID", res.MessageID)
		switch {
		case out.again:
			continue
		case s.keepIntent:
			s.result = ctrl.Result{RequeueAfter: commercev1alpha1.IntentTimeout}
		case s.phase == commercev1alpha1.ProductMessagePending:
			s.result, s.err = afterSend(res, "sending the product message")
		case s.phase == commercev1alpha1.ProductMessageSent:
			// Look again soon: a reply may have come before the cache showed
			// the message id it replies to.
			s.result = ctrl.Result{RequeueAfter: time.Second}
		}
		return
	}
}

// recordIntent writes the intent to send pm in s.form with callback data cb,
// and reports whether this pass may send it: the API server shows the message
// Pending with nothing recorded, an intent that waited out IntentTimeout, or
// the intent own this pass wrote for a send WhatsApp refused.
func (r *ProductMessageReconciler) recordIntent(ctx context.Context, s *pmsgScope, cb, own string) (bool, error) {
	claimed := false
	_, err := statuswrite.Write(ctx, r.Client, r.APIReader, s.pm, func(pm *commercev1alpha1.ProductMessage) {
		st := &pm.Status
		rec := recordOf(st)
		claimed = (st.Phase == "" || st.Phase == commercev1alpha1.ProductMessagePending) &&
			(claimable(rec, s.now) || (own != "" && rec.Pending() && rec.CallbackData == own))
		if claimed {
			st.Form, st.SentMessage = s.form, intent(cb, s.now)
		}
	})
	if err != nil {
		return false, fmt.Errorf("recording the intent to send the product message: %w", err)
	}
	return claimed, nil
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
	t := s.pm.Spec.Template
	return &whatsapp.TemplateRef{Name: t.Name, Language: t.Language, Namespace: templateNamespace(t, s.channel)}
}

// funnel labels and counts the orders and inquiries replying to the message.
func (r *ProductMessageReconciler) funnel(ctx context.Context, s *pmsgScope) error {
	id := trackedID(s.pm)
	if s.record != nil && s.record.MessageID != "" {
		id = s.record.MessageID
	}
	if id == "" {
		return nil
	}
	match := []client.ListOption{client.InNamespace(s.pm.Namespace), client.MatchingFields{IndexReplyTo: id}}
	var orders commercev1alpha1.WhatsAppOrderList
	if err := r.List(ctx, &orders, match...); err != nil {
		return fmt.Errorf("listing the orders replying to %s: %w", id, err)
	}
	var inquiries commercev1alpha1.ProductInquiryList
	if err := r.List(ctx, &inquiries, match...); err != nil {
		return fmt.Errorf("listing the inquiries replying to %s: %w", id, err)
	}
	var onChannel []commercev1alpha1.WhatsAppOrder
	for i := range orders.Items {
		if o := &orders.Items[i]; o.Spec.Channel == s.pm.Spec.Channel {
			onChannel = append(onChannel, *o)
			if err := r.label(ctx, o, s.pm.Name); err != nil {
				return err
			}
		}
	}
	replies := 0
	for i := range inquiries.Items {
		if q := &inquiries.Items[i]; q.Spec.Channel == s.pm.Spec.Channel {
			replies++
			if err := r.label(ctx, q, s.pm.Name); err != nil {
				return err
			}
		}
	}
	s.tally = funnel.Count(onChannel, replies)
	return nil
}

// label names the product message on a response that does not name it yet.
func (r *ProductMessageReconciler) label(ctx context.Context, o client.Object, name string) error {
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
	if err := r.Patch(ctx, o, patch); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("labelling %s with its product message: %w", o.GetName(), err)
	}
	return nil
}

// sentCondition is the Sent condition once this pass is written.
func (s *pmsgScope) sentCondition() *metav1.Condition {
	if s.sent != nil {
		return s.sent
	}
	return meta.FindStatusCondition(s.pm.Status.Conditions, commercev1alpha1.ConditionSent)
}

// apply writes what this pass decided into pm's status. pm may be a re-read
// copy (see statuswrite.Write): generation and everything else come from s;
// the delivery status the receiver keeps is left alone.
func (s *pmsgScope) apply(pm *commercev1alpha1.ProductMessage) {
	st := &pm.Status
	st.ObservedGeneration = s.generation
	st.Phase, st.Form, st.Type = s.phase, s.form, s.pm.Spec.InteractiveType()
	if s.recorded {
		switch merged, remove := settle(recordOf(st), s.record, s.keepIntent); {
		case remove || merged == nil:
			st.SentMessage = commercev1alpha1.SentMessage{}
		default:
			st.SentMessage = *merged
		}
	}
	if s.phase != commercev1alpha1.ProductMessagePending && st.FinishedAt == nil {
		st.FinishedAt = &metav1.Time{Time: s.now}
	}
	st.Inquiries, st.Orders, st.Revenue, st.RevenueSummary = s.tally.Inquiries, s.tally.Orders, s.tally.Revenue, s.tally.Summary
	conds := s.conditions
	if s.sent != nil {
		conds = append([]metav1.Condition{*s.sent}, conds...)
	}
	if s.archived != nil {
		conds = append(conds, *s.archived)
	}
	setConditions(&st.Conditions, s.generation, conds)
}

func (r *ProductMessageReconciler) recordEvents(s *pmsgScope, before *commercev1alpha1.ProductMessageStatus) {
	recordArchivePending(r.Recorder, s.pm, before.Conditions, s.archived)
	if s.sent == nil {
		return
	}
	old := meta.FindStatusCondition(before.Conditions, commercev1alpha1.ConditionSent)
	if before.Phase == s.phase && old != nil && old.Reason == s.sent.Reason {
		return // still waiting or retrying: one event for the episode
	}
	eventType := corev1.EventTypeNormal
	if s.sent.Status != metav1.ConditionTrue {
		eventType = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(s.pm, nil, eventType, s.sent.Reason, "Send", "%s", s.sent.Message)
}

// SetupWithManager registers the reconciler and the funnel's indexes. A product
// message wakes on its own spec and annotations, on an intent the receiver
// resolved (see specOrAnnotationsOrDeliveryNews), on its channel turning Ready,
// on the inquiry it answers appearing, and on every order or inquiry replying
// to it being created, deleted or (orders) changing state.
func (r *ProductMessageReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexByChannel(mgr, &commercev1alpha1.ProductMessage{}, func(o client.Object) string {
		return o.(*commercev1alpha1.ProductMessage).Spec.Channel
	}); err != nil {
		return err
	}
	indexes := []struct {
		obj   client.Object
		field string
		value func(client.Object) string
	}{
		{&commercev1alpha1.WhatsAppOrder{}, IndexReplyTo, func(o client.Object) string { return o.(*commercev1alpha1.WhatsAppOrder).Spec.ReplyToMessageID }},
		{&commercev1alpha1.ProductInquiry{}, IndexReplyTo, func(o client.Object) string { return o.(*commercev1alpha1.ProductInquiry).Spec.ReplyToMessageID }},
		{&commercev1alpha1.ProductMessage{}, IndexMessageID, func(o client.Object) string { return trackedID(o.(*commercev1alpha1.ProductMessage)) }},
		{&commercev1alpha1.ProductMessage{}, IndexInquiry, func(o client.Object) string { return o.(*commercev1alpha1.ProductMessage).Spec.Inquiry }},
	}
	for _, ix := range indexes {
		if err := mgr.GetFieldIndexer().IndexField(context.Background(), ix.obj, ix.field, func(o client.Object) []string {
			if v := ix.value(o); v != "" {
				return []string{v}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	c := mgr.GetClient()
	return ctrl.NewControllerManagedBy(mgr).
		For(&commercev1alpha1.ProductMessage{}, builder.WithPredicates(specOrAnnotationsOrDeliveryNews)).
		Watches(&commercev1alpha1.WhatsAppChannel{},
			onChannel(c, func() client.ObjectList { return &commercev1alpha1.ProductMessageList{} }),
			builder.WithPredicates(channelTurnedReady)).
		// An order's creation, deletion and state moves; not its label or status.
		Watches(&commercev1alpha1.WhatsAppOrder{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return messagesBy(ctx, c, o.GetNamespace(), IndexMessageID, o.(*commercev1alpha1.WhatsAppOrder).Spec.ReplyToMessageID)
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// An inquiry's creation and deletion: the message it replies to, and
		// the messages that answer it.
		Watches(&commercev1alpha1.ProductInquiry{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return append(messagesBy(ctx, c, o.GetNamespace(), IndexMessageID, o.(*commercev1alpha1.ProductInquiry).Spec.ReplyToMessageID),
				messagesBy(ctx, c, o.GetNamespace(), IndexInquiry, o.GetName())...)
		}), builder.WithPredicates(predicate.Funcs{UpdateFunc: func(event.UpdateEvent) bool { return false }})).
		Named("productmessage").
		Complete(r)
}

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
