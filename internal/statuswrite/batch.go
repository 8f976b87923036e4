package statuswrite

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	batchWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "whatsapp_status_changes_waiting",
		Help: "Status changes handed to a Batcher and not yet written: a value that keeps growing means status writes fall behind.",
	})
	batchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "whatsapp_status_batch_changes",
		Help:    "Status changes applied per batched status write.",
		Buckets: []float64{1, 2, 3, 5, 10, 20, 50},
	})
)

func init() { metrics.Registry.MustRegister(batchWaiting, batchSize) }

// DefaultBatchTimeout bounds a batch's write when Batcher.Timeout is zero.
const DefaultBatchTimeout = 10 * time.Second

// Batcher is the batch form of Write, for writers that change small parts of
// a status many times in a short time, such as the receiver recording the
// delivery statuses WhatsApp reports (sent, delivered and read of one message
// often arrive within milliseconds, in one body or in several).
//
// Changes to the same object that reach the Batcher within Window of each
// other, or while an earlier write of that object is in flight, are applied in
// one Write. So one object is never written by two of its batches at once:
// they would only conflict with each other. A deferred change (Defer) waits
// longer, up to its own bound, for others to share its write: a reconciler's
// record of a message WhatsApp took waits for WhatsApp's first status about
// it, which comes about a second later and then costs no write of its own. The write starts from the copy the
// Client's cache holds, without a read from the API server; when that copy is
// stale the API server answers Conflict and Write re-reads through Reader and
// applies every change of the batch again, as its conflict strategy says.
// Each change must therefore be a change to whatever status it is handed, and
// may run more than once.
//
// The cache shows a write of the Batcher's own only once its watch event
// arrives, which under load is after the next batch of the same object has
// started: that batch starts from what the Batcher wrote instead, when the
// cache still shows the very version that write replaced. Otherwise every
// status arriving soon after another would cost a refused write and a read.
type Batcher struct {
	// Client reads objects from the informer cache and writes their status.
	Client client.Client
	// Reader reads from the API server after a conflict.
	Reader client.Reader
	// Window is how long the first change of a batch waits for others.
	Window time.Duration
	// Timeout bounds one batch's write, retries included; DefaultBatchTimeout
	// when zero.
	Timeout time.Duration

	mu   sync.Mutex
	keys map[batchKey]*keyState
	// stopping: the process is shutting down, and deferred changes wait no
	// more (see Start).
	stopping bool
	// ahead are the objects as the Batcher last wrote them, until the cache
	// shows something else than the version each replaced.
	ahead map[batchKey]aheadCopy
	swept time.Time
}

// aheadCopy is an object as written, and the resourceVersion it replaced.
type aheadCopy struct {
	obj      client.Object
	replaced string
	at       time.Time
}

// aheadFor is how long a written copy is kept for a cache that lags behind
// it; a cache later than that is not lagging, something else changed.
const aheadFor = 10 * time.Second

// batchKey names one object: its Go type stands for its kind.
type batchKey struct {
	kind reflect.Type
	key  client.ObjectKey
}

// keyState is what one object's changes are waiting for.
type keyState struct {
	// pending collects the changes of the next write.
	pending *batch
	// deferred counts the deferred changes not written yet.
	deferred int
	// writing is closed when the write in flight ends; nil when none is.
	writing chan struct{}
}

type batch struct {
	// obj is an empty object of the kind, to read the cache's copy into.
	obj     client.Object
	changes []func(client.Object)
	// due is when the batch is written; sooner wakes its flush when a change
	// joins with an earlier due.
	due    time.Time
	sooner chan struct{}
	// start, when set, is the copy a deferred change's caller held: newer than
	// the cache's when the caller has just written the object itself.
	start client.Object
	// deferred are told the outcome of the write, since nobody waits for them.
	deferred []func(error)
	done     chan struct{}
	err      error
}

// Write applies change to the status of the object obj names (obj is read for
// its kind, namespace and name only), together with the changes to the same
// object that arrive close to it, and returns once they are written. When ctx
// ends first, Write returns its error, and the change may still be written.
func (b *Batcher) Write(ctx context.Context, obj client.Object, change func(client.Object)) error {
	bt, err := b.join(obj, change, b.Window, nil, nil)
	if err != nil {
		return err
	}
	select {
	case <-bt.done:
		return bt.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the status write of %s: %w", client.ObjectKeyFromObject(obj), ctx.Err())
	}
}

// Defer applies change to the status of the object obj names without waiting
// for the write, which happens within the bound, sooner when a Write of the
// same object joins it. obj is the caller's copy, which the write starts
// from; done, when set, is told how the write ended. A deferred change is in
// memory only until written: it must be one the caller can lose in a crash
// (the record of a send whose intent is written). While one is pending,
// Deferred reports it.
func (b *Batcher) Defer(obj client.Object, change func(client.Object), within time.Duration, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	if _, err := b.join(obj, change, within, obj.DeepCopyObject().(client.Object), done); err != nil {
		done(err)
	}
}

// Deferred reports how long until the deferred changes to the object obj
// names are written, 0 when none is waiting or being written.
func (b *Batcher) Deferred(obj client.Object) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.keys[keyOf(obj)]
	if st == nil || st.deferred == 0 {
		return 0
	}
	wait := time.Millisecond
	if st.pending != nil && len(st.pending.deferred) > 0 {
		wait = max(wait, time.Until(st.pending.due))
	}
	return wait
}

func keyOf(obj client.Object) batchKey {
	return batchKey{kind: reflect.TypeOf(obj), key: client.ObjectKeyFromObject(obj)}
}

