package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// drainTimeout bounds the last write when the writer stops: what it cannot
// write by then is written by the next leader, whose informers list it again.
const drainTimeout = 5 * time.Second

// Start runs the writer until ctx ends: it migrates the schema, then writes
// what is pending in batches, retrying with backoff while PostgreSQL fails.
// PostgreSQL being down or refusing the password is never fatal: Err and the
// metrics say so, and the writer keeps trying.
func (a *Archive) Start(ctx context.Context) error {
	log := a.opts.Log.WithValues("database", a.url)
	backoff := a.opts.MinBackoff
	failing := false
	// retry records a failure and waits; false when ctx ended meanwhile.
	retry := func(what string, err error) bool {
		if ctx.Err() != nil {
			return false
		}
		a.setErr(err)
		a.metrics.failures.Inc()
		failing = true
		log.Error(err, what+"; retrying", "retryIn", backoff.String(), "backlog", a.Backlog())
		wait := backoff
		backoff = min(2*backoff, a.opts.MaxBackoff)
		return sleep(ctx, wait)
	}
	succeeded := func() {
		a.setErr(nil)
		backoff = a.opts.MinBackoff
		if failing {
			log.Info("archive reachable again", "backlog", a.Backlog())
			failing = false
		}
	}

	for {
		applied, err := a.Migrate(ctx)
		if err == nil {
			log.Info("archive schema up to date", "appliedMigrations", applied)
			a.migratedOnce.Do(func() { close(a.migrated) })
			succeeded()
			break
		}
		if !retry("migrating the archive schema", err) {
			return nil
		}
	}
	for {
		if !a.lingered(ctx) {
			return a.drain()
		}
		batch := a.take()
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return a.drain()
			case <-a.wake:
			}
			continue
		}
		if err := a.write(ctx, batch); err != nil {
			a.giveBack(batch)
			if !retry("writing to the archive", err) {
				return a.drain()
			}
			continue
		}
		a.done(batch)
		succeeded()
	}
}

// lingered waits Linger when less than a batch is pending; false when ctx
// ended meanwhile.
func (a *Archive) lingered(ctx context.Context) bool {
	a.mu.Lock()
	n := len(a.pending)
	a.mu.Unlock()
	if n == 0 || n >= a.opts.BatchSize || a.opts.Linger <= 0 {
		return true
	}
	return sleep(ctx, a.opts.Linger)
}

// drain writes what is pending within drainTimeout, on a writer that stops.
// The feeds stop at the same time: it also writes what they enqueue until
// they have, so the last version an informer delivered is written.
func (a *Archive) drain() error {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for {
		feeds := a.feedsRunning()
		batch := a.take()
		if len(batch) == 0 {
			if feeds == 0 {
				return nil
			}
			select {
			case <-ctx.Done():
				a.opts.Log.Info("archive writer stopped before its feeds; the next leader writes what they still had", "backlog", a.Backlog())
				return nil
			case <-a.wake:
			}
			continue
		}
		if err := a.write(ctx, batch); err != nil {
			a.giveBack(batch)
			a.opts.Log.Info("archive writer stopped with a backlog; the next leader writes it", "backlog", a.Backlog(), "error", err.Error())
			return nil
		}
		a.done(batch)
	}
}

// take moves up to BatchSize pending entries in flight.
func (a *Archive) take() []entry {
	a.mu.Lock()
	defer a.mu.Unlock()
	var batch []entry
	for uid, e := range a.pending {
		if len(batch) == a.opts.BatchSize {
			break
		}
		batch = append(batch, e)
		delete(a.pending, uid)
	}
	a.inFlight += len(batch)
	return batch
}

// giveBack returns a batch that failed to the pending set, unless a later
// version arrived meanwhile.
func (a *Archive) giveBack(batch []entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range batch {
		uid := e.obj.GetUID()
		if old, ok := a.pending[uid]; !ok || e.supersedes(old) {
			a.pending[uid] = e
		}
	}
	a.inFlight -= len(batch)
	a.metrics.backlog.Set(float64(len(a.pending) + a.inFlight))
}

func (a *Archive) done(batch []entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight -= len(batch)
	a.metrics.backlog.Set(float64(len(a.pending) + a.inFlight))
	a.metrics.written.Add(float64(len(batch)))
}

func (a *Archive) setErr(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastErr = err
}

// columns are one table's rows of a batch, as the arrays the upsert unnests.
type columns struct {
	apiVersion, kind string
	uids             []string
	namespaces       []string
	names            []string
	versions         []int64
	created          []time.Time
	deleted          []bool
	documents        []string
}

// write upserts a batch in one round trip: one statement per table.
func (a *Archive) write(ctx context.Context, batch []entry) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.WriteTimeout)
	defer cancel()
	byTable := map[string]*columns{}
	for _, e := range batch {
		doc, err := json.Marshal(e.obj)
		if err != nil {
			return fmt.Errorf("encoding %s %s/%s: %w", e.gvk.Kind, e.obj.GetNamespace(), e.obj.GetName(), err)
		}
		c := byTable[e.table]
		if c == nil {
			c = &columns{apiVersion: e.gvk.GroupVersion().String(), kind: e.gvk.Kind}
			byTable[e.table] = c
		}
		c.uids = append(c.uids, string(e.obj.GetUID()))
		c.namespaces = append(c.namespaces, e.obj.GetNamespace())
		c.names = append(c.names, e.obj.GetName())
		c.versions = append(c.versions, e.version)
		c.created = append(c.created, e.obj.GetCreationTimestamp().Time)
		c.deleted = append(c.deleted, e.deleted)
		c.documents = append(c.documents, string(doc))
	}
	b := &pgx.Batch{}
	for table, c := range byTable {
		b.Queue(upsert(table), c.uids, c.namespaces, c.names, c.versions, c.created, c.deleted, c.documents, c.apiVersion, c.kind)
	}
	if err := a.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("upserting %d resources: %w", len(batch), err)
	}
	return nil
}

// upsert writes rows that are newer than the stored ones and leaves the
// others: a version that arrives late never replaces a later one. A uid
// appears at most once per batch (the pending set holds one entry per uid),
// as ON CONFLICT requires. The document gets apiVersion and kind, which typed
// objects from an informer do not carry.
func upsert(table string) string {
	return `INSERT INTO ` + Schema + `.` + table + ` AS t
	(uid, namespace, name, resource_version, created_at, deleted_at, document, archived_at)
SELECT r.uid, r.namespace, r.name, r.resource_version, r.created_at,
       CASE WHEN r.deleted THEN now() END,
       jsonb_build_object('apiVersion', $8::text, 'kind', $9::text) || r.document,
       now()
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::boolean[], $7::jsonb[])
     AS r(uid, namespace, name, resource_version, created_at, deleted, document)
ON CONFLICT (uid) DO UPDATE SET
	namespace = excluded.namespace,
	name = excluded.name,
	resource_version = excluded.resource_version,
	created_at = excluded.created_at,
	deleted_at = COALESCE(t.deleted_at, excluded.deleted_at),
	document = excluded.document,
	archived_at = excluded.archived_at
WHERE excluded.resource_version > t.resource_version
   OR (excluded.resource_version = t.resource_version AND excluded.deleted_at IS NOT NULL AND t.deleted_at IS NULL)`
}
