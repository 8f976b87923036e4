package controllers

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	commercev1alpha1 "github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/api/v1alpha1"
)

// The controller's queue as the manager builds it, fed through the same
// handlers: the kind's own watch and newFirst.
type queueUnderTest struct {
	q     priorityqueue.PriorityQueue[reconcile.Request]
	first *newFirst
}

func newQueueUnderTest(t *testing.T, share int) *queueUnderTest {
	q := priorityqueue.New[reconcile.Request]("test")
	t.Cleanup(q.ShutDown)
	return &queueUnderTest{q: q, first: newNewFirst(share)}
}

func order(namespace, name string) *commercev1alpha1.WhatsAppOrder {
	return &commercev1alpha1.WhatsAppOrder{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, ResourceVersion: "1"}}
}

func (qt *queueUnderTest) created(o *commercev1alpha1.WhatsAppOrder) {
	qt.first.handler().Create(context.Background(), event.CreateEvent{Object: o}, qt.q)
}

// accepted is the business changing the order: an update event.
func (qt *queueUnderTest) accepted(o *commercev1alpha1.WhatsAppOrder) {
	n := o.DeepCopy()
	n.ResourceVersion = "2"
	handler.WithLowPriorityWhenUnchanged[*commercev1alpha1.WhatsAppOrder, reconcile.Request](&handler.TypedEnqueueRequestForObject[*commercev1alpha1.WhatsAppOrder]{}).
		Update(context.Background(), event.TypedUpdateEvent[*commercev1alpha1.WhatsAppOrder]{ObjectOld: o, ObjectNew: n}, qt.q)
}

// order is the order the workers take the queued resources in, each pass
// reaching the reconciler as the controller's would.
func (qt *queueUnderTest) order(n int) []string {
	var got []string
	for range n {
		req, _ := qt.q.Get()
		qt.first.reached(req.NamespacedName)
		qt.q.Done(req)
		got = append(got, req.Namespace+"/"+req.Name)
	}
	return got
}

func TestNewResourcesGoAheadOfOlderWork(t *testing.T) {
	qt := newQueueUnderTest(t, 2)
	// Three accepted orders wait to be notified when three new ones come in.
	for _, name := range []string{"old-1", "old-2", "old-3"} {
		qt.accepted(order("shop", name))
	}
	for _, name := range []string{"new-1", "new-2", "new-3"} {
		qt.created(order("shop", name))
	}
	// Another shop's new order still goes ahead: the busy shop holds only its
	// own share of places.
	qt.created(order("other", "new-1"))

	got := qt.order(7)
	want := []string{"shop/new-1", "shop/new-2", "other/new-1", "shop/old-1", "shop/old-2", "shop/old-3", "shop/new-3"}
	if !slices.Equal(got, want) {
		t.Errorf("the workers took %v, want %v: a shop's first %d new resources ahead, the rest in line", got, want, 2)
	}

	// Their passes reached, the places are free again.
	qt.accepted(order("shop", "old-4"))
	qt.created(order("shop", "new-4"))
	if got := qt.order(2); got[0] != "shop/new-4" {
		t.Errorf("after the first passes the workers took %v, want shop/new-4 first", got)
	}
}

// Resources the cache lists at start are not new: they go behind the rest
// and take no place ahead; and a resource is never given two places.
func TestResourcesListedAtStartAreNotNew(t *testing.T) {
	qt := newQueueUnderTest(t, 1)
	qt.accepted(order("shop", "old"))
	qt.first.handler().Create(context.Background(), event.CreateEvent{Object: order("shop", "listed"), IsInInitialList: true}, qt.q)
	if got, want := qt.order(2), []string{"shop/old", "shop/listed"}; !slices.Equal(got, want) {
		t.Fatalf("the workers took %v, want %v", got, want)
	}
	if !qt.first.take(types.NamespacedName{Namespace: "shop", Name: "x"}) {
		t.Fatal("a listed resource took the namespace's place")
	}
	if qt.first.take(types.NamespacedName{Namespace: "shop", Name: "x"}) {
		t.Error("a resource took a second place")
	}
}

// With --arrival-order (a share of 0) the queue keeps the order events came in.
func TestInArrivalOrderNothingGoesAhead(t *testing.T) {
	qt := newQueueUnderTest(t, 0)
	qt.accepted(order("shop", "old"))
	qt.created(order("shop", "new"))
	if got, want := qt.order(2), []string{"shop/old", "shop/new"}; !slices.Equal(got, want) {
		t.Errorf("the workers took %v, want %v", got, want)
	}
}