// join adds change to the pending batch of obj's object, which it starts when
// there is none, due within wait at the latest; a deferred change comes with
// the caller's copy to start from and what to tell when written.
func (b *Batcher) join(obj client.Object, change func(client.Object), wait time.Duration, start client.Object, done func(error)) (*batch, error) {
	k := keyOf(obj)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keys == nil {
		b.keys = map[batchKey]*keyState{}
	}
	st := b.keys[k]
	if st == nil {
		st = &keyState{}
		b.keys[k] = st
	}
	if b.stopping {
		wait = 0
	}
	due := time.Now().Add(wait)
	bt := st.pending
	if bt == nil {
		empty, ok := reflect.New(k.kind.Elem()).Interface().(client.Object)
		if !ok {
			if st.writing == nil {
				delete(b.keys, k)
			}
			return nil, fmt.Errorf("batching a status write: %T is not a pointer to an object", obj)
		}
		bt = &batch{obj: empty, due: due, sooner: make(chan struct{}, 1), done: make(chan struct{})}
		st.pending = bt
		go b.flush(k, st, bt)
	} else if due.Before(bt.due) {
		bt.hurry(due)
	}
	if start != nil {
		bt.start = start
		bt.deferred = append(bt.deferred, done)
		st.deferred++
	}
	bt.changes = append(bt.changes, change)
	batchWaiting.Inc()
	return bt, nil
}

// hurry brings bt's write forward to due, waking its flush; b.mu is held.
func (bt *batch) hurry(due time.Time) {
	bt.due = due
	select {
	case bt.sooner <- struct{}{}:
	default:
	}
}

// flush writes bt once it is due and no other write of the same object is in
// flight; until then, it keeps collecting changes.
func (b *Batcher) flush(k batchKey, st *keyState, bt *batch) {
	b.mu.Lock()
	for wait := time.Until(bt.due); wait > 0; wait = time.Until(bt.due) {
		b.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-bt.sooner:
			t.Stop()
		}
		b.mu.Lock()
	}
	for st.writing != nil {
		w := st.writing
		b.mu.Unlock()
		<-w
		b.mu.Lock()
	}
	st.pending = nil
	writing := make(chan struct{})
	st.writing = writing
	changes, start := bt.changes, bt.start
	b.mu.Unlock()

	bt.err = b.write(k, bt.obj, start, changes)
	batchWaiting.Sub(float64(len(changes)))
	batchSize.Observe(float64(len(changes)))
	close(bt.done)
	for _, done := range bt.deferred {
		done(bt.err)
	}

	b.mu.Lock()
	st.deferred -= len(bt.deferred)
	st.writing = nil
	close(writing)
	if st.pending == nil {
		delete(b.keys, k)
	}
	b.mu.Unlock()
}

// write applies changes to the cache's copy of the object (or to the
// Batcher's own later one, see Batcher) and writes it. Its context is its own,
// not a caller's: the batch serves several callers, and one of them giving up
// must not fail the others.
func (b *Batcher) write(k batchKey, obj, start client.Object, changes []func(client.Object)) error {
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultBatchTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.Client.Get(ctx, k.key, obj); err != nil && start == nil {
		return fmt.Errorf("reading %s from the cache: %w", k.key, err)
	}
	obj = b.newest(k, obj)
	if start != nil && obj.GetResourceVersion() != start.GetResourceVersion() && !b.isAhead(k, obj) {
		// The deferring caller wrote the object after the version the cache
		// shows, or another writer did after the caller's; a conflict tells.
		obj = start
	}
	replaced := ""
	written, err := Write(ctx, b.Client, b.Reader, obj, func(o client.Object) {
		replaced = o.GetResourceVersion()
		for _, change := range changes {
			change(o)
		}
	})
	if written {
		b.wrote(k, obj, replaced)
	}
	return err
}

// isAhead reports whether obj is the Batcher's own latest write of k.
func (b *Batcher) isAhead(k batchKey, obj client.Object) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.ahead[k]
	return ok && a.obj.GetResourceVersion() == obj.GetResourceVersion()
}

// newest is cached, or the Batcher's own copy when cached is the version
// that copy replaced.
func (b *Batcher) newest(k batchKey, cached client.Object) client.Object {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.ahead[k]
	if !ok {
		return cached
	}
	if cached.GetResourceVersion() != a.replaced || time.Since(a.at) > aheadFor {
		delete(b.ahead, k)
		return cached
	}
	return a.obj.DeepCopyObject().(client.Object)
}

// wrote keeps obj, as written over the version replaced, for the next batch.
func (b *Batcher) wrote(k batchKey, obj client.Object, replaced string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ahead == nil {
		b.ahead = map[batchKey]aheadCopy{}
	}
	now := time.Now()
	// Most objects are not written again: drop the expired once per aheadFor,
	// so the map holds what was written in the last two.
	if now.Sub(b.swept) > aheadFor {
		for key, a := range b.ahead {
			if now.Sub(a.at) > aheadFor {
				delete(b.ahead, key)
			}
		}
		b.swept = now
	}
	b.ahead[k] = aheadCopy{obj: obj.DeepCopyObject().(client.Object), replaced: replaced, at: now}
}

// Start runs until ctx ends, then writes every deferred change at once and
// returns when all are written: a shutdown does not wait out their bounds,
// nor lose them. It makes the Batcher a manager Runnable, on every replica.
func (b *Batcher) Start(ctx context.Context) error {
	<-ctx.Done()
	b.mu.Lock()
	b.stopping = true
	var waits []chan struct{}
	for _, st := range b.keys {
		if bt := st.pending; bt != nil {
			bt.hurry(time.Now())
			waits = append(waits, bt.done)
		}
	}
	b.mu.Unlock()
	for _, w := range waits {
		<-w
	}
	return nil
}

// NeedLeaderElection is false: the receiver on every replica writes through
// the Batcher.
func (b *Batcher) NeedLeaderElection() bool { return false }
