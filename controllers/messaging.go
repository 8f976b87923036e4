package controllers

import (
	"context"
	"fmt"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/statuswrite"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/whatsapp"
)

// The messaging skeleton: the one reconcile every kind that talks to
// customers (orders, inquiries, product messages) runs. A kind plugs in with
// a messagingKind (how to read and name it), a scope that embeds pass (its
// ordered phases, the status fields it owns, its own events) and the rows of
// outcomes.go its sends can end in.

// Messaging is what the reconcilers that talk to customers are built from.
type Messaging struct {
	client.Client
	// APIReader reads fresh from the API server: before a send, since the
	// cache may not show what the previous pass recorded, and after a status
	// write conflict.
	APIReader client.Reader
	Recorder  events.EventRecorder
	Messenger *Messenger
	Clock     clock.PassiveClock
	Retention Retention
	// ReconcileTimeout bounds a reconcile, which a shutdown does not cancel
	// (see uncancelled); the composition root nests it between the send's
	// timeout and the graceful shutdown's.
	ReconcileTimeout time.Duration
	// PaymentLookupAfter is how long a bill waits for a final payment status
	// before WhatsApp's payment lookup is asked, and again between lookups
	// (the composition root's default: operator.DefaultPaymentLookupAfter).
	PaymentLookupAfter time.Duration
	// Records, when set, is where the status write of a pass that sent
	// messages under written intents may wait up to RecordDelay for
	// WhatsApp's first status about them (the receiver's Batcher), so that
	// the record and the status cost one write; nil writes at once.
	Records     *statuswrite.Batcher
	RecordDelay time.Duration
	// IntentTimeout is how long a pending intent waits for WhatsApp's status
	// before its message is sent again (see intentClock); the composition
	// root's --intent-timeout.
	IntentTimeout time.Duration
	// ArrivalOrder queues resources just created in line with the rest
	// instead of ahead of it (newFirst).
	ArrivalOrder bool
	// intents is when this process first saw each pending intent.
	intents *seenIntents
}

// messagingObject is a resource that messages customers.
type messagingObject interface {
	client.Object
	ChannelName() string
	StatusCore() (observedGeneration *int64, finishedAt **metav1.Time, conditions *[]metav1.Condition)
}

// pass is the core of every messaging kind's scope: what the driver read,
// and what every kind decides.
type pass[T messagingObject] struct {
	m   *Messaging
	obj T
	// generation is the resource's generation when it was read: what this
	// pass reconciles, whatever a re-read after a write conflict shows.
	generation int64
	channel    *commercev1alpha1.WhatsAppChannel
	now        time.Time
	// archived is the Archived condition while retention waits for the archive.
	archived *metav1.Condition
	// intents says how long the pending intents read still wait.
	intents intentClock

	// outcome is what this pass decided about the kind's message (the
	// outcome condition: CustomerNotified, Answered, Sent); nil leaves the
	// condition as the status has it.
	outcome *outcome
	// settled: this pass recorded a send's outcome (a message WhatsApp took,
	// or a final refusal), which is announced even when its reason is the
	// one already shown.
	settled bool
	// claimed: this pass wrote the intent of a message it sent, so the
	// status names the message by its callback data until the record is
	// written, and a crash before then loses nothing (see intent.go).
	claimed bool
	// blocked holds the resource back whatever its outcome (an invalid cart):
	// Ready False and Stalled, with its reason and message.
	blocked *metav1.Condition

	result ctrl.Result
	// err is returned after the status write, for the workqueue's backoff.
	err error
}

func (p *pass[T]) core() *pass[T] { return p }

// kindScope is what a messaging kind's scope adds to its pass.
type kindScope[T messagingObject] interface {
	core() *pass[T]
	// phases runs the kind's ordered phases, between retention and the
	// status write; an error ends the pass before the write.
	phases(ctx context.Context) error
	// apply writes the status fields the kind owns into o, which may be a
	// re-read copy (see statuswrite.Write): everything comes from the scope.
	apply(o T)
	// phaseText is the phase this pass writes, for Ready's message.
	phaseText() string
	// finished reports whether the resource is finished once this pass is
	// written: its finishedAt is set then, and its retention starts.
	finished() bool
	// conditions are the kind's conditions besides the outcome, Ready, the
	// kstatus ones and Archived (an order's Validated).
	conditions() []metav1.Condition
	// eventReason is the reason of the Event announcing an outcome with reason.
	eventReason(reason string) string
	// events emits the kind's own events from the difference with before.
	events(rec events.EventRecorder, before T)
	// kind is the kind the scope belongs to; it is called on a nil scope.
	kind() *messagingKind[T]
}

