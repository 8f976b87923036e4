package archive

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// sweep records the deletions no informer delivered: a resource deleted while
// no leader watched (a handover, a watch gap, the operator stopped) keeps a
// row without deleted_at, since the delete event went to nobody. Once per
// leadership, after the informers have synced, it pages through the rows not
// marked deleted, in the namespaces the operator watches, and marks those
// whose uid the cluster no longer holds.
//
// A row is checked against the informer cache first, which holds every live
// resource once synced, and only a uid the cache lacks is asked of the API
// server: a resource created after the cache listed, and archived by the
// previous leader, may not have reached this cache yet.
type sweep struct {
	archive    *Archive
	informers  cache.Informers
	cache      client.Reader
	api        client.Reader
	namespaces []string
	kinds      []client.Object
}

// firstUID sorts before every uid the API server hands out (random UUIDs),
// so paging after it starts at the first row.
const firstUID = "00000000-0000-0000-0000-000000000000"

func (s *sweep) Start(ctx context.Context) error {
	a := s.archive
	select {
	case <-ctx.Done():
		return nil
	case <-a.migrated:
	}
	for _, kind := range s.kinds {
		inf, err := s.informers.GetInformer(ctx, kind)
		if err != nil {
			return fmt.Errorf("archive sweep: informer for %T: %w", kind, err)
		}
		if !toolscache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return nil
		}
	}
	log := a.opts.Log.WithValues("namespaces", s.namespaces)
	log.Info("looking for archived resources deleted while no leader watched")
	backoff := a.opts.MinBackoff
	for _, kind := range s.kinds {
		gvk, table, err := a.tableOf(kind)
		if err != nil {
			return err
		}
		log := log.WithValues("kind", gvk.Kind)
		after, checked, marked := firstUID, 0, 0
		for after != "" {
			next, n, m, err := s.page(ctx, kind, table, after)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				log.Error(err, "sweeping the archive; retrying", "retryIn", backoff.String(), "checked", checked, "marked", marked)
				if !sleep(ctx, backoff) {
					return nil
				}
				backoff = min(2*backoff, a.opts.MaxBackoff)
				continue
			}
			backoff = a.opts.MinBackoff
			after, checked, marked = next, checked+n, marked+m
			if m > 0 || next == "" {
				log.Info("archive sweep progress", "checked", checked, "markedDeleted", marked, "done", next == "")
			}
		}
	}
	return nil
}

// page checks up to BatchSize rows after the uid after, and marks those whose
// resource is gone; next is the last uid checked, empty after the last page.
func (s *sweep) page(ctx context.Context, kind client.Object, table, after string) (next string, checked, marked int, err error) {
	a := s.archive
	ctx, cancel := context.WithTimeout(ctx, a.opts.WriteTimeout)
	defer cancel()
	query := `SELECT uid::text, namespace, name FROM ` + Schema + `.` + table + `
		WHERE deleted_at IS NULL AND uid > $1::uuid`
	args := []any{after, a.opts.BatchSize}
	if len(s.namespaces) > 0 {
		query += ` AND namespace = ANY($3::text[])`
		args = append(args, s.namespaces)
	}
	rows, err := a.pool.Query(ctx, query+` ORDER BY uid LIMIT $2`, args...)
	if err != nil {
		return "", 0, 0, fmt.Errorf("reading %s: %w", table, err)
	}
	type row struct{ uid, namespace, name string }
	var page []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.uid, &r.namespace, &r.name); err != nil {
			rows.Close()
			return "", 0, 0, fmt.Errorf("reading %s: %w", table, err)
		}
		page = append(page, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", 0, 0, fmt.Errorf("reading %s: %w", table, err)
	}
	var gone []string
	for _, r := range page {
		key := types.NamespacedName{Namespace: r.namespace, Name: r.name}
		if live, err := holds(ctx, s.cache, kind, key, r.uid); err == nil && live {
			continue
		}
		live, err := holds(ctx, s.api, kind, key, r.uid)
		if err != nil {
			return "", 0, 0, fmt.Errorf("asking the API server about %s: %w", key, err)
		}
		if !live {
			gone = append(gone, r.uid)
		}
	}
	if len(gone) > 0 {
		tag, err := a.pool.Exec(ctx, `UPDATE `+Schema+`.`+table+` SET deleted_at = now() WHERE uid = ANY($1::uuid[]) AND deleted_at IS NULL`, gone)
		if err != nil {
			return "", 0, 0, fmt.Errorf("marking %d deleted rows of %s: %w", len(gone), table, err)
		}
		marked = int(tag.RowsAffected())
		a.metrics.unseenDeletions.Add(float64(marked))
	}
	if len(page) == a.opts.BatchSize {
		next = page[len(page)-1].uid
	}
	return next, len(page), marked, nil
}

// holds reports whether r holds the resource of kind at key with the given
// uid; a resource of that name with another uid is a new one, and the
// archived one is gone.
func holds(ctx context.Context, r client.Reader, kind client.Object, key types.NamespacedName, uid string) (bool, error) {
	obj := kind.DeepCopyObject().(client.Object)
	if err := r.Get(ctx, key, obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	return string(obj.GetUID()) == uid, nil
}

// sleep waits d; false when ctx ended meanwhile.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
