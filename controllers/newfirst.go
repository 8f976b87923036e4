package controllers

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// newFirstPriority is the queue priority of a resource just created; every
// other event is queued at the default 0 (or lower, for the cache's initial
// list and resyncs).
const newFirstPriority = 10

// newFirstShare is how many resources of one namespace may wait ahead of the
// queue at once: enough for a shop's burst of orders to be validated while
// older work waits, few enough that a shop creating faster than the
// controller works leaves the rest of its resources in line with every
// other shop's work instead of starving it.
const newFirstShare = 32

// newFirst puts a resource just created ahead of the controller's queue.
// Under load the queue holds the sends of earlier resources; a new order's
// first pass only validates it, and the business acts on nothing before it
// is Validated, so waiting behind those sends would hold up the business for
// no gain. Each namespace gets newFirstShare places ahead at a time.
// Needs the priority queue, controller-runtime's default; with a plain queue
// creations are queued in line.
type newFirst struct {
	mu    sync.Mutex
	ahead map[types.NamespacedName]struct{}
	held  map[string]int
	share int
}

func newNewFirst(share int) *newFirst {
	return &newFirst{ahead: map[types.NamespacedName]struct{}{}, held: map[string]int{}, share: share}
}

// take gives key a place ahead, unless it has one or its namespace holds its
// share.
func (f *newFirst) take(key types.NamespacedName) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.ahead[key]; ok || f.held[key.Namespace] >= f.share {
		return false
	}
	f.ahead[key] = struct{}{}
	f.held[key.Namespace]++
	return true
}

// reached gives back key's place, if it has one: its pass has started.
func (f *newFirst) reached(key types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.ahead[key]; !ok {
		return
	}
	delete(f.ahead, key)
	if f.held[key.Namespace]--; f.held[key.Namespace] == 0 {
		delete(f.held, key.Namespace)
	}
}

// handler enqueues every resource the cache sees created, the kind's own
// watch leaving creations to it: one add per creation, so that no pass
// starts twice. A resource listed at start stays behind the rest, as
// controller-runtime queues it; a new one goes ahead when its namespace has
// a place.
func (f *newFirst) handler() handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.Object)}
			if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok && !e.IsInInitialList && f.take(req.NamespacedName) {
				pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(newFirstPriority)}, req)
				return
			}
			q.Add(req)
		},
	}
}

// notCreated leaves creations to newFirst.
var notCreated = predicate.Funcs{CreateFunc: func(event.CreateEvent) bool { return false }}
