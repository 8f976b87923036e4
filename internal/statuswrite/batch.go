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
// they would only conflict with each other. The write starts from the copy the
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
	// writing is closed when the write in flight ends; nil when none is.
	writing chan struct{}
}

type batch struct {
	// obj is an empty object of the kind, to read the cache's copy into.
	obj     client.Object
	changes []func(client.Object)
	done    chan struct{}
	err     error
}

// Write applies change to the status of the object obj names (obj is read for
// its kind, namespace and name only), together with the changes to the same
// object that arrive close to it, and returns once they are written. When ctx
// ends first, Write returns its error, and the change may still be written.
func (b *Batcher) Write(ctx context.Context, obj client.Object, change func(client.Object)) error {
	k := batchKey{kind: reflect.TypeOf(obj), key: client.ObjectKeyFromObject(obj)}
	b.mu.Lock()
	if b.keys == nil {
		b.keys = map[batchKey]*keyState{}
	}
	st := b.keys[k]
	if st == nil {
		st = &keyState{}
		b.keys[k] = st
	}
	bt := st.pending
	if bt == nil {
		empty, ok := reflect.New(k.kind.Elem()).Interface().(client.Object)
		if !ok {
			b.mu.Unlock()
			return fmt.Errorf("batching a status write: %T is not a pointer to an object", obj)
		}
		bt = &batch{obj: empty, done: make(chan struct{})}
		st.pending = bt
		go b.flush(k, st, bt)
	}
	bt.changes = append(bt.changes, change)
	batchWaiting.Inc()
	b.mu.Unlock()
	select {
	case <-bt.done:
		return bt.err
	case <-ctx.Done():
		return fmt.Errorf("waiting for the status write of %s: %w", k.key, ctx.Err())
	}
}

// flush writes bt once its window has passed and no other write of the same
// object is in flight; until then, it keeps collecting changes.
func (b *Batcher) flush(k batchKey, st *keyState, bt *batch) {
	time.Sleep(b.Window)
	b.mu.Lock()
	for st.writing != nil {
		w := st.writing
		b.mu.Unlock()
		<-w
		b.mu.Lock()
	}
	st.pending = nil
	writing := make(chan struct{})
	st.writing = writing
	changes := bt.changes
	b.mu.Unlock()

	bt.err = b.write(k, bt.obj, changes)
	batchWaiting.Sub(float64(len(changes)))
	batchSize.Observe(float64(len(changes)))
	close(bt.done)

	b.mu.Lock()
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
func (b *Batcher) write(k batchKey, obj client.Object, changes []func(client.Object)) error {
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultBatchTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := b.Client.Get(ctx, k.key, obj); err != nil {
		return fmt.Errorf("reading %s from the cache: %w", k.key, err)
	}
	obj = b.newest(k, obj)
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