// messagingKind is what the driver needs to know of a kind.
type messagingKind[T messagingObject] struct {
	// name names the controller.
	name string
	// outcomeType is the type of the outcome condition.
	outcomeType string
	// doing is what Ready says the kind is doing while it progresses.
	doing string
	// action is the action of the kind's outcome Events.
	action string
	// scope reads what the kind needs beyond the pass, and makes its scope.
	scope func(ctx context.Context, p *pass[T]) (kindScope[T], error)
	// watches adds the kind's own watches to the channel's.
	watches func(b *builder.Builder, c client.Reader) *builder.Builder
	// news, when set, reports the status updates of the kind's own that
	// start a reconcile besides delivery news (an order's payment statuses).
	news func(before, after client.Object) bool
}

// drive runs one pass over a resource of kind k:
//
//	read        the resource, the generation read, its channel, now (pass), and the kind's own reads
//	retention   a finished resource past its channel's retention is deleted once the
//	            archive (if any) holds it, and nothing else runs; until then: Archived
//	phases      the kind's ordered phases, sending at most what is due: its status fields,
//	            the outcome
//	conditions  the outcome condition, Ready, Reconciling and Stalled (outcomes.go)
//	write       one status write, finishedAt with it, then the events of what changed;
//	            after sends under written intents the write is deferred (see deferWrite)
//	retention   the next look is due when the resource's retention ends, counted from
//	            the finishedAt just written
func drive[T messagingObject](ctx context.Context, m *Messaging, k *messagingKind[T], req ctrl.Request) (ctrl.Result, error) {
	ctx, cancel := uncancelled(ctx, m.ReconcileTimeout)
	defer cancel()
	p, err := read(ctx, m, newObject[T](), req)
	if p == nil || err != nil {
		return ctrl.Result{}, err
	}
	if m.Records != nil && m.RecordDelay > 0 {
		// A pass decides from the status its predecessor wrote: wait for it.
		if wait := m.Records.Deferred(p.obj); wait > 0 {
			return ctrl.Result{RequeueAfter: wait + deferredMargin}, nil
		}
	}
	if _, expired := m.Retention.period(finishedAt(p.obj), p.channel, p.now); expired {
		if p.archived, p.result, err = m.Retention.retire(ctx, m.Client, m.Recorder, p.obj); p.archived == nil || err != nil {
			return p.result, err
		}
	}
	before := p.obj.DeepCopyObject().(T)
	s, err := k.scope(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	if err := s.phases(ctx); err != nil {
		return ctrl.Result{}, err
	}
	if p.deferrable() {
		return p.deferWrite(ctx, k, s, before), nil
	}
	if _, err := statuswrite.Write(ctx, m.Client, m.APIReader, p.obj, statusOf(k, s, before)); err != nil {
		return ctrl.Result{}, err
	}
	tell(k, s, before)
	// From the status as written: the pass that finishes a resource is the
	// one that starts its retention, and nothing else may wake it later.
	keep, _ := m.Retention.period(finishedAt(p.obj), p.channel, p.now)
	return withRetention(p.result, keep), p.err
}

// tell emits the Events of a pass over a resource read as before: the
// archive's, the outcome's and the kind's own.
func tell[T messagingObject](k *messagingKind[T], s kindScope[T], before T) {
	p := s.core()
	recordArchivePending(p.m.Recorder, p.obj, conditionsOf(before), p.archived)
	announce(p.m.Recorder, k, s, before)
	s.events(p.m.Recorder, before)
}

// deferredMargin is added to a deferred write's bound before the resource is
// looked at again, for the write itself.
const deferredMargin = 100 * time.Millisecond

// deferrable reports whether the pass's status write may wait for WhatsApp's
// first status: every message it sent went under a written intent, whose
// callback data lets that status (and so a crash before the write) find it,
// and nothing is due at once.
func (p *pass[T]) deferrable() bool {
	return p.m.Records != nil && p.m.RecordDelay > 0 && p.claimed && p.err == nil && p.result.IsZero()
}

// deferWrite hands the pass's status write to the Batcher, to be written
// with the first status WhatsApp reports about the message, or after
// RecordDelay: a notification then costs the API server the intent's write
// and a write it would make for the status anyway. The Events go out now,
// about the send just made. Until the write is made no pass of the resource
// runs (drive waits), so the write is the latest decision about it; the
// look after it starts the retention of a resource the pass finished.
func (p *pass[T]) deferWrite(ctx context.Context, k *messagingKind[T], s kindScope[T], before T) ctrl.Result {
	log := logf.FromContext(ctx)
	write := statusOf(k, s, before)
	p.m.Records.Defer(p.obj, func(o client.Object) {
		if t, ok := o.(T); ok {
			write(t)
		}
	}, p.m.RecordDelay, func(err error) {
		if err != nil {
			// The intents stay: WhatsApp's statuses resolve them, as after a crash.
			log.Error(err, "writing the record of a send")
		}
	})
	tell(k, s, before)
	if s.finished() {
		return ctrl.Result{RequeueAfter: p.m.RecordDelay + deferredMargin}
	}
	return ctrl.Result{}
}

// statusOf is the status write of a pass over a resource read as before:
// the kind's own fields, then the generation read, finishedAt once the
// resource finishes, the outcome condition, Ready and the kstatus conditions
// (outcomes.go), all from what the pass read and decided, since the write
// may apply to a re-read copy (see statuswrite.Write).
func statusOf[T messagingObject](k *messagingKind[T], s kindScope[T], before T) func(T) {
	p := s.core()
	current := p.outcome
	if old := meta.FindStatusCondition(conditionsOf(before), k.outcomeType); current == nil && old != nil {
		current = outcomeFor(old.Reason, old.Message)
	}
	conds := append(s.conditions(), readiness(s.phaseText(), k.doing, current, p.blocked)...)
	if p.outcome != nil {
		conds = append(conds, p.outcome.condition(k.outcomeType))
	}
	if p.archived != nil {
		conds = append(conds, *p.archived)
	}
	finished := s.finished()
	return func(o T) {
		s.apply(o)
		observed, finishedAt, conditions := o.StatusCore()
		*observed = p.generation
		if finished && *finishedAt == nil {
			*finishedAt = &metav1.Time{Time: p.now}
		}
		setConditions(conditions, p.generation, conds)
	}
}

// announce emits the Event of the outcome a pass decided, as its row says:
// when the outcome condition's reason changes, or the pass recorded a send
// (each message WhatsApp took is announced); a retry that ends as the last
// one did is still the same episode.
func announce[T messagingObject](rec events.EventRecorder, k *messagingKind[T], s kindScope[T], before T) {
	p := s.core()
	if p.outcome == nil {
		return
	}
	row := p.outcome.row()
	old := meta.FindStatusCondition(conditionsOf(before), k.outcomeType)
	if row.event != "" && (p.settled || old == nil || old.Reason != row.reason) {
		rec.Eventf(p.obj, nil, row.event, s.eventReason(row.reason), k.action, "%s", p.outcome.message)
	}
}

// announced reports whether the pass's outcome has a Normal Event of its own
// (see announce): a message WhatsApp took says what it was about.
func (p *pass[T]) announced() bool {
	return p.settled && p.outcome != nil && p.outcome.row().event == corev1.EventTypeNormal
}

func finishedAt(o messagingObject) *metav1.Time {
	_, at, _ := o.StatusCore()
	return *at
}

func conditionsOf(o messagingObject) []metav1.Condition {
	_, _, conds := o.StatusCore()
	return *conds
}

// newObject is an empty resource of T's kind.
func newObject[T messagingObject]() T {
	var zero T
	return reflect.New(reflect.TypeOf(zero).Elem()).Interface().(T)
}

// read is the driver's first phase: the resource, its channel and the time.
func read[T messagingObject](ctx context.Context, m *Messaging, obj T, req ctrl.Request) (*pass[T], error) {
	if err := m.Get(ctx, req.NamespacedName, obj); err != nil || !obj.GetDeletionTimestamp().IsZero() {
		if client.IgnoreNotFound(err) == nil {
			m.intents.forget(req.NamespacedName)
		}
		return nil, client.IgnoreNotFound(err)
	}
	ch, err := getChannel(ctx, m.Client, obj.GetNamespace(), obj.ChannelName())
	if err != nil {
		return nil, err
	}
	now := m.Clock.Now()
	return &pass[T]{m: m, obj: obj, generation: obj.GetGeneration(), channel: ch, now: now,
		intents: intentClock{timeout: m.IntentTimeout, seen: m.intents.observe(obj, now)}}, nil
}

// freshRead reads p's resource from the API server, for a kind to check
// before it sends that no other pass recorded the send.
func (p *pass[T]) freshRead(ctx context.Context, into T, before string) bool {
	if err := p.m.APIReader.Get(ctx, client.ObjectKeyFromObject(p.obj), into); err != nil {
		p.err = fmt.Errorf("re-reading before %s: %w", before, err)
		return false
	}
	return true
}

// intentSlot is where a kind keeps the record of the message it is about to
// send, in a status as the API server holds it: current is the record there
// (nil: none), set writes one.
type intentSlot struct {
	current *commercev1alpha1.SentMessage
	set     func(commercev1alpha1.SentMessage)
}

// claimIntent writes the intent to send a message with callback data cb, on
// the version this pass read, so a stale cache conflicts and the re-read finds
// what another pass recorded, and reports whether this pass may send it: the
// slot holds no record, or a pending intent that waited its timeout in vain
// or is own, the one this pass wrote for a send WhatsApp refused. slot says
// false when the status no longer lets the message be sent at all.
func (p *pass[T]) claimIntent(ctx context.Context, what, cb, own string, slot func(T) (intentSlot, bool)) bool {
	claimed := false
	_, err := statuswrite.Write(ctx, p.m.Client, p.m.APIReader, p.obj, func(o T) {
		sl, ok := slot(o)
		rec := sl.current
		claimed = ok && (p.intents.claimable(rec, p.now) || (own != "" && rec.Pending() && rec.CallbackData == own))
		if claimed {
			sl.set(intent(cb, p.now))
		}
	})
	// An intent without callback data (On-Premises) names no message to a
	// status: its record is written at once.
	p.claimed = p.claimed || (err == nil && claimed && cb != "")
	if err == nil && claimed && cb != "" {
		p.m.intents.wrote(p.obj, cb, p.now)
	}
	if err != nil || !claimed {
		// The next pass decides from what the API server holds.
		p.result = requeueNow()
	}
	if err != nil {
		p.err = fmt.Errorf("recording the intent to %s: %w", what, err)
	}
	if err == nil && claimed && cb == "" {
		p.awaitCached(ctx, slot)
	}
	return err == nil && claimed
}

// intentVisibleWait bounds how long a send without callback data waits for
// its intent to reach the cache; past it, the send goes on (the status may
// then come before the receiver can tell the message is the operator's).
const intentVisibleWait = 5 * time.Second

// awaitCached waits until the cache shows an open intent in p's slot. An
// intent without callback data (On-Premises) is found by the receiver only
// through the cache's index (internal/index.OpenIntent), so WhatsApp must not
// be able to report on the message before the cache shows it: the receiver
// in this process shares the cache, and the other replicas' watches carry
// the same write while the message goes through WhatsApp and back.
func (p *pass[T]) awaitCached(ctx context.Context, slot func(T) (intentSlot, bool)) {
	cached := newObject[T]()
	_ = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, intentVisibleWait, true, func(ctx context.Context) (bool, error) {
		// A read that fails is tried again, until the bound.
		if p.m.Get(ctx, client.ObjectKeyFromObject(p.obj), cached) != nil {
			return false, nil
		}
		sl, _ := slot(cached)
		return sl.current != nil && sl.current.Pending() && sl.current.CallbackData == "", nil
	})
}

