package controllers

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/internal/index"
)

// uncancelled is the context a reconcile of a resource that messages customers
// runs in: a shutdown (a rollout, the leader's pod deleted) does not cancel it
// between a send and the status write that records it, which would leave a
// message sent but unrecorded for the next leader to send again; the manager's
// graceful shutdown waits for it instead, for up to timeout (see
// operator/timeouts.go for how the timeouts nest).
func uncancelled(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), timeout)
}

// requeueNow asks for another pass at once, without the workqueue's backoff:
// the next step (another due notification, a status the cache has not shown
// yet) is ready now.
func requeueNow() ctrl.Result { return ctrl.Result{RequeueAfter: time.Millisecond} }

// specOrAnnotationsChanged lets through what asks for a reconcile: a new
// generation (spec.state, spec.reply) or annotations (a person or test asking
// for a pass). Status updates never do, neither the controller's own nor the
// receiver's delivery statuses, which the reconcilers do not act on.
var specOrAnnotationsChanged = predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})

// specOrAnnotationsOrDeliveryNews adds to specOrAnnotationsChanged the status
// updates a reconciler acts on, which only the receiver writes: an intent
// resolved by a status webhook (a delivery status where there was none, on a
// record without a message id before), or an accepted message reported
// failed. Other delivery statuses (sent, delivered, read after sent) and the
// reconcilers' own writes start no reconcile.
var specOrAnnotationsOrDeliveryNews = predicate.Or(specOrAnnotationsChanged, predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return deliveryNews(sentMessages(e.ObjectOld), sentMessages(e.ObjectNew))
	},
})

// deliveryNews reports whether a record in after, matched to before by its
// callback data or message id, was resolved by a status or failed later.
func deliveryNews(before, after []*commercev1alpha1.SentMessage) bool {
	for _, a := range after {
		for _, b := range before {
			sameCallback := a.CallbackData != "" && a.CallbackData == b.CallbackData
			sameID := a.MessageID != "" && a.MessageID == b.MessageID
			if !sameCallback && !sameID {
				continue
			}
			if (b.Pending() && a.MessageID != "" && a.DeliveryStatus != "") || (!failedLater(b) && failedLater(a)) {
				return true
			}
		}
	}
	return false
}

// sentMessages are the records of the messages sent about an order, an
// inquiry or a product message.
func sentMessages(o client.Object) []*commercev1alpha1.SentMessage {
	if x, ok := o.(interface {
		SentMessages() []*commercev1alpha1.SentMessage
	}); ok {
		return x.SentMessages()
	}
	return nil
}

// channelTurnedReady passes a channel's update that makes it Ready. Creation is
// left out: a channel is never Ready when created, and the resources on it get
// their own create events at start.
var channelTurnedReady = predicate.Funcs{
	CreateFunc:  func(event.CreateEvent) bool { return false },
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
	UpdateFunc: func(e event.UpdateEvent) bool {
		return !channelReady(e.ObjectOld) && channelReady(e.ObjectNew)
	},
}

func channelReady(o client.Object) bool {
	ch, ok := o.(*commercev1alpha1.WhatsAppChannel)
	return ok && meta.IsStatusConditionTrue(ch.Status.Conditions, commercev1alpha1.ConditionReady)
}

// onChannel maps a channel to every resource of list's kind on it. All of them,
// not only those whose status says they wait: the cache may not show yet that a
// reconcile in flight is about to wait, and a pass over a settled resource
// writes nothing.
func onChannel(c client.Reader, newList func() client.ObjectList) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, ch client.Object) []reconcile.Request {
		list := newList()
		if err := c.List(ctx, list, client.InNamespace(ch.GetNamespace()), client.MatchingFields{index.Channel: ch.GetName()}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing the resources of a channel that turned Ready", "channel", ch.GetName())
			return nil
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(items))
		for _, it := range items {
			if o, ok := it.(client.Object); ok {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}})
			}
		}
		return reqs
	})
}

// getChannel returns the channel an order or inquiry arrived on, or nil if it
// is gone.
func getChannel(ctx context.Context, c client.Reader, namespace, name string) (*commercev1alpha1.WhatsAppChannel, error) {
	var ch commercev1alpha1.WhatsAppChannel
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &ch); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("getting channel %s: %w", name, err)
	}
	return &ch, nil
}

// setConditions writes conds into a status's conditions, stamped with the
// generation the reconcile read, and removes the conditions absent from them
// that are present only while true: Reconciling and Stalled (kstatus), and
// Archived (False only while retention waits for the archive).
func setConditions(into *[]metav1.Condition, generation int64, conds []metav1.Condition) {
	present := map[string]bool{}
	for _, c := range conds {
		c.ObservedGeneration = generation
		meta.SetStatusCondition(into, c)
		present[c.Type] = true
	}
	for _, t := range []string{commercev1alpha1.ConditionReconciling, commercev1alpha1.ConditionStalled, commercev1alpha1.ConditionArchived} {
		if !present[t] {
			meta.RemoveStatusCondition(into, t)
		}
	}
}

// kstatus builds the Reconciling or Stalled condition, always True: absent is
// how they say False.
func kstatus(conditionType, reason, message string) metav1.Condition {
	return metav1.Condition{Type: conditionType, Status: metav1.ConditionTrue, Reason: reason, Message: message}
}
