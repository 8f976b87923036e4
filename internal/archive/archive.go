// Package archive keeps WhatsAppOrders, ProductInquiries and ProductMessages
// in PostgreSQL, the system of record outside the cluster: one row per
// resource, keyed by its uid, holding the resource as last seen.
//
// Writes are asynchronous and batched: Enqueue only records the newest version
// of each resource in memory, and a single writer upserts what is pending.
// While PostgreSQL is unreachable nothing is dropped; the pending set keeps one
// version per resource, so it is bounded by the number of live resources, and
// the writer retries with backoff until it catches up.
package archive

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// tables maps the archived kinds to their tables.
var tables = map[string]string{
	"WhatsAppOrder":  "orders",
	"ProductInquiry": "inquiries",
	"ProductMessage": "product_messages",
}

// Options configure an Archive.
type Options struct {
	// Scheme names the kind of each object, for its table and its document.
	Scheme *runtime.Scheme
	// BatchSize caps the rows of one write, and of one page of the sweep for
	// deletions no informer saw; 500 by default.
	BatchSize int
	// Linger is how long the writer lets changes gather before a write that
	// would not fill a batch: fewer, fuller batches cost PostgreSQL, and the
	// API server it may share machines with, much less per row. 250ms by
	// default; negative writes at once.
	Linger time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts while
	// PostgreSQL fails; 100ms and 30s by default.
	MinBackoff, MaxBackoff time.Duration
	// WriteTimeout bounds one batch, so a PostgreSQL that stops answering is
	// retried rather than waited for; 30s by default.
	WriteTimeout time.Duration
	// Registerer receives the archive's metrics; none are registered when nil.
	Registerer prometheus.Registerer
	Log        logr.Logger
}

func (o *Options) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.Linger == 0 {
		o.Linger = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
}

// Archive writes resources to PostgreSQL. Start runs its writer.
type Archive struct {
	pool    *pgxpool.Pool
	url     string // redacted
	opts    Options
	metrics *metrics

	mu       sync.Mutex
	pending  map[types.UID]entry
	inFlight int // entries taken from pending by a write not yet finished
	feeds    int // feeds running, which a stopping writer waits for
	lastErr  error
	wake     chan struct{}
	// migrated is closed once the schema is up to date, for the sweep.
	migrated     chan struct{}
	migratedOnce sync.Once
}

// entry is the newest version of one resource not yet written.
type entry struct {
	table   string
	gvk     schema.GroupVersionKind
	obj     client.Object
	version int64
	deleted bool
}

// supersedes tells whether e is a later state of the resource than old: a
// newer version, or the deletion of the version already known.
func (e entry) supersedes(old entry) bool {
	return e.version > old.version || (e.version == old.version && e.deleted && !old.deleted)
}

// New prepares an archive for the PostgreSQL at url; it does not connect yet,
// so an operator starts while PostgreSQL is down. Only a URL that can never
// work (it does not parse) is an error.
func New(url string, opts Options) (*Archive, error) {
	opts.defaults()
	if opts.Scheme == nil {
		return nil, errors.New("archive: no scheme")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("archive database URL: %w", err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("archive database %s: %w", Redact(url), err)
	}
	a := &Archive{
		pool:     pool,
		url:      Redact(url),
		opts:     opts,
		metrics:  newMetrics(opts.Registerer),
		pending:  map[types.UID]entry{},
		wake:     make(chan struct{}, 1),
		migrated: make(chan struct{}),
	}
	return a, nil
}

// URL is the database URL with its password redacted, fit for logs.
func (a *Archive) URL() string { return a.url }

// Enqueue records obj's current version for writing. An older version than
// one already pending is ignored: the archive only moves forward.
func (a *Archive) Enqueue(obj client.Object) error { return a.enqueue(obj, false) }

// EnqueueDeleted records that obj, in its last version, left the cluster.
func (a *Archive) EnqueueDeleted(obj client.Object) error { return a.enqueue(obj, true) }

func (a *Archive) enqueue(obj client.Object, deleted bool) error {
	e, err := a.entryFor(obj)
	if err != nil {
		return err
	}
	e.deleted = deleted
	a.mu.Lock()
	if old, ok := a.pending[obj.GetUID()]; !ok || e.supersedes(old) {
		a.pending[obj.GetUID()] = e
	}
	a.metrics.backlog.Set(float64(len(a.pending) + a.inFlight))
	a.mu.Unlock()
	a.wakeWriter()
	return nil
}

func (a *Archive) wakeWriter() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// feeding counts a feed that starts (+1) or has stopped (-1).
func (a *Archive) feeding(delta int) {
	a.mu.Lock()
	a.feeds += delta
	a.mu.Unlock()
	a.wakeWriter()
}

func (a *Archive) feedsRunning() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.feeds
}

func (a *Archive) entryFor(obj client.Object) (entry, error) {
	gvk, table, err := a.tableOf(obj)
	if err != nil {
		return entry{}, err
	}
	version, err := resourceVersion(obj)
	if err != nil {
		return entry{}, err
	}
	return entry{table: table, gvk: gvk, obj: obj, version: version}, nil
}

// tableOf names obj's kind and the table that holds it.
func (a *Archive) tableOf(obj client.Object) (schema.GroupVersionKind, string, error) {
	gvk, err := apiutil.GVKForObject(obj, a.opts.Scheme)
	if err != nil {
		return gvk, "", fmt.Errorf("archive: %w", err)
	}
	table, ok := tables[gvk.Kind]
	if !ok {
		return gvk, "", fmt.Errorf("archive: %s is not an archived kind", gvk.Kind)
	}
	return gvk, table, nil
}

// resourceVersion reads the resourceVersion as the number it is for every
// etcd-backed API server; the archive orders writes by it.
func resourceVersion(obj client.Object) (int64, error) {
	v, err := strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("archive: %s/%s has resourceVersion %q, not an integer", obj.GetNamespace(), obj.GetName(), obj.GetResourceVersion())
	}
	return v, nil
}

// Backlog is how many resources have a version not yet written.
func (a *Archive) Backlog() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending) + a.inFlight
}

// Err is why the last attempt to reach or write to PostgreSQL failed, nil once
// one succeeded.
func (a *Archive) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastErr
}

// Archived tells whether the archive holds obj in its current version or a
// later one: what retention asks before deleting it. It answers false, with
// the error, while PostgreSQL cannot be asked.
func (a *Archive) Archived(ctx context.Context, obj client.Object) (bool, error) {
	e, err := a.entryFor(obj)
	if err != nil {
		return false, err
	}
	// Answer from memory when that is enough: retention asks about every
	// expired resource on each requeue, and while PostgreSQL is down each
	// query would be a connection attempt.
	a.mu.Lock()
	pending, queued := a.pending[obj.GetUID()]
	lastErr := a.lastErr
	a.mu.Unlock()
	if lastErr != nil {
		return false, fmt.Errorf("the archive is unavailable: %w", lastErr)
	}
	if queued && pending.version >= e.version {
		return false, nil
	}
	var stored int64
	err = a.pool.QueryRow(ctx, "SELECT resource_version FROM "+Schema+"."+e.table+" WHERE uid = $1", string(obj.GetUID())).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("asking the archive about %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return stored >= e.version, nil
}

// Close releases the connections.
func (a *Archive) Close() { a.pool.Close() }