// afterSend is when to look again after a send that did not settle: after
// WhatsApp's Retry-After, with the workqueue's backoff (an error carrying
// WhatsApp's, class and code kept) when it gave none, or, waiting for the
// channel, when it turns Ready (its watch wakes the resource; there is no poll).
func (p *pass[T]) afterSend(res sendResult, what string) {
	switch {
	case res.RetryAfter > 0:
		p.result = ctrl.Result{RequeueAfter: res.RetryAfter}
	case res.Reason == commercev1alpha1.ReasonChannelNotReady:
	default:
		p.err = fmt.Errorf("%s: %w", what, res.cause())
	}
}

// messagingReconciler is the reconciler of the messaging kind whose scope is S.
type messagingReconciler[T messagingObject, S kindScope[T]] struct {
	Messaging
	newFirst *newFirst
}

// Reconcile runs one pass of the skeleton (see drive) over a resource.
func (r *messagingReconciler[T, S]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.newFirst.reached(req.NamespacedName)
	var s S
	return drive(ctx, &r.Messaging, s.kind(), req)
}

// SetupWithManager registers the reconciler: a resource wakes on its own spec
// and annotations, on delivery news in its status (an intent resolved, a
// message failed), on its channel turning Ready, and on what its kind watches
// besides; one just created goes ahead of the queue (newFirst). The cache
// indexes it lists by are registered once for every replica (internal/index).
func (r *messagingReconciler[T, S]) SetupWithManager(mgr ctrl.Manager) error {
	var s S
	k := s.kind()
	// Zero would send again at once every message whose outcome is unknown.
	if r.IntentTimeout <= 0 {
		return fmt.Errorf("%s: no intent timeout", k.name)
	}
	r.intents = newSeenIntents()
	share := newFirstShare
	if r.ArrivalOrder {
		share = 0
	}
	r.newFirst = newNewFirst(share)
	gvk, err := apiutil.GVKForObject(newObject[T](), mgr.GetScheme())
	if err != nil {
		return err
	}
	gvk.Kind += "List"
	if _, err := mgr.GetScheme().New(gvk); err != nil {
		return err
	}
	newList := func() client.ObjectList {
		l, _ := mgr.GetScheme().New(gvk)
		return l.(client.ObjectList)
	}
	triggers := specOrAnnotationsOrDeliveryNews
	if k.news != nil {
		triggers = predicate.Or(triggers, predicate.Funcs{
			CreateFunc: func(event.CreateEvent) bool { return false }, DeleteFunc: func(event.DeleteEvent) bool { return false },
			GenericFunc: func(event.GenericEvent) bool { return false },
			UpdateFunc:  func(e event.UpdateEvent) bool { return k.news(e.ObjectOld, e.ObjectNew) },
		})
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(newObject[T](), builder.WithPredicates(triggers, notCreated)).
		Watches(newObject[T](), r.newFirst.handler()).
		Watches(&commercev1alpha1.WhatsAppChannel{}, onChannel(mgr.GetClient(), newList), builder.WithPredicates(channelTurnedReady))
	if k.watches != nil {
		b = k.watches(b, mgr.GetClient())
	}
	return b.Named(k.name).Complete(r)
}

// eventType is the type of an Event about a condition with status.
func eventType(status metav1.ConditionStatus) string {
	if status == metav1.ConditionTrue {
		return corev1.EventTypeNormal
	}
	return corev1.EventTypeWarning
}

// describeError says what WhatsApp's refusal of a message was.
func describeError(e *commercev1alpha1.MessageError) string {
	switch {
	case e == nil:
		return "no reason given"
	case e.Code == 0:
		return e.Message
	case e.Message != "" && e.Message != e.Title:
		return fmt.Sprintf("%d %s: %s", e.Code, e.Title, e.Message)
	}
	return fmt.Sprintf("%d %s", e.Code, e.Title)
}

// recipient is who a message to the customer goes to: the phone-number
// WhatsApp id, or else the business-scoped user id, the current one
// (currentUserID, from the resource's status, when WhatsApp reported a change)
// before the one the customer first wrote with. A WhatsApp id that is not a
// phone number is a user id a sender put in the wrong field: it is sent as
// one, never in "to".
func recipient(c commercev1alpha1.Customer, currentUserID string) whatsapp.Recipient {
	userID := c.UserID
	if currentUserID != "" {
		userID = currentUserID
	}
	switch {
	case whatsapp.IsPhoneNumber(c.WaID):
		return whatsapp.Recipient{WaID: c.WaID, UserID: userID}
	case userID == "":
		return whatsapp.Recipient{UserID: c.WaID}
	}
	return whatsapp.Recipient{UserID: userID}
}

// windowClosed reports whether the customer's 24-hour window, opened by the
// message received at receivedAt, has closed at now.
func windowClosed(receivedAt metav1.Time, now time.Time) bool {
	return !now.Before(receivedAt.Add(window))
}
